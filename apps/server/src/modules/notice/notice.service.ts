import crypto from 'node:crypto';
import type { CreateNoticeRequest, Notice, NoticeStats, NoticeTarget } from '@wangge/contracts';
import { caseIntakeLimits } from '@wangge/contracts';
import { requireAccess, scopePaths, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { appendAudit } from '../../platform/audit.ts';
import { enqueue } from '../../platform/outbox.ts';
import { wakeRealtime } from '../../platform/realtime.ts';
import { normalisePhoto, type PhotoStore } from '../case/case.photos.ts';
import { findRegion } from '../region/index.ts';
import { documentMaxBytes, documentTypes, sanitiseFileName, sniffDocument } from './notice.documents.ts';
import { bad, iso, notFound, overlapsAny, under, underColumn } from './notice.scope.ts';

/**
 * Notices (通知): composed by a centre for a region subtree, chosen grids, roles in a region, or the residents of an
 * area; sent now or at `publishAt` (the publish job, idempotent). Publishing writes, set-based, one `notice_grid` row
 * per grid (the worker relays it to the grid group: 已转达) and one `notice_recipient` row per staff member reached
 * (delivered when it reaches their list, read when opened), and one outbox event. Grids that have not relayed it
 * after `remindAfterMinutes` are reminded; after twice that their grid leader is added, after three times the
 * community centre (the reminder job, idempotent, clock injected).
 */

interface NoticeRow {
  id: number;
  title: string;
  body: string;
  target_kind: NoticeTarget['kind'];
  region_code: string;
  region_path: string;
  grid_codes: string[] | null;
  roles: string[] | null;
  public: boolean;
  status: 'scheduled' | 'published';
  publish_at: Date | string;
  published_at: Date | string | null;
  remind_after_minutes: number | null;
  grid_count: number;
  recipient_count: number;
  created_by: number;
  created_at: Date | string;
  attachments: {
    id: number;
    kind: 'image' | 'document';
    fileName: string | null;
    contentType: string;
    bytes: number;
    width: number | null;
    height: number | null;
  }[];
}

export const noticeColumns = sql`n.id::int as id, n.title, n.body, n.target_kind, n.region_code, n.region_path,
  n.grid_codes, n.roles, n.public, n.status, n.publish_at, n.published_at, n.remind_after_minutes, n.grid_count,
  n.recipient_count, n.created_by::int as created_by, n.created_at,
  coalesce((select json_agg(json_build_object('id', a.id, 'kind', a.kind, 'fileName', a.file_name,
      'contentType', a.content_type, 'bytes', a.bytes,
      'width', a.width, 'height', a.height) order by a.id)
    from notice_attachment a where a.notice_id = n.id), '[]'::json) as attachments`;

function targetOf(row: NoticeRow): NoticeTarget {
  switch (row.target_kind) {
    case 'grids':
      return { kind: 'grids', gridCodes: row.grid_codes ?? [] };
    case 'roles':
      return { kind: 'roles', regionCode: row.region_code, roles: (row.roles ?? []) as never };
    case 'region':
    case 'residents':
      return { kind: row.target_kind, regionCode: row.region_code };
  }
}

export function presentNotice(row: NoticeRow, created?: boolean): Notice {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    target: targetOf(row),
    public: row.public,
    status: row.status,
    publishAt: iso(row.publish_at)!,
    publishedAt: iso(row.published_at),
    remindAfterMinutes: row.remind_after_minutes,
    gridCount: row.grid_count,
    recipientCount: row.recipient_count,
    attachments: row.attachments.map((a) => ({ ...a, id: Number(a.id), bytes: Number(a.bytes) })),
    createdAt: iso(row.created_at)!,
    ...(created === undefined ? {} : { created }),
  };
}

export async function loadNotice(
  ex: Executor,
  id: number,
  forUpdate = false,
): Promise<NoticeRow | undefined> {
  return one<NoticeRow>(
    ex,
    sql`select ${noticeColumns} from notice n where n.id = ${id} ${forUpdate ? sql`for update of n` : sql``}`,
  );
}

