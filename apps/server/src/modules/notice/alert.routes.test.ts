import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let operator: TestUser;
let workerA1: TestUser;
let workerB2: TestUser;
let otherOperator: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-alert-'));
  server = await testServer(db, { clock, config: { dataDir } });
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
  workerA1 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
  workerB2 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridB2 }]);
  // a centre operator of community A only: cannot send to the whole street
  otherOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.communityA }]);
});

afterAll(async () => {
  await server.app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function alertBody(overrides: Record<string, unknown> = {}) {
  return {
    clientId: crypto.randomUUID(),
    kind: 'missing_person',
    title: '寻找走失老人',
    description: '男,78 岁,身穿蓝色外套',
    regionCode: territory.street,
    lastSeen: { location: { lng: 130.35, lat: 46.85 }, place: '西林公园', at: '2026-11-20T01:00:00Z' },
    ...overrides,
  };
}

async function post(user: TestUser | null, url: string, payload: unknown) {
  return server.app.inject({
    method: 'POST',
    url,
    headers: user ? auth(user) : {},
    payload: payload as object,
  });
}

async function get(user: TestUser | null, url: string) {
  return server.app.inject({ method: 'GET', url, headers: user ? auth(user) : {} });
}

async function jpeg(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 30, channels: 3, background: '#c33' } })
    .jpeg()
    .withExif({ IFD0: { Copyright: 'secret-exif-marker' } })
    .toBuffer();
}

