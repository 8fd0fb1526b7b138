import crypto from 'node:crypto';
import type { SecretBox } from '../../platform/crypto.ts';
import type {
  CreateWebhookRequest,
  CreatedWebhook,
  WebhookDelivery,
  WebhookEndpoint,
} from '@wangge/contracts';
import { requireAccess, type Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { urlProblem, type Lookup } from './webhook.guard.ts';

interface EndpointRow {
  id: number;
  url: string;
  event_types: string[];
  active: boolean;
  allow_private: boolean;
  failure_count: number;
  paused_at: Date | string | null;
  created_at: Date | string;
}

const endpointColumns = sql`id::int as id, url, event_types, active, allow_private, failure_count, paused_at,
  created_at`;

const iso = (value: Date | string): string => new Date(value).toISOString();

export function presentEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    active: row.active,
    allowPrivate: row.allow_private,
    failureCount: row.failure_count,
    pausedAt: row.paused_at === null ? null : iso(row.paused_at),
    createdAt: iso(row.created_at),
  };
}

async function audit(
  tx: Executor,
  options: { actor: Actor; requestId?: string; action: string; id: number; at: Date },
  detail: Record<string, string | number | boolean | null> = {},
): Promise<void> {
  await appendAudit(
    tx,
    {
      actorId: options.actor.userId,
      actorRole: null,
      action: options.action,
      objectType: 'webhook_endpoint',
      objectId: String(options.id),
      result: 'success',
      requestId: options.requestId ?? null,
      detail,
    },
    options.at,
  );
}

/** Registers an endpoint; the signing secret is returned here and never again. */
export async function createWebhook(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId?: string;
  input: CreateWebhookRequest;
  /** Seals the signing secret at rest (AES-256-GCM, platform/crypto). */
  secrets: SecretBox;
  lookup?: Lookup;
}): Promise<CreatedWebhook> {
  const { db, clock, actor, input } = options;
  requireAccess(actor, 'webhook.admin');
  const allowPrivate = input.allowPrivate ?? false;
  const problem = await urlProblem(input.url, {
    allowPrivate,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  if (problem)
    throw new DomainError('VALIDATION_FAILED', `url: ${problem}`, [{ field: 'url', message: problem }]);
  const secret = `whsec_${crypto.randomBytes(32).toString('base64url')}`;
  const now = clock.now();
  const eventTypes = [...new Set(input.eventTypes)];
  const row = await db.orm.transaction(async (tx) => {
    const created = await one<EndpointRow>(
      tx,
      sql`insert into webhook_endpoint (url, secret, event_types, allow_private, created_by, created_at)
          values (${input.url}, ${options.secrets.encrypt(secret)}, ${`{${eventTypes.join(',')}}`}::text[], ${allowPrivate},
            ${actor.userId}, ${now.toISOString()})
          returning ${endpointColumns}`,
    );
    await audit(
      tx,
      { ...options, action: 'webhook.create', id: created!.id, at: now },
      {
        allowPrivate,
        eventTypes: eventTypes.join(','),
      },
    );
    return created!;
  });
  return { ...presentEndpoint(row), secret };
}

export async function listWebhooks(options: {
  db: Database;
  actor: Actor;
}): Promise<{ items: WebhookEndpoint[] }> {
  requireAccess(options.actor, 'webhook.admin');
  const found = await rows<EndpointRow>(
    options.db.orm,
    sql`select ${endpointColumns} from webhook_endpoint order by id`,
  );
  return { items: found.map(presentEndpoint) };
}

async function requireEndpoint(tx: Executor, id: number): Promise<EndpointRow> {
  const row = await one<EndpointRow>(
    tx,
    sql`select ${endpointColumns} from webhook_endpoint where id = ${id} for update`,
  );
  if (!row) throw new DomainError('NOT_FOUND', '未找到 Webhook (webhook not found)');
  return row;
}

interface DeliveryRow {
  id: number;
  event_id: number;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date | string;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | string | null;
}

interface AttemptRow {
  delivery_id: number;
  at: Date | string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** The latest deliveries of one endpoint, newest first, each with its attempt log. */
export async function listDeliveries(options: {
  db: Database;
  actor: Actor;
  endpointId: number;
  limit?: number;
}): Promise<{ items: WebhookDelivery[] }> {
  requireAccess(options.actor, 'webhook.admin');
  const { db, endpointId } = options;
  const exists = await one<{ id: number }>(
    db.orm,
    sql`select id::int as id from webhook_endpoint where id = ${endpointId}`,
  );
  if (!exists) throw new DomainError('NOT_FOUND', '未找到 Webhook (webhook not found)');
  const deliveries = await rows<DeliveryRow>(
    db.orm,
    sql`select id::int as id, event_id::int as event_id, event_type, status, attempts, next_attempt_at,
          last_status_code, last_error, delivered_at
        from webhook_delivery where endpoint_id = ${endpointId}
        order by id desc limit ${options.limit ?? 100}`,
  );
  const ids = deliveries.map((d) => d.id);
  const attempts =
    ids.length === 0
      ? []
      : await rows<AttemptRow>(
          db.orm,
          sql`select delivery_id::int as delivery_id, at, status_code, error, duration_ms from webhook_attempt
              where delivery_id in (${sql.join(
                ids.map((id) => sql`${id}`),
                sql`, `,
              )})
              order by id`,
        );
  return {
    items: deliveries.map((d) => ({
      id: d.id,
      eventId: d.event_id,
      eventType: d.event_type,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: iso(d.next_attempt_at),
      lastStatusCode: d.last_status_code,
      lastError: d.last_error,
      deliveredAt: d.delivered_at === null ? null : iso(d.delivered_at),
      attemptLog: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({
          at: iso(a.at),
          statusCode: a.status_code,
          error: a.error,
          durationMs: a.duration_ms,
        })),
    })),
  };
}

/** Unpauses an endpoint: the failure count starts again and its pending deliveries are due now. */
export async function resumeWebhook(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId?: string;
  endpointId: number;
}): Promise<WebhookEndpoint> {
  requireAccess(options.actor, 'webhook.admin');
  const now = options.clock.now();
  return options.db.orm.transaction(async (tx) => {
    await requireEndpoint(tx, options.endpointId);
    const row = await one<EndpointRow>(
      tx,
      sql`update webhook_endpoint set paused_at = null, failure_count = 0 where id = ${options.endpointId}
          returning ${endpointColumns}`,
    );
    await tx.execute(sql`update webhook_delivery set next_attempt_at = ${now.toISOString()}
      where endpoint_id = ${options.endpointId} and status = 'pending'`);
    await audit(tx, { ...options, action: 'webhook.resume', id: options.endpointId, at: now });
    return presentEndpoint(row!);
  });
}

/** Removes an endpoint with its deliveries and attempt log. */
export async function deleteWebhook(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId?: string;
  endpointId: number;
}): Promise<void> {
  requireAccess(options.actor, 'webhook.admin');
  const now = options.clock.now();
  await options.db.orm.transaction(async (tx) => {
    const row = await requireEndpoint(tx, options.endpointId);
    await tx.execute(sql`delete from webhook_endpoint where id = ${options.endpointId}`);
    await audit(
      tx,
      { ...options, action: 'webhook.delete', id: options.endpointId, at: now },
      { host: new URL(row.url).host },
    );
  });
}