/** Staff roles a notice reaches (residents and auditors are never recipients). */
const staffRoles = sql`('centre_operator', 'leader', 'grid_leader', 'grid_worker', 'professional_worker',
  'auxiliary', 'department_handler', 'hotline_operator')`;

/** The grids a notice goes to, as a condition on region `r`. */
function gridCondition(row: NoticeRow): SQL | null {
  switch (row.target_kind) {
    case 'region':
    case 'residents':
      return under(sql`r.path`, row.region_path);
    case 'grids':
      return sql`r.code in (${sql.join(
        (row.grid_codes ?? []).map((c) => sql`${c}`),
        sql`, `,
      )})`;
    case 'roles':
      return null;
  }
}

/** The staff grants a notice reaches, as a condition on user_role `ur`. */
function recipientCondition(row: NoticeRow): SQL {
  switch (row.target_kind) {
    case 'region':
    case 'residents':
      return sql`ur.role in ${staffRoles} and ${under(sql`ur.region_path`, row.region_path)}`;
    case 'grids':
      return sql`ur.role in ${staffRoles} and exists (select 1 from notice_grid g
        where g.notice_id = ${row.id} and ${underColumn(sql`ur.region_path`, sql`g.grid_path`)})`;
    case 'roles':
      return sql`ur.role in (${sql.join(
        (row.roles ?? []).map((r) => sql`${r}`),
        sql`, `,
      )}) and ${under(sql`ur.region_path`, row.region_path)}`;
  }
}

/** Publishes a scheduled notice inside `tx` (locked): grid rows, recipient rows, one event. */
async function publish(tx: Executor, row: NoticeRow, now: Date): Promise<void> {
  const grids = gridCondition(row);
  if (grids)
    await tx.execute(sql`insert into notice_grid (notice_id, grid_code, grid_path)
      select ${row.id}, r.code, r.path from region r where r.level = 'grid' and ${grids}
      on conflict do nothing`);
  await tx.execute(sql`insert into notice_recipient (notice_id, user_id, reason, added_at)
    select distinct ${row.id}::bigint, ur.user_id, 'target', ${now.toISOString()}::timestamptz
    from user_role ur join app_user u on u.id = ur.user_id and u.status = 'active'
    where ${recipientCondition(row)}
    on conflict do nothing`);
  await tx.execute(sql`update notice set status = 'published', published_at = ${now.toISOString()},
      grid_count = (select count(*)::int from notice_grid where notice_id = ${row.id}),
      recipient_count = (select count(*)::int from notice_recipient where notice_id = ${row.id})
    where id = ${row.id}`);
  await enqueue(
    tx,
    {
      topic: 'notice.published',
      payload: { noticeId: row.id, title: row.title, public: row.public, regionPath: row.region_path },
    },
    now,
  );
}

