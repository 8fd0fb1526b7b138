import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { sql, type Database } from '../../platform/db.ts';
import { buildTerritory, territory } from '../../test/factories.ts';
import { resetDatabase, testDatabase } from '../../test/harness.ts';
import { GridIndexBuilder, GridRouter, locateIn, type Geometry } from './grid-router.ts';
import { BoundaryEvents } from './region.events.ts';

const square = (x: number, y: number, size: number) => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
  [x, y],
];

function indexOf(grids: { code: string; geometry: Geometry }[]) {
  const builder = new GridIndexBuilder();
  for (const grid of grids) builder.add(grid.code, grid.code, grid.geometry);
  const index = builder.finish();
  return (x: number, y: number) => {
    const found = locateIn(index, x, y);
    return found === -1 ? null : index.entries[found]!.code;
  };
}

describe('point in polygon over the packed index', () => {
  // A ring of land with a hole, an enclave in the hole, and a grid in two parts.
  const locate = indexOf([
    { code: 'ring', geometry: { type: 'Polygon', coordinates: [square(0, 0, 10), square(3, 3, 4)] } },
    { code: 'enclave', geometry: { type: 'Polygon', coordinates: [square(4, 4, 2)] } },
    {
      code: 'two-parts',
      geometry: {
        type: 'MultiPolygon',
        coordinates: [[square(20, 0, 2)], [square(30, 0, 2), square(30.5, 0.5, 1)]],
      },
    },
    // Not closed on purpose: the builder closes rings itself.
    {
      code: 'triangle',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [40, 0],
            [44, 0],
            [42, 4],
          ],
        ],
      },
    },
  ]);

  it('honours holes, enclaves and every part of a multipolygon', () => {
    expect(locate(1, 1)).toBe('ring');
    expect(locate(3.5, 3.5)).toBeNull(); // in the hole, outside the enclave
    expect(locate(5, 5)).toBe('enclave');
    expect(locate(21, 1)).toBe('two-parts');
    expect(locate(30.2, 0.2)).toBe('two-parts');
    expect(locate(31, 1)).toBeNull(); // the hole of the second part
    expect(locate(25, 1)).toBeNull(); // between the parts, inside their joint bounding box
    expect(locate(42, 1)).toBe('triangle');
    expect(locate(40.5, 3)).toBeNull(); // inside the triangle's box, outside the triangle
    expect(locate(-1, -1)).toBeNull();
    expect(locate(100, 100)).toBeNull();
  });

  it('answers null everywhere when there are no grids', () => {
    expect(indexOf([])(0, 0)).toBeNull();
  });

  it('gives overlapping grids to the first one added (the lowest code when loaded in order)', () => {
    const overlapping = indexOf([
      { code: 'a', geometry: { type: 'Polygon', coordinates: [square(0, 0, 2)] } },
      { code: 'b', geometry: { type: 'Polygon', coordinates: [square(1, 1, 2)] } },
    ]);
    expect(overlapping(1.5, 1.5)).toBe('a');
    expect(overlapping(2.5, 2.5)).toBe('b');
  });

  it('walks the tree to the same answer as testing every grid (many boxes, random points)', () => {
    // 3000 random triangles: deep enough for a multi-level tree (node size 16).
    const random = mulberry32(7);
    const grids: { code: string; ring: number[][] }[] = [];
    for (let i = 0; i < 3000; i++) {
      const x = random() * 100;
      const y = random() * 100;
      const ring = [
        [x, y],
        [x + random() * 3, y + random()],
        [x + random(), y + random() * 3],
        [x, y],
      ];
      grids.push({ code: String(i).padStart(5, '0'), ring });
    }
    const locate = indexOf(
      grids.map((g) => ({ code: g.code, geometry: { type: 'Polygon', coordinates: [g.ring] } })),
    );
    const bruteForce = (x: number, y: number) => grids.find((g) => crosses(g.ring, x, y))?.code ?? null;
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 105, noNaN: true }),
        fc.double({ min: -5, max: 105, noNaN: true }),
        (x, y) => {
          expect(locate(x, y)).toBe(bruteForce(x, y));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

/** Independent reference: plain ray casting, written the textbook way. */
function crosses(ring: number[][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('GridRouter over the database', () => {
  let db: Database;

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    await buildTerritory(db);
  });

  it('indexes the current grid boundaries only and rebuilds when boundaries change', async () => {
    const events = new BoundaryEvents();
    const router = await GridRouter.create({ db: db.orm, events });
    expect(router.size).toBe(4);
    expect(router.locate(130.35, 46.85)).toBe(territory.gridA1);
    expect(router.locateEntry(130.45, 46.95)).toEqual({ code: territory.gridB2, name: '东林二网格' });
    expect(router.locate(130.25, 46.85)).toBeNull(); // inside the city, in no grid
    expect(router.locate(130.35, 46.75)).toBeNull();

    // Re-grid: A1 grows south by 0.05°, the old row is closed (history), the new one is current.
    await db.orm.transaction(async (tx) => {
      await tx.execute(sql`update region_boundary set valid_to = '2026-06-01T00:00:00Z'
                           where region_code = ${territory.gridA1} and valid_to is null`);
      await tx.execute(sql`insert into region_boundary (region_code, geom, valid_from)
        values (${territory.gridA1}, ST_Multi(ST_MakeEnvelope(130.3, 46.75, 130.4, 46.9, 4326)), '2026-06-01T00:00:00Z')`);
    });
    expect(router.locate(130.35, 46.77)).toBeNull(); // not yet: nobody said boundaries changed
    await events.emit();
    expect(router.locate(130.35, 46.77)).toBe(territory.gridA1);
    expect(router.size).toBe(4);
  });

  it('coalesces rebuilds requested while one is running', async () => {
    const router = await GridRouter.create({ db: db.orm });
    const all = await Promise.all([router.rebuild(), router.rebuild(), router.rebuild()]);
    expect(all).toHaveLength(3);
    expect(router.size).toBe(4);
  });
});
