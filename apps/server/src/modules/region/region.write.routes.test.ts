import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, countRows, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { locateAt } from './region.service.ts';

let db: Database;
let server: Wangge;
let admin: TestUser;
let worker: TestUser;
const clock = fixedClock('2026-11-20T02:00:00Z');

type Ring = number[][];
function boxRing(west: number, south: number, east: number, north: number): Ring {
  return [
    [west, south],
    [east, south],
    [east, north],
    [west, north],
    [west, south],
  ];
}
function feature(code: string, level: string, name: string, parent: string | null, ring: Ring) {
  return {
    type: 'Feature',
    properties: { code, level, name, parent },
    geometry: { type: 'Polygon', coordinates: [ring] },
  };
}
const collection = (features: unknown[]) => ({ type: 'FeatureCollection', features });

interface ImportFailure {
  code: string;
  message: string;
  details: {
    errors: { index: number; code: string | null; name: string | null; error: string; reason: string }[];
  };
}

const importFile = (user: TestUser | null, body: unknown, headers: Record<string, string> = {}) =>
  server.app.inject({
    method: 'POST',
    url: '/api/regions/import',
    headers: { 'content-type': 'application/json', ...(user ? auth(user) : {}), ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
const exportFile = (user: TestUser | null, code: string) =>
  server.app.inject({
    method: 'GET',
    url: `/api/regions/${code}/boundaries.geojson`,
    headers: user ? auth(user) : {},
  });

async function snapshot() {
  return {
    regions: await countRows(db, 'region'),
    boundaries: await countRows(db, 'region_boundary'),
    audit: await countRows(db, 'audit_log'),
  };
}

// New street 230803002 in the district's free south-west corner (130.2–130.3 E, 46.7–46.8 N), with one community
// and two grids side by side.
const street2 = '230803002';
const community21 = '230803002001';
const grid1 = '230803002001001';
const grid2 = '230803002001002';
const newTree = () => [
  feature(grid2, 'grid', '长安二网格', community21, boxRing(130.25, 46.7, 130.3, 46.8)),
  feature(street2, 'street', '长安街道', territory.district, boxRing(130.2, 46.7, 130.3, 46.8)),
  feature(grid1, 'grid', '长安一网格', community21, boxRing(130.2, 46.7, 130.25, 46.8)),
  feature(community21, 'community', '长安社区', street2, boxRing(130.2, 46.7, 130.3, 46.8)),
];

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db, { clock });
  admin = await makeUser(db, [{ role: 'admin' }]);
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
});

