import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegionChildStats } from '@wangge/contracts';
import { sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';

/**
 * Open and overdue cases per child (the map's 专题图) and region search. Cases are inserted directly:
 *   grid A1: in_progress overdue, reported            → open 2, overdue 1
 *   grid A2: closed, filed                            → open 1
 *   grid B1: duplicate, not_filed, dispatched overdue → open 1, overdue 1
 *   grid B2: evaluated (overdue flag left on)          → open 0
 */
const fixture: { grid: string; status: string; overdue?: boolean }[] = [
  { grid: t.gridA1, status: 'in_progress', overdue: true },
  { grid: t.gridA1, status: 'reported' },
  { grid: t.gridA2, status: 'closed' },
  { grid: t.gridA2, status: 'filed' },
  { grid: t.gridB1, status: 'duplicate' },
  { grid: t.gridB1, status: 'not_filed' },
  { grid: t.gridB1, status: 'dispatched', overdue: true },
  { grid: t.gridB2, status: 'evaluated', overdue: true },
];

let db: Database;
let server: Wangge;
let admin: TestUser;
let streetOperator: TestUser;
let worker: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await db.orm.transaction(async (tx) => {
    await tx.execute(sql`insert into case_category (code, parent_code, name_zh, name_en) values
      ('04', null, '市容环境', 'City appearance'), ('0401', '04', '垃圾堆放与清运', 'Garbage')`);
    for (const [n, c] of fixture.entries())
      await tx.execute(sql`insert into grid_case (client_id, serial, title, category_code, channel, status, grid_code,
          region_path, owner_region_code, owner_region_path, owner_level, reported_at, overdue)
        select ${crypto.randomUUID()}, ${`2026-230803-${String(n + 1).padStart(6, '0')}`}, ${`case ${n + 1}`}, '0401',
          'grid_worker', ${c.status}, g.code, g.path, g.code, g.path, 'grid', '2026-11-10T04:00:00Z', ${c.overdue ?? false}
        from region g where g.code = ${c.grid}`);
  });
  server = await testServer(db);
  admin = await makeUser(db, [{ role: 'admin' }]);
  streetOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.street }]);
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
});

afterAll(async () => {
  await server?.app.close();
});

const get = (user: TestUser | null, url: string) =>
  server.app.inject({ method: 'GET', url, headers: user ? auth(user) : {} });

/** [west, south, east, north] of the squares `buildTerritory` draws. */
const bounds: Record<string, [number, number, number, number]> = {
  [t.communityA]: [130.3, 46.8, 130.4, 47.0],
  [t.communityB]: [130.4, 46.8, 130.5, 47.0],
  [t.gridA1]: [130.3, 46.8, 130.4, 46.9],
  [t.gridA2]: [130.3, 46.9, 130.4, 47.0],
  [t.gridB1]: [130.4, 46.8, 130.5, 46.9],
  [t.gridB2]: [130.4, 46.9, 130.5, 47.0],
};

function expectInside(code: string, point: [number, number] | null) {
  const [west, south, east, north] = bounds[code]!;
  expect(point, code).not.toBeNull();
  const [lng, lat] = point!;
  expect(lng > west && lng < east && lat > south && lat < north, `${code} ${lng},${lat}`).toBe(true);
}

