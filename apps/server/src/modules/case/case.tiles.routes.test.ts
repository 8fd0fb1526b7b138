import { VectorTile, type VectorTileLayer } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { auth, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { buildWorkflowWorld, type WorkflowWorld } from './case.workflow.fixtures.ts';
import { casePointsMinZoom, casePointsPerTile, clusterCell, tileBounds } from './case.tiles.ts';

let db: Database;
let server: Wangge;
let world: WorkflowWorld;
let admin: TestUser;
let serial = 0;

/** The tile at zoom z holding a WGS-84 point. */
function tileOf(z: number, lng: number, lat: number): { z: number; x: number; y: number } {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return {
    z,
    x: Math.floor(((lng + 180) / 360) * n),
    y: Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n),
  };
}

/** `count` cases spread over a small square around (lng, lat), in grid A1 or B1, straight into the table. */
async function insertCases(options: {
  count: number;
  lng: number;
  lat: number;
  spread: number;
  grid: 'gridA1' | 'gridB1';
  status?: string;
  category?: string;
  urgent?: boolean;
  department?: number;
}): Promise<number[]> {
  const owner = options.grid === 'gridA1' ? 'communityA' : 'communityB';
  const first = serial + 1;
  serial += options.count;
  const inserted = await rows<{ id: number }>(
    db.orm,
    sql`
    insert into grid_case (client_id, serial, title, description, category_code, channel, urgent, status, location,
      grid_code, region_path, owner_region_code, owner_region_path, owner_level, lead_department_id, reported_at)
    select gen_random_uuid(), '2026-TILE-' || (${first}::int + i), '井盖缺失', '描述', ${options.category ?? '0501'},
      'grid_worker', ${options.urgent ?? false}, ${options.status ?? 'reported'},
      st_setsrid(st_makepoint(${options.lng}::float8 + ((i * 37) % 101) / 100.0 * ${options.spread}::float8,
                              ${options.lat}::float8 + ((i * 53) % 97) / 96.0 * ${options.spread}::float8), 4326),
      ${territory[options.grid]}, ${world.paths[options.grid]}, ${territory[owner]}, ${world.paths[owner]},
      'community', ${options.department ?? null}, timestamptz '2026-11-19T02:00:00Z' - i * interval '1 minute'
    from generate_series(0, ${options.count - 1}::int) as i
    returning id::int as id`,
  );
  const ids = inserted.map((r) => r.id);
  if (options.department)
    await db.orm.execute(sql`insert into case_department (case_id, department_id, role, status, assigned_at)
      select id, ${options.department}, 'lead', 'pending', '2026-11-19T02:00:00Z' from unnest(${`{${ids.join(',')}}`}::bigint[]) as id`);
  return ids;
}

const urbanIds = new Set<number>();

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  admin = await makeUser(db, [{ role: 'admin' }]);
  // A dense block in grid A1 (more than one high-zoom tile may hold), a few closed ones, some in grid B1.
  await insertCases({
    count: casePointsPerTile + 300,
    lng: 130.35,
    lat: 46.85,
    spread: 0.002,
    grid: 'gridA1',
  });
  await insertCases({ count: 40, lng: 130.36, lat: 46.86, spread: 0.01, grid: 'gridA1', status: 'closed' });
  await insertCases({ count: 30, lng: 130.45, lat: 46.85, spread: 0.01, grid: 'gridB1', category: '0101' });
  for (const id of await insertCases({
    count: 12,
    lng: 130.37,
    lat: 46.87,
    spread: 0.001,
    grid: 'gridA1',
    status: 'dispatched',
    urgent: true,
    department: world.departments.urban,
  }))
    urbanIds.add(id);
  server = await testServer(db, { clock: fixedClock('2026-11-20T02:00:00Z') });
});

afterAll(async () => {
  await server?.app.close();
});

async function fetchTile(user: TestUser | null, address: { z: number; x: number; y: number }, query = '') {
  return server.app.inject({
    method: 'GET',
    url: `/tiles/cases/${address.z}/${address.x}/${address.y}.mvt${query ? `?${query}` : ''}`,
    headers: user ? auth(user) : {},
  });
}

async function layerOf(
  user: TestUser,
  address: { z: number; x: number; y: number },
  name: string,
  query = '',
): Promise<VectorTileLayer | undefined> {
  const response = await fetchTile(user, address, query);
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
  expect(response.rawPayload.length).toBeLessThan(500 * 1024);
  return new VectorTile(new Pbf(response.rawPayload)).layers[name];
}

const featuresOf = (layer: VectorTileLayer | undefined) =>
  layer ? Array.from({ length: layer.length }, (_, i) => layer.feature(i)) : [];

// One tile over the whole test territory (130.3–130.5, 46.8–47.0).
const overview = tileOf(9, 130.4, 46.9);

