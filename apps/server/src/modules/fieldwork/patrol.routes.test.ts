import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patrol, PatrolPointsResult, PatrolTrack } from '@wangge/contracts';

type PatrolList = { items: Patrol[] };
import { rows, sql, type Database } from '../../platform/db.ts';
import {
  auth,
  buildTerritory,
  countRows,
  makeUser,
  territory as t,
  type TestUser,
} from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { trackFlags } from './patrol.service.ts';

let db: Database;
let server: Wangge;
let worker: TestUser;
let otherWorker: TestUser;
let gridLeaderB: TestUser;
let communityOperator: TestUser;
let resident: TestUser;

const post = (user: TestUser, url: string, payload: object) =>
  server.app.inject({ method: 'POST', url, headers: auth(user), payload });
const get = (user: TestUser, url: string) => server.app.inject({ method: 'GET', url, headers: auth(user) });

/** Grid A1 is the square 130.3–130.4 E, 46.8–46.9 N; one degree of longitude there is about 76 km. */
const start = Date.parse('2026-11-20T01:00:00Z');
/** A walk inside grid A1: a point a minute, about 38 m apart (0.6 m/s). */
function walk(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({
    at: new Date(start + (from + i) * 60_000).toISOString(),
    lng: 130.35 + (from + i) * 0.0005,
    lat: 46.85,
    accuracy: 8,
  }));
}

async function startPatrol(user: TestUser, gridCode: string = t.gridA1): Promise<Patrol> {
  const response = await post(user, '/api/patrols', {
    id: crypto.randomUUID(),
    gridCode,
    startedAt: new Date(start).toISOString(),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<Patrol>();
}

const sendPoints = (user: TestUser, id: string, points: object[], batchId = crypto.randomUUID()) =>
  post(user, `/api/patrols/${id}/points`, { batchId, points });

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db);
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
  otherWorker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA2 }]);
  gridLeaderB = await makeUser(db, [{ role: 'grid_leader', regionCode: t.gridB1 }]);
  communityOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.communityA }]);
  resident = await makeUser(db, [{ role: 'resident', regionCode: t.gridA1 }]);
});

afterAll(async () => {
  await server.app.close();
});