/** 发通知: validates the target against the sender's scope, stores it, publishes now unless scheduled. */
export async function createNotice(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  input: CreateNoticeRequest;
}): Promise<Notice> {
  const { db, clock, actor, input } = options;
  const replay = async (): Promise<Notice | undefined> => {
    const found = await one<{ id: number; created_by: number }>(
      db.orm,
      sql`select id::int as id, created_by::int as created_by from notice where client_id = ${input.clientId}`,
    );
    if (!found) return undefined;
    if (found.created_by !== actor.userId)
      throw new DomainError('CONFLICT', '该客户端编号已被使用 (clientId already used)', [
        { field: 'clientId', message: 'already used' },
      ]);
    return presentNotice((await loadNotice(db.orm, found.id))!, false);
  };
  const first = await replay();
  if (first) return first;

  const target = input.target;
  let region: { code: string; path: string };
  let gridCodes: string[] | null = null;
  if (target.kind === 'grids') {
    gridCodes = [...new Set(target.gridCodes)].sort();
    const found = await rows<{ code: string; level: string; path: string }>(
      db.orm,
      sql`select code, level, path from region where code in (${sql.join(
        gridCodes.map((c) => sql`${c}`),
        sql`, `,
      )})`,
    );
    const byCode = new Map(found.map((r) => [r.code, r]));
    const missing = gridCodes.filter((c) => byCode.get(c)?.level !== 'grid');
    if (missing.length > 0)
      throw bad('target.gridCodes', `不是网格 (not grids): ${missing.slice(0, 10).join(', ')}`);
    for (const g of found) requireAccess(actor, 'notice.send', { regionPath: g.path });
    // the lowest region above all chosen grids
    const split = found.map((g) => g.path.split('.'));
    const common: string[] = [];
    for (let i = 0; split.every((p) => i < p.length - 1 && p[i] === split[0]![i]); i++)
      common.push(split[0]![i]!);
    const above = await one<{ code: string; path: string }>(
      db.orm,
      sql`select code, path from region where path = ${common.join('.')}`,
    );
    region = above ?? { code: found[0]!.code, path: found[0]!.path };
  } else {
    const found = await findRegion(db.orm, target.regionCode);
    if (!found) throw notFound('未找到区域 (region not found)');
    requireAccess(actor, 'notice.send', { regionPath: found.path });
    region = found;
  }
  const now = clock.now();
  const publishAt = input.publishAt && new Date(input.publishAt) > now ? new Date(input.publishAt) : now;
  const scheduled = publishAt > now;
  try {
    const id = await db.orm.transaction(async (tx) => {
      const inserted = await one<{ id: number }>(
        tx,
        sql`insert into notice (client_id, title, body, target_kind, region_code, region_path, grid_codes, roles,
              public, remind_after_minutes, status, publish_at, created_by, created_at)
            values (${input.clientId}, ${input.title}, ${input.body}, ${target.kind}, ${region.code},
              ${region.path},
              ${
                gridCodes
                  ? sql`array[${sql.join(
                      gridCodes.map((c) => sql`${c}`),
                      sql`, `,
                    )}]::text[]`
                  : sql`null`
              },
              ${
                target.kind === 'roles'
                  ? sql`array[${sql.join(
                      target.roles.map((r) => sql`${r}`),
                      sql`, `,
                    )}]::text[]`
                  : sql`null`
              },
              ${target.kind === 'residents'}, ${input.remindAfterMinutes ?? null}, 'scheduled',
              ${publishAt.toISOString()}, ${actor.userId}, ${now.toISOString()})
            returning id::int as id`,
      );
      await appendAudit(
        tx,
        {
          actorId: actor.userId,
          actorRole: null,
          action: 'notice.created',
          objectType: 'notice',
          objectId: String(inserted!.id),
          result: 'success',
          detail: { target: target.kind, regionCode: region.code, scheduled },
        },
        now,
      );
      if (!scheduled) await publish(tx, (await loadNotice(tx, inserted!.id, true))!, now);
      return inserted!.id;
    });
    if (!scheduled) wakeRealtime();
    return presentNotice((await loadNotice(db.orm, id))!, true);
  } catch (error) {
    if (pgErrorCode(error) === '23505') {
      const again = await replay();
      if (again) return again;
    }
    throw error;
  }
}

/** The publish job: every scheduled notice that is due, each in its own transaction, once (idempotent). */
export async function publishDueNotices(options: { db: Database; clock: Clock }): Promise<number> {
  const { db, clock } = options;
  const now = clock.now();
  let published = 0;
  for (;;) {
    const done = await db.orm.transaction(async (tx) => {
      const due = await one<{ id: number }>(
        tx,
        sql`select id::int as id from notice where status = 'scheduled' and publish_at <= ${now.toISOString()}
            order by publish_at, id limit 1 for update skip locked`,
      );
      if (!due) return false;
      await publish(tx, (await loadNotice(tx, due.id))!, now);
      return true;
    });
    if (!done) break;
    published += 1;
  }
  if (published > 0) wakeRealtime();
  return published;
}

