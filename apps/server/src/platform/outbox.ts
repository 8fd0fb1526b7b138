import { sql, type Executor } from './db.ts';

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
