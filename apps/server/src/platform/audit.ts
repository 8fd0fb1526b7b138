import crypto from 'node:crypto';
import { one, rows, sql, type Executor } from './db.ts';

/** What happened, to what, by whom. Never personal data: ids and codes only. */
export interface AuditEntry {
  actorId: number | null;
  actorRole: string | null;
  action: string;
  objectType?: string | null;
  objectId?: string | null;
  result: 'success' | 'failure' | 'denied';
  requestId?: string | null;
  detail?: Record<string, string | number | boolean | null>;
}

export const genesisHash = '0'.repeat(64);

/** JSON with object keys sorted, so jsonb's reordering cannot change a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

interface StoredAudit {
  id: number;
  at: Date;
  actor_id: number | null;
  actor_role: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  result: string;
  request_id: string | null;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export function auditHash(row: Omit<StoredAudit, 'hash'>): string {
  const payload = canonicalJson([
    row.id,
    row.at.toISOString(),
    row.actor_id,
    row.actor_role,
    row.action,
    row.object_type,
    row.object_id,
    row.result,
    row.request_id,
    row.detail,
    row.prev_hash,
  ]);
  return crypto.createHash('sha256').update(payload).digest('hex');
}

/**
 * Appends one audit row inside the caller's transaction. The head row is locked, so concurrent writers
 * queue and the chain never forks; if the transaction rolls back, the audit row goes with it.
 *
 * One statement: the lock on the head is held from here to the caller's commit, so every transition in the system
 * waits its turn for it; reading the head, inserting and moving the head in one round trip keeps that turn short.
 * The hash is the same as `auditHash` (verified by `verifyAuditChain`): the parts known here (time … detail) are
 * serialised canonically in TypeScript, the id and the previous hash are spliced in by the database, and
 * PostgreSQL's sha256 hashes the UTF-8 bytes.
 */
export async function appendAudit(tx: Executor, entry: AuditEntry, at: Date): Promise<void> {
  const atIso = new Date(Math.floor(at.getTime())).toISOString();
  const row = {
    actor_id: entry.actorId,
    actor_role: entry.actorRole,
    action: entry.action,
    object_type: entry.objectType ?? null,
    object_id: entry.objectId ?? null,
    result: entry.result,
    request_id: entry.requestId ?? null,
    detail: entry.detail ?? {},
  };
  // canonicalJson([id, at, actor_id, …, detail, prev_hash]) without its first and last element and brackets.
  const middle = [
    atIso,
    row.actor_id,
    row.actor_role,
    row.action,
    row.object_type,
    row.object_id,
    row.result,
    row.request_id,
    row.detail,
  ]
    .map(canonicalJson)
    .join(',');
  const moved = await one<{ id: number }>(
    tx,
    sql`with head as (
          select last_id + 1 as id, last_hash as prev_hash from audit_head where id = 1 for update
        ), next as (
          select h.id, h.prev_hash,
                 encode(sha256(convert_to('[' || h.id::text || ',' || ${middle}::text || ',"' || h.prev_hash || '"]',
                   'UTF8')), 'hex') as hash
          from head h
        ), added as (
          insert into audit_log (id, at, actor_id, actor_role, action, object_type, object_id, result, request_id,
            detail, prev_hash, hash)
          select n.id, ${atIso}::timestamptz, ${row.actor_id}, ${row.actor_role}, ${row.action}, ${row.object_type},
            ${row.object_id}, ${row.result}, ${row.request_id}, ${JSON.stringify(row.detail)}::jsonb, n.prev_hash,
            n.hash
          from next n
          returning id, hash
        )
        update audit_head set last_id = a.id, last_hash = a.hash from added a where audit_head.id = 1
        returning a.id::int as id`,
  );
  if (!moved) throw new Error('audit_head is missing');
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  problems: string[];
}

/** Walks the whole chain: every hash recomputed, ids consecutive, each row linked to the one before, head matches. */
export async function verifyAuditChain(db: Executor, batchSize = 5000): Promise<AuditVerification> {
  const problems: string[] = [];
  let expectedId = 1;
  let prevHash = genesisHash;
  let checked = 0;
  for (;;) {
    const batch = await rows<StoredAudit>(
      db,
      sql`select id::int as id, at, actor_id::int as actor_id, actor_role, action, object_type, object_id, result,
            request_id, detail, prev_hash, hash
          from audit_log where id >= ${expectedId} order by id limit ${batchSize}`,
    );
    for (const row of batch) {
      if (row.id !== expectedId)
        problems.push(`row ${expectedId}${row.id - 1 > expectedId ? `–${row.id - 1}` : ''} missing`);
      if (row.prev_hash !== prevHash) problems.push(`row ${row.id}: not linked to the row before it`);
      const recomputed = auditHash({ ...row, at: new Date(row.at) });
      if (recomputed !== row.hash) problems.push(`row ${row.id}: content does not match its hash (edited)`);
      prevHash = row.hash;
      expectedId = row.id + 1;
      checked++;
    }
    if (batch.length < batchSize) break;
  }
  const head = await one<{ last_id: number; last_hash: string }>(
    db,
    sql`select last_id::int as last_id, last_hash from audit_head where id = 1`,
  );
  if (!head) problems.push('audit head missing');
  else if (head.last_id !== expectedId - 1 || head.last_hash !== prevHash)
    problems.push(
      `chain ends at row ${expectedId - 1} but the head records row ${head.last_id} (rows deleted at the end)`,
    );
  return { ok: problems.length === 0, checked, problems };
}