describe('GET /api/regions/{code}/children/stats', () => {
  it('counts open and overdue cases over each child’s subtree', async () => {
    const response = await get(streetOperator, `/api/regions/${t.street}/children/stats`);
    expect(response.statusCode, response.body).toBe(200);
    const { items } = response.json<RegionChildStats>();
    expect(items.map(({ centroid: _centroid, ...rest }) => rest)).toEqual([
      { code: t.communityA, name: '西林社区', level: 'community', openCases: 3, overdueCases: 1 },
      { code: t.communityB, name: '东林社区', level: 'community', openCases: 1, overdueCases: 1 },
    ]);
    for (const item of items) expectInside(item.code, item.centroid);
    // The children add up to the region's own stats.
    const stats = await get(streetOperator, `/api/regions/${t.street}/stats`);
    expect(stats.json<{ counts: { openCases: number; overdueCases: number } }>().counts).toMatchObject({
      openCases: 4,
      overdueCases: 2,
    });
  });

  it('lists children without cases with zeros', async () => {
    const response = await get(streetOperator, `/api/regions/${t.communityB}/children/stats`);
    expect(response.json<RegionChildStats>().items.map((i) => [i.code, i.openCases, i.overdueCases])).toEqual(
      [
        [t.gridB1, 1, 1],
        [t.gridB2, 0, 0],
      ],
    );
    // a grid has no children
    const leaf = await get(worker, `/api/regions/${t.gridA1}/children/stats`);
    expect(leaf.statusCode).toBe(200);
    expect(leaf.json()).toEqual({ items: [] });
  });

  it('places the centroid on the current boundary (after re-gridding), null without one', async () => {
    // Re-grid B2 to its northern half, written directly: the region's stored centroid is left stale on purpose.
    await db.orm.transaction(async (tx) => {
      await tx.execute(sql`update region_boundary set valid_to = '2026-06-01T00:00:00Z'
                           where region_code = ${t.gridB2} and valid_to is null`);
      await tx.execute(sql`insert into region_boundary (region_code, geom, valid_from)
        values (${t.gridB2}, ST_Multi(ST_MakeEnvelope(130.4, 46.95, 130.5, 47.0, 4326)), '2026-06-01T00:00:00Z')`);
    });
    const response = await get(admin, `/api/regions/${t.communityB}/children/stats`);
    const b2 = response.json<RegionChildStats>().items.find((i) => i.code === t.gridB2)!;
    expect(b2.centroid![1]).toBeGreaterThan(46.95);
    // A child without any boundary: no centroid.
    await db.orm.execute(sql`insert into region (code, level, name, parent_code, path)
      select '230803001002003', 'grid', '东林三网格', code, path || '.003' from region where code = ${t.communityB}`);
    const again = await get(admin, `/api/regions/${t.communityB}/children/stats`);
    expect(again.json<RegionChildStats>().items.at(-1)).toEqual({
      code: '230803001002003',
      name: '东林三网格',
      level: 'grid',
      centroid: null,
      openCases: 0,
      overdueCases: 0,
    });
  });

  it('answers 401 / 400 / 404 outside the scope / 403 without region.stats', async () => {
    expect((await get(null, `/api/regions/${t.street}/children/stats`)).statusCode).toBe(401);
    expect((await get(admin, `/api/regions/12/children/stats`)).statusCode).toBe(400);
    for (const code of [t.street, t.gridB1, '230899'])
      expect((await get(worker, `/api/regions/${code}/children/stats`)).statusCode, code).toBe(404);
    const resident = await makeUser(db, [{ role: 'resident', regionCode: t.street }]);
    expect((await get(resident, `/api/regions/${t.street}/children/stats`)).statusCode).toBe(403);
  });
});

describe('GET /api/regions/search', () => {
  const search = async (user: TestUser, query: string) => {
    const response = await get(user, `/api/regions/search?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ items: { code: string; level: string; name: string }[] }>().items;
  };

  it('finds names containing q inside the caller’s scope, from the top level down', async () => {
    const items = await search(streetOperator, `q=${encodeURIComponent('西林')}`);
    expect(items.map((r) => [r.level, r.code])).toEqual([
      ['street', t.street],
      ['community', t.communityA],
      ['grid', t.gridA1],
      ['grid', t.gridA2],
    ]);
    // the city is outside the street operator's scope, inside the admin's
    expect(await search(streetOperator, `q=${encodeURIComponent('佳木斯')}`)).toEqual([]);
    expect((await search(admin, `q=${encodeURIComponent('佳木斯')}`)).map((r) => r.code)).toEqual([t.city]);
    // a grid worker sees only the own grid
    expect((await search(worker, `q=${encodeURIComponent('网格')}`)).map((r) => r.code)).toEqual([t.gridA1]);
  });

  it('finds codes starting with q, and honours limit', async () => {
    expect((await search(streetOperator, `q=${t.communityB}`)).map((r) => r.code)).toEqual([
      t.communityB,
      t.gridB1,
      t.gridB2,
      '230803001002003',
    ]);
    expect(await search(streetOperator, `q=${t.communityB}&limit=2`)).toHaveLength(2);
    // a code is matched by its start only
    expect(await search(streetOperator, `q=001002`)).toEqual([]);
    // q is literal text: LIKE wildcards match nothing
    expect(await search(admin, `q=${encodeURIComponent('%')}`)).toEqual([]);
    expect(await search(admin, `q=_`)).toEqual([]);
  });

  it('answers the regions’ view shape (code, level, name, parent, path, centroid)', async () => {
    const [street] = await search(admin, `q=${t.street}&limit=1`);
    expect(street).toMatchObject({ code: t.street, level: 'street', name: '西林街道', parent: t.district });
    expect(street).toHaveProperty('centroid');
    expect(street).toHaveProperty('path');
  });

  it('answers 400 for an empty or too long q or a bad limit, 401 without a session', async () => {
    for (const query of ['', 'q=', `q=${'x'.repeat(51)}`, 'q=a&limit=0', 'q=a&limit=51'])
      expect((await get(admin, `/api/regions/search?${query}`)).statusCode, query).toBe(400);
    expect((await get(null, `/api/regions/search?q=a`)).statusCode).toBe(401);
  });
});
