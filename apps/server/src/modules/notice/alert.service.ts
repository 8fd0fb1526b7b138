import crypto from 'node:crypto';
import type {
  AlertDetail,
  AlertSummary,
  CreateAlertRequest,
  CreateSightingRequest,
  Sighting,
} from '@wangge/contracts';
import { caseIntakeLimits } from '@wangge/contracts';
import { requireAccess, scopePaths, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { appendAudit } from '../../platform/audit.ts';
import { enqueue } from '../../platform/outbox.ts';
import { wakeRealtime } from '../../platform/realtime.ts';
import { normalisePhoto, type PhotoStore } from '../case/case.photos.ts';
import { toWgs84 } from '../region/gcj02.ts';
import { findRegion, type GridRouter } from '../region/index.ts';
import { iso, notFound, overlaps, overlapsAny, under } from './notice.scope.ts';

/**
 * Alerts (紧急协查): a missing person or an emergency sent to every grid of an area at once. One `alert_grid` row per
 * grid (one set-based insert, also for a district of thousands of grids) and one outbox event per alert — the
 * realtime hub fans it out to the staff whose grants overlap the area. Workers acknowledge per grid and post
 * sightings; the centre closes it once (found / lifted), which reaches everyone.
 */

interface AlertRow {
  id: number;
  kind: AlertSummary['kind'];
  title: string;
  description: string;
  target_region_code: string;
  target_region_path: string;
  lng: number | null;
  lat: number | null;
  last_seen_place: string | null;
  last_seen_at: Date | string | null;
  photo_key: string | null;
  status: 'open' | 'closed';
  outcome: AlertSummary['outcome'];
  grid_count: number;
  acknowledged: number;
  sightings: number;
  created_by: number;
  created_at: Date | string;
  closed_at: Date | string | null;
}

const alertColumns = sql`a.id::int as id, a.kind, a.title, a.description, a.target_region_code,
  a.target_region_path, ST_X(a.last_seen_location) as lng, ST_Y(a.last_seen_location) as lat, a.last_seen_place,
  a.last_seen_at, a.photo_key, a.status, a.outcome, a.grid_count, a.created_by::int as created_by, a.created_at,
  a.closed_at,
  (select count(*)::int from alert_grid g where g.alert_id = a.id and g.acknowledged_at is not null)
    as acknowledged,
  (select count(*)::int from alert_sighting s where s.alert_id = a.id) as sightings`;

function present(row: AlertRow, created?: boolean): AlertSummary {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    description: row.description,
    regionCode: row.target_region_code,
    status: row.status,
    outcome: row.outcome,
    hasPhoto: row.photo_key !== null,
    lastSeen: {
      location: row.lng === null || row.lat === null ? null : { lng: Number(row.lng), lat: Number(row.lat) },
      place: row.last_seen_place,
      at: iso(row.last_seen_at),
    },
    gridCount: row.grid_count,
    acknowledgedCount: row.acknowledged,
    sightingCount: row.sightings,
    createdAt: iso(row.created_at)!,
    closedAt: iso(row.closed_at),
    ...(created === undefined ? {} : { created }),
  };
}

export async function loadAlert(ex: Executor, id: number, forUpdate = false): Promise<AlertRow | undefined> {
  return one<AlertRow>(
    ex,
    sql`select ${alertColumns} from alert a where a.id = ${id} ${forUpdate ? sql`for update` : sql``}`,
  );
}

/** The alert if the actor's grants with `notice.read` overlap its area; else 404. */
async function visibleAlert(ex: Executor, actor: Actor, id: number, forUpdate = false): Promise<AlertRow> {
  const row = await loadAlert(ex, id, forUpdate);
  if (!row || !overlaps(actor, 'notice.read', row.target_region_path))
    throw notFound('未找到协查 (alert not found)');
  return row;
}

function eventPayload(row: AlertRow, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    alertId: row.id,
    kind: row.kind,
    title: row.title,
    targetPath: row.target_region_path,
    status: row.status,
    outcome: row.outcome,
    ...extra,
  };
}

