import { can, requireAccess, scopePaths, type Actor, type Permission } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError, type ErrorCode } from '../../platform/errors.ts';
import type { BoundaryEvents } from './region.events.ts';
import { areaGeometryProblem, planarGeometry } from './region.geometry.ts';
import { regionCodeProblems } from './region-code.ts';
import { findRegion, type RegionLevel, type RegionRow } from './region.queries.ts';
import { insertRegion, type AreaGeometry } from './region.store.ts';

/**
 * Validated region writes: create, re-grid (replace a boundary, keeping its history), rename; the history query
 * "which grid was this point in on date D". Every write runs its integrity checks in PostGIS inside the
 * transaction that makes it, appends an audit row in that transaction and notifies the router after commit.
 */

export interface RegionWriteOptions {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId: string;
  events: BoundaryEvents;
}

/**
 * How much digitising noise the integrity checks forgive, measured on the ellipsoid (geography area):
 * a region may stick out of its parent, and two siblings may overlap, by at most
 * max(50 m², 1 % of the area concerned) — the region's own area for "outside parent", the smaller of the
 * two for an overlap. Shared edges digitised twice produce slivers far below this; a misplaced or
 * mis-projected (e.g. GCJ-02) polygon is far above it.
 */
export const boundaryTolerance = { squareMetres: 50, share: 0.01 } as const;

/** Serialises boundary writes (all of them: they are rare), so two concurrent writes cannot both pass the checks. */
const boundaryLockKey = 7263002;

export interface RegionWritten {
  code: string;
  level: RegionLevel;
  name: string;
  parent: string | null;
  path: string;
  validFrom: string | null;
}

const notFound = () => new DomainError('NOT_FOUND', '未找到 (not found)');

