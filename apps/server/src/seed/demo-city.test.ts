import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, sql, type Database } from '../platform/db.ts';
import { resetDatabase, testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';
import { demoCitySpec, provinceCitySpecs, scaleCitySpec } from './cities.ts';
import { demoDepartments } from './departments.ts';
import { demoAccounts, demoPassword } from './demo-accounts.ts';
import { demoPlaces, generateDemoCity, isTerritoryEmpty, seedCities, seedDemoCity } from './demo-city.ts';
import { areaCentroid, clipConvex, signedArea, type Point } from './geometry.ts';
import { chineseNumber } from './names.ts';
import { generateCity, outlineOf, territoryHash, type CitySpec, type TerritoryRegion } from './territory.ts';

const logger = pino({ level: 'silent' });
const now = new Date('2026-11-20T02:00:00Z');

const levelOf = (regions: readonly TerritoryRegion[], level: TerritoryRegion['level']) =>
  regions.filter((r) => r.level === level);

describe('demo city generator', () => {
  const regions = generateDemoCity();

  it('is deterministic: the same regions, names and coordinates on every run', () => {
    const again = generateDemoCity();
    expect(territoryHash(again)).toBe(territoryHash(regions));
    expect(again.length).toBe(regions.length);
    // The same across processes and machines too. Changing the generator on purpose changes this value: update it
    // then, knowing that existing demo data dirs keep the old city.
    expect(territoryHash(regions)).toBe('f4348e2869346642fa1dde03cfd40ecd0a17452e230a87321fb8824809379e95');
  });

  it('has one city, two districts, about six streets, 24 communities and about 240 grids', () => {
    expect(levelOf(regions, 'city').map((c) => [c.code, c.name])).toEqual([['230800', '佳木斯市']]);
    expect(levelOf(regions, 'district').map((d) => [d.code, d.name])).toEqual([
      ['230803', '向阳区'],
      ['230804', '前进区'],
    ]);
    expect(levelOf(regions, 'street')).toHaveLength(6);
    expect(levelOf(regions, 'community')).toHaveLength(24);
    const grids = levelOf(regions, 'grid').length;
    expect(grids).toBeGreaterThanOrEqual(220);
    expect(grids).toBeLessThanOrEqual(260);
    const first = levelOf(regions, 'grid')[0]!;
    expect(first.code).toBe('230803001001001');
    expect(first.name).toBe('西林社区第一网格');
    expect(levelOf(regions, 'street')[0]!.name).toBe('西林街道');
  });

  it('codes and paths nest: district + 3 digits per level, path segments follow the codes', () => {
    const byCode = new Map(regions.map((r) => [r.code, r]));
    const codeLength = { city: 6, district: 6, street: 9, community: 12, grid: 15 } as const;
    for (const region of regions) {
      expect(region.code).toMatch(new RegExp(`^\\d{${codeLength[region.level]}}$`));
      if (!region.parentCode) continue;
      const parent = byCode.get(region.parentCode)!;
      expect(parent).toBeDefined();
      if (region.level !== 'district') expect(region.code.slice(0, -3)).toBe(parent.code);
      expect(region.path.startsWith(`${parent.path}.`)).toBe(true);
    }
    expect(byCode.get('230803001001001')!.path).toBe('230800.230803.001.001.001');
  });

  it('has closed counter-clockwise rings with 7-decimal coordinates and centroids inside', () => {
    for (const region of regions) {
      const ring = region.ring;
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      expect(ring.length).toBeGreaterThanOrEqual(4);
      expect(signedArea(ring)).toBeGreaterThan(0);
      for (const [x, y] of ring) {
        expect(Math.round(x * 1e7) / 1e7).toBe(x);
        expect(Math.round(y * 1e7) / 1e7).toBe(y);
      }
      // A point-sized square around the centroid survives clipping by the (convex) ring: it lies inside.
      const [cx, cy] = region.centroid;
      const d = 1e-6;
      const square: Point[] = [
        [cx - d, cy - d],
        [cx + d, cy - d],
        [cx + d, cy + d],
        [cx - d, cy + d],
      ];
      expect(clipConvex(square, ring.slice(0, -1)).length).toBeGreaterThan(0);
    }
  });

  it('is an urban area 10–15 km across, with grids a few hundred metres across, smaller in the centre', () => {
    const kmPerLng = 111.32 * Math.cos((46.8 * Math.PI) / 180);
    const city = levelOf(regions, 'city')[0]!;
    const xs = city.ring.map((p) => p[0]);
    const width = (Math.max(...xs) - Math.min(...xs)) * kmPerLng;
    expect(width).toBeGreaterThan(10);
    expect(width).toBeLessThan(15);
    const areaKm2 = (r: TerritoryRegion) => signedArea(r.ring) * kmPerLng * 110.574;
    const grids = levelOf(regions, 'grid');
    const sizes = grids.map(areaKm2).sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)]!;
    expect(Math.sqrt(median)).toBeGreaterThan(0.2);
    expect(Math.sqrt(median)).toBeLessThan(0.8);
    const distance = (g: TerritoryRegion) =>
      Math.hypot((g.centroid[0] - 130.335) * kmPerLng, (g.centroid[1] - 46.806) * 110.574);
    const central = grids.filter((g) => distance(g) < 2).map(areaKm2);
    const outer = grids.filter((g) => distance(g) > 4).map(areaKm2);
    const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
    expect(mean(central)).toBeLessThan(mean(outer) / 2);
  });

  it('numbers grids west→east, north→south within each community', () => {
    for (const community of levelOf(regions, 'community')) {
      const grids = regions.filter((r) => r.parentCode === community.code);
      const [first, last] = [grids[0]!, grids[grids.length - 1]!];
      const firstPoint = areaCentroid(first.ring);
      const lastPoint = areaCentroid(last.ring);
      expect(firstPoint[1] > lastPoint[1] || firstPoint[0] < lastPoint[0]).toBe(true);
      grids.forEach((g, i) => expect(g.name).toBe(`${community.name}第${chineseNumber(i + 1)}网格`));
    }
  });

  it('writes Chinese ordinals', () => {
    expect([1, 10, 11, 20, 21, 99, 100, 105, 110, 123].map(chineseNumber)).toEqual([
      '一',
      '十',
      '十一',
      '二十',
      '二十一',
      '九十九',
      '一百',
      '一百零五',
      '一百一十',
      '一百二十三',
    ]);
  });

  it('scale specs: Harbin has 7,830 grids, the province about 41,000, no city code or outline meets another', () => {
    const total = (spec: CitySpec) => ('total' in spec.grids ? spec.grids.total : 0);
    expect(total(scaleCitySpec)).toBe(7830);
    const sum = provinceCitySpecs.reduce((s, spec) => s + total(spec), 0);
    expect(sum).toBeGreaterThan(39_000);
    expect(sum).toBeLessThan(43_000);
    const all = [demoCitySpec, ...provinceCitySpecs];
    expect(new Set(all.map((s) => s.code)).size).toBe(all.length);
    const boxes = all.map((spec) => {
      const ring = outlineOf(spec);
      const xs = ring.map((p) => p[0]);
      const ys = ring.map((p) => p[1]);
      return {
        code: spec.code,
        x0: Math.min(...xs),
        x1: Math.max(...xs),
        y0: Math.min(...ys),
        y1: Math.max(...ys),
      };
    });
    for (const a of boxes)
      for (const b of boxes) {
        if (a.code >= b.code) continue;
        const apart = a.x1 < b.x0 || b.x1 < a.x0 || a.y1 < b.y0 || b.y1 < a.y0;
        expect(apart, `${a.code} and ${b.code}`).toBe(true);
      }
  });
});