/** 发布协查: the alert, one row per grid of the area, one outbox event. Idempotent by clientId. */
export async function createAlert(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  input: CreateAlertRequest;
}): Promise<AlertSummary> {
  const { db, clock, actor, input } = options;
  const replay = async (): Promise<AlertSummary | undefined> => {
    const found = await one<{ id: number; created_by: number }>(
      db.orm,
      sql`select id::int as id, created_by::int as created_by from alert where client_id = ${input.clientId}`,
    );
    if (!found) return undefined;
    if (found.created_by !== actor.userId)
      throw new DomainError('CONFLICT', '该客户端编号已被使用 (clientId already used)', [
        { field: 'clientId', message: 'already used' },
      ]);
    return present((await loadAlert(db.orm, found.id))!, false);
  };
  const first = await replay();
  if (first) return first;

  const region = await findRegion(db.orm, input.regionCode);
  if (!region) throw notFound('未找到区域 (region not found)');
  requireAccess(actor, 'notice.send', { regionPath: region.path });
  const now = clock.now();
  const point = input.lastSeen?.location;
  try {
    const id = await db.orm.transaction(async (tx) => {
      const inserted = await one<{ id: number }>(
        tx,
        sql`insert into alert (client_id, kind, title, description, target_region_code, target_region_path,
              last_seen_location, last_seen_place, last_seen_at, grid_count, created_by, created_at)
            values (${input.clientId}, ${input.kind}, ${input.title}, ${input.description}, ${region.code},
              ${region.path},
              ${point ? sql`ST_SetSRID(ST_MakePoint(${point.lng}::float8, ${point.lat}::float8), 4326)` : sql`null`},
              ${input.lastSeen?.place ?? null}, ${input.lastSeen?.at ?? null}, 0, ${actor.userId},
              ${now.toISOString()})
            returning id::int as id`,
      );
      const alertId = inserted!.id;
      // One row per grid of the area, in one statement.
      await tx.execute(sql`insert into alert_grid (alert_id, grid_code, grid_path)
        select ${alertId}, r.code, r.path from region r
        where r.level = 'grid' and ${under(sql`r.path`, region.path)}`);
      await tx.execute(sql`update alert set grid_count =
        (select count(*)::int from alert_grid where alert_id = ${alertId}) where id = ${alertId}`);
      const row = (await loadAlert(tx, alertId))!;
      await enqueue(tx, { topic: 'alert.created', payload: eventPayload(row) }, now);
      await appendAudit(
        tx,
        {
          actorId: actor.userId,
          actorRole: null,
          action: 'alert.created',
          objectType: 'alert',
          objectId: String(alertId),
          result: 'success',
          detail: { kind: input.kind, regionCode: region.code },
        },
        now,
      );
      return alertId;
    });
    wakeRealtime();
    return present((await loadAlert(db.orm, id))!, true);
  } catch (error) {
    if (pgErrorCode(error) === '23505') {
      const again = await replay();
      if (again) return again;
    }
    throw error;
  }
}

/** The photo of an alert (sniffed, re-encoded without EXIF); replaces an earlier one. Only while open. */
export async function setAlertPhoto(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  store: PhotoStore;
  alertId: number;
  bytes: Buffer;
}): Promise<AlertSummary> {
  const { db, clock, actor, store, alertId } = options;
  const row = await visibleAlert(db.orm, actor, alertId);
  requireAccess(actor, 'notice.send', { regionPath: row.target_region_path });
  if (row.status !== 'open') throw new DomainError('CONFLICT', '协查已结束 (the alert is closed)');
  if (options.bytes.length > caseIntakeLimits.photoMaxBytes)
    throw new DomainError('PAYLOAD_TOO_LARGE', '照片超过 10 MB (photo larger than 10 MB)');
  const photo = await normalisePhoto(options.bytes);
  const now = clock.now().toISOString();
  const key = `alerts/${now.slice(0, 4)}/${now.slice(5, 7)}/${crypto.randomUUID()}.jpg`;
  await store.put(key, photo.bytes);
  try {
    const previous = await db.orm.transaction(async (tx) => {
      const locked = await loadAlert(tx, alertId, true);
      if (locked?.status !== 'open') throw new DomainError('CONFLICT', '协查已结束 (the alert is closed)');
      await tx.execute(sql`update alert set photo_key = ${key}, photo_width = ${photo.width},
        photo_height = ${photo.height} where id = ${alertId}`);
      // open pages (consoles, field apps, resident pages) fetch the new photo at once
      await enqueue(tx, { topic: 'alert.photo', payload: eventPayload(locked) }, clock.now());
      return locked.photo_key;
    });
    if (previous) await store.delete(previous).catch(() => undefined);
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    throw error;
  }
  return present((await loadAlert(db.orm, alertId))!);
}

