import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseListConditions } from '../../apps/server/src/modules/case/case.list.ts';
import { buildWorkflowWorld } from '../../apps/server/src/modules/case/case.workflow.fixtures.ts';
import { authenticate } from '../../apps/server/src/modules/identity/index.ts';
import { gridTileWithAsMvt, type TileAddress } from '../../apps/server/src/modules/region/region.geo.ts';
import { one, sql, type Database, type SQL } from '../../apps/server/src/platform/db.ts';
import type { Wangge } from '../../apps/server/src/server.ts';
import { makeUser, territory, type TestUser } from '../../apps/server/src/test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../apps/server/src/test/harness.ts';
import { busiestCity, caseTileWithAsMvt, checkTiles, rawLoad, tileOf, tileSet, type Layer } from './tiles.ts';

// The reference is ST_AsMVT, which PGlite's PostGIS lacks: PostgreSQL only.
describe.skipIf(!process.env.DATABASE_URL)('W5 tiles workload checks (small territory)', () => {
  let db: Database;
  let server: Wangge;
  let baseUrl: string;
  let admin: TestUser;
  let conditions: SQL[];
  let tiles: TileAddress[];
  let densest: TileAddress[];
  let reference: (layer: Layer, address: TileAddress) => Promise<Uint8Array>;
  const fakes: http.Server[] = [];

  /** A stand-in tile server answering every request with `status` and `body`. */
  async function fake(status: number, body: Buffer): Promise<string> {
    const server = http.createServer((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/vnd.mapbox-vector-tile' });
      response.end(body);
    });
    fakes.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    const world = await buildWorkflowWorld(db);
    admin = await makeUser(db, [{ role: 'admin' }]);
    await db.orm.execute(sql`
      insert into grid_case (client_id, serial, title, description, category_code, channel, status, location,
        grid_code, region_path, owner_region_code, owner_region_path, owner_level, reported_at)
      select gen_random_uuid(), '2026-W5T-' || i, '井盖缺失', '描述', '0501', 'grid_worker',
        case when i % 5 = 0 then 'closed' else 'reported' end,
        st_setsrid(st_makepoint(130.30 + (i % 17) * 0.005, 46.81 + (i % 13) * 0.01), 4326),
        ${territory.gridA1}, ${world.paths.gridA1}, ${territory.communityA}, ${world.paths.communityA}, 'community',
        timestamptz '2026-11-19T02:00:00Z' - i * interval '1 hour'
      from generate_series(1, 400) as i`);
    server = await testServer(db);
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const actor = await authenticate({
      db,
      clock: { now: () => new Date('2026-11-20T02:00:00Z') },
      token: admin.token,
      sessionSeconds: 3600,
    });
    conditions = await caseListConditions({ db, actor: actor!, query: { state: 'open' } });
    const city = await busiestCity(db);
    expect(city.code).toBe(territory.city);
    tiles = await tileSet(db, city.path, conditions, { dense: 2, spread: 2 });
    densest = await tileSet(db, city.path, conditions, { dense: 1, spread: 0 });
    reference = async (layer, address) => {
      if (layer === 'grids') return gridTileWithAsMvt(db.orm, address);
      const row = await one<{ tile: Uint8Array }>(db.orm, caseTileWithAsMvt(address, conditions));
      return row?.tile ?? new Uint8Array(0);
    };
  });

  afterAll(async () => {
    await server?.app.close();
    for (const f of fakes) f.close();
  });

  it('picks tiles z12–z16 over the city, the densest first; the API and ST_AsMVT hold the same cases', async () => {
    expect(new Set(tiles.map((t) => t.z))).toEqual(new Set([12, 13, 14, 15, 16]));
    expect(densest).toHaveLength(5);
    const check = await checkTiles({ baseUrl, token: admin.token, tiles, reference, densest });
    expect(check.bytes.cases).toHaveLength(tiles.length);
    expect(Math.max(...check.bytes.cases)).toBeGreaterThan(0);
    expect(Math.max(...check.bytes.grids)).toBeGreaterThan(0);
  });

  it('throws when the tile endpoint fails, answers empty tiles, or the tiles differ from the reference', async () => {
    const options = { token: admin.token, tiles, reference, densest };
    await expect(checkTiles({ ...options, baseUrl: await fake(500, Buffer.from('{}')) })).rejects.toThrow(
      /answered 500/,
    );
    await expect(checkTiles({ ...options, baseUrl: await fake(200, Buffer.alloc(0)) })).rejects.toThrow(
      /empty|differ/,
    );
    // A bad token: the case tiles answer 401.
    await expect(checkTiles({ ...options, baseUrl, token: 'nonsense' })).rejects.toThrow(/answered 401/);
    // A reference that makes nothing: the two sides no longer do the same work.
    await expect(
      checkTiles({ ...options, baseUrl, reference: () => Promise.resolve(new Uint8Array(0)) }),
    ).rejects.toThrow(/differ from ST_AsMVT/);
    // A dense tile where nothing is: "densest" that is empty throws.
    const nowhere = tileOf(16, 100, 10);
    await expect(
      checkTiles({ ...options, baseUrl, tiles: [...tiles, nowhere], densest: [...densest, nowhere] }),
    ).rejects.toThrow(/is empty/);
  });

  it('the raw load throws when a tile cannot be made, and times every call', async () => {
    await expect(rawLoad(() => Promise.reject(new Error('boom')), tiles, 2, 0.2)).rejects.toThrow(/boom/);
    const load = await rawLoad((a) => reference('cases', a), tiles, 2, 0.3);
    expect(load.requests).toBeGreaterThan(0);
    expect(load.p99).not.toBeNull();
  });
});
