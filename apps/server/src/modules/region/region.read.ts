import { insideAny, requireAccess, scopePaths, type Actor } from '../../platform/access.ts';
import { one, rows, sql, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion, type RegionLevel, type RegionRow } from './region.queries.ts';

export interface RegionView {
  code: string;
  level: RegionLevel;
  name: string;
  parent: string | null;
  centroid: [number, number] | null;
  path: string;
}

const notFound = () => new DomainError('NOT_FOUND', '未找到 (not found)');

/** Loads a region the actor may read, or answers 404 (out of scope looks exactly like missing). */
export async function readableRegion(ex: Executor, actor: Actor, code: string): Promise<RegionRow> {
  const region = await findRegion(ex, code);
  if (!region) throw notFound();
  requireAccess(actor, 'region.read', { regionPath: region.path });
  return region;
}

interface RegionViewRow {
  code: string;
  level: RegionLevel;
  name: string;
  parent_code: string | null;
  path: string;
  lng: number | null;
  lat: number | null;
}

function present(row: RegionViewRow): RegionView {
  return {
    code: row.code,
    level: row.level,
    name: row.name,
    parent: row.parent_code,
    path: row.path,
    centroid: row.lng === null || row.lat === null ? null : [Number(row.lng), Number(row.lat)],
  };
}

export async function getRegion(ex: Executor, actor: Actor, code: string): Promise<RegionView> {
  await readableRegion(ex, actor, code);
  const row = await one<RegionViewRow>(
    ex,
    sql`select code, level, name, parent_code, path, ST_X(centroid) as lng, ST_Y(centroid) as lat from region where code = ${code}`,
  );
  return present(row!);
}

export async function listChildren(ex: Executor, actor: Actor, code: string): Promise<RegionView[]> {
  await readableRegion(ex, actor, code);
  const list = await rows<RegionViewRow>(
    ex,
    sql`select code, level, name, parent_code, path, ST_X(centroid) as lng, ST_Y(centroid) as lat
        from region where parent_code = ${code} order by code limit 1000`,
  );
  return list.map(present);
}

export interface RegionStats {
  region: { code: string; level: RegionLevel; name: string };
  /** Counts for the whole subtree. Later modules add households, people and cases beside these. */
  counts: {
    children: number;
    grids: number;
    microgrids: number;
    workers: number;
    users: number;
    usersByRole: Record<string, number>;
    /** Cases that happened in the subtree and are not finished; overdue ones among them. */
    openCases: number;
    overdueCases: number;
  };
}

export async function regionStats(ex: Executor, actor: Actor, code: string): Promise<RegionStats> {
  const region = await findRegion(ex, code);
  if (!region) throw notFound();
  requireAccess(actor, 'region.stats', { regionPath: region.path });
  const inside = (column: SQL) => insideAny(column, [region.path]);
  const counts = await one<{ children: number; grids: number; microgrids: number }>(
    ex,
    sql`select
          (select count(*)::int from region where parent_code = ${code}) as children,
          (select count(*)::int from region where level = 'grid' and ${inside(sql`path`)}) as grids,
          (select count(*)::int from region where level = 'microgrid' and ${inside(sql`path`)}) as microgrids`,
  );
  const byRole = await rows<{ role: string; users: number }>(
    ex,
    sql`select role, count(distinct user_id)::int as users from user_role where ${inside(sql`region_path`)} group by role order by role`,
  );
  const totals = await one<{ users: number; workers: number }>(
    ex,
    sql`select count(distinct user_id)::int as users,
               count(distinct user_id) filter (where role in ('grid_worker', 'professional_worker'))::int as workers
        from user_role where ${inside(sql`region_path`)}`,
  );
  const cases = await one<{ open: number; overdue: number }>(
    ex,
    sql`select count(*)::int as open, count(*) filter (where overdue)::int as overdue
        from grid_case
        where ${inside(sql`region_path`)} and status not in ('closed', 'evaluated', 'not_filed', 'duplicate')`,
  );
  return {
    region: { code: region.code, level: region.level, name: region.name },
    counts: {
      children: counts?.children ?? 0,
      grids: counts?.grids ?? 0,
      microgrids: counts?.microgrids ?? 0,
      workers: totals?.workers ?? 0,
      users: totals?.users ?? 0,
      usersByRole: Object.fromEntries(byRole.map((r) => [r.role, r.users])),
      openCases: cases?.open ?? 0,
      overdueCases: cases?.overdue ?? 0,
    },
  };
}