/** Integrity of stored territory in PostGIS, for the regions under the given city codes. */
async function integrity(db: Database, cityCodes: string[]) {
  const cities = `{${cityCodes.join(',')}}`;
  const [summary] = await rows<{ invalid: number; regions: number }>(
    db.orm,
    sql`select count(*) filter (where not ST_IsValid(b.geom))::int as invalid, count(*)::int as regions
        from region r join region_boundary b on b.region_code = r.code and b.valid_to is null
        where split_part(r.path, '.', 1) = any(${cities}::text[])`,
  );
  // A child may stick out of its parent by rounding only: the area outside, spread along its perimeter, is the
  // width of a sliver; it must stay under a centimetre.
  const [outside] = await rows<{ width: number }>(
    db.orm,
    sql`select coalesce(max(ST_Area(ST_Difference(c.geom, p.geom)::geography) / ST_Perimeter(c.geom::geography)), 0)::float8 as width
        from region r
        join region_boundary c on c.region_code = r.code and c.valid_to is null
        join region_boundary p on p.region_code = r.parent_code and p.valid_to is null
        where split_part(r.path, '.', 1) = any(${cities}::text[])`,
  );
  const [overlap] = await rows<{ area: number; pairs: number }>(
    db.orm,
    sql`select coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)::float8 as area, count(*)::int as pairs
        from region ra
        join region rb on rb.parent_code = ra.parent_code and ra.code < rb.code
        join region_boundary a on a.region_code = ra.code and a.valid_to is null
        join region_boundary b on b.region_code = rb.code and b.valid_to is null
        where split_part(ra.path, '.', 1) = any(${cities}::text[]) and ST_Intersects(a.geom, b.geom)`,
  );
  // Children cover their parent, no holes between siblings: the area missing (or extra), spread along the parent's
  // perimeter, stays under 1e-7 degrees (about a centimetre). Planar degrees here: exact enough, no spheroid noise.
  const [cover] = await rows<{ gap: number }>(
    db.orm,
    sql`select coalesce(max(abs(parent_area - child_area) / perimeter), 0)::float8 as gap from (
          select ST_Area(p.geom) as parent_area, ST_Perimeter(p.geom) as perimeter, sum(ST_Area(c.geom)) as child_area
          from region r
          join region_boundary c on c.region_code = r.code and c.valid_to is null
          join region_boundary p on p.region_code = r.parent_code and p.valid_to is null
          where split_part(r.path, '.', 1) = any(${cities}::text[])
          group by r.parent_code, p.geom) t`,
  );
  return {
    ...summary!,
    outsideWidthMetres: outside!.width,
    overlapM2: overlap!.area,
    pairs: overlap!.pairs,
    coverGapDegrees: cover!.gap,
  };
}