describe('GET /tiles/cases/{z}/{x}/{y}.mvt', () => {
  it('401 without a session, 403 without case.read, 400 for an impossible tile or filter', async () => {
    expect((await fetchTile(null, overview)).statusCode).toBe(401);
    expect((await fetchTile(world.users.resident, overview)).statusCode).toBe(403);
    expect((await fetchTile(admin, { z: 23, x: 0, y: 0 })).statusCode).toBe(400);
    expect((await fetchTile(admin, { z: 3, x: 8, y: 0 })).statusCode).toBe(400);
    expect((await fetchTile(admin, overview, 'state=late')).statusCode).toBe(400);
  });

  it('clusters below the points zoom: counts add up to the open cases in scope, the tile stays small', async () => {
    const clusters = featuresOf(await layerOf(admin, overview, 'case-clusters'));
    expect(clusters.length).toBeGreaterThan(1);
    expect(clusters.length).toBeLessThanOrEqual((4096 / clusterCell) ** 2);
    const total = clusters.reduce((sum, f) => sum + Number(f.properties.count), 0);
    expect(total).toBe(casePointsPerTile + 300 + 30 + 12); // the closed ones are not open
    expect(clusters.reduce((sum, f) => sum + Number(f.properties.urgent), 0)).toBe(12);
    for (const f of clusters) {
      expect(f.type).toBe(1);
      expect(Object.keys(f.properties).sort()).toEqual(['count', 'overdue', 'urgent']);
    }
    expect(await layerOf(admin, overview, 'cases')).toBeUndefined();
    // filters like the case list
    const closed = featuresOf(await layerOf(admin, overview, 'case-clusters', 'state=closed'));
    expect(closed.reduce((sum, f) => sum + Number(f.properties.count), 0)).toBe(40);
    const category = featuresOf(await layerOf(admin, overview, 'case-clusters', 'categoryCode=01'));
    expect(category.reduce((sum, f) => sum + Number(f.properties.count), 0)).toBe(30);
  });

  it('single cases from the points zoom on, without personal data, capped per tile', async () => {
    const dense = tileOf(casePointsMinZoom, 130.351, 46.851);
    const response = await fetchTile(admin, dense);
    expect(response.headers['x-wangge-truncated']).toBe('1');
    const cases = featuresOf(new VectorTile(new Pbf(response.rawPayload)).layers.cases);
    expect(cases.length).toBe(casePointsPerTile);
    expect(Object.keys(cases[0]!.properties).sort()).toEqual(
      ['categoryCode', 'id', 'overdue', 'serial', 'status', 'urgent'].sort(),
    );
    expect(response.rawPayload.length).toBeLessThan(500 * 1024);
    // Every point is inside the tile (0…4096).
    for (const f of cases.slice(0, 50))
      for (const ring of f.loadGeometry())
        for (const p of ring) expect(p.x >= 0 && p.x < 4096 && p.y >= 0 && p.y < 4096).toBe(true);
    const urgentTile = tileOf(16, 130.3705, 46.8705);
    const urgent = featuresOf(await layerOf(admin, urgentTile, 'cases'));
    expect(urgent.map((f) => f.properties.id).sort()).toEqual([...urbanIds].sort());
    expect(urgent.every((f) => f.properties.urgent === true && f.properties.status === 'dispatched')).toBe(
      true,
    );
    // the bounds helper agrees with the tile scheme
    const b = tileBounds(urgentTile);
    expect(130.3705 > b.west && 130.3705 < b.east && 46.8705 > b.south && 46.8705 < b.north).toBe(true);
  });

  it('shows each user only the cases the case list shows them', async () => {
    const count = async (user: TestUser) =>
      featuresOf(await layerOf(user, overview, 'case-clusters')).reduce(
        (sum, f) => sum + Number(f.properties.count),
        0,
      );
    // A department clerk: only the cases their department is on.
    expect(await count(world.users.handlerUrban)).toBe(12);
    const clerkTile = featuresOf(
      await layerOf(world.users.handlerUrban, tileOf(16, 130.3705, 46.8705), 'cases'),
    );
    expect(clerkTile.map((f) => f.properties.id).sort()).toEqual([...urbanIds].sort());
    expect(await count(world.users.handlerWater)).toBe(0);
    // Community B's operator: grid B1's cases only; the street's: both communities.
    expect(await count(world.users.operatorB)).toBe(30);
    expect(await count(world.users.operatorStreet)).toBe(casePointsPerTile + 300 + 30 + 12);
    const visible = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from grid_case where grid_code = ${territory.gridB1}`,
    );
    expect(visible!.n).toBe(30);
    // A region outside the caller's scope answers 404, as the list does.
    expect(
      (await fetchTile(world.users.operatorB, overview, `region=${territory.communityA}`)).statusCode,
    ).toBe(404);
  });
});