describe('alerts', () => {
  it('an alert to a street creates one grid row per grid, one outbox event; idempotent by clientId', async () => {
    const outboxBefore = (await one<{ n: number }>(db.orm, sql`select count(*)::int as n from outbox`))!.n;
    const body = alertBody();
    const created = await post(operator, '/api/alerts', body);
    expect(created.statusCode).toBe(201);
    const alert = created.json<{ id: number; gridCount: number; created: boolean }>();
    expect(alert.gridCount).toBe(4);
    const grids = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from alert_grid where alert_id = ${alert.id}`,
    );
    expect(grids!.n).toBe(4);
    const events = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from outbox where topic = 'alert.created'`,
    );
    expect(events!.n).toBe(1);
    const again = await post(operator, '/api/alerts', body);
    expect(again.statusCode).toBe(200);
    expect(again.json<{ id: number }>().id).toBe(alert.id);
    const outboxAfter = (await one<{ n: number }>(db.orm, sql`select count(*)::int as n from outbox`))!.n;
    expect(outboxAfter - outboxBefore).toBe(1);
  });

  it('validates (400), refuses a region outside the sender (404) and workers (403)', async () => {
    const invalid = await post(operator, '/api/alerts', alertBody({ kind: 'nope', title: '' }));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    const outside = await post(otherOperator, '/api/alerts', alertBody());
    expect(outside.statusCode).toBe(404);
    expect((await post(workerA1, '/api/alerts', alertBody())).statusCode).toBe(403);
    expect((await post(null, '/api/alerts', alertBody())).statusCode).toBe(401);
  });

  it('a community alert reaches only its grids; workers outside do not see it', async () => {
    const created = await post(otherOperator, '/api/alerts', alertBody({ regionCode: territory.communityA }));
    expect(created.statusCode).toBe(201);
    const { id, gridCount } = created.json<{ id: number; gridCount: number }>();
    expect(gridCount).toBe(2);
    expect((await get(workerA1, `/api/alerts/${id}`)).statusCode).toBe(200);
    expect((await get(workerB2, `/api/alerts/${id}`)).statusCode).toBe(404);
    const list = await get(workerB2, '/api/alerts');
    expect(list.json<{ items: { id: number }[] }>().items.map((a) => a.id)).not.toContain(id);
  });

  it('workers acknowledge per grid (idempotent) and post sightings (idempotent); the centre sees both', async () => {
    const { id } = (await post(operator, '/api/alerts', alertBody())).json<{ id: number }>();
    const first = await post(workerA1, `/api/alerts/${id}/acknowledge`, { gridCode: territory.gridA1 });
    expect(first.statusCode).toBe(200);
    expect(first.json<{ created: boolean }>().created).toBe(true);
    clock.advance(60_000);
    const second = await post(workerA1, `/api/alerts/${id}/acknowledge`, { gridCode: territory.gridA1 });
    expect(second.json<{ created: boolean; acknowledgedAt: string }>()).toMatchObject({
      created: false,
      acknowledgedAt: first.json<{ acknowledgedAt: string }>().acknowledgedAt,
    });
    // not the worker's grid
    expect(
      (await post(workerA1, `/api/alerts/${id}/acknowledge`, { gridCode: territory.gridB2 })).statusCode,
    ).toBe(404);

    const sighting = {
      clientId: crypto.randomUUID(),
      note: '在东林超市门口看到',
      location: { lng: 130.45, lat: 46.95 },
      seenAt: '2026-11-20T02:10:00Z',
    };
    const s1 = await post(workerB2, `/api/alerts/${id}/sightings`, sighting);
    expect(s1.statusCode).toBe(201);
    expect(s1.json<{ gridCode: string }>().gridCode).toBe(territory.gridB2);
    const s2 = await post(workerB2, `/api/alerts/${id}/sightings`, sighting);
    expect(s2.statusCode).toBe(200);
    expect(s2.json<{ id: number }>().id).toBe(s1.json<{ id: number }>().id);
    // the same clientId from someone else: conflict, nothing added
    expect((await post(workerA1, `/api/alerts/${id}/sightings`, sighting)).statusCode).toBe(409);

    // a photo for the sighting, by its author only
    const sightingId = s1.json<{ id: number }>().id;
    const photoUrl = `/api/alerts/${id}/sightings/${sightingId}/photo`;
    const withPhoto = await server.app.inject({
      method: 'POST',
      url: photoUrl,
      headers: { ...auth(workerB2), 'content-type': 'image/jpeg' },
      payload: await jpeg(),
    });
    expect(withPhoto.statusCode).toBe(200);
    expect(withPhoto.json<{ hasPhoto: boolean }>().hasPhoto).toBe(true);
    const notAuthor = await server.app.inject({
      method: 'POST',
      url: photoUrl,
      headers: { ...auth(workerA1), 'content-type': 'image/jpeg' },
      payload: await jpeg(),
    });
    expect(notAuthor.statusCode).toBe(404);
    const seen = await get(operator, photoUrl);
    expect(seen.statusCode).toBe(200);
    expect(seen.rawPayload.includes(Buffer.from('secret-exif-marker'))).toBe(false);

    const detail = await get(operator, `/api/alerts/${id}`);
    expect(detail.statusCode).toBe(200);
    const d = detail.json<{
      acknowledgedCount: number;
      sightingCount: number;
      grids: { gridCode: string; acknowledgedAt: string | null }[];
      sightings: { note: string }[];
      geojson: { features: { properties: { kind: string } }[] };
    }>();
    expect(d.acknowledgedCount).toBe(1);
    expect(d.sightingCount).toBe(1);
    expect(d.grids.filter((g) => g.acknowledgedAt !== null).map((g) => g.gridCode)).toEqual([
      territory.gridA1,
    ]);
    expect(d.geojson.features.map((f) => f.properties.kind)).toEqual(['last_seen', 'sighting']);
    const events = await one<{ acks: number; sightings: number }>(
      db.orm,
      sql`select count(*) filter (where topic = 'alert.acknowledged')::int as acks,
            count(*) filter (where topic = 'alert.sighted')::int as sightings
          from outbox where (payload ->> 'alertId')::int = ${id}`,
    );
    expect(events).toEqual({ acks: 1, sightings: 1 });
  });

  it('closes once (found); a second close is 409; the photo leaves the public route, staff still see it', async () => {
    const { id } = (await post(operator, '/api/alerts', alertBody())).json<{ id: number }>();
    const upload = await server.app.inject({
      method: 'POST',
      url: `/api/alerts/${id}/photo`,
      headers: { ...auth(operator), 'content-type': 'image/jpeg' },
      payload: await jpeg(),
    });
    expect(upload.statusCode).toBe(200);
    expect(upload.json<{ hasPhoto: boolean }>().hasPhoto).toBe(true);
    // one event, so open pages fetch the photo that came after the alert itself
    const photoEvents = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from outbox where topic = 'alert.photo' and (payload ->> 'alertId')::int = ${id}`,
    );
    expect(photoEvents?.n).toBe(1);
    const open = await get(null, `/api/public/alerts/${id}/photo`);
    expect(open.statusCode).toBe(200);
    expect(open.headers['content-type']).toBe('image/jpeg');
    expect(open.rawPayload.includes(Buffer.from('secret-exif-marker'))).toBe(false);
    const page = await get(null, `/api/public/grids/${territory.gridA1}`);
    const shown = page
      .json<{ alerts: { id: number; photoUrl: string | null }[] }>()
      .alerts.find((a) => a.id === id);
    expect(shown?.photoUrl).toBe(`/api/public/alerts/${id}/photo`);

    const closed = await post(operator, `/api/alerts/${id}/close`, { outcome: 'found', note: '已找到' });
    expect(closed.statusCode).toBe(200);
    expect(closed.json<{ status: string; outcome: string }>()).toMatchObject({
      status: 'closed',
      outcome: 'found',
    });
    const twice = await post(operator, `/api/alerts/${id}/close`, { outcome: 'lifted' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json<{ message: string }>().message).toContain('already closed');

    expect((await get(null, `/api/public/alerts/${id}/photo`)).statusCode).toBe(404);
    expect((await get(operator, `/api/alerts/${id}/photo`)).statusCode).toBe(200);
    expect((await get(workerA1, `/api/alerts/${id}/photo`)).statusCode).toBe(200);
    const after = await get(null, `/api/public/grids/${territory.gridA1}`);
    const gone = after
      .json<{ alerts: { id: number; status: string; outcome: string; photoUrl: string | null }[] }>()
      .alerts.find((a) => a.id === id);
    expect(gone).toMatchObject({ status: 'closed', outcome: 'found', photoUrl: null });
    const events = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from outbox where topic = 'alert.closed' and (payload ->> 'alertId')::int = ${id}`,
    );
    expect(events!.n).toBe(1);
    const audited = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from audit_log where object_type = 'alert' and object_id = ${String(id)}
            and action in ('alert.created', 'alert.closed')`,
    );
    expect(audited!.n).toBe(2);
    // a closed alert takes no more sightings
    const late = await post(workerA1, `/api/alerts/${id}/sightings`, {
      clientId: crypto.randomUUID(),
      note: 'x',
      location: { lng: 130.35, lat: 46.85 },
      seenAt: '2026-11-20T02:10:00Z',
    });
    expect(late.statusCode).toBe(409);
  });

  it('an alert to a district inserts its grid rows in one statement (set-based)', async () => {
    const district = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.district }]);
    const created = await post(district, '/api/alerts', alertBody({ regionCode: territory.district }));
    expect(created.json<{ gridCount: number }>().gridCount).toBe(4);
  });
});