/**
 * The photo bytes. Staff with `notice.read` over the area: always. The public (resident pages): only while the
 * alert is open — after "found" or "lifted" a missing person's photo is no longer served (404).
 */
export async function readAlertPhoto(options: {
  db: Database;
  store: PhotoStore;
  alertId: number;
  actor: Actor | null;
}): Promise<Buffer> {
  const { db, store, alertId, actor } = options;
  const row = actor ? await visibleAlert(db.orm, actor, alertId) : await loadAlert(db.orm, alertId);
  const gone = (): DomainError => notFound('未找到照片 (photo not found)');
  if (!row?.photo_key) throw gone();
  if (!actor && row.status !== 'open') throw gone();
  const bytes = await store.get(row.photo_key);
  if (!bytes) throw gone();
  return bytes;
}

/** 已收到: a grid acknowledges the alert. Idempotent: the first acknowledgement is kept. */
export async function acknowledgeAlert(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  alertId: number;
  gridCode: string;
}): Promise<{ gridCode: string; acknowledgedAt: string; created: boolean }> {
  const { db, clock, actor, alertId, gridCode } = options;
  const now = clock.now();
  const result = await db.orm.transaction(async (tx) => {
    const row = await visibleAlert(tx, actor, alertId);
    const grid = await one<{ grid_path: string; acknowledged_at: Date | string | null }>(
      tx,
      sql`select grid_path, acknowledged_at from alert_grid
          where alert_id = ${alertId} and grid_code = ${gridCode} for update`,
    );
    if (!grid) throw notFound('该网格不在协查范围内 (the grid is not in the alert area)');
    requireAccess(actor, 'notice.acknowledge', { regionPath: grid.grid_path });
    if (grid.acknowledged_at !== null)
      return { gridCode, acknowledgedAt: iso(grid.acknowledged_at)!, created: false };
    await tx.execute(sql`update alert_grid set acknowledged_at = ${now.toISOString()},
      acknowledged_by = ${actor.userId} where alert_id = ${alertId} and grid_code = ${gridCode}`);
    await enqueue(tx, { topic: 'alert.acknowledged', payload: eventPayload(row, { gridCode }) }, now);
    return { gridCode, acknowledgedAt: now.toISOString(), created: true };
  });
  if (result.created) wakeRealtime();
  return result;
}

interface SightingRow {
  id: number;
  alert_id: number;
  client_id: string;
  note: string;
  lng: number;
  lat: number;
  seen_at: Date | string;
  grid_code: string | null;
  photo_key: string | null;
  reported_by: number;
  reporter: string;
  created_at: Date | string;
}

const sightingColumns = sql`s.id::int as id, s.alert_id::int as alert_id, s.client_id::text as client_id, s.note,
  ST_X(s.location) as lng, ST_Y(s.location) as lat, s.seen_at, s.grid_code, s.photo_key,
  s.reported_by::int as reported_by, u.display_name as reporter, s.created_at`;

function presentSighting(row: SightingRow, created?: boolean): Sighting {
  return {
    id: row.id,
    alertId: row.alert_id,
    note: row.note,
    location: { lng: Number(row.lng), lat: Number(row.lat) },
    seenAt: iso(row.seen_at)!,
    gridCode: row.grid_code,
    hasPhoto: row.photo_key !== null,
    reportedBy: row.reporter,
    createdAt: iso(row.created_at)!,
    ...(created === undefined ? {} : { created }),
  };
}

async function sightingByClientId(ex: Executor, clientId: string): Promise<SightingRow | undefined> {
  return one<SightingRow>(
    ex,
    sql`select ${sightingColumns} from alert_sighting s join app_user u on u.id = s.reported_by
        where s.client_id = ${clientId}`,
  );
}