/**
 * The reminder job (催办): for each published notice with `remindAfterMinutes` = m, the grids that have not relayed
 * it are reminded after m minutes, their grid leaders added as recipients after 2m, the community centre's
 * operators after 3m. Each step happens once per grid (a timestamp column set by a conditional update), so running
 * the job again changes nothing.
 */
export async function remindNotices(options: { db: Database; clock: Clock }): Promise<{
  reminded: number;
  escalatedLeader: number;
  escalatedCommunity: number;
}> {
  const { db, clock } = options;
  const now = clock.now();
  const nowIso = now.toISOString();
  const result = { reminded: 0, escalatedLeader: 0, escalatedCommunity: 0 };
  const due = (factor: number): SQL =>
    sql`n.published_at + make_interval(mins => n.remind_after_minutes * ${factor}) <= ${nowIso}::timestamptz`;
  await db.orm.transaction(async (tx) => {
    const steps = [
      { column: 'reminded_at', factor: 1, key: 'reminded', topic: 'notice.reminded' },
      { column: 'escalated_leader_at', factor: 2, key: 'escalatedLeader', topic: 'notice.escalated' },
      { column: 'escalated_community_at', factor: 3, key: 'escalatedCommunity', topic: 'notice.escalated' },
    ] as const;
    for (const step of steps) {
      const changed = await rows<{ notice_id: number; grid_code: string; grid_path: string; title: string }>(
        tx,
        sql`update notice_grid g set ${sql.identifier(step.column)} = ${nowIso}
            from notice n
            where n.id = g.notice_id and n.status = 'published' and n.remind_after_minutes is not null
              and g.acknowledged_at is null and g.${sql.identifier(step.column)} is null and ${due(step.factor)}
            returning g.notice_id::int as notice_id, g.grid_code, g.grid_path, n.title`,
      );
      if (changed.length === 0) continue;
      result[step.key] = changed.length;
      const byNotice = new Map<number, typeof changed>();
      for (const c of changed) byNotice.set(c.notice_id, [...(byNotice.get(c.notice_id) ?? []), c]);
      for (const [noticeId, grids] of byNotice) {
        let userIds: number[] = [];
        if (step.factor > 1) {
          // 网格长: grid leaders whose grant covers the grid; 社区: operators of the grid's community.
          const paths = grids.map((g) => g.grid_path);
          const pathList = sql.join(
            paths.map((p) => sql`${p}`),
            sql`, `,
          );
          const added = await rows<{ user_id: number }>(
            tx,
            step.factor === 2
              ? sql`insert into notice_recipient (notice_id, user_id, reason, added_at)
                  select distinct ${noticeId}::bigint, ur.user_id, 'escalation_leader', ${nowIso}::timestamptz
                  from user_role ur join app_user u on u.id = ur.user_id and u.status = 'active'
                  join region gr on gr.path in (${pathList})
                  where ur.role = 'grid_leader' and ${underColumn(sql`gr.path`, sql`ur.region_path`)}
                  on conflict do nothing returning user_id::int as user_id`
              : sql`insert into notice_recipient (notice_id, user_id, reason, added_at)
                  select distinct ${noticeId}::bigint, ur.user_id, 'escalation_community', ${nowIso}::timestamptz
                  from user_role ur join app_user u on u.id = ur.user_id and u.status = 'active'
                  join region gr on gr.path in (${pathList})
                  join region c on c.code = gr.parent_code
                  where ur.role = 'centre_operator' and ur.region_path = c.path
                  on conflict do nothing returning user_id::int as user_id`,
          );
          userIds = added.map((a) => a.user_id);
          await tx.execute(sql`update notice set recipient_count =
            (select count(*)::int from notice_recipient where notice_id = ${noticeId}) where id = ${noticeId}`);
        }
        await enqueue(
          tx,
          {
            topic: step.topic,
            payload: {
              noticeId,
              title: grids[0]!.title,
              step: step.key,
              gridCodes: grids.map((g) => g.grid_code),
              gridPaths: grids.map((g) => g.grid_path),
              userIds,
            },
          },
          now,
        );
      }
    }
  });
  if (result.reminded + result.escalatedLeader + result.escalatedCommunity > 0) wakeRealtime();
  return result;
}

