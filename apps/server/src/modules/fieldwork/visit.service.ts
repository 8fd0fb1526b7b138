import {
  fieldworkLimits,
  type CreateVisitRequest,
  type FieldTaskCase,
  type FieldTasks,
  type OfflineGrid,
  type OfflineHousehold,
  type OfflineMember,
  type Visit,
  type VisitDueStatus,
  type VisitListQuery,
  type VisitPlan,
  type VisitPlanItem,
} from '@wangge/contracts';
import { can, requireAccess, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { bucketsFor } from '../case/case.queues.ts';
import { auditRead } from '../registry/registry.service.ts';
import {
  addDays,
  chinaDate,
  chinaDayEnd,
  chinaDayStart,
  checkDate,
  fieldScopes,
  householdLabelSql,
  insideAny,
  invalid,
  loadGridRegion,
  monthEnd,
  monthStart,
  monthlySql,
  notFound,
  previousMonthStart,
  previousQuarterStart,
  quarterEnd,
  quarterStart,
  readPaths,
  readableGrid,
  requireFieldAccess,
} from './fieldwork.common.ts';

/**
 * 两访: household visits, the must-visit plan of a grid, the offline copy of its households and the worker's tasks.
 */

const clockSkewMs = 5 * 60_000;
const householdNotFound = () => notFound('未找到该户 (household not found)');

interface VisitRow {
  id: number;
  client_id: string;
  household_id: number;
  household_label: string;
  grid_code: string;
  region_path: string;
  user_id: number;
  user_name: string;
  kind: Visit['kind'];
  visited_at: Date | string;
  notes: string;
  needs: Visit['needs'];
  follow_up_on: string | null;
  created_at: Date | string;
}

const visitColumns = sql`v.id::int as id, v.client_id::text as client_id, v.household_id::int as household_id,
  ${householdLabelSql} as household_label, v.grid_code, v.region_path, v.user_id::int as user_id,
  u.display_name as user_name, v.kind, v.visited_at, v.notes, v.needs,
  to_char(v.follow_up_on, 'YYYY-MM-DD') as follow_up_on, v.created_at`;
const visitFrom = sql`household_visit v join household h on h.id = v.household_id
  left join building b on b.id = h.building_id join app_user u on u.id = v.user_id`;

function presentVisit(row: VisitRow, created: boolean): Visit {
  return {
    id: row.id,
    clientId: row.client_id,
    householdId: row.household_id,
    householdLabel: row.household_label,
    gridCode: row.grid_code,
    userId: row.user_id,
    userName: row.user_name,
    kind: row.kind,
    visitedAt: new Date(row.visited_at).toISOString(),
    notes: row.notes,
    needs: row.needs,
    followUpOn: row.follow_up_on,
    createdAt: new Date(row.created_at).toISOString(),
    created,
  };
}

async function loadVisitByClientId(ex: Executor, clientId: string): Promise<VisitRow | undefined> {
  return one<VisitRow>(ex, sql`select ${visitColumns} from ${visitFrom} where v.client_id = ${clientId}`);
}

/**
 * Records a visit to an active household in one of the actor's grids (404 otherwise). The phone's `clientId` makes
 * it idempotent: the same id again returns the first visit with `created: false` and stores nothing.
 */
export async function createVisit(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  input: CreateVisitRequest;
}): Promise<Visit> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  return db.orm.transaction(async (tx) => {
    const existing = await loadVisitByClientId(tx, input.clientId);
    if (existing) {
      if (existing.user_id !== actor.userId) throw notFound('未找到走访记录 (visit not found)');
      return presentVisit(existing, false);
    }
    const household = await one<{ grid_code: string; region_path: string; status: string }>(
      tx,
      sql`select grid_code, region_path, status from household where id = ${input.householdId}`,
    );
    if (!household || household.status !== 'active') throw householdNotFound();
    requireAccess(actor, 'fieldwork.record', { regionPath: household.region_path });
    const visitedAt = new Date(input.visitedAt);
    if (visitedAt.getTime() > now.getTime() + clockSkewMs)
      throw invalid('body.visitedAt', '时间晚于服务器当前时间 (later than the server time)');
    if (input.followUpOn !== undefined) {
      checkDate(input.followUpOn, 'body.followUpOn');
      if (input.followUpOn < chinaDate(visitedAt))
        throw invalid(
          'body.followUpOn',
          '回访日期不能早于走访日期 (the follow-up cannot be before the visit)',
        );
    }
    const inserted = await one<{ id: number }>(
      tx,
      sql`insert into household_visit (client_id, household_id, grid_code, region_path, user_id, kind, visited_at,
            notes, needs, follow_up_on, location, accuracy, created_at)
          values (${input.clientId}, ${input.householdId}, ${household.grid_code}, ${household.region_path},
            ${actor.userId}, ${input.kind}, ${visitedAt.toISOString()}, ${input.notes},
            ${JSON.stringify(input.needs)}::jsonb, ${input.followUpOn ?? null},
            ${input.location ? sql`ST_SetSRID(ST_MakePoint(${input.location.lng}::float8, ${input.location.lat}::float8), 4326)` : null},
            ${input.location?.accuracy ?? null}, ${now.toISOString()})
          on conflict (client_id) do nothing returning id::int as id`,
    );
    const row = (await loadVisitByClientId(tx, input.clientId))!;
    if (row.user_id !== actor.userId) throw notFound('未找到走访记录 (visit not found)');
    return presentVisit(row, inserted !== undefined);
  });
}