export async function lockBoundaries(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${boundaryLockKey})`);
}

/** Rejects malformed GeoJSON or out-of-range coordinates before any SQL sees them. */
export function assertAreaGeometry(geometry: AreaGeometry, field = 'boundary'): AreaGeometry {
  const problem = areaGeometryProblem(geometry);
  if (problem)
    throw new DomainError('REGION_INVALID_GEOMETRY', `${field}: ${problem}`, [{ field, message: problem }]);
  return planarGeometry(geometry);
}

/**
 * PostGIS validity of several geometries in one query: returns the reason (ST_IsValidReason, e.g.
 * "Self-intersection[130.35 46.85]") for each invalid one, keyed by position in the input list.
 */
export async function invalidGeometries(
  ex: Executor,
  geometries: AreaGeometry[],
): Promise<Map<number, string>> {
  if (geometries.length === 0) return new Map();
  const list = await rows<{ k: number; reason: string }>(
    ex,
    sql`with checked as materialized (
          select g.k, ST_IsValidReason(ST_SetSRID(ST_GeomFromGeoJSON(g.value::text), 4326)) as reason
          from jsonb_array_elements(${JSON.stringify(geometries)}::jsonb) with ordinality as g (value, k)
        )
        select (k - 1)::int as k, reason from checked where reason <> 'Valid Geometry'`,
  );
  return new Map(list.map((row) => [row.k, row.reason]));
}

export function invalidGeometryMessage(reason: string): string {
  return `边界几何无效:${reason} (invalid geometry: ${reason})`;
}

export interface BoundaryProblem {
  /** The region whose (new) boundary is at fault. */
  code: string;
  error: Extract<ErrorCode, 'REGION_OUTSIDE_PARENT' | 'REGION_OVERLAP'>;
  /** The other region: parent, child or sibling. */
  other: string;
  message: string;
}

const squareMetres = (value: number) => `${Math.round(value).toLocaleString('en-US')} m²`;
const share = (part: number, whole: number) => (whole > 0 ? `${((part / whole) * 100).toFixed(2)}%` : '—');
const toleranceText = `${boundaryTolerance.squareMetres} m² / ${boundaryTolerance.share * 100}%`;

/** Above the tolerance: `excess` m² of a region of `area` m² (outside its parent, or shared with a sibling). */
function beyondTolerance(excess: number, area: number): boolean {
  return excess > Math.max(boundaryTolerance.squareMetres, boundaryTolerance.share * area);
}

interface MeasuredPair {
  code: string;
  other: string;
  other_name: string;
  /** m² outside the parent (or the overlap, for siblings). */
  excess: number;
  /** m² the tolerance is relative to. */
  area: number;
}

/**
 * Integrity of the current boundaries of `codes` (just written, inside the open transaction):
 * each lies inside its parent's current boundary, the current children of each still lie inside it, and
 * none overlaps a sibling (same parent). Tolerances: `boundaryTolerance`. Geometries the checks compare
 * against are skipped when invalid (old data from a generator), so the checks never crash on them.
 *
 * Each query first collects the pairs to compare with cheap joins (a materialised CTE, so the planner cannot
 * evaluate the geometry functions on a cross product), then measures only those pairs.
 */
export async function boundaryProblems(ex: Executor, codes: string[]): Promise<BoundaryProblem[]> {
  if (codes.length === 0) return [];
  const changed = JSON.stringify(codes);
  const problems: BoundaryProblem[] = [];

  const outside = await rows<MeasuredPair>(
    ex,
    sql`with pair as materialized (
          select r.code, p.code as other, p.name as other_name, cb.geom as geom, pb.geom as parent_geom
          from jsonb_array_elements_text(${changed}::jsonb) as c (code)
          join region r on r.code = c.code
          join region p on p.code = r.parent_code
          join region_boundary cb on cb.region_code = r.code and cb.valid_to is null
          join region_boundary pb on pb.region_code = p.code and pb.valid_to is null
        )
        select code, other, other_name,
               ST_Area(ST_Difference(geom, parent_geom)::geography) as excess, ST_Area(geom::geography) as area
        from pair
        where ST_IsValid(parent_geom) and not ST_CoveredBy(geom, parent_geom)
        order by code`,
  );
  for (const row of outside.filter((r) => beyondTolerance(r.excess, r.area)))
    problems.push({
      code: row.code,
      error: 'REGION_OUTSIDE_PARENT',
      other: row.other,
      message:
        `超出上级区域 ${row.other} ${row.other_name} 约 ${squareMetres(row.excess)} (${share(row.excess, row.area)}),容差 ${toleranceText} ` +
        `(lies outside its parent ${row.other} by ${squareMetres(row.excess)}; tolerance ${toleranceText})`,
    });

  const children = await rows<MeasuredPair>(
    ex,
    sql`with pair as materialized (
          select c.code, k.code as other, k.name as other_name, cb.geom as geom, kb.geom as child_geom
          from jsonb_array_elements_text(${changed}::jsonb) as c (code)
          join region_boundary cb on cb.region_code = c.code and cb.valid_to is null
          join region k on k.parent_code = c.code
          join region_boundary kb on kb.region_code = k.code and kb.valid_to is null
          where k.code not in (select jsonb_array_elements_text(${changed}::jsonb))
        )
        select code, other, other_name,
               ST_Area(ST_Difference(child_geom, geom)::geography) as excess, ST_Area(child_geom::geography) as area
        from pair
        where ST_IsValid(child_geom) and not ST_CoveredBy(child_geom, geom)
        order by code, other`,
  );
  for (const row of children.filter((r) => beyondTolerance(r.excess, r.area)))
    problems.push({
      code: row.code,
      error: 'REGION_OUTSIDE_PARENT',
      other: row.other,
      message:
        `下级区域 ${row.other} ${row.other_name} 将有约 ${squareMetres(row.excess)} 位于新边界之外,请一并调整 ` +
        `(child ${row.other} would lie outside the new boundary by ${squareMetres(row.excess)}; change both together)`,
    });

  const overlaps = await rows<MeasuredPair>(
    ex,
    sql`with pair as materialized (
          select r.code, o.code as other, o.name as other_name, cb.geom as geom, ob.geom as sibling_geom
          from jsonb_array_elements_text(${changed}::jsonb) as c (code)
          join region r on r.code = c.code
          join region_boundary cb on cb.region_code = r.code and cb.valid_to is null
          join region_boundary ob on ob.valid_to is null and ob.region_code <> r.code and ob.geom && cb.geom
          join region o on o.code = ob.region_code
          where o.parent_code = r.parent_code or (o.parent_code is null and r.parent_code is null)
        )
        select code, other, other_name, ST_Area(ST_Intersection(geom, sibling_geom)::geography) as excess,
               least(ST_Area(geom::geography), ST_Area(sibling_geom::geography)) as area
        from pair
        where ST_IsValid(sibling_geom) and ST_Intersects(geom, sibling_geom) and not ST_Touches(geom, sibling_geom)
        order by code, other`,
  );
  for (const row of overlaps.filter((r) => beyondTolerance(r.excess, r.area)))
    problems.push({
      code: row.code,
      error: 'REGION_OVERLAP',
      other: row.other,
      message:
        `与同级区域 ${row.other} ${row.other_name} 重叠约 ${squareMetres(row.excess)} (${share(row.excess, row.area)}),容差 ${toleranceText} ` +
        `(overlaps sibling ${row.other} by ${squareMetres(row.excess)}; tolerance ${toleranceText})`,
    });
  return problems;
}

/** Regions are written by whoever holds the permission over the parent; cities only by a system-wide grant. */
export function mayWriteUnder(
  actor: Actor,
  permission: Permission,
  parent: Pick<RegionRow, 'path'> | null,
): boolean {
  if (!parent) return scopePaths(actor, permission) === 'all';
  return can(actor, permission, { regionPath: parent.path });
}

/** Access to change an existing region: 404 out of scope, 403 without the permission over its parent. */
async function requireRegionWrite(ex: Executor, actor: Actor, region: RegionRow): Promise<void> {
  requireAccess(actor, 'region.write', { regionPath: region.path });
  const parent = region.parent_code ? await findRegion(ex, region.parent_code) : null;
  if (!mayWriteUnder(actor, 'region.write', parent ?? null))
    throw new DomainError(
      'FORBIDDEN',
      '修改本区域需要上级区域的编辑权限 (changing this region needs the write permission on its parent)',
    );
}

function futureCheck(validFrom: Date, now: Date): void {
  if (validFrom.getTime() > now.getTime())
    throw new DomainError(
      'VALIDATION_FAILED',
      'validFrom: 生效时间不能晚于当前时间 (must not be in the future)',
      [{ field: 'validFrom', message: '不能晚于当前时间 (must not be in the future)' }],
    );
}

export interface CurrentBoundary {
  id: number;
  validFrom: Date;
}

export async function currentBoundary(ex: Executor, code: string): Promise<CurrentBoundary | undefined> {
  const row = await one<{ id: number; valid_from: Date | string }>(
    ex,
    sql`select id::int as id, valid_from from region_boundary where region_code = ${code} and valid_to is null for update`,
  );
  return row ? { id: row.id, validFrom: new Date(row.valid_from) } : undefined;
}

export function tooEarlyMessage(current: Date): string {
  return `新边界的生效时间必须晚于当前边界的生效时间 ${current.toISOString()} (must be after the current boundary's start)`;
}