/** 线索: a sighting posted into the alert's thread. Idempotent by clientId (the field app's outbox resends). */
export async function addSighting(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  router: GridRouter;
  alertId: number;
  input: CreateSightingRequest;
}): Promise<Sighting> {
  const { db, clock, actor, router, alertId, input } = options;
  const replay = (row: SightingRow): Sighting => {
    if (row.reported_by !== actor.userId || row.alert_id !== alertId)
      throw new DomainError('CONFLICT', '该客户端编号已被使用 (clientId already used)', [
        { field: 'clientId', message: 'already used' },
      ]);
    return presentSighting(row, false);
  };
  const existing = await sightingByClientId(db.orm, input.clientId);
  if (existing) return replay(existing);
  const row = await visibleAlert(db.orm, actor, alertId);
  if (row.status !== 'open') throw new DomainError('CONFLICT', '协查已结束 (the alert is closed)');
  const [lng, lat] = toWgs84(input.location.crs, input.location.lng, input.location.lat);
  const gridCode = router.locate(lng, lat) ?? null;
  const now = clock.now();
  try {
    const id = await db.orm.transaction(async (tx) => {
      const inserted = await one<{ id: number }>(
        tx,
        sql`insert into alert_sighting (alert_id, client_id, note, location, seen_at, grid_code, reported_by,
              created_at)
            values (${alertId}, ${input.clientId}, ${input.note},
              ST_SetSRID(ST_MakePoint(${lng}::float8, ${lat}::float8), 4326), ${input.seenAt}, ${gridCode},
              ${actor.userId}, ${now.toISOString()})
            returning id::int as id`,
      );
      await enqueue(
        tx,
        {
          topic: 'alert.sighted',
          payload: eventPayload(row, { gridCode, sightingId: inserted!.id }),
        },
        now,
      );
      return inserted!.id;
    });
    wakeRealtime();
    const created = await one<SightingRow>(
      db.orm,
      sql`select ${sightingColumns} from alert_sighting s join app_user u on u.id = s.reported_by
          where s.id = ${id}`,
    );
    return presentSighting(created!, true);
  } catch (error) {
    if (pgErrorCode(error) === '23505') {
      const again = await sightingByClientId(db.orm, input.clientId);
      if (again) return replay(again);
    }
    throw error;
  }
}

/** 结束协查: found or lifted, once (a second close answers 409); everyone in the area hears of it. */
export async function closeAlert(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  alertId: number;
  outcome: 'found' | 'lifted';
  note?: string | undefined;
}): Promise<AlertSummary> {
  const { db, clock, actor, alertId, outcome } = options;
  const now = clock.now();
  await db.orm.transaction(async (tx) => {
    const row = await visibleAlert(tx, actor, alertId, true);
    requireAccess(actor, 'notice.send', { regionPath: row.target_region_path });
    if (row.status !== 'open')
      throw new DomainError('CONFLICT', '协查已结束,不能重复结束 (the alert is already closed)');
    await tx.execute(sql`update alert set status = 'closed', outcome = ${outcome}, close_note = ${options.note ?? null},
      closed_at = ${now.toISOString()}, closed_by = ${actor.userId} where id = ${alertId}`);
    await enqueue(
      tx,
      { topic: 'alert.closed', payload: eventPayload({ ...row, status: 'closed', outcome }) },
      now,
    );
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'alert.closed',
        objectType: 'alert',
        objectId: String(alertId),
        result: 'success',
        detail: { outcome },
      },
      now,
    );
  });
  wakeRealtime();
  return present((await loadAlert(db.orm, alertId))!);
}

/** Alerts whose area overlaps the caller's scope, newest first. */
export async function listAlerts(options: {
  db: Database;
  actor: Actor;
  status: 'open' | 'closed' | 'all';
}): Promise<AlertSummary[]> {
  const { db, actor, status } = options;
  const found = await rows<AlertRow>(
    db.orm,
    sql`select ${alertColumns} from alert a
        where ${overlapsAny(sql`a.target_region_path`, scopePaths(actor, 'notice.read'))}
          ${status === 'all' ? sql`` : sql`and a.status = ${status}`}
        order by a.created_at desc, a.id desc limit 200`,
  );
  return found.map((row) => present(row));
}

