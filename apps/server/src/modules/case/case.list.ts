import type { CaseList, CaseListItem, CaseListQuery, NearbyCases } from '@wangge/contracts';
import { terminalCaseStatuses } from '@wangge/contracts';
import { can, insideAny, requireAccess, rolePermissions, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type SQL, isoOrNull } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { toWgs84, type InputCrs } from '../region/gcj02.ts';
import { findRegion } from '../region/index.ts';
import { decodeCursor, encodeCursor, searchCondition } from './case.queues.ts';

/** Cases that count as open (未办结): not closed, evaluated, not filed or merged as a duplicate. */
const openCondition = sql`c.status not in (${sql.raw(terminalCaseStatuses.map((s) => `'${s}'`).join(', '))})`;

/**
 * The cases on `grid_case c` the actor may see, as SQL: `canSeeCase` (case.policy.ts) rule for rule. Inside a
 * `case.read` grant's region; a department handler only where their department is on the case (lead, co or cc, also
 * one that returned it); system-wide admins and auditors everywhere; and the reporter their own reports.
 */
export function visibleCasesCondition(actor: Actor): SQL {
  const parts: SQL[] = [sql`c.reporter_user_id = ${actor.userId}`];
  const regionPaths: string[] = [];
  for (const grant of actor.grants) {
    if (!rolePermissions[grant.role].includes('case.read')) continue;
    if (grant.regionPath === null) {
      if (grant.role === 'admin' || grant.role === 'auditor') return sql`true`;
      continue;
    }
    if (grant.role === 'department_handler') {
      if (grant.departmentId !== null)
        parts.push(sql`(${insideAny(sql`c.region_path`, [grant.regionPath])} and exists (
          select 1 from case_department cd where cd.case_id = c.id and cd.department_id = ${grant.departmentId}))`);
      continue;
    }
    regionPaths.push(grant.regionPath);
  }
  if (regionPaths.length > 0) parts.push(insideAny(sql`c.region_path`, [...new Set(regionPaths)]));
  return sql`(${sql.join(parts, sql` or `)})`;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

/** The start of a China date (UTC+8, no daylight saving) as an instant. */
function chinaDayStart(date: string, field: string): string {
  const at = new Date(`${date}T00:00:00+08:00`);
  const roundTrip = new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
  if (Number.isNaN(at.getTime()) || roundTrip !== date)
    throw invalid(field, '不是有效日期 (not a valid date)');
  return at.toISOString();
}

function categoryCondition(code: string): SQL {
  return code.length === 2 ? sql`c.category_code like ${`${code}%`}` : sql`c.category_code = ${code}`;
}

function bboxCondition(text: string): SQL {
  const [west, south, east, north] = text.split(',').map(Number) as [number, number, number, number];
  if (!(west >= -180 && east <= 180 && south >= -90 && north <= 90) || !(west < east && south < north))
    throw invalid('query.bbox', '范围无效 (west < east and south < north, in degrees)');
  return sql`c.location && ST_MakeEnvelope(${west}::float8, ${south}::float8, ${east}::float8, ${north}::float8, 4326)`;
}

const maxCount = 10_000;

interface ListRow {
  id: number;
  serial: string;
  title: string;
  status: CaseListItem['status'];
  channel: CaseListItem['channel'];
  category_code: string;
  urgent: boolean;
  supervision: CaseListItem['supervision'];
  overdue: boolean;
  due_at: Date | string | null;
  grid_code: string;
  grid_name: string;
  owner_region_code: string;
  lead_department: string | null;
  lng: number | null;
  lat: number | null;
  reported_at: Date | string;
}

const iso = isoOrNull;

/** The filters of the case list that also apply to the map's case tiles (everything but paging and sorting). */
export type CaseFilterQuery = Partial<
  Pick<
    CaseListQuery,
    'region' | 'bbox' | 'categoryCode' | 'state' | 'status' | 'channel' | 'supervised' | 'from' | 'to' | 'q'
  >
>;

/**
 * The case list's conditions on `grid_case c`: the actor's scope (`visibleCasesCondition`) and the query's filters;
 * a region outside the scope answers 404. Shared by the list and the map's case tiles, so both show the same cases.
 */
export async function caseListConditions(options: {
  db: Database;
  actor: Actor;
  query: CaseFilterQuery;
}): Promise<SQL[]> {
  const { db, actor, query } = options;
  requireAccess(actor, 'case.read');
  const filters: SQL[] = [visibleCasesCondition(actor)];

  if (query.region) {
    const region = await findRegion(db.orm, query.region);
    if (!region) throw new DomainError('NOT_FOUND', '未找到 (not found)');
    requireAccess(actor, 'case.read', { regionPath: region.path });
    filters.push(insideAny(sql`c.region_path`, [region.path]));
  }
  if (query.bbox) filters.push(bboxCondition(query.bbox));
  if (query.categoryCode) filters.push(categoryCondition(query.categoryCode));
  if (query.state === 'open') filters.push(openCondition);
  else if (query.state === 'overdue') filters.push(sql`c.overdue and ${openCondition}`);
  else if (query.state === 'closed') filters.push(sql`not ${openCondition}`);
  if (query.status) filters.push(sql`c.status = ${query.status}`);
  if (query.channel) filters.push(sql`c.channel = ${query.channel}`);
  if (query.supervised !== undefined)
    filters.push(
      query.supervised === '1' || query.supervised === 'true'
        ? sql`c.supervision <> 'none'`
        : sql`c.supervision = 'none'`,
    );
  if (query.from) filters.push(sql`c.reported_at >= ${chinaDayStart(query.from, 'query.from')}::timestamptz`);
  if (query.to) filters.push(sql`c.reported_at < ${chinaDayStart(query.to, 'query.to')}::timestamptz`);
  if (query.q) filters.push(searchCondition(query.q));
  return filters;
}

/**
 * GET /api/cases: the cases the caller may see (in a region of their scope, else 404), filtered, newest reported
 * first or earliest due first, a keyset page at a time, with the total (counted up to 10 000).
 */
export async function listCases(options: {
  db: Database;
  actor: Actor;
  query: CaseListQuery;
}): Promise<CaseList> {
  const { db, actor, query } = options;
  const where = sql.join(await caseListConditions({ db, actor, query }), sql` and `);

  const byDue = query.sort === 'due';
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  let page = sql`true`;
  if (cursor && byDue)
    page =
      cursor.k === null
        ? sql`(c.due_at is null and c.id > ${cursor.id})`
        : sql`(c.due_at > ${cursor.k}::timestamptz or (c.due_at = ${cursor.k}::timestamptz and c.id > ${cursor.id})
            or c.due_at is null)`;
  else if (cursor) {
    if (cursor.k === null) throw invalid('query.cursor', '无效的游标 (invalid cursor)');
    page = sql`(c.reported_at < ${cursor.k}::timestamptz
      or (c.reported_at = ${cursor.k}::timestamptz and c.id < ${cursor.id}))`;
  }
  const order = byDue ? sql`c.due_at asc nulls last, c.id asc` : sql`c.reported_at desc, c.id desc`;

  const found = await rows<ListRow>(
    db.orm,
    sql`select c.id::int as id, c.serial, c.title, c.status, c.channel, c.category_code, c.urgent, c.supervision,
          c.overdue, c.due_at, c.grid_code, g.name as grid_name, c.owner_region_code, d.name as lead_department,
          st_x(c.location) as lng, st_y(c.location) as lat, c.reported_at
        from grid_case c
        join region g on g.code = c.grid_code
        left join department d on d.id = c.lead_department_id
        where ${where} and ${page}
        order by ${order}
        limit ${query.limit + 1}`,
  );
  // Counting stops at 10 001 rows: enough to say "more than 10 000" without reading a million.
  const counted = await one<{ n: number }>(
    db.orm,
    sql`select count(*)::int as n from (select 1 from grid_case c where ${where} limit ${maxCount + 1}) matching`,
  );
  const total = counted?.n ?? 0;

  const items = found.slice(0, query.limit);
  const last = items[items.length - 1];
  const nextCursor =
    found.length > query.limit && last
      ? encodeCursor({ k: iso(byDue ? last.due_at : last.reported_at), id: last.id })
      : null;
  return {
    items: items.map((r) => ({
      id: r.id,
      serial: r.serial,
      title: r.title,
      status: r.status,
      channel: r.channel,
      categoryCode: r.category_code,
      urgent: r.urgent,
      supervision: r.supervision,
      overdue: r.overdue,
      dueAt: iso(r.due_at),
      gridCode: r.grid_code,
      gridName: r.grid_name,
      ownerRegionCode: r.owner_region_code,
      leadDepartment: r.lead_department,
      point: r.lng === null || r.lat === null ? null : [Number(r.lng), Number(r.lat)],
      reportedAt: iso(r.reported_at)!,
    })),
    total: Math.min(total, maxCount),
    totalCapped: total > maxCount,
    nextCursor,
  };
}

/** Duplicate hints never list more than this. */
export const nearbyLimit = 20;

interface NearbyRow {
  id: number;
  serial: string;
  title: string;
  status: NearbyCases['items'][number]['status'];
  category_code: string;
  distance_m: number;
  reported_at: Date | string;
}

/**
 * GET /api/cases/nearby: before a new case is saved, the open cases of the same category (4 digits: the item;
 * 2 digits: the class) reported within `radius` metres in the last `days` days that the caller may see, nearest
 * first (at most 20) — likely duplicates (重复上报).
 */
export async function findNearbyCases(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  query: { categoryCode: string; lng: number; lat: number; crs: InputCrs; radius: number; days: number };
}): Promise<NearbyCases> {
  const { db, clock, actor, query } = options;
  if (!can(actor, 'case.report') && !can(actor, 'case.read'))
    throw new DomainError('FORBIDDEN', '没有权限 (permission denied)');
  const [lng, lat] = toWgs84(query.crs, query.lng, query.lat);
  const since = new Date(clock.now().getTime() - query.days * 86_400_000).toISOString();
  // A box a little larger than the circle lets the spatial index pick the candidates; ST_DWithin on the
  // ellipsoid (geography) then keeps those within the radius.
  const latMargin = (query.radius / 111_000) * 1.1;
  const lngMargin = Math.min(180, latMargin / Math.max(0.01, Math.cos((lat * Math.PI) / 180)));
  const found = await rows<NearbyRow>(
    db.orm,
    sql`select c.id::int as id, c.serial, c.title, c.status, c.category_code, c.reported_at,
          ST_Distance(c.location::geography, p.point)::float8 as distance_m
        from grid_case c,
          (select ST_SetSRID(ST_MakePoint(${lng}::float8, ${lat}::float8), 4326)::geography as point) p
        where c.location && ST_MakeEnvelope(${lng - lngMargin}::float8, ${lat - latMargin}::float8,
            ${lng + lngMargin}::float8, ${lat + latMargin}::float8, 4326)
          and ST_DWithin(c.location::geography, p.point, ${query.radius}::float8)
          and ${openCondition}
          and ${categoryCondition(query.categoryCode)}
          and c.reported_at >= ${since}::timestamptz
          and ${visibleCasesCondition(actor)}
        order by distance_m, c.id
        limit ${nearbyLimit}`,
  );
  return {
    items: found.map((r) => ({
      id: r.id,
      serial: r.serial,
      title: r.title,
      status: r.status,
      categoryCode: r.category_code,
      distanceM: Math.round(Number(r.distance_m) * 10) / 10,
      reportedAt: iso(r.reported_at)!,
    })),
  };
}
