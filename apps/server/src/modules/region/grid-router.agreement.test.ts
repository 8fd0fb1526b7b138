import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { seedDemoCity } from '../../seed/demo-city.ts';
import { loadSecretBox } from '../../platform/crypto.ts';
import { resetDatabase, testConfig, testDatabase } from '../../test/harness.ts';
import { GridRouter } from './grid-router.ts';
import { insertRegion, type AreaGeometry } from './region.store.ts';

/**
 * Acceptance: for 10,000 random points in the demo city, the in-process router and PostGIS ST_Contains agree
 * on every one (including the points that fall in no grid).
 */

/** Small fixed-seed PRNG (mulberry32): the same points on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Box {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

async function currentGridExtent(db: Database): Promise<Box> {
  const box = await one<Box>(
    db.orm,
    sql`select ST_XMin(e) as "minX", ST_YMin(e) as "minY", ST_XMax(e) as "maxX", ST_YMax(e) as "maxY"
        from (select ST_Extent(b.geom)::geometry as e
              from region_boundary b join region r on r.code = b.region_code
              where b.valid_to is null and r.level = 'grid') extent`,
  );
  return {
    minX: Number(box!.minX),
    minY: Number(box!.minY),
    maxX: Number(box!.maxX),
    maxY: Number(box!.maxY),
  };
}

/** Random points over the box grown by `margin` of its size on each side, so some land outside every grid. */
function randomPoints(
  box: Box,
  count: number,
  seed: number,
  margin = 0.1,
): { lngs: number[]; lats: number[] } {
  const random = seededRandom(seed);
  const width = box.maxX - box.minX;
  const height = box.maxY - box.minY;
  const lngs: number[] = [];
  const lats: number[] = [];
  for (let i = 0; i < count; i++) {
    lngs.push(box.minX - margin * width + random() * width * (1 + 2 * margin));
    lats.push(box.minY - margin * height + random() * height * (1 + 2 * margin));
  }
  return { lngs, lats };
}

/** PostGIS's answer for every point, in one query (arrays in, unnest, ST_Contains on current boundaries). */
async function postgisAnswers(db: Database, lngs: number[], lats: number[]): Promise<(string | null)[]> {
  // JavaScript prints the shortest decimal that reads back as the same double, so PostgreSQL sees exactly these points.
  const answers = await rows<{ i: number; code: string | null }>(
    db.orm,
    sql`select p.i::int as i,
               (select b.region_code
                from region_boundary b
                join region r on r.code = b.region_code
                where b.valid_to is null and r.level = 'grid'
                  and ST_Contains(b.geom, ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326))
                order by b.region_code
                limit 1) as code
        from unnest(${`{${lngs.join(',')}}`}::float8[], ${`{${lats.join(',')}}`}::float8[]) with ordinality as p(lng, lat, i)
        order by p.i`,
  );
  expect(answers).toHaveLength(lngs.length);
  return answers.map((a) => a.code);
}

async function compare(db: Database, count: number, seed: number) {
  const router = await GridRouter.create({ db: db.orm });
  const { lngs, lats } = randomPoints(await currentGridExtent(db), count, seed);
  const expected = await postgisAnswers(db, lngs, lats);
  const disagreements: string[] = [];
  for (let i = 0; i < count; i++) {
    const ours = router.locate(lngs[i]!, lats[i]!);
    if (ours !== expected[i])
      disagreements.push(`(${lngs[i]}, ${lats[i]}): router ${ours}, PostGIS ${expected[i]}`);
  }
  return { router, expected, disagreements };
}