/** The alert with per-grid acknowledgement and the sightings (also as GeoJSON, for the map). */
export async function getAlert(options: {
  db: Database;
  actor: Actor;
  alertId: number;
}): Promise<AlertDetail> {
  const { db, actor, alertId } = options;
  const row = await visibleAlert(db.orm, actor, alertId);
  const grids = await rows<{
    grid_code: string;
    name: string;
    acknowledged_at: Date | string | null;
    acknowledged_by: string | null;
  }>(
    db.orm,
    sql`select g.grid_code, r.name, g.acknowledged_at, u.display_name as acknowledged_by
        from alert_grid g join region r on r.code = g.grid_code
        left join app_user u on u.id = g.acknowledged_by
        where g.alert_id = ${alertId} order by g.grid_path`,
  );
  const sightings = await rows<SightingRow>(
    db.orm,
    sql`select ${sightingColumns} from alert_sighting s join app_user u on u.id = s.reported_by
        where s.alert_id = ${alertId} order by s.seen_at, s.id`,
  );
  const summary = present(row);
  const features: AlertDetail['geojson']['features'] = [];
  if (summary.lastSeen.location)
    features.push({
      type: 'Feature',
      geometry: {
        type: 'Point',
        coordinates: [summary.lastSeen.location.lng, summary.lastSeen.location.lat],
      },
      properties: { kind: 'last_seen', at: summary.lastSeen.at, place: summary.lastSeen.place },
    });
  const presented = sightings.map((s) => presentSighting(s));
  for (const s of presented)
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [s.location.lng, s.location.lat] },
      properties: { kind: 'sighting', id: s.id, note: s.note, seenAt: s.seenAt, gridCode: s.gridCode },
    });
  return {
    ...summary,
    grids: grids.map((g) => ({
      gridCode: g.grid_code,
      gridName: g.name,
      acknowledgedAt: iso(g.acknowledged_at),
      acknowledgedBy: g.acknowledged_by,
    })),
    sightings: presented,
    geojson: { type: 'FeatureCollection', features },
  };
}

/** A photo for a sighting, by the one who posted it, while the alert is open (sniffed, re-encoded, no EXIF). */
export async function setSightingPhoto(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  store: PhotoStore;
  alertId: number;
  sightingId: number;
  bytes: Buffer;
}): Promise<Sighting> {
  const { db, clock, actor, store, alertId, sightingId } = options;
  const row = await visibleAlert(db.orm, actor, alertId);
  const sighting = await one<SightingRow>(
    db.orm,
    sql`select ${sightingColumns} from alert_sighting s join app_user u on u.id = s.reported_by
        where s.id = ${sightingId} and s.alert_id = ${alertId}`,
  );
  if (!sighting || sighting.reported_by !== actor.userId) throw notFound('未找到线索 (sighting not found)');
  if (row.status !== 'open') throw new DomainError('CONFLICT', '协查已结束 (the alert is closed)');
  if (options.bytes.length > caseIntakeLimits.photoMaxBytes)
    throw new DomainError('PAYLOAD_TOO_LARGE', '照片超过 10 MB (photo larger than 10 MB)');
  const photo = await normalisePhoto(options.bytes);
  const now = clock.now().toISOString();
  const key = `alerts/${now.slice(0, 4)}/${now.slice(5, 7)}/${crypto.randomUUID()}.jpg`;
  await store.put(key, photo.bytes);
  try {
    await db.orm.execute(sql`update alert_sighting set photo_key = ${key} where id = ${sightingId}`);
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    throw error;
  }
  if (sighting.photo_key) await store.delete(sighting.photo_key).catch(() => undefined);
  return presentSighting({ ...sighting, photo_key: key });
}

/** A sighting's photo, for staff who see the alert. */
export async function readSightingPhoto(options: {
  db: Database;
  store: PhotoStore;
  actor: Actor;
  alertId: number;
  sightingId: number;
}): Promise<Buffer> {
  const { db, store, actor, alertId, sightingId } = options;
  await visibleAlert(db.orm, actor, alertId);
  const found = await one<{ photo_key: string | null }>(
    db.orm,
    sql`select photo_key from alert_sighting where id = ${sightingId} and alert_id = ${alertId}`,
  );
  const bytes = found?.photo_key ? await store.get(found.photo_key) : undefined;
  if (!bytes) throw notFound('未找到照片 (photo not found)');
  return bytes;
}