interface VisitCursor {
  at: string;
  id: number;
}

function decodeVisitCursor(text: string): VisitCursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<VisitCursor>;
    if (typeof value.id === 'number' && typeof value.at === 'string' && !Number.isNaN(Date.parse(value.at)))
      return { at: value.at, id: value.id };
  } catch {
    // fall through
  }
  throw invalid('query.cursor', '无效的游标 (invalid cursor)');
}

/**
 * Visits in the grids the actor works in or monitors, newest first, with filters; keyset paging on
 * (visited_at, id). `from`/`to` are China dates (inclusive).
 */
export async function listVisits(options: {
  db: Database;
  actor: Actor;
  query: VisitListQuery;
}): Promise<{ items: Visit[]; nextCursor: string | null }> {
  const { db, actor, query } = options;
  requireFieldAccess(actor);
  const conditions: SQL[] = [insideAny(sql`v.region_path`, readPaths(actor))];
  if (query.householdId !== undefined) conditions.push(sql`v.household_id = ${query.householdId}`);
  if (query.grid) conditions.push(sql`v.grid_code = ${query.grid}`);
  if (query.userId !== undefined) conditions.push(sql`v.user_id = ${query.userId}`);
  if (query.from)
    conditions.push(sql`v.visited_at >= ${chinaDayStart(checkDate(query.from, 'query.from')).toISOString()}`);
  if (query.to)
    conditions.push(sql`v.visited_at < ${chinaDayEnd(checkDate(query.to, 'query.to')).toISOString()}`);
  if (query.cursor) {
    const cursor = decodeVisitCursor(query.cursor);
    conditions.push(
      sql`(v.visited_at < ${cursor.at} or (v.visited_at = ${cursor.at} and v.id < ${cursor.id}))`,
    );
  }
  const list = await rows<VisitRow>(
    db.orm,
    sql`select ${visitColumns} from ${visitFrom} where ${sql.join(conditions, sql` and `)}
        order by v.visited_at desc, v.id desc limit ${query.limit + 1}`,
  );
  const page = list.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    list.length > query.limit && last
      ? Buffer.from(
          JSON.stringify({ at: new Date(last.visited_at).toISOString(), id: last.id } satisfies VisitCursor),
        ).toString('base64url')
      : null;
  return { items: page.map((row) => presentVisit(row, false)), nextCursor };
}

/* ---------------------------------------------------------------- the must-visit plan (必访) */

const statusRank: Record<VisitDueStatus, number> = { done: 0, due: 1, overdue: 2 };

interface PlanRow {
  household_id: number;
  household_label: string;
  monthly: boolean;
  existed_before_month: boolean;
  existed_before_quarter: boolean;
  last_visit_at: Date | string | null;
  this_month: number;
  previous_month: number;
  this_quarter: number;
  previous_quarter: number;
  follow_up_on: string | null;
}