/** Notices to the caller, unread first, newest first; what this returns counts as delivered. */
export async function listMyNotices(options: { db: Database; clock: Clock; actor: Actor }) {
  const { db, clock, actor } = options;
  const now = clock.now().toISOString();
  const found = await rows<
    NoticeRow & {
      delivered_at: Date | string | null;
      read_at: Date | string | null;
      reason: 'target' | 'escalation_leader' | 'escalation_community';
      grids: { gridCode: string; acknowledgedAt: string | null }[];
    }
  >(
    db.orm,
    sql`select ${noticeColumns}, r.delivered_at, r.read_at, r.reason,
          coalesce((select json_agg(json_build_object('gridCode', g.grid_code, 'acknowledgedAt', g.acknowledged_at)
              order by g.grid_code)
            from notice_grid g where g.notice_id = n.id and g.grid_path in (
              select ur.region_path from user_role ur where ur.user_id = ${actor.userId})), '[]'::json) as grids
        from notice_recipient r join notice n on n.id = r.notice_id
        where r.user_id = ${actor.userId} and n.status = 'published'
        order by (r.read_at is null) desc, n.published_at desc, n.id desc limit 200`,
  );
  await db.orm.execute(sql`update notice_recipient set delivered_at = ${now}
    where user_id = ${actor.userId} and delivered_at is null
      and notice_id in (select id from notice where status = 'published')`);
  const items = found.map((row) => ({
    ...presentNotice(row),
    deliveredAt: iso(row.delivered_at) ?? now,
    readAt: iso(row.read_at),
    reason: row.reason,
    grids: row.grids.map((g) => ({ gridCode: g.gridCode, acknowledgedAt: iso(g.acknowledgedAt) })),
  }));
  return { items, unread: items.filter((i) => i.readAt === null).length };
}

/** Opens a notice: recipients (marked read), the sender's scope (stats), else 404. */
export async function readNotice(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  noticeId: number;
}): Promise<Notice> {
  const { db, clock, actor, noticeId } = options;
  const row = await loadNotice(db.orm, noticeId);
  if (!row) throw notFound('未找到通知 (notice not found)');
  const now = clock.now().toISOString();
  const mine = await one<{ n: number }>(
    db.orm,
    sql`update notice_recipient set read_at = coalesce(read_at, ${now}), delivered_at = coalesce(delivered_at, ${now})
        where notice_id = ${noticeId} and user_id = ${actor.userId} returning 1 as n`,
  );
  if (!mine) requireSender(actor, row);
  return presentNotice(row);
}

function requireSender(actor: Actor, row: NoticeRow): void {
  try {
    requireAccess(actor, 'notice.send', { regionPath: row.region_path });
  } catch {
    throw notFound('未找到通知 (notice not found)');
  }
}

