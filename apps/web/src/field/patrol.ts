import { newItem, uuid, type TrackPoint } from './db.ts';
import { distanceMeters } from './geo.ts';
import { cacheKeys, db, outbox } from './store.ts';

/** A point is kept when ≥ 20 s or ≥ 15 m from the last kept one; a batch goes every 20 points or 2 minutes and on stop. */
export const patrolRules = { minSeconds: 20, minMeters: 15, batchPoints: 20, batchSeconds: 120 } as const;

export interface CurrentPatrol {
  id: string;
  gridCode: string;
  startedAt: number;
  lastBatchAt: number;
  buffer: { at: string; lng: number; lat: number; accuracy?: number }[];
  distance: number;
  last: { lng: number; lat: number; at: number } | null;
}

let watchId: number | null = null;

export async function current(): Promise<CurrentPatrol | undefined> {
  return db.getCache<CurrentPatrol>(cacheKeys.patrol);
}

export async function startPatrol(gridCode: string): Promise<void> {
  const id = uuid();
  const now = Date.now();
  await outbox.add(
    newItem({
      id,
      kind: 'patrolStart',
      chain: `patrol:${id}`,
      label: '巡查开始',
      payload: { start: { id, gridCode, startedAt: new Date(now).toISOString() } },
    }),
  );
  await db.setCache(cacheKeys.patrol, {
    id,
    gridCode,
    startedAt: now,
    lastBatchAt: now,
    buffer: [],
    distance: 0,
    last: null,
  } satisfies CurrentPatrol);
  watch();
  void outbox.sync();
}

/** Resumes watching after a reload while a patrol runs. */
export function watch(): void {
  if (watchId !== null || !('geolocation' in navigator)) return;
  watchId = navigator.geolocation.watchPosition(
    (p) => void onPosition(p.coords.longitude, p.coords.latitude, p.coords.accuracy, Date.now()),
    () => undefined,
    { enableHighAccuracy: true, maximumAge: 0 },
  );
}

let queue: Promise<void> = Promise.resolve();
function onPosition(lng: number, lat: number, accuracy: number, at: number): Promise<void> {
  queue = queue.then(() => record(lng, lat, accuracy, at)).catch(() => undefined);
  return queue;
}

async function record(lng: number, lat: number, accuracy: number, at: number): Promise<void> {
  const p = await current();
  if (!p) return;
  if (p.last) {
    const d = distanceMeters(p.last, { lng, lat });
    if (at - p.last.at < patrolRules.minSeconds * 1000 && d < patrolRules.minMeters) return;
    p.distance += d;
  }
  p.last = { lng, lat, at };
  p.buffer.push({ at: new Date(at).toISOString(), lng, lat, accuracy: Math.round(accuracy) });
  await db.track.add({ patrolId: p.id, at, lng, lat, accuracy } satisfies TrackPoint);
  if (p.buffer.length >= patrolRules.batchPoints || at - p.lastBatchAt >= patrolRules.batchSeconds * 1000)
    await flush(p, at);
  await db.setCache(cacheKeys.patrol, p);
}

async function flush(p: CurrentPatrol, at: number): Promise<void> {
  if (p.buffer.length > 0) {
    const batchId = uuid();
    await outbox.add(
      newItem({
        id: batchId,
        kind: 'patrolPoints',
        chain: `patrol:${p.id}`,
        label: `巡查轨迹 ${p.buffer.length} 点`,
        payload: { patrolId: p.id, points: p.buffer },
      }),
    );
    void outbox.sync();
  }
  p.buffer = [];
  p.lastBatchAt = at;
}

export async function stopPatrol(): Promise<void> {
  await queue;
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  const p = await current();
  if (!p) return;
  const now = Date.now();
  await flush(p, now);
  await outbox.add(
    newItem({
      id: uuid(),
      kind: 'patrolStop',
      chain: `patrol:${p.id}`,
      label: '巡查结束',
      payload: { patrolId: p.id, endedAt: new Date(now).toISOString() },
    }),
  );
  await db.setCache(cacheKeys.lastTrack, { ...p, endedAt: now });
  await db.cache.delete(cacheKeys.patrol);
  void outbox.sync();
}