/**
 * The plan of one grid on a China date `on` (visits after `on` are not counted, so a past plan can be replayed).
 *
 * Every household (两访, twice a quarter): done with ≥ 2 visits from the quarter's first day to `on`; overdue when
 * it has none this quarter and the previous quarter had fewer than 2 (only a household registered before this
 * quarter began can be overdue); otherwise due by the quarter's last day.
 * A monthly household (a member carries a `monthlyVisitTags` tag): done with ≥ 1 visit this month; overdue when it
 * has none this month and none in the previous month (registered before this month began); otherwise due by the
 * month's end. Its status is the worse of the monthly and the quarterly status.
 * `dueBy` is the earliest last day of a period still needing a visit: this month (monthly, not done), the quarter
 * (not done), next month's end (monthly, done), next quarter's end (done).
 * `followUpOn` is the earliest follow-up date asked by a visit that no later visit followed.
 */
export async function planItems(
  ex: Executor,
  gridCodes: string[],
  on: string,
): Promise<(VisitPlanItem & { gridCode: string })[]> {
  if (gridCodes.length === 0) return [];
  const until = chinaDayEnd(on).toISOString();
  const month = chinaDayStart(monthStart(on)).toISOString();
  const previousMonth = chinaDayStart(previousMonthStart(on)).toISOString();
  const quarter = chinaDayStart(quarterStart(on)).toISOString();
  const previousQuarter = chinaDayStart(previousQuarterStart(on)).toISOString();
  const list = await rows<PlanRow & { grid_code: string }>(
    ex,
    sql`select h.id::int as household_id, h.grid_code, ${householdLabelSql} as household_label,
          ${monthlySql} as monthly,
          h.created_at < ${month} as existed_before_month, h.created_at < ${quarter} as existed_before_quarter,
          s.last_visit_at, coalesce(s.this_month, 0)::int as this_month,
          coalesce(s.previous_month, 0)::int as previous_month, coalesce(s.this_quarter, 0)::int as this_quarter,
          coalesce(s.previous_quarter, 0)::int as previous_quarter,
          (select to_char(min(f.follow_up_on), 'YYYY-MM-DD') from household_visit f
             where f.household_id = h.id and f.follow_up_on is not null and f.visited_at < ${until}
               and not exists (select 1 from household_visit later where later.household_id = h.id
                 and later.visited_at > f.visited_at and later.visited_at < ${until})) as follow_up_on
        from household h
        left join building b on b.id = h.building_id
        left join lateral (
          select max(v.visited_at) as last_visit_at,
            count(*) filter (where v.visited_at >= ${month}) as this_month,
            count(*) filter (where v.visited_at >= ${previousMonth} and v.visited_at < ${month}) as previous_month,
            count(*) filter (where v.visited_at >= ${quarter}) as this_quarter,
            count(*) filter (where v.visited_at >= ${previousQuarter} and v.visited_at < ${quarter})
              as previous_quarter
          from household_visit v
          where v.household_id = h.id and v.visited_at >= ${previousQuarter < previousMonth ? previousQuarter : previousMonth}
            and v.visited_at < ${until}) s on true
        where h.grid_code in (${sql.join(
          gridCodes.map((c) => sql`${c}`),
          sql`, `,
        )}) and h.status = 'active'
        order by h.id`,
  );
  const nextMonthEnd = monthEnd(addDays(monthEnd(on), 1));
  const nextQuarterEnd = quarterEnd(addDays(quarterEnd(on), 1));
  const items = list.map((row) => {
    const quarterly: VisitDueStatus =
      row.this_quarter >= 2
        ? 'done'
        : row.this_quarter === 0 && row.previous_quarter < 2 && row.existed_before_quarter
          ? 'overdue'
          : 'due';
    const dueDates = [quarterly === 'done' ? nextQuarterEnd : quarterEnd(on)];
    let status = quarterly;
    if (row.monthly) {
      const monthlyStatus: VisitDueStatus =
        row.this_month >= 1
          ? 'done'
          : row.previous_month === 0 && row.existed_before_month
            ? 'overdue'
            : 'due';
      if (statusRank[monthlyStatus] > statusRank[status]) status = monthlyStatus;
      dueDates.push(monthlyStatus === 'done' ? nextMonthEnd : monthEnd(on));
    }
    return {
      householdId: row.household_id,
      householdLabel: row.household_label,
      gridCode: row.grid_code,
      monthly: row.monthly,
      lastVisitAt: row.last_visit_at === null ? null : new Date(row.last_visit_at).toISOString(),
      visitsThisMonth: row.this_month,
      visitsThisQuarter: row.this_quarter,
      status,
      dueBy: dueDates.sort()[0]!,
      followUpOn: row.follow_up_on,
    };
  });
  return items.sort(
    (a, b) =>
      statusRank[b.status] - statusRank[a.status] ||
      a.dueBy.localeCompare(b.dueBy) ||
      a.householdLabel.localeCompare(b.householdLabel, 'zh') ||
      a.householdId - b.householdId,
  );
}