/** 已转达: the worker of a grid relayed the notice to the grid group. Idempotent (the first is kept). */
export async function acknowledgeNotice(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  noticeId: number;
  gridCode: string;
}): Promise<{ gridCode: string; acknowledgedAt: string; created: boolean }> {
  const { db, clock, actor, noticeId, gridCode } = options;
  const now = clock.now();
  const result = await db.orm.transaction(async (tx) => {
    const grid = await one<{ grid_path: string; acknowledged_at: Date | string | null; title: string }>(
      tx,
      sql`select g.grid_path, g.acknowledged_at, n.title from notice_grid g join notice n on n.id = g.notice_id
          where g.notice_id = ${noticeId} and g.grid_code = ${gridCode} for update of g`,
    );
    if (!grid) throw notFound('未找到通知 (notice not found)');
    requireAccess(actor, 'notice.acknowledge', { regionPath: grid.grid_path });
    if (grid.acknowledged_at !== null)
      return { gridCode, acknowledgedAt: iso(grid.acknowledged_at)!, created: false };
    await tx.execute(sql`update notice_grid set acknowledged_at = ${now.toISOString()},
      acknowledged_by = ${actor.userId} where notice_id = ${noticeId} and grid_code = ${gridCode}`);
    await tx.execute(sql`update notice_recipient set read_at = coalesce(read_at, ${now.toISOString()}),
      delivered_at = coalesce(delivered_at, ${now.toISOString()})
      where notice_id = ${noticeId} and user_id = ${actor.userId}`);
    await enqueue(
      tx,
      {
        topic: 'notice.acknowledged',
        payload: { noticeId, title: grid.title, gridCodes: [gridCode], gridPaths: [grid.grid_path] },
      },
      now,
    );
    return { gridCode, acknowledgedAt: now.toISOString(), created: true };
  });
  if (result.created) wakeRealtime();
  return result;
}

/** Live statistics for the sender: recipients delivered / read, grids relayed, per grid with reminders. */
export async function noticeStats(options: {
  db: Database;
  actor: Actor;
  noticeId: number;
}): Promise<NoticeStats> {
  const { db, actor, noticeId } = options;
  const row = await loadNotice(db.orm, noticeId);
  if (!row) throw notFound('未找到通知 (notice not found)');
  requireSender(actor, row);
  const totals = await one<{ recipients: number; delivered: number; read: number }>(
    db.orm,
    sql`select count(*)::int as recipients, count(delivered_at)::int as delivered, count(read_at)::int as read
        from notice_recipient where notice_id = ${noticeId}`,
  );
  const grids = await rows<{
    grid_code: string;
    name: string;
    acknowledged_at: Date | string | null;
    reminded_at: Date | string | null;
    escalated_leader_at: Date | string | null;
    escalated_community_at: Date | string | null;
  }>(
    db.orm,
    sql`select g.grid_code, r.name, g.acknowledged_at, g.reminded_at, g.escalated_leader_at, g.escalated_community_at
        from notice_grid g join region r on r.code = g.grid_code where g.notice_id = ${noticeId}
        order by g.grid_path`,
  );
  return {
    noticeId,
    recipients: totals?.recipients ?? 0,
    delivered: totals?.delivered ?? 0,
    read: totals?.read ?? 0,
    grids: grids.length,
    acknowledged: grids.filter((g) => g.acknowledged_at !== null).length,
    byGrid: grids.map((g) => ({
      gridCode: g.grid_code,
      gridName: g.name,
      acknowledgedAt: iso(g.acknowledged_at),
      remindedAt: iso(g.reminded_at),
      escalatedLeaderAt: iso(g.escalated_leader_at),
      escalatedCommunityAt: iso(g.escalated_community_at),
    })),
  };
}

/** Notices sent in the caller's scope (for the centre's list), newest first. */
export async function listSentNotices(options: { db: Database; actor: Actor }): Promise<Notice[]> {
  const { db, actor } = options;
  const found = await rows<NoticeRow>(
    db.orm,
    sql`select ${noticeColumns} from notice n
        where ${overlapsAny(sql`n.region_path`, scopePaths(actor, 'notice.send'))}
        order by n.created_at desc, n.id desc limit 200`,
  );
  return found.map((row) => presentNotice(row));
}

/**
 * An image (sniffed, re-encoded without metadata; at most 10 MB) or a document (PDF, .docx, .xlsx: sniffed from
 * the bytes, stored unchanged under the sanitised file name; at most 20 MB) attached to a notice, before or after
 * publishing; at most 9 of each.
 */
