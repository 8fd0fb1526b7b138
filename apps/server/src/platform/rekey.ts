import type { SecretBox } from './crypto.ts';
import { rows, sql, type Database, type SQL } from './db.ts';

/**
 * Key rotation (re-sealing). Values are sealed as `v1:<keyId>:…`; after a new key becomes current (the old one
 * kept in WANGGE_SECRET_KEYS_PREVIOUS), `wangge rekey` opens every value sealed with another key and seals it
 * again with the current one, in batches, so that the previous key can then be retired. Each batch is one
 * transaction and updates a row only if its sealed value is still the one that was read (a concurrent change
 * wins and is re-sealed by the next pass). The keyed lookup hashes do not change: their key does not rotate.
 */

/** One place where a sealed value is kept. */
interface SealedColumn {
  /** label in the report */
  name: string;
  table: string;
  /** the table's integer key (default `id`) */
  key?: string;
  /** the stored column, `table.column` (rekey.test.ts checks every `*_cipher` column is covered) */
  covers: string;
  /** expression for the sealed text of row `t` (a column, or a jsonb field) */
  read: SQL;
  /** the SET clause writing `value` (and the key id column where there is one) */
  write: (value: string, keyId: string) => SQL;
}

const column = (name: string, table: string, cipher: string, keyIdColumn?: string): SealedColumn => ({
  name,
  table,
  covers: `${table}.${cipher}`,
  read: sql`t.${sql.identifier(cipher)}`,
  write: (value, keyId) =>
    keyIdColumn
      ? sql`${sql.identifier(cipher)} = ${value}, ${sql.identifier(keyIdColumn)} = ${keyId}`
      : sql`${sql.identifier(cipher)} = ${value}`,
});

/** Every sealed value the schema holds. A new sealed column must be added here (rekey.test.ts checks). */
export const sealedColumns: readonly SealedColumn[] = [
  column('person.id', 'person', 'id_cipher', 'id_key_id'),
  column('person.phone', 'person', 'phone_cipher', 'phone_key_id'),
  column('organisation.safety_phone', 'organisation', 'safety_phone_cipher', 'safety_phone_key_id'),
  column('case.reporter_contact', 'grid_case', 'reporter_contact_cipher'),
  {
    name: 'case.hotline_caller_phone',
    table: 'grid_case',
    covers: 'grid_case.hotline',
    read: sql`t.hotline ->> 'callerPhoneCipher'`,
    write: (value) => sql`hotline = jsonb_set(hotline, '{callerPhoneCipher}', to_jsonb(${value}::text))`,
  },
  {
    // a hotline work order waiting in triage keeps its caller's phone sealed inside the order
    name: 'hotline_triage.caller_phone',
    table: 'hotline_triage',
    covers: 'hotline_triage.order',
    read: sql`t."order" ->> 'callerPhoneCipher'`,
    write: (value) => sql`"order" = jsonb_set("order", '{callerPhoneCipher}', to_jsonb(${value}::text))`,
  },
  column('webhook_endpoint.secret', 'webhook_endpoint', 'secret'),
  { ...column('open311_request.reporter', 'open311_request', 'reporter_cipher'), key: 'case_id' },
  // a verified resident's phone (issue 7), the contact of the cases reported from it
  column('resident_session.phone', 'resident_session', 'phone_cipher'),
  {
    // an uploaded import workbook kept for its error report: the UTF-8 bytes of a sealed value
    name: 'registry_import.file',
    table: 'registry_import',
    covers: 'registry_import.file',
    read: sql`convert_from(t.file, 'UTF8')`,
    write: (value, keyId) => sql`file = convert_to(${value}, 'UTF8'), file_key_id = ${keyId}`,
  },
];

export interface RekeyReport {
  keyId: string;
  /** re-sealed values per column */
  resealed: Record<string, number>;
  /** values left sealed with another key because no known key opens them */
  unreadable: Record<string, number>;
}

/**
 * Re-seals every value not sealed with the current key (an empty value is an anonymised one: nothing to seal). Values whose key is unknown (not current, not in the
 * previous keys) are counted and left as they are; the command reports them instead of failing half-way.
 */
export async function resealAll(
  db: Database,
  secrets: SecretBox,
  options: { batchSize?: number } = {},
): Promise<RekeyReport> {
  const batchSize = options.batchSize ?? 500;
  const current = `v1:${secrets.keyId}:%`;
  const report: RekeyReport = { keyId: secrets.keyId, resealed: {}, unreadable: {} };
  for (const spec of sealedColumns) {
    let resealed = 0;
    const unreadable = new Set<number>();
    let after = 0;
    const key = sql.identifier(spec.key ?? 'id');
    for (;;) {
      const batch = await rows<{ id: number; sealed: string }>(
        db.orm,
        sql`select t.${key}::int as id, ${spec.read} as sealed from ${sql.identifier(spec.table)} t
            where ${spec.read} <> '' and ${spec.read} not like ${current} and t.${key} > ${after}
            order by t.${key} limit ${batchSize}`,
      );
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.id;
      const updates: { id: number; from: string; to: string }[] = [];
      for (const row of batch) {
        try {
          updates.push({ id: row.id, from: row.sealed, to: secrets.encrypt(secrets.decrypt(row.sealed)) });
        } catch {
          unreadable.add(row.id);
        }
      }
      await db.orm.transaction(async (tx) => {
        for (const u of updates) {
          const done = await rows<{ id: number }>(
            tx,
            sql`update ${sql.identifier(spec.table)} t set ${spec.write(u.to, secrets.keyId)}
                where t.${key} = ${u.id} and ${spec.read} = ${u.from} returning t.${key}::int as id`,
          );
          resealed += done.length;
        }
      });
    }
    report.resealed[spec.name] = resealed;
    report.unreadable[spec.name] = unreadable.size;
  }
  return report;
}
