import {
  fieldworkLimits,
  type Patrol,
  type PatrolFlag,
  type PatrolListQuery,
  type PatrolPointsRequest,
  type PatrolPointsResult,
  type PatrolTrack,
  type StartPatrolRequest,
} from '@wangge/contracts';
import { requireAccess, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import {
  chinaDate,
  chinaDayEnd,
  chinaDayStart,
  checkDate,
  fieldScopes,
  haversine,
  insideAny,
  insidePaths,
  invalid,
  loadGridRegion,
  notFound,
  requireFieldAccess,
} from './fieldwork.common.ts';

/**
 * 一巡: patrol sessions. The phone makes the id, starts the session, sends its GPS fixes in batches (each with its own
 * id) and stops it; every one of these may be replayed. After each batch the patrol's counters and the points'
 * anti-spoofing flags are recomputed from all its points in time order, so batches arriving late or out of order
 * give the same result as one batch.
 */

/** How far ahead of the server's clock a phone's time may be (clock skew) before it is refused. */
const clockSkewMs = 5 * 60_000;
const patrolNotFound = () => notFound('未找到巡查记录 (patrol not found)');

interface PatrolRow {
  id: string;
  user_id: number;
  user_name: string;
  grid_code: string;
  grid_name: string;
  region_path: string;
  started_at: Date | string;
  ended_at: Date | string | null;
  point_count: number;
  distance_m: number;
  outside_grid: number;
  impossible_speed: number;
  repeated_coordinates: number;
}

const patrolColumns = sql`p.id::text as id, p.user_id::int as user_id, u.display_name as user_name, p.grid_code,
  r.name as grid_name, p.region_path, p.started_at, p.ended_at, p.point_count, p.distance_m::float8 as distance_m,
  p.outside_grid, p.impossible_speed, p.repeated_coordinates`;
const patrolFrom = sql`patrol p join app_user u on u.id = p.user_id join region r on r.code = p.grid_code`;

/** Counted seconds of a session: ended (or now while running) − started, capped at `patrolMaxSeconds`. */
export function countedSeconds(startedAt: Date, endedAt: Date | null, now: Date): number {
  const end = endedAt ?? now;
  const seconds = Math.floor((end.getTime() - startedAt.getTime()) / 1000);
  return Math.max(0, Math.min(fieldworkLimits.patrolMaxSeconds, seconds));
}

/** The instant a session stops counting: its end (or now), at most `patrolMaxSeconds` after its start. */
export function countedEnd(startedAt: Date, endedAt: Date | null, now: Date): Date {
  return new Date(startedAt.getTime() + countedSeconds(startedAt, endedAt, now) * 1000);
}

function presentPatrol(row: PatrolRow, now: Date): Patrol {
  const started = new Date(row.started_at);
  const ended = row.ended_at === null ? null : new Date(row.ended_at);
  const flags: Patrol['flags'] = [];
  const add = (flag: PatrolFlag, points: number) => {
    if (points > 0) flags.push({ flag, points });
  };
  add('outside_grid', row.outside_grid);
  add('impossible_speed', row.impossible_speed);
  add('repeated_coordinates', row.repeated_coordinates);
  return {
    id: row.id,
    userId: row.user_id,
    userName: row.user_name,
    gridCode: row.grid_code,
    gridName: row.grid_name,
    startedAt: started.toISOString(),
    endedAt: ended ? ended.toISOString() : null,
    durationSeconds: countedSeconds(started, ended, now),
    distanceMeters: Math.round(row.distance_m),
    pointCount: row.point_count,
    flags,
  };
}

async function loadPatrol(ex: Executor, id: string, lock = false): Promise<PatrolRow | undefined> {
  if (lock) await ex.execute(sql`select 1 from patrol where id = ${id} for update`);
  return one<PatrolRow>(ex, sql`select ${patrolColumns} from ${patrolFrom} where p.id = ${id}`);
}

/** May the actor read this patrol: their own, or one in a region they monitor. */
function mayRead(actor: Actor, row: { user_id: number; region_path: string }): boolean {
  if (row.user_id === actor.userId) return true;
  return insidePaths(fieldScopes(actor).monitor, row.region_path);
}

function futureCheck(at: Date, now: Date, field: string): void {
  if (at.getTime() > now.getTime() + clockSkewMs)
    throw invalid(field, '时间晚于服务器当前时间 (later than the server time)');
}

/** Starts a patrol in one of the actor's grids; starting again with the same id returns the first (created false). */
export async function startPatrol(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  input: StartPatrolRequest;
}): Promise<{ patrol: Patrol; created: boolean }> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  const startedAt = new Date(input.startedAt);
  return db.orm.transaction(async (tx) => {
    const existing = await loadPatrol(tx, input.id);
    if (existing) {
      if (existing.user_id !== actor.userId) throw patrolNotFound();
      return { patrol: presentPatrol(existing, now), created: false };
    }
    const grid = await loadGridRegion(tx, input.gridCode);
    requireAccess(actor, 'fieldwork.record', { regionPath: grid.path });
    futureCheck(startedAt, now, 'body.startedAt');
    const inserted = await one<{ id: string }>(
      tx,
      sql`insert into patrol (id, user_id, grid_code, region_path, started_at, created_at, updated_at)
          values (${input.id}, ${actor.userId}, ${grid.code}, ${grid.path}, ${startedAt.toISOString()},
            ${now.toISOString()}, ${now.toISOString()})
          on conflict (id) do nothing returning id::text as id`,
    );
    const row = (await loadPatrol(tx, input.id))!;
    if (row.user_id !== actor.userId) throw patrolNotFound();
    return { patrol: presentPatrol(row, now), created: inserted !== undefined };
  });
}

