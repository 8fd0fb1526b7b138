import type { Logger } from 'pino';
import { appendAudit } from '../platform/audit.ts';
import type { SecretBox } from '../platform/crypto.ts';
import { one, rows, sql, type Database, type Executor } from '../platform/db.ts';
import { hashPassword, insertUser, type GrantInput } from '../modules/identity/index.ts';
import { insertDepartments, insertRegions, insertUsers, type UserSeed } from './bulk.ts';
import { demoCitySpec, provinceCitySpecs, scaleCitySpec } from './cities.ts';
import { demoDepartments } from './departments.ts';
import { demoAccounts, demoPassword } from './demo-accounts.ts';
import { seedDemoCases } from './demo-cases.ts';
import { seedDemoFieldwork } from './demo-fieldwork.ts';
import { seedDemoRegistry } from './demo-registry.ts';
import { createRandom, toWkt } from './geometry.ts';
import { personName } from './names.ts';
import { generateCity, type CitySpec, type TerritoryRegion } from './territory.ts';

/** Boundaries of generated territory are valid from this fixed moment (the output must not depend on the clock). */
export const territoryValidFrom = new Date('2020-01-01T00:00:00+08:00');

/** True when no region exists yet: the demo city is only ever seeded into an empty territory. */
export async function isTerritoryEmpty(db: Database): Promise<boolean> {
  const row = await one<{ empty: boolean }>(db.orm, sql`select not exists (select 1 from region) as empty`);
  return row?.empty ?? true;
}

/** The demo city's territory, generated (pure, deterministic: the same regions on every run). */
export function generateDemoCity(): TerritoryRegion[] {
  return generateCity(demoCitySpec);
}

const byLevel = (regions: readonly TerritoryRegion[], level: TerritoryRegion['level']) =>
  regions.filter((r) => r.level === level);

const childrenOf = (regions: readonly TerritoryRegion[], parentCode: string) =>
  regions.filter((r) => r.parentCode === parentCode);

function first<T>(items: readonly T[], what: string): T {
  const item = items[0];
  if (item === undefined) throw new Error(`demo city: no ${what}`);
  return item;
}

/** Where the demo accounts sit in the generated city; exported so tests and docs use the same places. */
export function demoPlaces(regions: readonly TerritoryRegion[]) {
  const city = first(byLevel(regions, 'city'), 'city');
  const district = first(byLevel(regions, 'district'), 'district');
  const streets = childrenOf(regions, district.code);
  const street = first(streets, 'street');
  const otherStreet =
    streets[1] ??
    first(
      byLevel(regions, 'street').filter((s) => s.code !== street.code),
      'street',
    );
  const communities = childrenOf(regions, street.code);
  const community = first(communities, 'community');
  const secondCommunity = communities[1] ?? community;
  const grids = childrenOf(regions, community.code);
  const grid = first(grids, 'grid');
  const otherGrid = first(
    childrenOf(regions, first(childrenOf(regions, otherStreet.code), 'community').code),
    'grid',
  );
  // 一员多格: the professional worker covers four grids in each of two neighbouring communities.
  const environmentGrids = [...grids.slice(0, 4), ...childrenOf(regions, secondCommunity.code).slice(0, 4)];
  return { city, district, street, community, grids, grid, otherGrid, environmentGrids };
}

type DemoUsername = (typeof demoAccounts)[number]['username'];

function demoGrants(
  places: ReturnType<typeof demoPlaces>,
  departments: Map<string, number>,
): Record<DemoUsername, GrantInput[]> {
  const department = (code: string) => {
    const id = departments.get(code);
    if (id === undefined) throw new Error(`demo city: no department ${code}`);
    return id;
  };
  const { city, district, street, community, grids, grid, otherGrid, environmentGrids } = places;
  return {
    'demo-admin': [{ role: 'admin', regionCode: null }],
    'demo-city': [{ role: 'centre_operator', regionCode: city.code }],
    'demo-district': [{ role: 'centre_operator', regionCode: district.code }],
    'demo-street': [{ role: 'centre_operator', regionCode: street.code }],
    'demo-community': [{ role: 'centre_operator', regionCode: community.code }],
    'demo-dept-police': [
      { role: 'department_handler', regionCode: city.code, departmentId: department('police') },
    ],
    'demo-dept-urban': [
      { role: 'department_handler', regionCode: city.code, departmentId: department('urban-management') },
    ],
    'demo-hotline': [{ role: 'hotline_operator', regionCode: city.code }],
    'demo-leader': [{ role: 'leader', regionCode: district.code }],
    'demo-gridleader': grids.map((g) => ({ role: 'grid_leader', regionCode: g.code })),
    'demo-worker': [{ role: 'grid_worker', regionCode: grid.code }],
    'demo-worker2': [{ role: 'grid_worker', regionCode: otherGrid.code }],
    'demo-pro-env': environmentGrids.map((g) => ({
      role: 'professional_worker',
      regionCode: g.code,
      specialty: 'environment',
    })),
    'demo-resident': [{ role: 'resident', regionCode: grid.code }],
  };
}