describe('grid router agrees with PostGIS ST_Contains', () => {
  let db: Database;

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
  });

  it('on 10,000 random points in the demo city', async () => {
    const seeded = await seedDemoCity(db, {
      now: new Date('2026-11-20T02:00:00Z'),
      logger: pino({ level: 'silent' }),
      secrets: loadSecretBox({ dataDir: testConfig().dataDir }),
    });
    const { router, expected, disagreements } = await compare(db, 10_000, 20261123);
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(router.size).toBe(seeded.grids);
    // The test can fail: it covers most grids and points outside every grid.
    const hit = expected.filter((code) => code !== null);
    expect(new Set(hit).size).toBeGreaterThan(router.size * 0.9);
    expect(expected.length - hit.length).toBeGreaterThan(100);
  }, 180_000); // seeds the demo city first: minutes on a loaded 2-core machine

  it('on concave grids with holes, enclaves and several parts', async () => {
    await resetDatabase(db);
    const grids = await buildIrregularTerritory(db);
    const { router, expected, disagreements } = await compare(db, 8_000, 7);
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(router.size).toBe(grids);
    expect(new Set(expected.filter((code) => code !== null)).size).toBeGreaterThan(grids * 0.7); // enclaves are small: not all are hit
  });
});

/** Star-shaped (concave) polygon around a centre: radii between `inner` and `outer`, at increasing angles. */
function star(
  random: () => number,
  cx: number,
  cy: number,
  inner: number,
  outer: number,
  clockwise = false,
): number[][] {
  const points = 7 + Math.floor(random() * 14);
  const ring: number[][] = [];
  for (let k = 0; k < points; k++) {
    const angle = ((clockwise ? -1 : 1) * (2 * Math.PI * (k + random() * 0.8))) / points;
    const radius = inner + random() * (outer - inner);
    ring.push([cx + radius * Math.cos(angle), cy + radius * 0.7 * Math.sin(angle)]);
  }
  ring.push(ring[0]!);
  return ring;
}

/**
 * 12 × 12 lattice cells near Harbin, one grid per cell (some cells left empty): star-shaped polygons, every
 * third with a hole holding another grid (an enclave), every fifth in two parts. Returns the number of grids.
 */
async function buildIrregularTerritory(db: Database): Promise<number> {
  const random = seededRandom(42);
  const validFrom = new Date('2026-01-01T00:00:00Z');
  const cell = 0.01;
  let count = 0;
  await db.orm.transaction(async (tx) => {
    await insertRegion(tx, { code: '230100', level: 'city', name: '哈尔滨市', parentCode: null, validFrom });
    await insertRegion(tx, {
      code: '230102',
      level: 'district',
      name: '道里区',
      parentCode: '230100',
      validFrom,
    });
    await insertRegion(tx, {
      code: '230102001',
      level: 'street',
      name: '测试街道',
      parentCode: '230102',
      validFrom,
    });
    await insertRegion(tx, {
      code: '230102001001',
      level: 'community',
      name: '测试社区',
      parentCode: '230102001',
      validFrom,
    });
    const add = async (geometry: AreaGeometry) => {
      count += 1;
      const code = `230102001001${String(count).padStart(3, '0')}`;
      await insertRegion(tx, {
        code,
        level: 'grid',
        name: `测试${count}网格`,
        parentCode: '230102001001',
        geometry,
        validFrom,
      });
    };
    for (let row = 0; row < 12; row++) {
      for (let column = 0; column < 12; column++) {
        const index = row * 12 + column;
        if (index % 7 === 3) continue; // gaps
        const cx = 126.6 + (column + 0.5) * cell;
        const cy = 45.7 + (row + 0.5) * cell;
        if (index % 5 === 0) {
          const left = star(random, cx - cell * 0.25, cy, cell * 0.05, cell * 0.2);
          const right = star(random, cx + cell * 0.25, cy, cell * 0.05, cell * 0.2);
          await add({ type: 'MultiPolygon', coordinates: [[left], [right]] });
        } else if (index % 3 === 0) {
          const shell = star(random, cx, cy, cell * 0.35, cell * 0.5);
          const hole = star(random, cx, cy, cell * 0.15, cell * 0.25, true);
          await add({ type: 'Polygon', coordinates: [shell, hole] });
          await add({ type: 'Polygon', coordinates: [star(random, cx, cy, cell * 0.05, cell * 0.12)] });
        } else {
          await add({ type: 'Polygon', coordinates: [star(random, cx, cy, cell * 0.2, cell * 0.5)] });
        }
      }
    }
  });
  return count;
}