describe('starting and stopping a patrol', () => {
  it('201 on the first start, 200 with the same patrol on a replay; a stranger replaying the id gets 404', async () => {
    const id = crypto.randomUUID();
    const body = { id, gridCode: t.gridA1, startedAt: new Date(start).toISOString() };
    const first = await post(worker, '/api/patrols', body);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json<Patrol>()).toMatchObject({
      id,
      userId: worker.id,
      gridCode: t.gridA1,
      gridName: '西林一网格',
      endedAt: null,
      pointCount: 0,
      distanceMeters: 0,
      flags: [],
    });
    // The test clock is 2026-11-20T02:00Z: a running patrol counts now − started.
    expect(first.json<Patrol>().durationSeconds).toBe(3600);
    const again = await post(worker, '/api/patrols', body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(await countRows(db, 'patrol')).toBeGreaterThanOrEqual(1);
    const stranger = await post(otherWorker, '/api/patrols', { ...body, gridCode: t.gridA2 });
    expect(stranger.statusCode).toBe(404);
  });

  it('404 for a grid outside the worker’s scope, 403 without the permission, 400 for bad input', async () => {
    const body = { id: crypto.randomUUID(), gridCode: t.gridB1, startedAt: new Date(start).toISOString() };
    expect((await post(worker, '/api/patrols', body)).statusCode).toBe(404);
    expect((await post(worker, '/api/patrols', { ...body, gridCode: t.communityA })).statusCode).toBe(404);
    expect((await post(resident, '/api/patrols', { ...body, gridCode: t.gridA1 })).statusCode).toBe(403);
    const future = await post(worker, '/api/patrols', {
      ...body,
      gridCode: t.gridA1,
      startedAt: '2026-11-21T00:00:00Z',
    });
    expect(future.statusCode).toBe(400);
    expect(future.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe('body.startedAt');
    const badId = await post(worker, '/api/patrols', { ...body, gridCode: t.gridA1, id: 'x' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe('body.id');
  });

  it('stop is idempotent: the second stop returns the stopped patrol unchanged', async () => {
    const patrol = await startPatrol(worker);
    const early = await post(worker, `/api/patrols/${patrol.id}/actions/stop`, {
      endedAt: new Date(start - 1000).toISOString(),
    });
    expect(early.statusCode).toBe(400);
    expect(early.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe('body.endedAt');
    const endedAt = new Date(start + 45 * 60_000).toISOString();
    const stopped = await post(worker, `/api/patrols/${patrol.id}/actions/stop`, { endedAt });
    expect(stopped.statusCode).toBe(200);
    expect(stopped.json<Patrol>()).toMatchObject({ endedAt, durationSeconds: 45 * 60 });
    const again = await post(worker, `/api/patrols/${patrol.id}/actions/stop`, {
      endedAt: new Date(start + 50 * 60_000).toISOString(),
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(stopped.json());
    expect((await post(otherWorker, `/api/patrols/${patrol.id}/actions/stop`, { endedAt })).statusCode).toBe(
      404,
    );
  });

  it('a session is counted for at most 12 hours', async () => {
    const patrol = await startPatrol(worker);
    const stopped = await post(worker, `/api/patrols/${patrol.id}/actions/stop`, {
      endedAt: new Date(start + 3600_000).toISOString(),
    });
    expect(stopped.json<Patrol>().durationSeconds).toBe(3600);
    const id = crypto.randomUUID();
    await post(worker, '/api/patrols', {
      id,
      gridCode: t.gridA1,
      startedAt: '2026-11-19T00:00:00Z',
    });
    const long = await post(worker, `/api/patrols/${id}/actions/stop`, { endedAt: '2026-11-19T20:00:00Z' });
    expect(long.json<Patrol>().durationSeconds).toBe(12 * 3600);
  });
});

describe('points', () => {
  it('a replayed batch adds nothing; a re-sent point adds nothing', async () => {
    const patrol = await startPatrol(worker);
    const batchId = crypto.randomUUID();
    const first = await sendPoints(worker, patrol.id, walk(5), batchId);
    expect(first.statusCode, first.body).toBe(200);
    const result = first.json<PatrolPointsResult>();
    expect(result).toMatchObject({ accepted: 5, replay: false });
    expect(result.patrol.pointCount).toBe(5);
    // 4 steps of 0.0005° of longitude at 46.85° N: 4 × 38.07 m
    expect(result.patrol.distanceMeters).toBe(152);
    const replay = await sendPoints(worker, patrol.id, walk(5), batchId);
    expect(replay.json<PatrolPointsResult>()).toEqual({ accepted: 0, replay: true, patrol: result.patrol });
    const resent = await sendPoints(worker, patrol.id, walk(6));
    expect(resent.json<PatrolPointsResult>()).toMatchObject({ accepted: 1, replay: false });
    expect(resent.json<PatrolPointsResult>().patrol.pointCount).toBe(6);
    const stored = await rows<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from patrol_point where patrol_id = ${patrol.id}`,
    );
    expect(stored[0]!.n).toBe(6);
    // Someone else's patrol, or none: 404; no permission: 403; an empty batch: 400.
    expect((await sendPoints(otherWorker, patrol.id, walk(1))).statusCode).toBe(404);
    expect((await sendPoints(worker, crypto.randomUUID(), walk(1))).statusCode).toBe(404);
    expect((await sendPoints(resident, patrol.id, walk(1))).statusCode).toBe(403);
    const empty = await sendPoints(worker, patrol.id, []);
    expect(empty.statusCode).toBe(400);
    expect(empty.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe('body.points');
    // The same batch id for another patrol is refused.
    const other = await startPatrol(worker);
    expect((await sendPoints(worker, other.id, walk(1), batchId)).statusCode).toBe(400);
  });

  it('points split across batches, out of order, give the same counters and flags as one batch', async () => {
    const points = [
      ...walk(20),
      // a 1 km jump in 10 seconds, then back on the walk
      { at: new Date(start + 19 * 60_000 + 10_000).toISOString(), lng: 130.3595 + 0.0132, lat: 46.85 },
      ...walk(15, 21),
    ];
    const one = await startPatrol(worker);
    const whole = (await sendPoints(worker, one.id, points)).json<PatrolPointsResult>().patrol;
    const split = await startPatrol(worker);
    await sendPoints(worker, split.id, points.slice(25));
    await sendPoints(worker, split.id, points.slice(0, 8));
    const last = (await sendPoints(worker, split.id, points.slice(8, 25))).json<PatrolPointsResult>().patrol;
    const { id: _a, ...a } = whole;
    const { id: _b, ...b } = last;
    expect(b).toEqual(a);
    expect(a.flags).toEqual([{ flag: 'impossible_speed', points: 1 }]);
    const flagged = async (id: string) =>
      rows<{ at: string }>(
        db.orm,
        sql`select at::text as at from patrol_point where patrol_id = ${id} and impossible_speed order by at`,
      );
    expect(await flagged(split.id)).toEqual(await flagged(one.id));
  });
});

describe('anti-spoofing flags', () => {
  it('a point 1 km outside the grid is flagged outside_grid', async () => {
    const patrol = await startPatrol(worker);
    // East edge of A1 is 130.4; 0.0132° further east is about 1 km, reached at a plausible pace.
    const points = [
      { at: new Date(start).toISOString(), lng: 130.399, lat: 46.85 },
      { at: new Date(start + 20 * 60_000).toISOString(), lng: 130.4132, lat: 46.85 },
      // 150 m outside: within the tolerance of 200 m
      { at: new Date(start + 40 * 60_000).toISOString(), lng: 130.402, lat: 46.85 },
    ];
    const result = (await sendPoints(worker, patrol.id, points)).json<PatrolPointsResult>();
    expect(result.patrol.flags).toEqual([{ flag: 'outside_grid', points: 1 }]);
    const track = (await get(worker, `/api/patrols/${patrol.id}/track`)).json<PatrolTrack>();
    expect(track.points.map((p) => p[3])).toEqual([0, 1, 0]);
    expect(track.points[1]!.slice(0, 3)).toEqual([130.4132, 46.85, start + 20 * 60_000]);
    expect(track.gridOutline[0]![0]).toContainEqual([130.3, 46.8]);
  });

  it('a 1 km jump in 10 s is flagged impossible_speed and not counted in the distance', async () => {
    const patrol = await startPatrol(worker);
    const points = [
      ...walk(3),
      { at: new Date(start + 2 * 60_000 + 10_000).toISOString(), lng: 130.351 + 0.0132, lat: 46.85 },
      ...walk(2, 3),
    ];
    const result = (await sendPoints(worker, patrol.id, points)).json<PatrolPointsResult>();
    expect(result.patrol.flags).toEqual([{ flag: 'impossible_speed', points: 1 }]);
    // 4 steps of the walk only (the jump and the way back are not counted)
    expect(result.patrol.distanceMeters).toBe(152);
  });

  it('12 identical points in a row are flagged repeated_coordinates (all 12), 9 are not', async () => {
    const patrol = await startPatrol(worker);
    const same = (n: number, from: number, lng: number) =>
      Array.from({ length: n }, (_, i) => ({
        at: new Date(start + (from + i) * 30_000).toISOString(),
        lng,
        lat: 46.86,
      }));
    const points = [...same(12, 0, 130.36), ...same(9, 12, 130.361)];
    const result = (await sendPoints(worker, patrol.id, points)).json<PatrolPointsResult>();
    expect(result.patrol.flags).toEqual([{ flag: 'repeated_coordinates', points: 12 }]);
    expect(trackFlags([]).distanceMeters).toBe(0);
  });
});

describe('reading patrols', () => {
  it('own patrols by default; a monitor reads a worker in scope; others get 404', async () => {
    const patrol = await startPatrol(worker);
    const list = await get(worker, '/api/patrols?from=2026-11-20&to=2026-11-20');
    expect(list.statusCode).toBe(200);
    const items = list.json<PatrolList>().items;
    expect(items.some((p) => p.id === patrol.id)).toBe(true);
    expect(items.every((p) => p.userId === worker.id)).toBe(true);
    expect((await get(worker, '/api/patrols')).json<PatrolList>().items.length).toBe(items.length);

    const monitored = await get(communityOperator, `/api/patrols?userId=${worker.id}&from=2026-11-19`);
    expect(monitored.statusCode).toBe(200);
    expect(monitored.json<PatrolList>().items.length).toBeGreaterThan(items.length - 1);
    expect((await get(gridLeaderB, `/api/patrols?userId=${worker.id}`)).statusCode).toBe(404);
    expect((await get(otherWorker, `/api/patrols?userId=${worker.id}`)).statusCode).toBe(404);

    expect((await get(worker, `/api/patrols/${patrol.id}`)).statusCode).toBe(200);
    expect((await get(communityOperator, `/api/patrols/${patrol.id}`)).json<Patrol>().id).toBe(patrol.id);
    expect((await get(gridLeaderB, `/api/patrols/${patrol.id}`)).statusCode).toBe(404);
    expect((await get(otherWorker, `/api/patrols/${patrol.id}/track`)).statusCode).toBe(404);
    expect((await get(resident, `/api/patrols/${patrol.id}`)).statusCode).toBe(403);
    const bad = await get(worker, '/api/patrols?from=2026-02-30');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe('query.from');
  });
});