export async function visitPlan(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  gridCode: string;
  on?: string;
}): Promise<VisitPlan> {
  const { db, actor } = options;
  const grid = await readableGrid(db.orm, actor, options.gridCode);
  const on = options.on ? checkDate(options.on, 'query.on') : chinaDate(options.clock.now());
  const items = (await planItems(db.orm, [grid.code], on)).map(({ gridCode: _grid, ...item }) => item);
  const counts = { done: 0, due: 0, overdue: 0 };
  for (const item of items) counts[item.status] += 1;
  return { gridCode: grid.code, on, monthEnds: monthEnd(on), quarterEnds: quarterEnd(on), counts, items };
}

/* ---------------------------------------------------------------- offline copy */

/**
 * The offline copy of a grid the actor works in (`fieldwork.record` and `person.read` there, 404 otherwise): its
 * active households with their members, masked as stored (never decrypted), at most `offlineHouseholdsMax`. One
 * audit row records the download with its counts.
 */
export async function offlineGrid(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  gridCode: string;
  requestId: string;
}): Promise<OfflineGrid> {
  const { db, actor } = options;
  const now = options.clock.now();
  return db.orm.transaction(async (tx) => {
    const grid = await loadGridRegion(tx, options.gridCode);
    requireAccess(actor, 'fieldwork.record', { regionPath: grid.path });
    requireAccess(actor, 'person.read', { regionPath: grid.path });
    const households = await rows<{
      id: number;
      label: string;
      kind: string;
      building_name: string | null;
      unit: string | null;
      room: string | null;
      monthly: boolean;
    }>(
      tx,
      sql`select h.id::int as id, ${householdLabelSql} as label, h.kind, b.name as building_name, h.unit, h.room,
            ${monthlySql} as monthly
          from household h left join building b on b.id = h.building_id
          where h.grid_code = ${grid.code} and h.status = 'active'
          order by b.name nulls last, h.unit nulls first, h.room nulls first, h.id
          limit ${fieldworkLimits.offlineHouseholdsMax}`,
    );
    const members = households.length
      ? await rows<{
          id: number;
          household_id: number;
          name: string;
          gender: OfflineMember['gender'];
          birth_year: number | null;
          relation_to_head: OfflineMember['relationToHead'];
          id_masked: string;
          phone_masked: string | null;
          status: OfflineMember['status'];
          current_address: string | null;
          work: string | null;
          version: number;
        }>(
          tx,
          sql`select p.id::int as id, p.household_id::int as household_id, p.name, p.gender,
                extract(year from p.birth_date)::int as birth_year, p.relation_to_head, p.id_masked, p.phone_masked,
                p.status, p.current_address, p.work, p.version
              from person p
              where p.household_id in (${sql.join(
                households.map((h) => sql`${h.id}`),
                sql`, `,
              )}) and p.anonymised_at is null and p.status = 'active'
              order by p.household_id, (p.relation_to_head = 'head') desc, p.birth_date nulls last, p.id`,
        )
      : [];
    const byHousehold = new Map<number, OfflineMember[]>();
    for (const m of members) {
      const list = byHousehold.get(m.household_id) ?? [];
      list.push({
        id: m.id,
        name: m.name,
        gender: m.gender,
        birthYear: m.birth_year,
        relationToHead: m.relation_to_head,
        idNumberMasked: m.id_masked,
        phoneMasked: m.phone_masked,
        status: m.status,
        currentAddress: m.current_address,
        work: m.work,
        version: m.version,
      });
      byHousehold.set(m.household_id, list);
    }
    const result: OfflineHousehold[] = households.map((h) => ({
      id: h.id,
      label: h.label,
      kind: h.kind,
      buildingName: h.building_name,
      unit: h.unit,
      room: h.room,
      monthly: h.monthly,
      members: byHousehold.get(h.id) ?? [],
    }));
    await auditRead(
      tx,
      { actor, clock: options.clock, requestId: options.requestId },
      'grid.offline.read',
      'region',
      grid.code,
      { households: result.length, persons: members.length },
    );
    return { gridCode: grid.code, gridName: grid.name, generatedAt: now.toISOString(), households: result };
  });
}