describe('seedDemoCity in the database', () => {
  let db: Database;
  let server: Wangge;
  let counts: Record<string, number>;
  const regions = generateDemoCity();
  const places = demoPlaces(regions);

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    expect(await isTerritoryEmpty(db)).toBe(true);
    counts = await seedDemoCity(db, { now, logger });
    server = await testServer(db);
  });
  afterAll(async () => {
    await server.app.close();
  });

  it('reports its counts and fills the territory', async () => {
    expect(counts).toMatchObject({ cities: 1, districts: 2, streets: 6, communities: 24, departments: 15 });
    expect(counts.grids).toBe(levelOf(regions, 'grid').length);
    expect(await isTerritoryEmpty(db)).toBe(false);
    const stored = await rows<{ level: string; n: number }>(
      db.orm,
      sql`select level, count(*)::int as n from region group by level order by level`,
    );
    expect(Object.fromEntries(stored.map((s) => [s.level, s.n]))).toEqual({
      city: 1,
      district: 2,
      street: 6,
      community: 24,
      grid: counts.grids,
    });
  });

  it('stores valid geometries that nest within a centimetre, with no sibling overlaps and no gaps', async () => {
    const result = await integrity(db, ['230800']);
    expect(result.regions).toBe(regions.length);
    expect(result.invalid).toBe(0);
    expect(result.outsideWidthMetres).toBeLessThan(0.01);
    expect(result.pairs).toBeGreaterThan(300);
    expect(result.overlapM2).toBeLessThan(0.01);
    expect(result.coverGapDegrees).toBeLessThan(1e-7);
  });

  it('stores the same boundaries it generated, and centroids inside them', async () => {
    const stored = await rows<{ code: string; geojson: string; inside: boolean }>(
      db.orm,
      sql`select r.code, ST_AsGeoJSON(b.geom) as geojson, ST_Covers(b.geom, r.centroid) as inside
          from region r join region_boundary b on b.region_code = r.code
          where r.code in ('230800', '230803001001001')`,
    );
    for (const row of stored) {
      expect(row.inside).toBe(true);
      const generated = regions.find((r) => r.code === row.code)!;
      expect((JSON.parse(row.geojson) as { coordinates: number[][][][] }).coordinates[0]![0]).toEqual(
        generated.ring,
      );
    }
  });

  it('creates the departments at the city, coded by the taxonomy keys', async () => {
    const stored = await rows<{ code: string; name: string; region_code: string; region_path: string }>(
      db.orm,
      sql`select code, name, region_code, region_path from department order by code`,
    );
    expect(stored.map((d) => d.code)).toEqual(demoDepartments.map((d) => d.code).sort());
    expect(stored.find((d) => d.code === 'police')?.name).toBe('公安派出所');
    expect(new Set(stored.map((d) => `${d.region_code}|${d.region_path}`))).toEqual(
      new Set(['230800|230800']),
    );
  });

  it('gives every demo account its grants', async () => {
    const grants = await rows<{
      username: string;
      role: string;
      region_code: string | null;
      department: string | null;
      specialty: string | null;
    }>(
      db.orm,
      sql`select u.username, g.role, g.region_code, d.code as department, g.specialty
          from app_user u join user_role g on g.user_id = u.id left join department d on d.id = g.department_id
          where u.username like 'demo-%' order by u.username, g.region_code`,
    );
    const of = (username: string) => grants.filter((g) => g.username === username);
    const single = (username: string) => {
      const list = of(username);
      expect(list, username).toHaveLength(1);
      return list[0]!;
    };
    expect(new Set(grants.map((g) => g.username))).toEqual(new Set(demoAccounts.map((a) => a.username)));
    expect(single('demo-admin')).toMatchObject({ role: 'admin', region_code: null });
    expect(single('demo-city')).toMatchObject({ role: 'centre_operator', region_code: '230800' });
    expect(single('demo-street')).toMatchObject({ role: 'centre_operator', region_code: '230803001' });
    expect(single('demo-community')).toMatchObject({ role: 'centre_operator', region_code: '230803001001' });
    expect(single('demo-dept-police')).toMatchObject({
      role: 'department_handler',
      region_code: '230800',
      department: 'police',
    });
    expect(single('demo-dept-urban')).toMatchObject({
      role: 'department_handler',
      region_code: '230800',
      department: 'urban-management',
    });
    expect(single('demo-hotline')).toMatchObject({ role: 'hotline_operator', region_code: '230800' });
    expect(single('demo-leader')).toMatchObject({ role: 'leader', region_code: '230803' });
    const firstCommunityGrids = regions.filter((r) => r.parentCode === '230803001001').map((r) => r.code);
    expect(of('demo-gridleader').map((g) => g.region_code)).toEqual(firstCommunityGrids);
    expect(new Set(of('demo-gridleader').map((g) => g.role))).toEqual(new Set(['grid_leader']));
    expect(single('demo-worker')).toMatchObject({ role: 'grid_worker', region_code: '230803001001001' });
    const worker2 = single('demo-worker2');
    expect(worker2.role).toBe('grid_worker');
    expect(worker2.region_code!.slice(0, 9)).not.toBe('230803001');
    expect(worker2.region_code).toBe(places.otherGrid.code);
    const env = of('demo-pro-env');
    expect(env.length).toBeGreaterThanOrEqual(6);
    expect(new Set(env.map((g) => `${g.role}|${g.specialty}`))).toEqual(
      new Set(['professional_worker|environment']),
    );
    expect(new Set(env.map((g) => g.region_code!.slice(0, 12))).size).toBe(2);
    expect(single('demo-resident')).toMatchObject({ role: 'resident', region_code: '230803001001001' });
  });

  it('staffs every grid with one grid worker, every community with a grid leader and an operator', async () => {
    const [staff] = await rows<{
      workers: number;
      leaders: number;
      stations: number;
      auxiliaries: number;
      paths_ok: boolean;
    }>(
      db.orm,
      sql`select
            count(*) filter (where u.username like 'gw-%' and g.role = 'grid_worker')::int as workers,
            count(distinct u.id) filter (where u.username like 'gl-%' and g.role = 'grid_leader')::int as leaders,
            count(*) filter (where u.username like 'op-%' and g.role = 'centre_operator' and length(g.region_code) = 12)::int as stations,
            count(distinct u.id) filter (where g.role = 'auxiliary')::int as auxiliaries,
            bool_and(g.region_code is null or g.region_path = r.path) as paths_ok
          from app_user u join user_role g on g.user_id = u.id left join region r on r.code = g.region_code`,
    );
    expect(staff).toMatchObject({ workers: counts.grids, leaders: 24, stations: 24, paths_ok: true });
    expect(staff!.auxiliaries).toBeGreaterThan(20);
    const [named] = await rows<{ display_name: string }>(
      db.orm,
      sql`select display_name from app_user where username = 'gw-230803001001001'`,
    );
    expect(named!.display_name).toMatch(/^[\u4e00-\u9fff]{2,3}$/);
  });

  it('lets every demo account sign in through the API with the demo password', async () => {
    for (const account of demoAccounts) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: account.username, password: demoPassword },
      });
      expect(response.statusCode, account.username).toBe(200);
    }
    const wrong = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'demo-worker', password: 'not-the-password' },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('adds generated cities next to the demo city, nested the same way, and skips a city already there', async () => {
    const small: CitySpec = {
      ...provinceCitySpecs.find((s) => s.code === '230400')!,
      radiusKm: [4, 3],
      streets: { total: 8 },
      communities: { total: 12 },
      grids: { total: 100 },
    };
    const first = await seedCities(db, [small], { now, logger });
    expect(first).toMatchObject({ cities: 1, streets: 8, communities: 12, grids: 100, skippedCities: 0 });
    expect(first.users).toBe(1 + small.districts.length + 8 + 12 * 2 + 100);
    const result = await integrity(db, ['230400']);
    expect(result.invalid).toBe(0);
    expect(result.outsideWidthMetres).toBeLessThan(0.01);
    expect(result.overlapM2).toBeLessThan(0.01);
    expect(result.coverGapDegrees).toBeLessThan(1e-7);
    expect(territoryHash(generateCity(small))).toBe(territoryHash(generateCity(small)));

    const again = await seedCities(db, [small, { ...small, code: '239900', name: '重叠市' }], {
      now,
      logger,
    });
    expect(again).toMatchObject({ cities: 0, skippedCities: 2 });
  });
});