/** Statuses that end a case (or keep it from ever being worked): everything else is open. */
const openCase = sql`c.status not in ('closed', 'evaluated', 'not_filed', 'duplicate')`;

export interface RegionChildStats {
  code: string;
  name: string;
  level: RegionLevel;
  centroid: [number, number] | null;
  openCases: number;
  overdueCases: number;
}

/**
 * Open and overdue cases under each current child of a region (专题图: colouring the map by child), in one query:
 * the children joined to the cases of their subtree (a path-prefix range per child on the region index),
 * grouped by child. The centroid is the point on the surface of the child's current boundary.
 */
export async function childStats(ex: Executor, actor: Actor, code: string): Promise<RegionChildStats[]> {
  const region = await findRegion(ex, code);
  if (!region) throw notFound();
  requireAccess(actor, 'region.stats', { regionPath: region.path });
  const list = await rows<{
    code: string;
    name: string;
    level: RegionLevel;
    lng: number | null;
    lat: number | null;
    open_cases: number;
    overdue_cases: number;
  }>(
    ex,
    sql`with child as (
          select code, name, level, path from region where parent_code = ${code}
        ),
        counted as (
          select k.code, count(*)::int as open_cases, count(*) filter (where c.overdue)::int as overdue_cases
          from child k
          -- the child's path or below it, as one index range: paths hold only digits and '.', and in the C
          -- collation p ≤ x < p || '/' is exactly "x = p or x starts with p || '.'"
          join grid_case c on c.region_path >= k.path and c.region_path < k.path || '/'
          where ${openCase}
          group by k.code
        )
        select k.code, k.name, k.level, ST_X(p.point) as lng, ST_Y(p.point) as lat,
               coalesce(n.open_cases, 0)::int as open_cases, coalesce(n.overdue_cases, 0)::int as overdue_cases
        from child k
        left join counted n on n.code = k.code
        left join lateral (
          select ST_PointOnSurface(b.geom) as point from region_boundary b
          where b.region_code = k.code and b.valid_to is null
        ) p on true
        order by k.code`,
  );
  return list.map((row) => ({
    code: row.code,
    name: row.name,
    level: row.level,
    centroid: row.lng === null || row.lat === null ? null : [Number(row.lng), Number(row.lat)],
    openCases: row.open_cases,
    overdueCases: row.overdue_cases,
  }));
}

const levelOrder = sql`array_position(array['city', 'district', 'street', 'community', 'grid', 'microgrid'], level)`;

/**
 * Regions inside the caller's `region.read` scope whose name contains `q` or whose code starts with `q`,
 * from the top level down (city first), then by code. `q` is matched literally (no wildcards).
 */
export async function searchRegions(
  ex: Executor,
  actor: Actor,
  q: string,
  limit: number,
): Promise<RegionView[]> {
  const scope = scopePaths(actor, 'region.read');
  const list = await rows<RegionViewRow>(
    ex,
    sql`select code, level, name, parent_code, path, ST_X(centroid) as lng, ST_Y(centroid) as lat
        from region
        where ${insideAny(sql`path`, scope)}
          and (strpos(name, ${q}) > 0 or starts_with(code, ${q}))
        order by ${levelOrder}, code
        limit ${limit}`,
  );
  return list.map(present);
}
