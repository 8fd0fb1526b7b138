import { rows, sql, type Executor } from './db.ts';

export interface OutboxMessage {
  /** Past-tense event name, e.g. `case.dispatched`. */
  topic: string;
  payload: Record<string, unknown>;
}

/**
 * Records work to do after commit (notifications, realtime pushes, webhooks, rollups) in the caller's transaction:
 * if the change rolls back, so does the message; a processor picks it up only once it is committed.
 */
export async function enqueue(tx: Executor, message: OutboxMessage, now: Date): Promise<void> {
  await tx.execute(sql`insert into outbox (topic, payload, created_at, available_at)
    values (${message.topic}, ${JSON.stringify(message.payload)}::jsonb, ${now.toISOString()}, ${now.toISOString()})`);
}

export interface OutboxRow {
  id: number;
  topic: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/**
 * Claims up to `batch` pending messages that are due, oldest first, inside the caller's transaction. On PostgreSQL
 * `skip locked` lets several workers share the table without waiting on each other; PGlite (one session) accepts it.
 */
export async function claimOutbox(
  tx: Executor,
  options: { now: Date; batch: number; topicPrefix?: string },
): Promise<OutboxRow[]> {
  const topic = options.topicPrefix ? sql`and topic like ${`${options.topicPrefix}%`}` : sql``;
  return rows<OutboxRow>(
    tx,
    sql`select id::int as id, topic, payload, attempts from outbox
        where processed_at is null and available_at <= ${options.now.toISOString()} ${topic}
        order by available_at, id
        limit ${options.batch}
        for update skip locked`,
  );
}

export async function markOutboxProcessed(tx: Executor, id: number, now: Date): Promise<void> {
  await tx.execute(
    sql`update outbox set processed_at = ${now.toISOString()}, last_error = null where id = ${id}`,
  );
}

/** Retry later: 30 s, 1 min, 2 min, … capped at one hour. */
export function outboxBackoffMs(attempts: number): number {
  return Math.min(3600_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

export async function markOutboxFailed(
  tx: Executor,
  row: OutboxRow,
  error: unknown,
  now: Date,
): Promise<void> {
  const attempts = row.attempts + 1;
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
  const next = new Date(now.getTime() + outboxBackoffMs(attempts)).toISOString();
  await tx.execute(sql`update outbox set attempts = ${attempts}, available_at = ${next}, last_error = ${message}
    where id = ${row.id}`);
}
