import { VectorTile, type VectorTileLayer } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { beforeAll, describe, expect, it } from 'vitest';
import { sql, type Database } from '../../platform/db.ts';
import type { Wangge } from '../../server.ts';
import { buildTerritory, territory } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import { distanceMetres, wgs84ToGcj02 } from './gcj02.ts';
import { gridTileWithAsMvt, gridTileWithEncoder, tileExtent } from './region.geo.ts';

let db: Database;
let server: Wangge;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db);
});

const get = (url: string) => server.app.inject({ method: 'GET', url });

describe('GET /api/grids/locate', () => {
  it('answers the grid containing a WGS-84 point, without an account', async () => {
    const response = await get('/api/grids/locate?lat=46.85&lng=130.35');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      code: territory.gridA1,
      name: '西林一网格',
      level: 'grid',
      crs: 'wgs84',
      point: [130.35, 46.85],
    });
    const cgcs = await get('/api/grids/locate?lat=46.95&lng=130.45&crs=cgcs2000');
    expect(cgcs.json()).toMatchObject({ code: territory.gridB2, point: [130.45, 46.95] });
  });

  it('answers 404 GRID_NOT_FOUND outside every grid (inside the city, and far away)', async () => {
    for (const url of [
      '/api/grids/locate?lat=46.85&lng=130.25',
      '/api/grids/locate?lat=30&lng=120',
      '/api/grids/locate?lat=0&lng=0',
    ]) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json<{ code: string }>().code).toBe('GRID_NOT_FOUND');
    }
  });

  it('converts GCJ-02 input (Amap, Tencent) to the WGS-84 truth before routing', async () => {
    // 0.002° west of the A1 | B1 border: the ~600 m GCJ-02 offset pushes the phone's reading into B1.
    const truth: [number, number] = [130.398, 46.85];
    const [gcjLng, gcjLat] = wgs84ToGcj02(...truth);
    expect(gcjLng).toBeGreaterThan(130.4);

    const naive = await get(`/api/grids/locate?lat=${gcjLat}&lng=${gcjLng}`);
    expect(naive.json<{ code: string }>().code).toBe(territory.gridB1);

    const converted = await get(`/api/grids/locate?lat=${gcjLat}&lng=${gcjLng}&crs=gcj02`);
    expect(converted.statusCode).toBe(200);
    const body = converted.json<{ code: string; crs: string; point: [number, number] }>();
    expect(body.code).toBe(territory.gridA1);
    expect(body.crs).toBe('wgs84');
    expect(distanceMetres(body.point, truth)).toBeLessThan(1);
  });

  it('answers 400 with field errors for missing, malformed or out-of-range input', async () => {
    const cases: [string, string[]][] = [
      ['/api/grids/locate', ['querystring.lat', 'querystring.lng']],
      ['/api/grids/locate?lat=91&lng=130', ['querystring.lat']],
      ['/api/grids/locate?lat=46&lng=-180.5', ['querystring.lng']],
      ['/api/grids/locate?lat=&lng=130', ['querystring.lat']],
      ['/api/grids/locate?lat=north&lng=130', ['querystring.lat']],
      ['/api/grids/locate?lat=46.85&lng=130.35&crs=bd09', ['querystring.crs']],
      ['/api/grids/locate?lat=46.85&lng=130.35&at=yesterday', ['querystring.at']],
    ];
    for (const [url, fields] of cases) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      const body = response.json<{ code: string; fields: { field: string }[] }>();
      expect(body.code, url).toBe('VALIDATION_FAILED');
      expect(body.fields.map((f) => f.field).sort(), url).toEqual(fields);
    }
  });

  it('with `at`, answers from the boundaries valid on that date', async () => {
    // Before 2026 the square of A1 belonged to B1: a closed historical boundary row.
    await db.orm.execute(sql`insert into region_boundary (region_code, geom, valid_from, valid_to)
      values (${territory.gridB1}, ST_Multi(ST_MakeEnvelope(130.3, 46.8, 130.5, 46.9, 4326)),
              '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`);
    const at = async (when: string) =>
      get(`/api/grids/locate?lat=46.85&lng=130.35&at=${encodeURIComponent(when)}`);

    expect((await at('2025-06-01')).json()).toMatchObject({ code: territory.gridB1, name: '东林一网格' });
    expect((await at('2025-12-31T23:59:59+08:00')).json()).toMatchObject({ code: territory.gridB1 });
    // valid_to is exclusive, valid_from inclusive: at the switch the new boundary answers.
    expect((await at('2026-01-01T00:00:00Z')).json()).toMatchObject({ code: territory.gridA1 });
    expect((await at('2026-11-01T00:00:00Z')).json()).toMatchObject({ code: territory.gridA1 });
    const before = await at('2024-06-01');
    expect(before.statusCode).toBe(404);
    expect(before.json<{ code: string }>().code).toBe('GRID_NOT_FOUND');
    // Without `at`, the in-process router knows only current boundaries.
    expect((await get('/api/grids/locate?lat=46.85&lng=130.35')).json()).toMatchObject({
      code: territory.gridA1,
    });
  });
});

/** Slippy-map tile of a WGS-84 point. */
function tileOf(lng: number, lat: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return {
    x: Math.floor(((lng + 180) / 360) * n),
    y: Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n),
  };
}

