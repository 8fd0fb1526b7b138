import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';

/**
 * Retention: persons moved out longer than the configured period (WANGGE_RETENTION_MOVED_OUT_DAYS, default 730)
 * are anonymised — name '已注销', ID and phone ciphers, hashes and masks replaced by non-identifying
 * placeholders, addresses and work cleared, birth date cut to the year, key-population tags deleted. One audit
 * row per batch with the count (never names or ids of people). Idempotent: anonymised persons are marked.
 */

export const anonymisedName = '已注销';
export const anonymisedMask = '******';
const batchSize = 500;

/** Moved out before this instant → anonymised. */
export function retentionCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 86_400_000);
}

/** Is a person due for anonymisation now? (The SQL of `runRetention` applies the same rule.) */
export function isDueForRetention(
  person: { status: string; movedOutAt: Date | null; anonymisedAt: Date | null },
  now: Date,
  days: number,
): boolean {
  return (
    person.status === 'moved_out' &&
    person.anonymisedAt === null &&
    person.movedOutAt !== null &&
    person.movedOutAt < retentionCutoff(now, days)
  );
}

/** A birth date cut to its year (`1945-03-12` → `1945-01-01`); null stays null. */
export function birthYearOnly(birthDate: string | null): string | null {
  return birthDate === null ? null : `${birthDate.slice(0, 4)}-01-01`;
}

/** Uploaded import workbooks (kept sealed for their error report) are dropped after this many days. */
export const importFileDays = 30;

export async function runRetention(options: {
  db: Database;
  clock: Clock;
  days: number;
}): Promise<{ anonymised: number; importFilesDropped: number }> {
  const { db, days } = options;
  const now = options.clock.now();
  // The uploads behind error reports hold ID numbers and phones (sealed): kept only as long as a report is useful.
  const fileCutoff = new Date(now.getTime() - importFileDays * 86_400_000).toISOString();
  const dropped = await rows<{ id: number }>(
    db.orm,
    sql`update registry_import set file = null, file_key_id = null
        where file is not null and created_at < ${fileCutoff} returning id::int as id`,
  );
  const cutoff = retentionCutoff(now, days).toISOString();
  let total = 0;
  for (;;) {
    const done = await db.orm.transaction(async (tx) => {
      const batch = await rows<{ id: number }>(
        tx,
        sql`select id::int as id from person
            where status = 'moved_out' and anonymised_at is null and moved_out_at < ${cutoff}
            order by id limit ${batchSize} for update skip locked`,
      );
      if (batch.length === 0) return 0;
      const ids = sql.join(
        batch.map((p) => sql`${p.id}`),
        sql`, `,
      );
      await tx.execute(sql`delete from person_tag where person_id in (${ids})`);
      // The ID hash stays unique per person with a placeholder that identifies no one.
      await tx.execute(sql`update person set name = ${anonymisedName},
          birth_date = date_trunc('year', birth_date)::date,
          id_cipher = '', id_key_id = 'none', id_hash = 'anonymised:' || id::text, id_masked = ${anonymisedMask},
          phone_cipher = null, phone_key_id = null, phone_hash = null, phone_masked = null,
          registered_residence = null, current_address = null, work = null,
          anonymised_at = ${now.toISOString()}, version = version + 1, updated_at = ${now.toISOString()}
        where id in (${ids})`);
      await appendAudit(
        tx,
        {
          actorId: null,
          actorRole: 'system',
          action: 'registry.retention',
          objectType: 'person',
          objectId: null,
          result: 'success',
          detail: { count: batch.length, days },
        },
        now,
      );
      return batch.length;
    });
    total += done;
    if (done < batchSize) break;
  }
  return { anonymised: total, importFilesDropped: dropped.length };
}
