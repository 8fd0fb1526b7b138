import crypto from 'node:crypto';
import type { SecretBox } from '../../platform/crypto.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { urlProblem, type Lookup } from './webhook.guard.ts';

/** Receivers should reject a signature whose timestamp is more than this far from their clock (replay window). */
export const signatureToleranceSeconds = 300;
/** Consecutive failed attempts after which an endpoint is paused and the admins are told. */
export const pauseAfterFailures = 10;
/** A delivery still failing after this many attempts is given up (status `failed`). */
export const maxAttempts = 15;
export const requestTimeoutMs = 10_000;
/** While a delivery is being attempted it is leased (not due) for this long, so two workers never send it twice. */
const leaseMs = 5 * 60_000;
/** An outbox id gap older than this is taken as a rolled-back insert, not a transaction still in flight. */
const gapGraceMs = 60_000;

/** 30 s, 1 min, 2 min, … capped at one hour (attempts = attempts made so far, ≥ 1). */
export function webhookBackoffMs(attempts: number): number {
  return Math.min(3600_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the timestamp is signed too, against replay. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute, compare in constant time, and refuse stale timestamps. */
export function verifyWebhookSignature(options: {
  secret: string;
  timestamp: string;
  body: string;
  signature: string;
  nowSeconds: number;
}): boolean {
  const timestamp = Number(options.timestamp);
  if (!Number.isInteger(timestamp)) return false;
  if (Math.abs(options.nowSeconds - timestamp) > signatureToleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(options.secret, timestamp, options.body));
  const given = Buffer.from(options.signature);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

/** Keys of an outbox payload that may leave the system: ids, codes and states, never names or phones. */
const exportedKeys = [
  'caseId',
  'serial',
  'action',
  'from',
  'to',
  'actorId',
  'gridCode',
  'ownerRegionCode',
  'leadDepartmentId',
  'departmentIds',
  'alertId',
  'level',
] as const;

export function webhookData(payload: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const key of exportedKeys) if (payload[key] !== undefined) data[key] = payload[key];
  return data;
}

interface OutboxEvent {
  id: number;
  topic: string;
  payload: Record<string, unknown>;
  created_at: Date | string;
}

/**
 * Fan-out: reads the outbox after its own cursor (webhook_cursor) and writes one delivery per matching endpoint,
 * idempotent through unique (endpoint_id, event_id). It never claims or marks outbox rows, so the notification
 * processor keeps them. The cursor only moves over contiguous ids (or gaps older than a minute), so an event
 * committed late behind a lower id is still seen.
 */
export async function fanOutWebhooks(tx: Executor, now: Date, batch: number): Promise<number> {
  await tx.execute(
    sql`insert into webhook_cursor (id, last_outbox_id) values (1, 0) on conflict (id) do nothing`,
  );
  const cursor = await one<{ last_outbox_id: number }>(
    tx,
    sql`select last_outbox_id::int as last_outbox_id from webhook_cursor where id = 1 for update`,
  );
  let last = cursor!.last_outbox_id;
  const events = await rows<OutboxEvent>(
    tx,
    sql`select id::int as id, topic, payload, created_at from outbox where id > ${last} order by id limit ${batch}`,
  );
  let created = 0;
  let contiguous = true;
  for (const event of events) {
    const body = {
      id: `evt_${event.id}`,
      type: event.topic,
      createdAt: new Date(event.created_at).toISOString(),
      data: webhookData(event.payload),
    };
    const inserted = await rows<{ id: number }>(
      tx,
      sql`insert into webhook_delivery (endpoint_id, event_id, event_type, payload, next_attempt_at, created_at)
          select e.id, ${event.id}, ${event.topic}, ${JSON.stringify(body)}::jsonb, ${now.toISOString()},
            ${now.toISOString()}
          from webhook_endpoint e
          where e.active and ${event.topic} = any (e.event_types) and e.created_at <= ${new Date(event.created_at).toISOString()}
          on conflict (endpoint_id, event_id) do nothing
          returning id::int as id`,
    );
    created += inserted.length;
    const old = new Date(event.created_at).getTime() <= now.getTime() - gapGraceMs;
    if (contiguous && (event.id === last + 1 || old)) last = event.id;
    else contiguous = false;
  }
  await tx.execute(sql`update webhook_cursor set last_outbox_id = ${last} where id = 1`);
  return created;
}

interface DueDelivery {
  id: number;
  endpoint_id: number;
  event_id: number;
  event_type: string;
  payload: Record<string, unknown>;
  attempts: number;
  url: string;
  secret: string;
  allow_private: boolean;
}

interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

async function attempt(
  delivery: DueDelivery,
  now: Date,
  fetchImpl: typeof fetch,
  lookup: Lookup | undefined,
): Promise<AttemptResult> {
  const started = Date.now();
  const problem = await urlProblem(delivery.url, {
    allowPrivate: delivery.allow_private,
    ...(lookup ? { lookup } : {}),
  });
  if (problem) return { statusCode: null, error: `refused: ${problem}`, durationMs: Date.now() - started };
  const body = JSON.stringify(delivery.payload);
  const timestamp = Math.floor(now.getTime() / 1000);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), requestTimeoutMs);
  try {
    const response = await fetchImpl(delivery.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: controller.signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Wangge-Webhooks/1',
        'x-wangge-event': delivery.event_type,
        'x-wangge-delivery': String(delivery.id),
        'x-wangge-timestamp': String(timestamp),
        'x-wangge-signature': signWebhook(delivery.secret, timestamp, body),
      },
    });
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return {
      statusCode: response.status,
      error: ok ? null : `HTTP ${response.status}`,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    const message = controller.signal.aborted
      ? `timeout after ${requestTimeoutMs} ms`
      : error instanceof Error
        ? error.message
        : String(error);
    return { statusCode: null, error: message.slice(0, 500), durationMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function record(
  db: Database,
  delivery: DueDelivery,
  result: AttemptResult,
  now: Date,
): Promise<boolean> {
  const nowIso = now.toISOString();
  const attempts = delivery.attempts + 1;
  const ok = result.error === null;
  return db.orm.transaction(async (tx) => {
    await tx.execute(sql`insert into webhook_attempt (delivery_id, at, status_code, error, duration_ms)
      values (${delivery.id}, ${nowIso}, ${result.statusCode}, ${result.error}, ${Math.round(result.durationMs)})`);
    if (ok) {
      await tx.execute(sql`update webhook_delivery set status = 'delivered', attempts = ${attempts},
          last_status_code = ${result.statusCode}, last_error = null, delivered_at = ${nowIso}
        where id = ${delivery.id}`);
      await tx.execute(sql`update webhook_endpoint set failure_count = 0 where id = ${delivery.endpoint_id}`);
      return true;
    }
    const next = new Date(now.getTime() + webhookBackoffMs(attempts)).toISOString();
    await tx.execute(sql`update webhook_delivery set attempts = ${attempts}, last_status_code = ${result.statusCode},
        last_error = ${result.error}, next_attempt_at = ${next},
        status = ${attempts >= maxAttempts ? 'failed' : 'pending'}
      where id = ${delivery.id}`);
    const paused = await one<{ id: number; url: string; paused: boolean }>(
      tx,
      sql`update webhook_endpoint set failure_count = failure_count + 1,
            paused_at = case when failure_count + 1 >= ${pauseAfterFailures} then ${nowIso}::timestamptz end
          where id = ${delivery.endpoint_id} and paused_at is null
          returning id::int as id, url, paused_at is not null as paused`,
    );
    if (paused?.paused) await notifyAdmins(tx, paused, now);
    return false;
  });
}

/** Tells every active admin that an endpoint was paused (kind `webhook.paused`). */
async function notifyAdmins(tx: Executor, endpoint: { id: number; url: string }, now: Date): Promise<void> {
  const host = new URL(endpoint.url).host;
  await tx.execute(sql`insert into notification (user_id, kind, title, body, created_at)
    select u.id, 'webhook.paused', ${`Webhook 已暂停:${host}`},
      ${`Webhook ${endpoint.id} (${host}) paused after ${pauseAfterFailures} consecutive failures; resume it once fixed`},
      ${now.toISOString()}::timestamptz
    from app_user u
    where u.status = 'active' and exists (select 1 from user_role r where r.user_id = u.id and r.role = 'admin')`);
}

/**
 * The webhook job: fans new outbox events out into deliveries, then attempts the due ones (HTTP outside any
 * transaction; each delivery is leased first). 2xx = delivered; anything else backs off (30 s × 2^n, ≤ 1 h) and
 * counts against the endpoint, which is paused after 10 consecutive failures.
 */
export async function deliverWebhooks(options: {
  db: Database;
  clock: Clock;
  /** Opens the endpoints' sealed signing secrets. */
  secrets: SecretBox;
  fetchImpl?: typeof fetch;
  lookup?: Lookup;
  batch?: number;
}): Promise<{ fannedOut: number; attempted: number; delivered: number; failed: number }> {
  const { db, clock } = options;
  const batch = options.batch ?? 100;
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = clock.now();
  const { fannedOut, due } = await db.orm.transaction(async (tx) => {
    const fannedOut = await fanOutWebhooks(tx, now, batch);
    const due = await rows<DueDelivery>(
      tx,
      sql`select d.id::int as id, d.endpoint_id::int as endpoint_id, d.event_id::int as event_id, d.event_type,
            d.payload, d.attempts, e.url, e.secret, e.allow_private
          from webhook_delivery d join webhook_endpoint e on e.id = d.endpoint_id
          where d.status = 'pending' and d.next_attempt_at <= ${now.toISOString()}
            and e.active and e.paused_at is null
          order by d.next_attempt_at, d.id
          limit ${batch}
          for update of d skip locked`,
    );
    if (due.length > 0)
      await tx.execute(sql`update webhook_delivery set next_attempt_at = ${new Date(now.getTime() + leaseMs).toISOString()}
        where id in (${sql.join(
          due.map((d) => sql`${d.id}`),
          sql`, `,
        )})`);
    return { fannedOut, due };
  });
  let delivered = 0;
  let failed = 0;
  for (const delivery of due) {
    // An endpoint paused by an earlier delivery in this run waits for its resume.
    const endpoint = await one<{ paused: boolean }>(
      db.orm,
      sql`select paused_at is not null as paused from webhook_endpoint where id = ${delivery.endpoint_id}`,
    );
    if (!endpoint || endpoint.paused) continue;
    const result = await attempt(
      { ...delivery, secret: options.secrets.decrypt(delivery.secret) },
      now,
      fetchImpl,
      options.lookup,
    );
    if (await record(db, delivery, result, now)) delivered += 1;
    else failed += 1;
  }
  return { fannedOut, attempted: delivered + failed, delivered, failed };
}