/* ---------------------------------------------------------------- my tasks */

/** The grids (level grid) the actor records field work in, by code. */
export async function myGrids(ex: Executor, actor: Actor): Promise<{ code: string; name: string }[]> {
  const record = fieldScopes(actor).record;
  if (record !== 'all' && record.length === 0) return [];
  if (record === 'all') return [];
  return rows<{ code: string; name: string }>(
    ex,
    sql`select code, name from region where level = 'grid' and ${insideAny(sql`path`, record)}
        order by code limit 200`,
  );
}

/**
 * The worker's tasks: cases in their grids to verify (核实: reported, waiting for the grid's check) or inspect (核查:
 * responded or inspecting), from the same queue conditions as the case queues; households due or overdue for a
 * visit (overdue first, then by due date); the worker's grids. Notices to relay come with issue 7.
 */
export async function fieldTasks(options: { db: Database; clock: Clock; actor: Actor }): Promise<FieldTasks> {
  const { db, actor } = options;
  if (!can(actor, 'fieldwork.record')) throw new DomainError('FORBIDDEN', '没有权限 (permission denied)');
  const now = options.clock.now();
  const grids = await myGrids(db.orm, actor);
  const buckets = bucketsFor(actor);
  const verify = buckets.get('reported_in_my_grids');
  const inspect = buckets.get('to_inspect');
  const parts: SQL[] = [];
  if (verify)
    parts.push(sql`select 'verify' as task, c.id from grid_case c
      where (${verify}) and c.status = 'reported' and c.reporter_user_id is distinct from ${actor.userId}`);
  if (inspect) parts.push(sql`select 'inspect' as task, c.id from grid_case c where ${inspect}`);
  const cases = parts.length
    ? await rows<{
        id: number;
        serial: string;
        title: string;
        task: FieldTaskCase['task'];
        grid_code: string;
        grid_name: string;
        address: string | null;
        due_at: Date | string | null;
        overdue: boolean;
        urgent: boolean;
      }>(
        db.orm,
        sql`select c.id::int as id, c.serial, c.title, t.task, c.grid_code, r.name as grid_name, c.address, c.due_at,
              c.overdue, c.urgent
            from (${sql.join(parts, sql` union all `)}) t join grid_case c on c.id = t.id
            join region r on r.code = c.grid_code
            order by c.urgent desc, c.due_at asc nulls last, c.id limit 200`,
      )
    : [];
  const on = chinaDate(now);
  const visits = (
    await planItems(
      db.orm,
      grids.map((g) => g.code),
      on,
    )
  ).filter((item) => item.status !== 'done');
  return {
    cases: cases.map((c) => ({
      id: c.id,
      serial: c.serial,
      title: c.title,
      task: c.task,
      gridCode: c.grid_code,
      gridName: c.grid_name,
      address: c.address,
      dueAt: c.due_at === null ? null : new Date(c.due_at).toISOString(),
      overdue: c.overdue,
      urgent: c.urgent,
    })),
    visits,
    grids,
  };
}