export async function addNoticeAttachment(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  store: PhotoStore;
  noticeId: number;
  bytes: Buffer;
  fileName?: string;
}): Promise<Notice> {
  const { db, clock, actor, store, noticeId } = options;
  const row = await loadNotice(db.orm, noticeId);
  if (!row) throw notFound('未找到通知 (notice not found)');
  requireSender(actor, row);
  const document = sniffDocument(options.bytes);
  const kind = document ? 'document' : 'image';
  if (document && options.bytes.length > documentMaxBytes)
    throw new DomainError('PAYLOAD_TOO_LARGE', '文件超过 20 MB (file larger than 20 MB)');
  if (!document && options.bytes.length > caseIntakeLimits.photoMaxBytes)
    throw new DomainError('PAYLOAD_TOO_LARGE', '图片超过 10 MB (image larger than 10 MB)');
  const count = await one<{ n: number }>(
    db.orm,
    sql`select count(*)::int as n from notice_attachment where notice_id = ${noticeId} and kind = ${kind}`,
  );
  if ((count?.n ?? 0) >= 9)
    throw document
      ? bad('file', '每条通知最多 9 个文件 (at most 9 documents per notice)')
      : bad('file', '每条通知最多 9 张图片 (at most 9 images per notice)');
  const stored = document
    ? {
        bytes: options.bytes,
        contentType: documentTypes[document].contentType,
        width: null,
        height: null,
        fileName: sanitiseFileName(options.fileName, document),
        extension: documentTypes[document].extension,
      }
    : await normalisePhoto(options.bytes).then(
        (image) => ({ ...image, contentType: 'image/jpeg', fileName: null, extension: '.jpg' }),
        () => {
          throw bad(
            'file',
            '只能上传图片、PDF、Word (.docx) 或 Excel (.xlsx) 文件 (only images, PDF, Word .docx or Excel .xlsx files)',
          );
        },
      );
  const now = clock.now().toISOString();
  const key = `notices/${now.slice(0, 4)}/${now.slice(5, 7)}/${crypto.randomUUID()}${stored.extension}`;
  await store.put(key, stored.bytes);
  try {
    await db.orm
      .execute(sql`insert into notice_attachment (notice_id, storage_key, kind, file_name, content_type,
      bytes, width, height, created_at) values (${noticeId}, ${key}, ${kind}, ${stored.fileName},
      ${stored.contentType}, ${stored.bytes.length}, ${stored.width}, ${stored.height}, ${now})`);
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    throw error;
  }
  return presentNotice((await loadNotice(db.orm, noticeId))!);
}

/**
 * An attachment's bytes: for a recipient or the sender's scope (`actor`), or — without an actor — only of a
 * published public notice (residents' pages).
 */
export async function readNoticeAttachment(options: {
  db: Database;
  store: PhotoStore;
  actor: Actor | null;
  noticeId: number;
  attachmentId: number;
}): Promise<{ bytes: Buffer; kind: 'image' | 'document'; contentType: string; fileName: string | null }> {
  const { db, store, actor, noticeId, attachmentId } = options;
  const row = await loadNotice(db.orm, noticeId);
  const gone = (): DomainError => notFound('未找到附件 (attachment not found)');
  if (!row) throw gone();
  if (actor) {
    const mine = await one<{ n: number }>(
      db.orm,
      sql`select 1 as n from notice_recipient where notice_id = ${noticeId} and user_id = ${actor.userId}`,
    );
    if (!mine) requireSender(actor, row);
  } else if (!row.public || row.status !== 'published') throw gone();
  const found = await one<{
    storage_key: string;
    kind: 'image' | 'document';
    content_type: string;
    file_name: string | null;
  }>(
    db.orm,
    sql`select storage_key, kind, content_type, file_name from notice_attachment
        where id = ${attachmentId} and notice_id = ${noticeId}`,
  );
  const bytes = found ? await store.get(found.storage_key) : undefined;
  if (!found || !bytes) throw gone();
  return { bytes, kind: found.kind, contentType: found.content_type, fileName: found.file_name };
}
