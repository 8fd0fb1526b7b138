import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personTagSpecialty } from '@wangge/contracts';
import { loadSecretBox } from '../platform/crypto.ts';
import { rows, sql, type Database } from '../platform/db.ts';
import { maskIdNumber, residentIdProblem } from '../modules/registry/person-id.ts';
import { resetDatabase, testConfig, testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';
import { demoCitySpec, provinceCitySpecs, scaleCitySpec } from './cities.ts';
import { demoDepartments } from './departments.ts';
import { demoAccounts, demoPassword } from './demo-accounts.ts';
import { demoPlaces, generateDemoCity, isTerritoryEmpty, seedCities, seedDemoCity } from './demo-city.ts';
import { generateDemoRegistry } from './demo-registry.ts';
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
  const secrets = loadSecretBox({ dataDir: testConfig().dataDir });

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    expect(await isTerritoryEmpty(db)).toBe(true);
    counts = await seedDemoCity(db, { now, logger, secrets });
    // The seed's time on this database (the first start must stay within 30 s).
    console.info(
      `seedDemoCity (${db.kind}): ${counts.milliseconds} ms, of which registry ${counts.registryMilliseconds} ms ` +
        `(inspections and components ${counts.placesMilliseconds} ms)`,
    );
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

  it('gives the demo city a registry of realistic size: 30–60 households per grid, 1–5 persons each', async () => {
    const grids = counts.grids!;
    expect(counts.households! / grids).toBeGreaterThanOrEqual(30);
    expect(counts.households! / grids).toBeLessThanOrEqual(60);
    expect(counts.persons! / counts.households!).toBeGreaterThan(1.8);
    expect(counts.persons! / counts.households!).toBeLessThan(3.5);
    expect(counts.organisations! / grids).toBeGreaterThanOrEqual(2);
    const [stored] = await rows<Record<string, number>>(
      db.orm,
      sql`select (select count(*)::int from building) as buildings, (select count(*)::int from address) as addresses,
            (select count(*)::int from household) as households, (select count(*)::int from person) as persons,
            (select count(*)::int from person_tag) as "personTags",
            (select count(*)::int from organisation) as organisations,
            (select count(distinct grid_code)::int from household) as "gridsWithHouseholds",
            (select max(n)::int from (select count(*) as n from person group by household_id) m) as "largestHousehold",
            (select count(*)::int from household h where not exists (select 1 from person p where p.household_id = h.id
              and p.relation_to_head = 'head')) as headless,
            (select count(*)::int from building b join region_boundary g on g.region_code = b.grid_code
              and g.valid_to is null where not ST_Covers(g.geom, b.location)) as "buildingsOutside",
            (select count(*)::int from organisation o join region_boundary g on g.region_code = o.grid_code
              and g.valid_to is null where not ST_Covers(g.geom, o.location)) as "organisationsOutside"`,
    );
    expect(stored).toMatchObject({
      buildings: counts.buildings,
      addresses: counts.addresses,
      households: counts.households,
      persons: counts.persons,
      personTags: counts.personTags,
      organisations: counts.organisations,
      gridsWithHouseholds: grids,
      headless: 0,
      buildingsOutside: 0,
      organisationsOutside: 0,
    });
    expect(stored!.largestHousehold).toBeLessThanOrEqual(5);
    const kinds = await rows<{ kind: string; n: number }>(
      db.orm,
      sql`select kind, count(*)::int as n from household group by kind`,
    );
    const share = (kind: string) => (kinds.find((k) => k.kind === kind)?.n ?? 0) / counts.households!;
    expect(share('registered')).toBeGreaterThan(0.55);
    expect(share('rental')).toBeGreaterThan(0.05);
    expect(share('floating')).toBeGreaterThan(0.05);
    const buildings = await rows<{ kind: string; n: number }>(
      db.orm,
      sql`select kind, count(*)::int as n from building group by kind`,
    );
    expect(buildings.find((b) => b.kind === 'residential')?.n).toBeGreaterThan(grids);
    expect(buildings.find((b) => b.kind === 'bungalow')?.n).toBeGreaterThan(100);
    const organisations = await rows<{ kind: string; n: number }>(
      db.orm,
      sql`select kind, count(*)::int as n from organisation group by kind`,
    );
    const orgCount = (kind: string) => organisations.find((o) => o.kind === kind)?.n ?? 0;
    expect(orgCount('shop')).toBeGreaterThan(grids);
    for (const kind of ['school', 'clinic', 'rental_house', 'internet_cafe', 'hazardous_goods'])
      expect(orgCount(kind), kind).toBeGreaterThan(0);
    expect(orgCount('hazardous_goods')).toBeLessThan(grids * 0.1);
  });

  it('gives grids 20–40 public components inside them, ~3% damaged, with departments and unique codes', async () => {
    const grids = counts.grids!;
    expect(counts.components! / grids).toBeGreaterThanOrEqual(20);
    expect(counts.components! / grids).toBeLessThanOrEqual(40);
    const [stored] = await rows<Record<string, number>>(
      db.orm,
      sql`select count(*)::int as components, count(distinct code)::int as codes,
            count(*) filter (where state = 'damaged')::int as damaged,
            count(*) filter (where owner_department_id is null or maintainer_department_id is null)::int
              as "withoutDepartment",
            count(distinct minor_class)::int as classes,
            (select count(*)::int from public_component c join region_boundary g on g.region_code = c.grid_code
              and g.valid_to is null where not ST_Contains(g.geom, c.location)) as outside,
            (select min(n)::int from (select count(*) as n from public_component group by grid_code) m) as fewest
          from public_component`,
    );
    expect(stored).toMatchObject({
      components: counts.components,
      codes: counts.components,
      withoutDepartment: 0,
      outside: 0,
    });
    expect(stored!.fewest).toBeGreaterThanOrEqual(20);
    expect(stored!.classes).toBeGreaterThan(15);
    expect(stored!.damaged! / stored!.components!).toBeGreaterThan(0.015);
    expect(stored!.damaged! / stored!.components!).toBeLessThan(0.05);
    const [lights] = await rows<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from public_component where minor_class = '0201'`,
    );
    expect(lights!.n).toBeGreaterThan(grids);
  });

  it('has most organisations inspected recently and some overdue, by the API at the seed time', async () => {
    const [stored] = await rows<Record<string, number>>(
      db.orm,
      sql`select count(*)::int as inspections, count(distinct organisation_id)::int as inspected,
            count(*) filter (where result = 'rectify' and rectify_by is null)::int as "rectifyWithoutDeadline",
            count(*) filter (where inspected_at >= ${now.toISOString()}::timestamptz)::int as future,
            count(*) filter (where inspector_id is null)::int as "withoutInspector"
          from organisation_inspection`,
    );
    expect(stored).toMatchObject({
      inspections: counts.inspections,
      rectifyWithoutDeadline: 0,
      future: 0,
      withoutInspector: 0,
    });
    expect(stored!.inspected! / counts.organisations!).toBeGreaterThan(0.85);
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'demo-admin', password: demoPassword },
    });
    const { token } = login.json<{ token: string }>();
    let overdue = 0;
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof server.app.inject>> = await server.app.inject({
        method: 'GET',
        url: `/api/organisations?inspection=overdue&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(page.statusCode, page.body).toBe(200);
      const body: { items: { nextInspectionDue: string }[]; nextCursor: string | null } = page.json();
      for (const item of body.items) expect(new Date(item.nextInspectionDue) < now).toBe(true);
      overdue += body.items.length;
      cursor = body.nextCursor;
    } while (cursor);
    // Overdue: the ~14% inspected too long ago; the never-inspected are due from registration (now), not yet late.
    expect(overdue / counts.organisations!).toBeGreaterThan(0.05);
    expect(overdue / counts.organisations!).toBeLessThan(0.3);
  });

  it('tags key populations at plausible rates, each with its specialty', async () => {
    const tags = await rows<{ kind: keyof typeof personTagSpecialty; specialty: string; n: number }>(
      db.orm,
      sql`select kind, specialty, count(*)::int as n from person_tag group by kind, specialty`,
    );
    for (const tag of tags) expect(tag.specialty, tag.kind).toBe(personTagSpecialty[tag.kind]);
    const rate = (kind: string) => (tags.find((t) => t.kind === kind)?.n ?? 0) / counts.persons!;
    const [old] = await rows<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from person where birth_date <= '1966-11-20'`,
    );
    const olderShare = (rate('elderly_alone') + rate('empty_nest')) / (old!.n / counts.persons!);
    expect(old!.n / counts.persons!).toBeGreaterThan(0.15); // an ageing north-eastern city
    expect(olderShare).toBeGreaterThan(0.15);
    expect(olderShare).toBeLessThan(0.6);
    expect(rate('disabled')).toBeGreaterThan(0.01);
    expect(rate('disabled')).toBeLessThan(0.06);
    expect(rate('low_income')).toBeGreaterThan(0.01);
    expect(rate('low_income')).toBeLessThan(0.08);
    expect(rate('left_behind_child')).toBeGreaterThan(0.002);
    expect(rate('left_behind_child')).toBeLessThan(0.03);
    for (const rare of ['corrections', 'drug_rehab', 'released_prisoner']) {
      expect(rate(rare), rare).toBeGreaterThan(0);
      expect(rate(rare), rare).toBeLessThan(0.003);
    }
    // Every elderly-alone resident lives alone and is old.
    const [wrong] = await rows<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from person_tag t join person p on p.id = t.person_id
          where t.kind = 'elderly_alone' and (p.birth_date > '1966-11-20'
            or (select count(*) from person o where o.household_id = p.household_id) <> 1)`,
    );
    expect(wrong!.n).toBe(0);
  });

  it('stores valid, sealed resident ID numbers and phones: hashed and masked as the registry service does', async () => {
    const stored = await rows<{
      id_cipher: string;
      id_hash: string;
      id_masked: string;
      birth_date: string;
      gender: string;
      phone_cipher: string | null;
      phone_hash: string | null;
      phone_masked: string | null;
      household_kind: string;
    }>(
      db.orm,
      sql`select p.id_cipher, p.id_hash, p.id_masked, p.birth_date::text as birth_date, p.gender, p.phone_cipher,
            p.phone_hash, p.phone_masked, h.kind as household_kind
          from person p join household h on h.id = p.household_id`,
    );
    expect(stored).toHaveLength(counts.persons!);
    const generated = generateDemoRegistry(regions, { today: now });
    const expectedIds = new Set(generated.persons.map((p) => p.idNumber));
    const seen = new Set<string>();
    for (const row of stored) {
      const id = secrets.decrypt(row.id_cipher);
      expect(residentIdProblem(id, { today: '2026-11-20', birthDate: row.birth_date }), id).toBeNull();
      expect(Number(id[16]) % 2 === 1 ? 'male' : 'female').toBe(row.gender);
      expect(row.id_masked).toBe(maskIdNumber(id));
      expect(row.id_hash).toBe(secrets.lookupHash('person.id', id));
      expect(expectedIds.has(id)).toBe(true);
      seen.add(id);
      // Locals hold Jiamusi IDs (2308xx); newcomers IDs of Heilongjiang or neighbouring provinces.
      if (row.household_kind === 'registered') expect(id.slice(0, 4)).toBe('2308');
      else expect(id).toMatch(/^(23|22|21|37|13|41)\d{4}/);
      if (row.phone_cipher) {
        const phone = secrets.decrypt(row.phone_cipher);
        expect(phone).toMatch(/^1[3-9]\d{9}$/);
        expect(row.phone_masked).toBe(`${phone.slice(0, 3)}****${phone.slice(-4)}`);
        expect(row.phone_hash).toBe(secrets.lookupHash('person.phone', phone));
      }
    }
    expect(seen.size).toBe(stored.length); // no ID number twice
    const phones = stored.filter((r) => r.phone_cipher !== null).length / stored.length;
    expect(phones).toBeGreaterThan(0.6);
  });

  it("a raw dump of every table holds none of the residents' ID numbers or phones in the clear", async () => {
    const generated = generateDemoRegistry(regions, { today: now });
    const secretsInTheClear = new Set([
      ...generated.persons.map((p) => p.idNumber),
      ...generated.persons.flatMap((p) => (p.phone ? [p.phone] : [])),
      ...generated.organisations.map((o) => o.safetyPhone),
    ]);
    expect(secretsInTheClear.size).toBeGreaterThan(counts.persons!);
    const leaks: string[] = [];
    let dumped = 0;
    // Every table of the schema (cases, the outbox, the audit log and the registry alike).
    const tables = await rows<{ name: string }>(
      db.orm,
      sql`select table_name as name from information_schema.tables
          where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`,
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['person', 'grid_case', 'audit_log', 'outbox']),
    );
    for (const { name: table } of tables) {
      const dump = await rows<{ row: string }>(
        db.orm,
        sql`select row_to_json(t)::text as row from ${sql.identifier(table)} t`,
      );
      for (const { row } of dump) {
        dumped += 1;
        // Every run of 11 or more digits (an optional X after), and every 11- and 18-character window of it.
        for (const [run] of row.matchAll(/\d{11,}X?/g))
          for (const size of [11, 18])
            for (let i = 0; i + size <= run.length; i++)
              if (secretsInTheClear.has(run.slice(i, i + size))) leaks.push(`${table}: ${run}`);
      }
    }
    expect(dumped).toBeGreaterThan(counts.persons!);
    expect(leaks).toEqual([]);
  });

  it('finds a seeded resident by full ID number and phone through the registry API, masked', async () => {
    const generated = generateDemoRegistry(regions, { today: now });
    const resident = generated.persons.find((p) => p.gridCode === places.grid.code && p.phone !== null)!;
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'demo-admin', password: demoPassword },
    });
    const { token } = login.json<{ token: string }>();
    for (const q of [resident.idNumber, resident.phone!]) {
      const found = await server.app.inject({
        method: 'GET',
        url: `/api/persons?q=${encodeURIComponent(q)}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(found.statusCode, found.body).toBe(200);
      const body = found.json<{ items: { name: string; idMasked: string }[] }>();
      expect(body.items.map((p) => p.name)).toContain(resident.name);
      expect(found.body).not.toContain(resident.idNumber);
      expect(found.body).not.toContain(resident.phone!);
    }
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