describe('signed out and scoped out', () => {
  it('answers 401 on every write, import and export route without a session', async () => {
    const calls = [
      { method: 'POST' as const, url: '/api/regions', payload: {} },
      { method: 'PUT' as const, url: `/api/regions/${territory.gridA1}/boundary`, payload: {} },
      { method: 'PATCH' as const, url: `/api/regions/${territory.gridA1}`, payload: {} },
      { method: 'POST' as const, url: '/api/regions/import', payload: collection(newTree()) },
      { method: 'GET' as const, url: `/api/regions/${territory.city}/boundaries.geojson` },
    ];
    for (const call of calls) {
      const response = await server.app.inject(call);
      expect(response.statusCode, `${call.method} ${call.url}`).toBe(401);
      expect(response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });

  it('a grid worker (no region.write or region.export anywhere) gets 403 inside and outside their grid', async () => {
    const before = await snapshot();
    expect((await importFile(worker, collection(newTree()))).statusCode).toBe(403);
    expect((await exportFile(worker, territory.gridA1)).statusCode).toBe(403);
    expect((await exportFile(worker, territory.gridB1)).statusCode).toBe(403);
    expect((await exportFile(worker, territory.city)).statusCode).toBe(403);
    const micro = {
      code: `${territory.gridA1}001`,
      level: 'microgrid',
      name: '微网格',
      parent: territory.gridA1,
      boundary: { type: 'Polygon', coordinates: [boxRing(130.3, 46.8, 130.31, 46.81)] },
    };
    const write = (method: 'POST' | 'PUT', url: string, payload: unknown) =>
      server.app.inject({ method, url, headers: auth(worker), payload: payload as object });
    expect((await write('POST', '/api/regions', micro)).statusCode).toBe(403);
    expect(
      (
        await write('POST', '/api/regions', {
          ...micro,
          code: `${territory.gridB1}001`,
          parent: territory.gridB1,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await write('PUT', `/api/regions/${territory.gridA1}/boundary`, { boundary: micro.boundary }))
        .statusCode,
    ).toBe(403);
    const outside = await write('PUT', `/api/regions/${territory.gridB1}/boundary`, {
      boundary: micro.boundary,
    });
    expect(outside.statusCode).toBe(403);
    expect(outside.json()).toEqual({ code: 'FORBIDDEN', message: '没有权限 (permission denied)' });
    expect(await snapshot()).toEqual(before);
  });
});

describe('POST /api/regions/import', () => {
  it('importing a GeoJSON file with one self-intersecting grid imports nothing and names that feature', async () => {
    const features = newTree();
    // Grid 2 becomes a bow-tie: its edges cross at (130.275, 46.75).
    features[0] = feature(grid2, 'grid', '长安二网格', community21, [
      [130.25, 46.7],
      [130.3, 46.8],
      [130.3, 46.7],
      [130.25, 46.8],
      [130.25, 46.7],
    ]);
    const before = await snapshot();
    const response = await importFile(admin, collection(features));
    expect(response.statusCode).toBe(400);
    const body = response.json<ImportFailure>();
    expect(body.code).toBe('REGION_IMPORT_FAILED');
    expect(body.message).toMatch(/nothing was imported/);
    expect(body.details.errors).toEqual([
      {
        index: 0,
        code: grid2,
        name: '长安二网格',
        error: 'REGION_INVALID_GEOMETRY',
        reason: expect.stringMatching(/Self-intersection/) as string,
      },
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('lists one error per bad feature: code, parent, outside parent, overlaps in the file and with stored grids', async () => {
    const features = [
      ...newTree(),
      // 4: overlaps grid 1 of the same file.
      feature('230803002001003', 'grid', '重叠网格', community21, boxRing(130.21, 46.71, 130.24, 46.79)),
      // 5: sticks out of its community (east of 130.3).
      feature('230803002001004', 'grid', '越界网格', community21, boxRing(130.3, 46.7, 130.35, 46.72)),
      // 6: a grid code that does not extend its parent's code.
      feature('230803009001005', 'grid', '错码网格', community21, boxRing(130.2, 46.7, 130.21, 46.71)),
      // 7: unknown parent.
      feature('230803001009001', 'grid', '无主网格', '230803001009', boxRing(130.3, 46.8, 130.31, 46.81)),
      // 8: overlaps stored grid B2 (a new grid in community B).
      feature(
        '230803001002003',
        'grid',
        '东林三网格',
        territory.communityB,
        boxRing(130.45, 46.95, 130.5, 47.0),
      ),
      // 9: not a feature at all.
      { type: 'Feature', properties: { code: 'x' }, geometry: null },
    ];
    const before = await snapshot();
    const response = await importFile(admin, collection(features));
    expect(response.statusCode).toBe(400);
    const errors = response.json<ImportFailure>().details.errors;
    expect(errors.map((e) => [e.index, e.error])).toEqual([
      [2, 'REGION_OVERLAP'],
      [4, 'REGION_OVERLAP'],
      [5, 'REGION_OUTSIDE_PARENT'],
      [6, 'REGION_INVALID_CODE'],
      [7, 'NOT_FOUND'],
      [8, 'REGION_OVERLAP'],
      [9, 'VALIDATION_FAILED'],
    ]);
    const reason = (index: number) => errors.find((e) => e.index === index)!.reason;
    expect(reason(2)).toContain('230803002001003');
    expect(reason(4)).toContain(grid1);
    expect(reason(5)).toContain(community21);
    expect(reason(6)).toMatch(/parent code \+ 3 digits/);
    expect(reason(8)).toContain(territory.gridB2);
    expect(reason(9)).toMatch(/properties\.name/);
    expect(errors.find((e) => e.index === 9)).toMatchObject({ code: 'x', name: null });
    expect(await snapshot()).toEqual(before);
  });

  it('imports a valid file in any order (as application/geo+json), audited', async () => {
    const before = await snapshot();
    const response = await importFile(admin, collection(newTree()), {
      'content-type': 'application/geo+json',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ created: 4, updated: 0, unchanged: 0 });
    expect(await snapshot()).toEqual({
      regions: before.regions + 4,
      boundaries: before.boundaries + 4,
      audit: before.audit + 1,
    });
    const [audit] = await rows<{ action: string; detail: Record<string, unknown> }>(
      db.orm,
      sql`select action, detail from audit_log order by id desc limit 1`,
    );
    expect(audit).toEqual({
      action: 'region.imported',
      detail: { features: 4, created: 4, updated: 0, unchanged: 0 },
    });
    expect((await locateAt(db.orm, 130.27, 46.75, clock.now()))?.code).toBe(grid2);
  });

  it('re-grids existing codes: a new boundary version from now, the old one kept for history', async () => {
    const before = clock.now();
    clock.advance(24 * 3600_000);
    const response = await importFile(
      admin,
      collection([
        feature(grid1, 'grid', '长安一网格', community21, boxRing(130.2, 46.7, 130.27, 46.8)),
        feature(grid2, 'grid', '长安二网格', community21, boxRing(130.27, 46.7, 130.3, 46.8)),
      ]),
    );
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ created: 0, updated: 2, unchanged: 0 });
    expect((await locateAt(db.orm, 130.26, 46.75, before))?.code).toBe(grid2);
    expect((await locateAt(db.orm, 130.26, 46.75, clock.now()))?.code).toBe(grid1);
  });

  it('accepts a body above the global limit up to 20 MB, and refuses a larger one with 413', async () => {
    // A 1.2 MB file (the global limit is 1 MB): one grid drawn with 52,000 points along its edges.
    const points: number[][] = [];
    const n = 13_000;
    for (let i = 0; i < n; i++) points.push([130.31 + (0.01 * i) / n, 46.81]);
    for (let i = 0; i < n; i++) points.push([130.32, 46.81 + (0.01 * i) / n]);
    for (let i = 0; i < n; i++) points.push([130.32 - (0.01 * i) / n, 46.82]);
    for (let i = 0; i < n; i++) points.push([130.31, 46.82 - (0.01 * i) / n]);
    points.push([130.31, 46.81]);
    const big = JSON.stringify(
      collection([feature(territory.gridA1, 'grid', '西林一网格', territory.communityA, points)]),
    );
    expect(big.length).toBeGreaterThan(server.ctx.config.bodyLimit);
    const accepted = await importFile(admin, big, { 'content-type': 'application/json' });
    // Parsed and checked: the new boundary (a small square inside A1's old place) lies inside community A, so 200.
    expect(accepted.statusCode).toBe(200);
    const tooBig = await importFile(
      admin,
      `{"type":"FeatureCollection","features":[],"pad":"${'x'.repeat(21 * 1024 * 1024)}"}`,
      {
        'content-type': 'application/json',
      },
    );
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('GET /api/regions/:code/boundaries.geojson', () => {
  it('exports the subtree, and importing the export changes nothing', async () => {
    const operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
    const street = await exportFile(operator, territory.street);
    expect(street.statusCode).toBe(200);
    expect(street.headers['content-type']).toMatch(/application\/geo\+json/);
    const streetFile = street.json<{ type: string; features: { properties: Record<string, unknown> }[] }>();
    expect(streetFile.type).toBe('FeatureCollection');
    expect(streetFile.features.map((f) => f.properties.code)).toEqual([
      territory.street,
      territory.communityA,
      territory.gridA1,
      territory.gridA2,
      territory.communityB,
      territory.gridB1,
      territory.gridB2,
    ]);
    expect(streetFile.features[0]!.properties).toEqual({
      code: territory.street,
      name: '西林街道',
      level: 'street',
      parent: territory.district,
    });
    expect((await exportFile(operator, territory.district)).statusCode).toBe(404);

    const before = await snapshot();
    const again = await importFile(admin, streetFile);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ created: 0, updated: 0, unchanged: 7 });
    expect((await snapshot()).boundaries).toBe(before.boundaries);
  });

  it('round-trips a whole city into an empty database', async () => {
    const first = await exportFile(admin, territory.city);
    expect(first.statusCode).toBe(200);
    const file = first.json<{ features: unknown[] }>();
    expect(file.features).toHaveLength(13);

    await resetDatabase(db);
    const freshAdmin = await makeUser(db, [{ role: 'admin' }]);
    const imported = await importFile(freshAdmin, file);
    expect(imported.statusCode).toBe(200);
    expect(imported.json()).toEqual({ created: 13, updated: 0, unchanged: 0 });
    const second = await exportFile(freshAdmin, territory.city);
    expect(second.json()).toEqual(file);
  });
});

describe('single writes over HTTP', () => {
  it('POST /api/regions creates (201), and refuses a bad code with a field message', async () => {
    const freshAdmin = await makeUser(db, [{ role: 'admin' }]);
    const micro = {
      code: `${grid1}001`,
      level: 'microgrid',
      name: '长安一网格一微网格',
      parent: grid1,
      boundary: { type: 'Polygon', coordinates: [boxRing(130.2, 46.7, 130.21, 46.71)] },
    };
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/regions',
      headers: auth(freshAdmin),
      payload: micro,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ code: micro.code, level: 'microgrid', parent: grid1 });

    const wrongCode = await server.app.inject({
      method: 'POST',
      url: '/api/regions',
      headers: auth(freshAdmin),
      payload: { ...micro, code: `${grid2}002` },
    });
    expect(wrongCode.statusCode).toBe(400);
    expect(wrongCode.json()).toMatchObject({ code: 'REGION_INVALID_CODE', fields: [{ field: 'code' }] });

    const malformed = await server.app.inject({
      method: 'POST',
      url: '/api/regions',
      headers: auth(freshAdmin),
      payload: { ...micro, code: '2308-03' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json<{ code: string; fields: { field: string }[] }>()).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'body.code' }],
    });

    const duplicate = await server.app.inject({
      method: 'POST',
      url: '/api/regions',
      headers: auth(freshAdmin),
      payload: micro,
    });
    expect(duplicate.statusCode).toBe(409);
  });

  it('PUT /api/regions/:code/boundary re-grids and PATCH renames', async () => {
    const freshAdmin = await makeUser(db, [{ role: 'admin' }]);
    clock.advance(24 * 3600_000);
    const put = await server.app.inject({
      method: 'PUT',
      url: `/api/regions/${grid1}001/boundary`,
      headers: auth(freshAdmin),
      payload: { boundary: { type: 'MultiPolygon', coordinates: [[boxRing(130.2, 46.7, 130.22, 46.72)]] } },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ code: `${grid1}001`, validFrom: clock.now().toISOString() });
    const bad = await server.app.inject({
      method: 'PUT',
      url: `/api/regions/${grid2}/boundary`,
      headers: auth(freshAdmin),
      payload: { boundary: { type: 'Polygon', coordinates: [boxRing(130.2, 46.7, 130.29, 46.8)] } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'REGION_OVERLAP',
      message: expect.stringContaining(grid1) as string,
    });
    const patch = await server.app.inject({
      method: 'PATCH',
      url: `/api/regions/${grid2}`,
      headers: auth(freshAdmin),
      payload: { name: '长安第二网格' },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json()).toMatchObject({ code: grid2, name: '长安第二网格' });
  });
});