/**
 * 重新划分网格 (re-gridding): closes the current boundary at `at` and opens the new one from `at`, so the old
 * boundary answers history queries for any earlier time. The caller checks `at` against the current start.
 */
export async function writeBoundaryVersion(
  tx: Executor,
  code: string,
  geometry: AreaGeometry,
  at: Date,
  now: Date,
): Promise<void> {
  const geojson = JSON.stringify(geometry);
  await tx.execute(
    sql`update region_boundary set valid_to = ${at.toISOString()} where region_code = ${code} and valid_to is null`,
  );
  await tx.execute(sql`insert into region_boundary (region_code, geom, valid_from)
    values (${code}, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${geojson}::text), 4326)), ${at.toISOString()})`);
  await tx.execute(sql`update region
    set centroid = (select ST_PointOnSurface(b.geom) from region_boundary b where b.region_code = ${code} and b.valid_to is null),
        updated_at = ${now.toISOString()}
    where code = ${code}`);
}

function fieldError(code: ErrorCode, message: string, field: string): DomainError {
  return new DomainError(code, `${field}: ${message}`, [{ field, message }]);
}

export interface CreateRegionInput {
  code: string;
  level: RegionLevel;
  name: string;
  parent?: string | null | undefined;
  boundary: AreaGeometry;
  validFrom?: Date | undefined;
}

/** Creates a region with its first boundary, after checking its code, geometry, parent and siblings. */
export async function createRegion(
  options: RegionWriteOptions & { input: CreateRegionInput },
): Promise<RegionWritten> {
  const { db, clock, actor, requestId, events, input } = options;
  const now = clock.now();
  const validFrom = input.validFrom ?? now;
  futureCheck(validFrom, now);
  const boundary = assertAreaGeometry(input.boundary);
  const name = input.name.trim();
  const written = await db.orm.transaction(async (tx) => {
    await lockBoundaries(tx);
    const parent = input.parent ? await findRegion(tx, input.parent) : null;
    if (input.parent && !parent) throw notFound();
    if (parent) requireAccess(actor, 'region.write', { regionPath: parent.path });
    else if (!mayWriteUnder(actor, 'region.write', null))
      throw new DomainError(
        'FORBIDDEN',
        '只有全局管理员可以创建市级区域 (only a system-wide grant may create a city)',
      );
    const codeProblems = regionCodeProblems({
      code: input.code,
      level: input.level,
      parent: parent ? { code: parent.code, level: parent.level } : null,
    });
    if (codeProblems.length > 0)
      throw new DomainError(
        'REGION_INVALID_CODE',
        codeProblems.map((p) => `${p.field}: ${p.message}`).join('; '),
        codeProblems,
      );
    if (await findRegion(tx, input.code))
      throw new DomainError('CONFLICT', `code: 区域代码 ${input.code} 已存在 (already exists)`, [
        { field: 'code', message: '已存在 (already exists)' },
      ]);
    const invalid = (await invalidGeometries(tx, [boundary])).get(0);
    if (invalid) throw fieldError('REGION_INVALID_GEOMETRY', invalidGeometryMessage(invalid), 'boundary');
    const { path } = await insertRegion(tx, {
      code: input.code,
      level: input.level,
      name,
      parentCode: parent?.code ?? null,
      geometry: boundary,
      validFrom,
    });
    const [problem] = await boundaryProblems(tx, [input.code]);
    if (problem) throw fieldError(problem.error, problem.message, 'boundary');
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'region.created',
        objectType: 'region',
        objectId: input.code,
        result: 'success',
        requestId,
        detail: { level: input.level, parent: parent?.code ?? null, validFrom: validFrom.toISOString() },
      },
      now,
    );
    return {
      code: input.code,
      level: input.level,
      name,
      parent: parent?.code ?? null,
      path,
      validFrom: validFrom.toISOString(),
    };
  });
  await events.emit();
  return written;
}

