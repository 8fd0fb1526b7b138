import type { QueueBucket, QueueItem, QueueQuery, QueueResponse } from '@wangge/contracts';
import { insideAny, type Actor, type Role } from '../../platform/access.ts';
import { one, rows, sql, type Database, type SQL, isoOrNull } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';

const labels: Record<QueueBucket, { zh: string; en: string }> = {
  to_inspect: { zh: '待核查', en: 'To inspect' },
  reported_in_my_grids: { zh: '网格内上报', en: 'Reported in my grids' },
  my_reports: { zh: '我的上报', en: 'My reports' },
  to_verify: { zh: '待核实', en: 'To verify' },
  to_file: { zh: '待立案', en: 'To file' },
  to_dispatch: { zh: '待派遣', en: 'To dispatch' },
  overdue: { zh: '已超期', en: 'Overdue' },
  awaiting_accept: { zh: '待报到', en: 'Awaiting acceptance' },
  in_progress: { zh: '处置中', en: 'In progress' },
  supervised: { zh: '督办件', en: 'Supervised' },
  instructed: { zh: '领导批示', en: 'Instructed' },
};

/** Work queues sorted by deadline (soonest first); the others by report time (oldest first; my reports newest). */
type Order = 'due' | 'reported_asc' | 'reported_desc';
const orderOf: Record<QueueBucket, Order> = {
  to_inspect: 'due',
  reported_in_my_grids: 'reported_asc',
  my_reports: 'reported_desc',
  to_verify: 'reported_asc',
  to_file: 'reported_asc',
  to_dispatch: 'reported_asc',
  overdue: 'due',
  awaiting_accept: 'due',
  in_progress: 'due',
  supervised: 'due',
  instructed: 'due',
};

const openStatuses = sql`c.status not in ('closed', 'evaluated', 'not_filed', 'duplicate')`;

function pathsOf(actor: Actor, roles: Role[]): string[] {
  const paths = actor.grants
    .filter((g) => roles.includes(g.role) && g.regionPath !== null)
    .map((g) => g.regionPath!);
  return [...new Set(paths)];
}