interface PointRow {
  key: string;
  ms: number;
  lng: number;
  lat: number;
  impossible_speed: boolean;
  repeated_coordinates: boolean;
}

export interface TrackFlags {
  impossibleSpeed: boolean[];
  repeated: boolean[];
  distanceMeters: number;
}

/**
 * The speed and repetition checks and the distance over points in time order:
 * - impossible speed: faster than `maxSpeedMetersPerSecond` from the last point not so flagged (a spoofed jump is
 *   flagged, the walk resumes from where it was);
 * - repeated coordinates: a run of at least `repeatedPointsRun` consecutive points with identical lng/lat (all of
 *   the run is flagged);
 * - distance: along the points not flagged for speed.
 */
export function trackFlags(points: readonly { ms: number; lng: number; lat: number }[]): TrackFlags {
  const impossibleSpeed = points.map(() => false);
  const repeated = points.map(() => false);
  let distance = 0;
  let last: { ms: number; lng: number; lat: number } | undefined;
  points.forEach((point, i) => {
    if (last) {
      const meters = haversine(last.lng, last.lat, point.lng, point.lat);
      const seconds = (point.ms - last.ms) / 1000;
      if (seconds <= 0 || meters / seconds > fieldworkLimits.maxSpeedMetersPerSecond) {
        if (meters > 0) {
          impossibleSpeed[i] = true;
          return;
        }
      }
      distance += meters;
    }
    last = point;
  });
  let runStart = 0;
  for (let i = 1; i <= points.length; i++) {
    const same =
      i < points.length &&
      points[i]!.lng === points[runStart]!.lng &&
      points[i]!.lat === points[runStart]!.lat;
    if (same) continue;
    if (i - runStart >= fieldworkLimits.repeatedPointsRun)
      for (let j = runStart; j < i; j++) repeated[j] = true;
    runStart = i;
  }
  return { impossibleSpeed, repeated, distanceMeters: distance };
}

/** Recomputes the flags of every point and the counters of a patrol (call inside the transaction, row locked). */
export async function recomputePatrol(tx: Executor, patrolId: string, now: Date): Promise<void> {
  const points = await rows<PointRow>(
    tx,
    sql`select at::text as key, (extract(epoch from at) * 1000)::float8 as ms, lng, lat, impossible_speed,
          repeated_coordinates
        from patrol_point where patrol_id = ${patrolId} order by at`,
  );
  const flags = trackFlags(points);
  const changed = points
    .map((p, i) => ({ at: p.key, s: flags.impossibleSpeed[i]!, r: flags.repeated[i]!, p }))
    .filter((c) => c.s !== c.p.impossible_speed || c.r !== c.p.repeated_coordinates)
    .map(({ at, s, r }) => ({ at, s, r }));
  if (changed.length > 0)
    await tx.execute(sql`update patrol_point pp set impossible_speed = f.s, repeated_coordinates = f.r
      from jsonb_to_recordset(${JSON.stringify(changed)}::jsonb) as f (at text, s boolean, r boolean)
      where pp.patrol_id = ${patrolId} and pp.at = f.at::timestamptz`);
  await tx.execute(sql`update patrol p set point_count = c.n, distance_m = ${flags.distanceMeters},
      outside_grid = c.outside, impossible_speed = c.speed, repeated_coordinates = c.repeated,
      updated_at = ${now.toISOString()}
    from (select count(*)::int as n,
            count(*) filter (where outside_grid)::int as outside,
            count(*) filter (where impossible_speed)::int as speed,
            count(*) filter (where repeated_coordinates)::int as repeated
          from patrol_point where patrol_id = ${patrolId}) c
    where p.id = ${patrolId}`);
}

