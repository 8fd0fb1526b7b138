import type { Notification } from '@wangge/contracts';
import type { Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { claimOutbox, markOutboxFailed, markOutboxProcessed, type OutboxRow } from '../../platform/outbox.ts';

/** Who must act next on a case after an event. */
type Audience = 'operators' | 'handlers' | 'grid_workers' | 'reporter';

interface TopicRule {
  audience: Audience[];
  zh: string;
  en: string;
}

/** Event → the next owner(s). Topics not listed go to the operators of the owning centre. */
const topicRules: Record<string, TopicRule> = {
  'case.created': { audience: ['operators'], zh: '新上报事件', en: 'New case reported' },
  'case.dispatched': {
    audience: ['handlers'],
    zh: '新派遣事件,请报到',
    en: 'Case dispatched to you: accept it',
  },
  'case.responded': {
    audience: ['grid_workers', 'operators'],
    zh: '事件已处置,请核查',
    en: 'Case handled: inspect the result',
  },
  'case.closed': { audience: ['reporter'], zh: '您上报的事件已结案', en: 'Your case is closed' },
  'case.evaluated': { audience: ['reporter', 'operators'], zh: '事件已评价', en: 'Case evaluated' },
  'case.supervised': { audience: ['handlers', 'operators'], zh: '事件被督办', en: 'Case under supervision' },
  'case.instructed': {
    audience: ['handlers', 'operators'],
    zh: '领导批示',
    en: 'Leader instruction on a case',
  },
  'case.overdue': { audience: ['handlers', 'operators'], zh: '事件已超期', en: 'Case overdue' },
  'case.reworked': {
    audience: ['handlers', 'operators'],
    zh: '核查未通过,需返工',
    en: 'Inspection failed: rework',
  },
};
const defaultRule: TopicRule = { audience: ['operators'], zh: '事件有新进展', en: 'Case updated' };

function audienceCondition(audience: Audience, caseId: number): SQL {
  switch (audience) {
    case 'operators':
      return sql`select r.user_id from user_role r join grid_case c on c.id = ${caseId}
        where r.role = 'centre_operator' and r.region_code = c.owner_region_code`;
    case 'handlers':
      return sql`select r.user_id from user_role r join case_department d on d.case_id = ${caseId}
        where r.role = 'department_handler' and r.department_id = d.department_id and d.role in ('lead', 'co')
          and d.status <> 'returned'`;
    case 'grid_workers':
      return sql`select r.user_id from user_role r join grid_case c on c.id = ${caseId}
        where r.role in ('grid_worker', 'grid_leader') and r.region_code = c.grid_code`;
    case 'reporter':
      return sql`select c.reporter_user_id from grid_case c where c.id = ${caseId} and c.reporter_user_id is not null`;
  }
}

function caseIdOf(payload: Record<string, unknown>): number | undefined {
  const value = payload.caseId ?? payload.id;
  const id = typeof value === 'string' ? Number(value) : value;
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : undefined;
}

/** Turns one `case.*` message into notifications; the unique (user, message) makes a replay write nothing. */
async function notify(tx: Executor, message: OutboxRow, now: Date): Promise<number> {
  const caseId = caseIdOf(message.payload);
  if (caseId === undefined) return 0;
  const found = await one<{ serial: string; title: string }>(
    tx,
    sql`select serial, title from grid_case where id = ${caseId}`,
  );
  if (!found) return 0; // the case is gone (deleted): nothing to tell anyone
  const rule = topicRules[message.topic] ?? defaultRule;
  const actorId = typeof message.payload.actorId === 'number' ? message.payload.actorId : null;
  const audience = sql.join(
    rule.audience.map((a) => sql`(${audienceCondition(a, caseId)})`),
    sql` union `,
  );
  const title = `${rule.zh}:${found.serial} ${found.title}`.slice(0, 300);
  const body = `${rule.en} (${found.serial})`;
  const inserted = await rows<{ id: number }>(
    tx,
    sql`insert into notification (user_id, kind, case_id, title, body, source_outbox_id, created_at)
        select u.id, ${message.topic}, ${caseId}, ${title}, ${body}, ${message.id}, ${now.toISOString()}
        from app_user u
        where u.id in (${audience}) and u.status = 'active' and u.id is distinct from ${actorId}::bigint
        on conflict (user_id, source_outbox_id) do nothing
        returning id::int as id`,
  );
  return inserted.length;
}

/**
 * Processes due `case.*` outbox messages into in-app notifications, after the changes that wrote them committed.
 * Each message is handled in its own savepoint: a failure counts an attempt and backs off without blocking the rest.
 */
export async function processOutbox(options: {
  db: Database;
  clock: Clock;
  batch?: number;
}): Promise<{ processed: number; failed: number; notifications: number }> {
  const { db, clock } = options;
  const now = clock.now();
  return db.orm.transaction(async (tx) => {
    const claimed = await claimOutbox(tx, { now, batch: options.batch ?? 100, topicPrefix: 'case.' });
    let processed = 0;
    let failed = 0;
    let notifications = 0;
    for (const message of claimed) {
      try {
        notifications += await tx.transaction(async (savepoint) => {
          const written = await notify(savepoint, message, now);
          await markOutboxProcessed(savepoint, message.id, now);
          return written;
        });
        processed += 1;
      } catch (error) {
        await markOutboxFailed(tx, message, error, now);
        failed += 1;
      }
    }
    return { processed, failed, notifications };
  });
}

interface NotificationRow {
  id: number;
  kind: string;
  case_id: number | null;
  title: string;
  body: string;
  created_at: Date | string;
  read_at: Date | string | null;
}

/** The caller's notifications, newest first (optionally only unread), with the unread count. */
export async function listNotifications(options: {
  db: Database;
  actor: Actor;
  unreadOnly: boolean;
  limit: number;
  cursor?: string | undefined;
}): Promise<{ items: Notification[]; unreadCount: number; nextCursor: string | null }> {
  const { db, actor, limit } = options;
  const before = options.cursor === undefined ? null : Number(options.cursor);
  if (before !== null && (!Number.isInteger(before) || before <= 0))
    throw new DomainError('VALIDATION_FAILED', 'cursor: 无效的游标 (invalid cursor)', [
      { field: 'query.cursor', message: 'invalid cursor' },
    ]);
  const found = await rows<NotificationRow>(
    db.orm,
    sql`select id::int as id, kind, case_id::int as case_id, title, body, created_at, read_at
        from notification
        where user_id = ${actor.userId}
          ${options.unreadOnly ? sql`and read_at is null` : sql``}
          ${before !== null ? sql`and id < ${before}` : sql``}
        order by id desc
        limit ${limit + 1}`,
  );
  const unread = await one<{ n: number }>(
    db.orm,
    sql`select count(*)::int as n from notification where user_id = ${actor.userId} and read_at is null`,
  );
  const page = found.slice(0, limit);
  return {
    items: page.map((r) => ({
      id: r.id,
      kind: r.kind,
      caseId: r.case_id,
      title: r.title,
      body: r.body,
      createdAt: new Date(r.created_at).toISOString(),
      readAt: r.read_at === null ? null : new Date(r.read_at).toISOString(),
    })),
    unreadCount: unread?.n ?? 0,
    nextCursor: found.length > limit ? String(page[page.length - 1]!.id) : null,
  };
}

/** Marks one of the caller's notifications read (idempotent); someone else's answers 404. */
export async function markNotificationRead(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  notificationId: number;
}): Promise<{ id: number; readAt: string }> {
  const { db, clock, actor, notificationId } = options;
  const row = await db.orm.transaction(async (tx) =>
    one<{ id: number; read_at: Date | string }>(
      tx,
      sql`update notification set read_at = coalesce(read_at, ${clock.now().toISOString()})
          where id = ${notificationId} and user_id = ${actor.userId}
          returning id::int as id, read_at`,
    ),
  );
  if (!row) throw new DomainError('NOT_FOUND', '未找到通知 (notification not found)');
  return { id: row.id, readAt: new Date(row.read_at).toISOString() };
}