/**
 * The staff of a generated city (one grid worker per grid, 一格一员): user names carry the place code
 * (`gw-<grid>`, `gl-<community>`, `op-<region>`), display names are generated Chinese names.
 */
function staffFor(
  regions: readonly TerritoryRegion[],
  options: { auxiliaries: boolean; departments?: Map<string, number>; cityCode: string },
): UserSeed[] {
  const users: UserSeed[] = [];
  const add = (username: string, grants: UserSeed['grants']) =>
    users.push({ username, displayName: personName(username), grants });
  const gridsByCommunity = new Map<string, TerritoryRegion[]>();
  for (const grid of byLevel(regions, 'grid')) {
    const list = gridsByCommunity.get(grid.parentCode!) ?? [];
    list.push(grid);
    gridsByCommunity.set(grid.parentCode!, list);
  }
  // Command centres: city, districts, streets; community service stations (社区服务站).
  for (const level of ['city', 'district', 'street', 'community'] as const)
    for (const region of byLevel(regions, level))
      add(`op-${region.code}`, [{ role: 'centre_operator', regionCode: region.code }]);
  // A grid leader (网格长) per community, over each of its grids.
  for (const [communityCode, grids] of gridsByCommunity)
    add(
      `gl-${communityCode}`,
      grids.map((g) => ({ role: 'grid_leader', regionCode: g.code })),
    );
  for (const grid of byLevel(regions, 'grid'))
    add(`gw-${grid.code}`, [{ role: 'grid_worker', regionCode: grid.code }]);
  if (options.auxiliaries) {
    // 楼栋长 (building heads) on about a third of the grids, one to three each (多员一格).
    const random = createRandom(`${options.cityCode}:auxiliaries`);
    for (const grid of byLevel(regions, 'grid')) {
      if (random() >= 0.35) continue;
      const count = 1 + Math.floor(random() * 3);
      for (let i = 1; i <= count; i++)
        add(`aux-${grid.code}-${i}`, [{ role: 'auxiliary', regionCode: grid.code }]);
    }
  }
  for (const [code, id] of options.departments ?? [])
    add(`dh-${code}`, [{ role: 'department_handler', regionCode: options.cityCode, departmentId: id }]);
  return users;
}

function countLevels(regions: readonly TerritoryRegion[]) {
  return {
    cities: byLevel(regions, 'city').length,
    districts: byLevel(regions, 'district').length,
    streets: byLevel(regions, 'street').length,
    communities: byLevel(regions, 'community').length,
    grids: byLevel(regions, 'grid').length,
  };
}

/**
 * Seeds the demo city (佳木斯市, about 240 grids), its departments, the demo accounts (password `demo12345`), the
 * city's staff and its registry (buildings, households, residents, organisations and their inspections, public
 * components; ID numbers and phones sealed with `secrets`, the server's own key), in one transaction.
 * Deterministic: the same territory, codes, names, users and residents on every run.
 */
export async function seedDemoCity(
  db: Database,
  options: { now: Date; logger: Logger; secrets: SecretBox },
): Promise<Record<string, number>> {
  const started = Date.now();
  const { now, logger } = options;
  const regions = generateDemoCity();
  const places = demoPlaces(regions);
  const generated = Date.now();
  // argon2 is slow on purpose: hash once, share the hash (the demo accounts all use the same password).
  const passwordHash = await hashPassword(demoPassword);
  const hashed = Date.now();

  let registryTimings = { registryMs: 0, sealMs: 0, placesMs: 0 };
  const counts = await db.orm.transaction(async (tx) => {
    await insertRegions(tx, regions, { now, validFrom: territoryValidFrom });
    const departments = await insertDepartments(
      tx,
      demoDepartments.map((d) => ({ ...d, regionCode: places.city.code })),
      now,
    );
    const grants = demoGrants(places, departments);
    let demoGrantCount = 0;
    for (const account of demoAccounts) {
      const accountGrants = grants[account.username];
      await insertUser(
        tx,
        {
          username: account.username,
          displayName: account.zh,
          password: '',
          passwordHash,
          grants: accountGrants,
        },
        now,
      );
      demoGrantCount += accountGrants.length;
    }
    const staff = staffFor(regions, { auxiliaries: true, departments, cityCode: places.city.code });
    const inserted = await insertUsers(tx, staff, { passwordHash, now });
    const registryStarted = Date.now();
    const { sealMs, placesMs, ...registry } = await seedDemoRegistry(tx, {
      regions,
      secrets: options.secrets,
      now,
      departments,
    });
    registryTimings = { registryMs: Date.now() - registryStarted, sealMs, placesMs };
    const result = {
      ...countLevels(regions),
      departments: departments.size,
      demoAccounts: demoAccounts.length,
      staff: inserted.users,
      grants: inserted.grants + demoGrantCount,
      ...registry,
    };
    await appendAudit(
      tx,
      {
        actorId: null,
        actorRole: 'system',
        action: 'territory.seeded',
        objectType: 'region',
        objectId: places.city.code,
        result: 'success',
        detail: { kind: 'demo', ...result },
      },
      now,
    );
    return result;
  });
  // Demo cases (about 90 days of the case loop), once departments and staff exist.
  const cases = await seedDemoCases(db, { regions, now });
  // Two weeks of patrols and this quarter's household visits, once the registry and the workers exist.
  const fieldwork = await seedDemoFieldwork(db, {
    cityCode: places.city.code,
    now,
    detailedGrids: [...places.grids, places.otherGrid].map((g) => g.code),
  });
  const done = Date.now();
  logger.debug(
    {
      generateMs: generated - started,
      hashMs: hashed - generated,
      insertMs: done - hashed,
      ...registryTimings,
    },
    'demo city timings',
  );
  return {
    ...counts,
    ...cases,
    ...fieldwork,
    registryMilliseconds: registryTimings.registryMs,
    placesMilliseconds: registryTimings.placesMs,
    milliseconds: done - started,
  };
}