function exactAny(column: SQL, values: string[]): SQL {
  return sql`${column} in (${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;
}

function departmentCondition(departmentIds: number[], caseDepartmentStatus: SQL): SQL {
  return sql`exists (select 1 from case_department d
    where d.case_id = c.id and d.role in ('lead', 'co') and ${caseDepartmentStatus}
      and d.department_id in (${sql.join(
        departmentIds.map((id) => sql`${id}`),
        sql`, `,
      )}))`;
}

/**
 * The buckets an actor has, each a SQL condition on `grid_case c` that starts with a region-path (or owner, or
 * department) restriction the indexes serve. A key held through two roles ORs both conditions.
 */
export function bucketsFor(actor: Actor): Map<QueueBucket, SQL> {
  const parts = new Map<QueueBucket, SQL[]>();
  const add = (key: QueueBucket, condition: SQL): void => {
    parts.set(key, [...(parts.get(key) ?? []), condition]);
  };

  // Grid worker / grid leader: their grids.
  const gridPaths = pathsOf(actor, ['grid_worker', 'grid_leader']);
  if (gridPaths.length > 0) {
    const inGrids = insideAny(sql`c.region_path`, gridPaths);
    add('to_inspect', sql`${inGrids} and c.status in ('responded', 'inspecting')`);
    add('reported_in_my_grids', sql`${inGrids} and c.status in ('reported', 'verifying')`);
  }

  // Centre operator: cases their centre owns now (owner = the grant's region), overdue in the whole subtree.
  const centrePaths = pathsOf(actor, ['centre_operator']);
  if (centrePaths.length > 0) {
    const owned = exactAny(sql`c.owner_region_path`, centrePaths);
    add('to_verify', sql`${owned} and c.status = 'reported'`);
    add('to_file', sql`${owned} and c.status = 'verifying'`);
    add('to_dispatch', sql`${owned} and c.status = 'filed'`);
    add('to_inspect', sql`${owned} and c.status in ('responded', 'inspecting')`);
    add('overdue', sql`${insideAny(sql`c.region_path`, centrePaths)} and c.overdue and ${openStatuses}`);
  }

  // Department handler: cases their department leads or co-handles.
  const handlerGrants = actor.grants.filter(
    (g) => g.role === 'department_handler' && g.departmentId !== null,
  );
  if (handlerGrants.length > 0) {
    const departmentIds = [...new Set(handlerGrants.map((g) => g.departmentId!))];
    const handlerPaths = pathsOf(actor, ['department_handler']);
    const inScope = insideAny(sql`c.region_path`, handlerPaths);
    add(
      'awaiting_accept',
      sql`${inScope} and c.status = 'dispatched' and ${departmentCondition(departmentIds, sql`d.status = 'pending'`)}`,
    );
    add(
      'in_progress',
      sql`${inScope} and c.status in ('in_progress', 'suspended')
        and ${departmentCondition(departmentIds, sql`d.status = 'accepted'`)}`,
    );
    add(
      'overdue',
      sql`${inScope} and c.overdue and ${openStatuses} and ${departmentCondition(departmentIds, sql`true`)}`,
    );
  }

  // Leader: supervised (督办) and instructed (批示) cases in their area.
  const leaderPaths = pathsOf(actor, ['leader']);
  if (leaderPaths.length > 0) {
    const inScope = insideAny(sql`c.region_path`, leaderPaths);
    add('supervised', sql`${inScope} and c.supervision <> 'none' and ${openStatuses}`);
    add('instructed', sql`${inScope} and c.instructed and ${openStatuses}`);
  }

  // Everyone who reports sees what they reported.
  if (
    actor.grants.some((g) => g.role !== 'department_handler' && g.role !== 'leader' && g.role !== 'auditor')
  )
    add('my_reports', sql`c.reporter_user_id = ${actor.userId}`);

  const result = new Map<QueueBucket, SQL>();
  for (const [key, conditions] of parts)
    result.set(
      key,
      conditions.length === 1
        ? conditions[0]!
        : sql`(${sql.join(
            conditions.map((c) => sql`(${c})`),
            sql` or `,
          )})`,
    );
  return result;
}

interface Cursor {
  /** Sort value (ISO instant) or null (no deadline: sorted last). */
  k: string | null;
  id: number;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof value.id === 'number' &&
      Number.isInteger(value.id) &&
      (value.k === null || (typeof value.k === 'string' && !Number.isNaN(Date.parse(value.k))))
    )
      return { k: value.k, id: value.id };
  } catch {
    // fall through
  }
  throw new DomainError('VALIDATION_FAILED', 'cursor: 无效的游标 (invalid cursor)', [
    { field: 'query.cursor', message: 'invalid cursor' },
  ]);
}

/** Keyset paging: (sort value, id) strictly after the cursor in the bucket's order. */
function pageCondition(order: Order, cursor: Cursor | undefined): SQL {
  if (!cursor) return sql`true`;
  if (order === 'due') {
    if (cursor.k === null) return sql`(c.due_at is null and c.id > ${cursor.id})`;
    return sql`(c.due_at > ${cursor.k} or (c.due_at = ${cursor.k} and c.id > ${cursor.id}) or c.due_at is null)`;
  }
  if (order === 'reported_asc')
    return sql`(c.reported_at > ${cursor.k} or (c.reported_at = ${cursor.k} and c.id > ${cursor.id}))`;
  return sql`(c.reported_at < ${cursor.k} or (c.reported_at = ${cursor.k} and c.id < ${cursor.id}))`;
}

function orderBy(order: Order): SQL {
  if (order === 'due') return sql`c.due_at asc nulls last, c.id asc`;
  if (order === 'reported_asc') return sql`c.reported_at asc, c.id asc`;
  return sql`c.reported_at desc, c.id desc`;
}

/** Serial prefix (`2026-230803-0001…`) or text in the title or description. */
export function searchCondition(q: string | undefined): SQL {
  if (!q) return sql`true`;
  const escaped = q.replace(/[\\%_]/g, (m) => `\\${m}`);
  if (/^\d{4}-[\d-]*$/.test(q)) return sql`c.serial like ${`${escaped}%`}`;
  const pattern = `%${escaped}%`;
  return sql`(c.title ilike ${pattern} or c.description ilike ${pattern})`;
}

interface ItemRow {
  id: number;
  serial: string;
  title: string;
  status: QueueItem['status'];
  channel: QueueItem['channel'];
  category_code: string;
  urgent: boolean;
  supervision: QueueItem['supervision'];
  grid_code: string;
  grid_name: string;
  owner_region_code: string;
  due_at: Date | string | null;
  overdue: boolean;
  reported_at: Date | string;
}

const iso = isoOrNull;

/** 我的工作: the actor's buckets with counts, and one page of the chosen bucket (default: the first non-empty). */
export async function listMyQueue(options: {
  db: Database;
  actor: Actor;
  query: QueueQuery;
}): Promise<QueueResponse> {
  const { db, actor, query } = options;
  const buckets = bucketsFor(actor);

  // Every bucket's count in one statement (one round trip): a scalar subquery each, so each keeps its own index plan.
  const keys = [...buckets.keys()];
  const counts =
    keys.length === 0
      ? {}
      : ((await one<Record<string, number>>(
          db.orm,
          sql`select ${sql.join(
            keys.map(
              (key, i) =>
                sql`(select count(*)::int from grid_case c where ${buckets.get(key)!}) as ${sql.identifier(`n${i}`)}`,
            ),
            sql`, `,
          )}`,
        )) ?? {});
  const counted: QueueResponse['buckets'] = keys.map((key, i) => ({
    key,
    label_zh: labels[key].zh,
    label_en: labels[key].en,
    count: Number(counts[`n${i}`] ?? 0),
  }));

  if (query.bucket && !buckets.has(query.bucket))
    throw new DomainError(
      'VALIDATION_FAILED',
      `bucket: 您没有该队列 (no such queue for you: ${query.bucket})`,
      [{ field: 'query.bucket', message: 'not one of your queues' }],
    );
  const chosen = query.bucket ?? counted.find((b) => b.count > 0)?.key ?? counted[0]?.key ?? null;
  if (!chosen) return { buckets: counted, bucket: null, items: [], nextCursor: null };

  const order = orderOf[chosen];
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  const filters: SQL[] = [buckets.get(chosen)!, searchCondition(query.q), pageCondition(order, cursor)];
  if (query.categoryCode)
    filters.push(
      query.categoryCode.length === 2
        ? sql`c.category_code like ${`${query.categoryCode}%`}`
        : sql`c.category_code = ${query.categoryCode}`,
    );
  if (query.urgent !== undefined)
    filters.push(sql`c.urgent = ${query.urgent === '1' || query.urgent === 'true'}`);

  const found = await rows<ItemRow>(
    db.orm,
    sql`select c.id::int as id, c.serial, c.title, c.status, c.channel, c.category_code, c.urgent, c.supervision,
          c.grid_code, (select g.name from region g where g.code = c.grid_code) as grid_name,
          c.owner_region_code, c.due_at, c.overdue, c.reported_at
        from grid_case c
        where ${sql.join(filters, sql` and `)}
        order by ${orderBy(order)}
        limit ${query.limit + 1}`,
  );
  const page = found.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextCursor =
    found.length > query.limit && last
      ? encodeCursor({ k: iso(order === 'due' ? last.due_at : last.reported_at), id: last.id })
      : null;
  return {
    buckets: counted,
    bucket: chosen,
    items: page.map((r) => ({
      id: r.id,
      serial: r.serial,
      title: r.title,
      status: r.status,
      channel: r.channel,
      categoryCode: r.category_code,
      urgent: r.urgent,
      supervision: r.supervision,
      gridCode: r.grid_code,
      gridName: r.grid_name,
      ownerRegionCode: r.owner_region_code,
      dueAt: iso(r.due_at),
      overdue: r.overdue,
      reportedAt: iso(r.reported_at)!,
    })),
    nextCursor,
  };
}