/** A WGS-84 point in tile coordinates (0…extent, y down) of tile z/x/y. */
function inTile(lng: number, lat: number, z: number, x: number, y: number): [number, number] {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  const worldX = ((lng + 180) / 360) * n;
  const worldY = ((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n;
  return [(worldX - x) * tileExtent, (worldY - y) * tileExtent];
}

function decode(bytes: Uint8Array): VectorTile {
  return new VectorTile(new Pbf(bytes));
}

function summary(layer: VectorTileLayer | undefined) {
  const features: { code: string; name: string; level: string; bbox: number[] }[] = [];
  for (let i = 0; i < (layer?.length ?? 0); i++) {
    const feature = layer!.feature(i);
    const { code, name, level } = feature.properties as { code: string; name: string; level: string };
    features.push({ code, name, level, bbox: feature.bbox() });
  }
  return features.sort((a, b) => a.code.localeCompare(b.code));
}

describe('GET /tiles/grids/:z/:x/:y.mvt', () => {
  const z = 10;
  const { x, y } = tileOf(130.35, 46.85, z);

  it('serves the grids and regions layers of a tile over the territory, without an account', async () => {
    const response = await server.app.inject({ method: 'GET', url: `/tiles/grids/${z}/${x}/${y}.mvt` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
    expect(response.headers['cache-control']).toMatch(/max-age=\d+/);
    const tile = decode(response.rawPayload);
    expect(Object.keys(tile.layers).sort()).toEqual(['grids', 'regions']);
    expect(tile.layers.grids!.extent).toBe(tileExtent);

    const grids = summary(tile.layers.grids);
    expect(grids.map((g) => [g.code, g.level])).toEqual([
      [territory.gridA1, 'grid'],
      [territory.gridA2, 'grid'],
      [territory.gridB1, 'grid'],
      [territory.gridB2, 'grid'],
    ]);
    expect(grids[0]!.name).toBe('西林一网格');
    const regions = summary(tile.layers.regions);
    expect(regions.map((r) => [r.code, r.level])).toEqual([
      [territory.city, 'city'],
      [territory.district, 'district'],
      [territory.street, 'street'],
      [territory.communityA, 'community'],
      [territory.communityB, 'community'],
    ]);

    // A1 is the square 130.3–130.4 × 46.8–46.9: its tile-space box, to within a unit of snapping.
    const [left, bottom] = inTile(130.3, 46.8, z, x, y);
    const [right, top] = inTile(130.4, 46.9, z, x, y);
    const expected = [left, top, right, Math.min(bottom, tileExtent + 64)];
    grids[0]!.bbox.forEach((value, i) =>
      expect(Math.abs(value - expected[i]!), `bbox[${i}]`).toBeLessThanOrEqual(1),
    );
  });

  it('answers an empty tile far from every region', async () => {
    const far = tileOf(-70, -40, z);
    const response = await server.app.inject({
      method: 'GET',
      url: `/tiles/grids/${z}/${far.x}/${far.y}.mvt`,
    });
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload).toHaveLength(0);
    expect(Object.keys(decode(response.rawPayload).layers)).toEqual([]);
  });

  it('leaves grids, communities and streets out of low-zoom tiles', async () => {
    const low = tileOf(130.35, 46.85, 6);
    const tile = decode(
      (await server.app.inject({ method: 'GET', url: `/tiles/grids/6/${low.x}/${low.y}.mvt` })).rawPayload,
    );
    expect(tile.layers.grids).toBeUndefined();
    expect(summary(tile.layers.regions).map((r) => r.level)).toEqual(['city', 'district']);
  });

  it('answers 400 for impossible tile addresses', async () => {
    const cases: [string, string][] = [
      ['/tiles/grids/23/0/0.mvt', 'params.z'],
      ['/tiles/grids/10/1024/0.mvt', 'params.x'],
      ['/tiles/grids/10/0/1024.mvt', 'params.y'],
      ['/tiles/grids/0/0/1.mvt', 'params.y'],
      ['/tiles/grids/10/-1/0.mvt', 'params.x'],
      ['/tiles/grids/10/abc/0.mvt', 'params.x'],
    ];
    for (const [url, field] of cases) {
      const response = await server.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(400);
      const body = response.json<{ code: string; fields: { field: string }[] }>();
      expect(body.code, url).toBe('VALIDATION_FAILED');
      expect(
        body.fields.map((f) => f.field),
        url,
      ).toContain(field);
    }
  });

  it('encodes the same features with ST_AsMVT (PostgreSQL) as with our encoder (either database)', async () => {
    const address = { z, x, y };
    const ours = decode(await gridTileWithEncoder(db.orm, address));
    if (db.kind === 'pglite') {
      // The known limit that the encoder exists for.
      await expect(gridTileWithAsMvt(db.orm, address)).rejects.toThrow();
      expect(summary(ours.layers.grids)).toHaveLength(4);
      return;
    }
    const postgis = decode(await gridTileWithAsMvt(db.orm, address));
    for (const name of ['grids', 'regions']) {
      const a = summary(ours.layers[name]);
      const b = summary(postgis.layers[name]);
      expect(a.map(({ code, name, level }) => ({ code, name, level }))).toEqual(
        b.map(({ code, name, level }) => ({ code, name, level })),
      );
      a.forEach((feature, i) =>
        feature.bbox.forEach((value, k) => expect(Math.abs(value - b[i]!.bbox[k]!)).toBeLessThanOrEqual(1)),
      );
    }
  });
});