/**
 * Re-gridding one region: the new boundary must be valid, lie inside the parent, keep the current children
 * inside and not overlap a sibling. To move an edge shared with a sibling, shrink one side first or import
 * both in one file.
 */
export async function replaceBoundary(
  options: RegionWriteOptions & { code: string; boundary: AreaGeometry; validFrom?: Date | undefined },
): Promise<RegionWritten> {
  const { db, clock, actor, requestId, events, code } = options;
  const now = clock.now();
  const at = options.validFrom ?? now;
  futureCheck(at, now);
  const boundary = assertAreaGeometry(options.boundary);
  const written = await db.orm.transaction(async (tx) => {
    await lockBoundaries(tx);
    const region = await findRegion(tx, code);
    if (!region) throw notFound();
    await requireRegionWrite(tx, actor, region);
    const invalid = (await invalidGeometries(tx, [boundary])).get(0);
    if (invalid) throw fieldError('REGION_INVALID_GEOMETRY', invalidGeometryMessage(invalid), 'boundary');
    const current = await currentBoundary(tx, code);
    if (current && at.getTime() <= current.validFrom.getTime())
      throw fieldError('VALIDATION_FAILED', tooEarlyMessage(current.validFrom), 'validFrom');
    await writeBoundaryVersion(tx, code, boundary, at, now);
    const [problem] = await boundaryProblems(tx, [code]);
    if (problem) throw fieldError(problem.error, problem.message, 'boundary');
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'region.boundary_replaced',
        objectType: 'region',
        objectId: code,
        result: 'success',
        requestId,
        detail: {
          validFrom: at.toISOString(),
          previousValidFrom: current ? current.validFrom.toISOString() : null,
        },
      },
      now,
    );
    return {
      code,
      level: region.level,
      name: region.name,
      parent: region.parent_code,
      path: region.path,
      validFrom: at.toISOString(),
    };
  });
  await events.emit();
  return written;
}

export async function renameRegion(
  options: RegionWriteOptions & { code: string; name: string },
): Promise<RegionWritten> {
  const { db, clock, actor, requestId, events, code } = options;
  const now = clock.now();
  const name = options.name.trim();
  const written = await db.orm.transaction(async (tx) => {
    const region = await findRegion(tx, code);
    if (!region) throw notFound();
    await requireRegionWrite(tx, actor, region);
    await tx.execute(
      sql`update region set name = ${name}, updated_at = ${now.toISOString()} where code = ${code}`,
    );
    const current = await currentBoundary(tx, code);
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'region.renamed',
        objectType: 'region',
        objectId: code,
        result: 'success',
        requestId,
      },
      now,
    );
    return {
      code,
      level: region.level,
      name,
      parent: region.parent_code,
      path: region.path,
      validFrom: current ? current.validFrom.toISOString() : null,
    };
  });
  // The router keeps grid names beside the polygons: let it rebuild.
  await events.emit();
  return written;
}

/**
 * History query: the grid (网格) whose boundary contained the point at time `at` (WGS-84 lng/lat). A point on an
 * edge shared by two grids goes to the lower code. The name is the grid's current name.
 */
export async function locateAt(
  ex: Executor,
  lng: number,
  lat: number,
  at: Date,
): Promise<{ code: string; name: string } | null> {
  const iso = at.toISOString();
  const row = await one<{ code: string; name: string }>(
    ex,
    sql`select r.code, r.name
        from region_boundary b
        join region r on r.code = b.region_code
        where r.level = 'grid'
          and b.valid_from <= ${iso}::timestamptz and (b.valid_to is null or b.valid_to > ${iso}::timestamptz)
          and ST_Covers(b.geom, ST_SetSRID(ST_MakePoint(${lng}::float8, ${lat}::float8), 4326))
        order by r.code
        limit 1`,
  );
  return row ?? null;
}