/**
 * Seeds large generated territories for benchmarks: 'city' is Harbin with 7,830 grids (Jiamusi's real count),
 * 'province' adds Heilongjiang's other cities for about 41,000 grids (Shanghai's unit-grid count). One grid
 * worker per grid, a grid leader per community and an operator per centre, all with the demo password. Works on
 * a non-empty database: a city whose code exists already, or whose outline would meet an existing city, is
 * skipped. One transaction per city.
 */
export async function seedScale(
  db: Database,
  options: { scale: 'city' | 'province'; now: Date; logger: Logger },
): Promise<Record<string, number>> {
  const specs = options.scale === 'city' ? [scaleCitySpec] : provinceCitySpecs;
  return seedCities(db, specs, options);
}

/** Seeds the given cities (see `seedScale`); exported for tests with small specs. */
export async function seedCities(
  db: Database,
  specs: readonly CitySpec[],
  options: { now: Date; logger: Logger },
): Promise<Record<string, number>> {
  const started = Date.now();
  const { now, logger } = options;
  const passwordHash = await hashPassword(demoPassword);
  const totals: Record<string, number> = {
    cities: 0,
    districts: 0,
    streets: 0,
    communities: 0,
    grids: 0,
    departments: 0,
    users: 0,
    grants: 0,
    skippedCities: 0,
  };
  for (const spec of specs) {
    const cityStarted = Date.now();
    const regions = generateCity(spec);
    const city = first(byLevel(regions, 'city'), 'city');
    const conflict = await conflictingCity(db.orm, city);
    if (conflict) {
      logger.warn({ city: spec.code, conflict }, 'scale seed: city skipped (code or outline already taken)');
      totals.skippedCities! += 1;
      continue;
    }
    const generatedMs = Date.now() - cityStarted;
    const counts = await db.orm.transaction(async (tx) => {
      await insertRegions(tx, regions, { now, validFrom: territoryValidFrom });
      const departments = await insertDepartments(
        tx,
        demoDepartments.map((d) => ({
          code: `${spec.code}-${d.code}`,
          name: d.name,
          nameEn: d.nameEn,
          regionCode: spec.code,
        })),
        now,
      );
      const staff = staffFor(regions, { auxiliaries: false, cityCode: spec.code });
      const inserted = await insertUsers(tx, staff, { passwordHash, now });
      const result = {
        ...countLevels(regions),
        departments: departments.size,
        users: inserted.users,
        grants: inserted.grants,
      };
      await appendAudit(
        tx,
        {
          actorId: null,
          actorRole: 'system',
          action: 'territory.seeded',
          objectType: 'region',
          objectId: spec.code,
          result: 'success',
          detail: { kind: 'scale', ...result },
        },
        now,
      );
      return result;
    });
    for (const [key, value] of Object.entries(counts)) totals[key] = (totals[key] ?? 0) + value;
    logger.info(
      { city: spec.code, grids: counts.grids, generateMs: generatedMs, totalMs: Date.now() - cityStarted },
      'scale seed: city done',
    );
  }
  return { ...totals, milliseconds: Date.now() - started };
}

/** An existing region with the city's code, or an existing city whose current outline meets this one. */
async function conflictingCity(ex: Executor, city: TerritoryRegion): Promise<string | undefined> {
  const found = await rows<{ code: string }>(
    ex,
    sql`select r.code from region r where r.code = ${city.code}
        union all
        select b.region_code as code from region_boundary b
          join region r on r.code = b.region_code and r.level = 'city'
        where b.valid_to is null and ST_Intersects(b.geom, ST_GeomFromText(${toWkt(city.ring)}, 4326))
        limit 1`,
  );
  return found[0]?.code;
}