/**
 * Adds a batch of points to the actor's patrol. A batch id seen before is a replay: nothing is stored and the
 * patrol is returned as it is. A point at an instant the patrol has already is ignored. The outside-grid check is
 * made against the grid's current outline (on the ellipsoid, `outsideGridMeters` of tolerance).
 */
export async function addPatrolPoints(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  patrolId: string;
  input: PatrolPointsRequest;
}): Promise<PatrolPointsResult> {
  const { db, actor, patrolId, input } = options;
  const now = options.clock.now();
  input.points.forEach((p, i) => futureCheck(new Date(p.at), now, `body.points.${i}.at`));
  return db.orm.transaction(async (tx) => {
    const patrol = await loadPatrol(tx, patrolId, true);
    if (!patrol || patrol.user_id !== actor.userId) throw patrolNotFound();
    const batch = await one<{ patrol_id: string }>(
      tx,
      sql`insert into patrol_batch (batch_id, patrol_id, accepted, received_at)
          values (${input.batchId}, ${patrolId}, 0, ${now.toISOString()})
          on conflict (batch_id) do nothing returning patrol_id::text as patrol_id`,
    );
    if (!batch) {
      const seen = await one<{ patrol_id: string }>(
        tx,
        sql`select patrol_id::text as patrol_id from patrol_batch where batch_id = ${input.batchId}`,
      );
      if (seen?.patrol_id !== patrolId)
        throw invalid('body.batchId', '该批次属于另一次巡查 (this batch belongs to another patrol)');
      return { accepted: 0, replay: true, patrol: presentPatrol(patrol, now) };
    }
    const points = input.points.map((p) => ({
      at: new Date(p.at).toISOString(),
      lng: p.lng,
      lat: p.lat,
      accuracy: p.accuracy ?? null,
    }));
    const inserted = await rows<{ one: number }>(
      tx,
      sql`insert into patrol_point (patrol_id, at, lng, lat, geom, accuracy, outside_grid)
          select ${patrolId}, p.at::timestamptz, p.lng, p.lat, ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326),
            p.accuracy,
            coalesce(not ST_DWithin(ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326)::geography, g.geom::geography,
              ${fieldworkLimits.outsideGridMeters}::float8), false)
          from jsonb_to_recordset(${JSON.stringify(points)}::jsonb)
            as p (at text, lng float8, lat float8, accuracy float8)
          left join lateral (select b.geom from region_boundary b
            where b.region_code = ${patrol.grid_code} and b.valid_to is null limit 1) g on true
          on conflict (patrol_id, at) do nothing
          returning 1 as one`,
    );
    await tx.execute(
      sql`update patrol_batch set accepted = ${inserted.length} where batch_id = ${input.batchId}`,
    );
    if (inserted.length > 0) await recomputePatrol(tx, patrolId, now);
    const updated = (await loadPatrol(tx, patrolId))!;
    return { accepted: inserted.length, replay: false, patrol: presentPatrol(updated, now) };
  });
}

/** Stops the actor's patrol; stopping a stopped patrol returns it unchanged. */
export async function stopPatrol(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  patrolId: string;
  endedAt: string;
}): Promise<Patrol> {
  const { db, actor, patrolId } = options;
  const now = options.clock.now();
  const endedAt = new Date(options.endedAt);
  return db.orm.transaction(async (tx) => {
    const patrol = await loadPatrol(tx, patrolId, true);
    if (!patrol || patrol.user_id !== actor.userId) throw patrolNotFound();
    if (patrol.ended_at !== null) return presentPatrol(patrol, now);
    if (endedAt.getTime() < new Date(patrol.started_at).getTime())
      throw invalid('body.endedAt', '结束时间早于开始时间 (ends before it started)');
    futureCheck(endedAt, now, 'body.endedAt');
    await tx.execute(sql`update patrol set ended_at = ${endedAt.toISOString()}, updated_at = ${now.toISOString()}
      where id = ${patrolId}`);
    return presentPatrol((await loadPatrol(tx, patrolId))!, now);
  });
}

export async function getPatrol(options: { db: Database; clock: Clock; actor: Actor; patrolId: string }) {
  const { db, actor } = options;
  requireFieldAccess(actor);
  const row = await loadPatrol(db.orm, options.patrolId);
  if (!row || !mayRead(actor, row)) throw patrolNotFound();
  return presentPatrol(row, options.clock.now());
}

/**
 * Patrols started between `from` and `to` (China dates, default today), newest first: the caller's own, or those
 * of `userId` inside the regions the caller monitors (404 for a worker the caller cannot see).
 */
export async function listPatrols(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  query: PatrolListQuery;
}): Promise<{ items: Patrol[] }> {
  const { db, actor, query } = options;
  requireFieldAccess(actor);
  const now = options.clock.now();
  const today = chinaDate(now);
  const to = query.to ? checkDate(query.to, 'query.to') : today;
  const from = query.from ? checkDate(query.from, 'query.from') : to < today ? to : today;
  if (to < from) throw invalid('query.to', '结束日期早于开始日期 (to is before from)');
  const userId = query.userId ?? actor.userId;
  let scope: SQL = sql`true`;
  if (userId !== actor.userId) {
    const monitor = fieldScopes(actor).monitor;
    scope = insideAny(sql`p.region_path`, monitor);
    const visible = await one(
      db.orm,
      sql`select 1 from user_role ur where ur.user_id = ${userId} and ur.region_path is not null
            and ${insideAny(sql`ur.region_path`, monitor)} limit 1`,
    );
    if (!visible) throw notFound('未找到用户 (user not found)');
  }
  const list = await rows<PatrolRow>(
    db.orm,
    sql`select ${patrolColumns} from ${patrolFrom}
        where p.user_id = ${userId} and ${scope}
          ${query.grid ? sql`and p.grid_code = ${query.grid}` : sql``}
          and p.started_at >= ${chinaDayStart(from).toISOString()} and p.started_at < ${chinaDayEnd(to).toISOString()}
        order by p.started_at desc, p.id limit ${query.limit}`,
  );
  return { items: list.map((row) => presentPatrol(row, now)) };
}

/** The track of a patrol (points in time order, flagged or not) with its grid's outline. */
export async function patrolTrack(options: {
  db: Database;
  actor: Actor;
  patrolId: string;
}): Promise<PatrolTrack> {
  const { db, actor, patrolId } = options;
  requireFieldAccess(actor);
  const row = await loadPatrol(db.orm, patrolId);
  if (!row || !mayRead(actor, row)) throw patrolNotFound();
  const points = await rows<{ lng: number; lat: number; ms: number; flagged: boolean }>(
    db.orm,
    sql`select lng, lat, (extract(epoch from at) * 1000)::float8 as ms,
          (outside_grid or impossible_speed or repeated_coordinates) as flagged
        from patrol_point where patrol_id = ${patrolId} order by at`,
  );
  const outline = await one<{ geojson: string | null }>(
    db.orm,
    sql`select ST_AsGeoJSON(geom, 7) as geojson from region_boundary
        where region_code = ${row.grid_code} and valid_to is null limit 1`,
  );
  const geometry = outline?.geojson
    ? (JSON.parse(outline.geojson) as { type: string; coordinates: unknown })
    : undefined;
  const coordinates = (
    geometry?.type === 'Polygon' ? [geometry.coordinates] : (geometry?.coordinates ?? [])
  ) as PatrolTrack['gridOutline'];
  return {
    patrolId,
    points: points.map((p) => [p.lng, p.lat, Math.round(p.ms), p.flagged ? 1 : 0]),
    gridOutline: coordinates,
  };
}
