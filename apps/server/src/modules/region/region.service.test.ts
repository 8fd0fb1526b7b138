import { beforeAll, describe, expect, it } from 'vitest';
import type { Actor, Role } from '../../platform/access.ts';
import { fixedClock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { buildTerritory, countRows, territory } from '../../test/factories.ts';
import { resetDatabase, testDatabase } from '../../test/harness.ts';
import { BoundaryEvents } from './region.events.ts';
import { findRegion } from './region.queries.ts';
import { createRegion, locateAt, renameRegion, replaceBoundary } from './region.service.ts';
import type { AreaGeometry } from './region.store.ts';

let db: Database;
const clock = fixedClock('2026-11-20T02:00:00Z');
const events = new BoundaryEvents();
let emitted = 0;
events.on(() => {
  emitted += 1;
});

function actorWith(role: Role, regionCode: string | null, regionPath: string | null): Actor {
  return {
    userId: 900,
    username: `${role}-test`,
    displayName: role,
    sessionId: 1,
    grants: [{ role, regionCode, regionPath, departmentId: null, specialty: null }],
  };
}
const admin = actorWith('admin', null, null);

function box(west: number, south: number, east: number, north: number): AreaGeometry {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [west, south],
        [east, south],
        [east, north],
        [west, north],
        [west, south],
      ],
    ],
  };
}
/** A bow-tie: its two edges cross, so it is not a valid polygon. */
const bowTie: AreaGeometry = {
  type: 'Polygon',
  coordinates: [
    [
      [130.21, 46.71],
      [130.24, 46.74],
      [130.24, 46.71],
      [130.21, 46.74],
      [130.21, 46.71],
    ],
  ],
};

const base = () => ({ db, clock, actor: admin, requestId: 'test-request-1', events });

async function domainError(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

// The test territory fills street 230803001 completely; the new street 230803002 lies in the district's
// south-west corner (130.2–130.3 E, 46.7–46.8 N), outside it.
const street2 = '230803002';
const community21 = '230803002001';
const community22 = '230803002002';

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
});

describe('createRegion', () => {
  it('creates a street with its boundary, audits it and notifies the router after commit', async () => {
    const before = { audit: await countRows(db, 'audit_log'), emitted };
    const written = await createRegion({
      ...base(),
      input: {
        code: street2,
        level: 'street',
        name: '长安街道',
        parent: territory.district,
        boundary: box(130.2, 46.7, 130.3, 46.8),
      },
    });
    expect(written).toMatchObject({
      code: street2,
      level: 'street',
      parent: territory.district,
      validFrom: clock.now().toISOString(),
    });
    expect((await findRegion(db.orm, street2))?.path).toBe(`230800.${territory.district}.002`);
    expect(await countRows(db, 'audit_log')).toBe(before.audit + 1);
    const [audit] = await rows<{ action: string; object_id: string }>(
      db.orm,
      sql`select action, object_id from audit_log order by id desc limit 1`,
    );
    expect(audit).toEqual({ action: 'region.created', object_id: street2 });
    expect(emitted).toBe(before.emitted + 1);
  });

  it('forgives a sliver outside the parent within tolerance', async () => {
    // 0.000001° west of the street: ~0.08 m × 11 km ≈ 850 m², far below 1 % of the 42 km² community.
    await createRegion({
      ...base(),
      input: {
        code: community21,
        level: 'community',
        name: '长安社区',
        parent: street2,
        boundary: box(130.199999, 46.7, 130.25, 46.8),
      },
    });
    expect(await findRegion(db.orm, community21)).toBeDefined();
  });

  it('refuses a region outside its parent, naming the parent, and stores nothing', async () => {
    const before = {
      regions: await countRows(db, 'region'),
      audit: await countRows(db, 'audit_log'),
      emitted,
    };
    const error = await domainError(
      createRegion({
        ...base(),
        input: {
          code: community22,
          level: 'community',
          name: '越界社区',
          parent: street2,
          boundary: box(130.25, 46.7, 130.35, 46.75),
        },
      }),
    );
    expect(error.code).toBe('REGION_OUTSIDE_PARENT');
    expect(error.message).toContain(street2);
    expect(error.message).toMatch(/outside its parent/);
    expect(error.fields?.[0]?.field).toBe('boundary');
    expect(await countRows(db, 'region')).toBe(before.regions);
    expect(await countRows(db, 'audit_log')).toBe(before.audit);
    expect(emitted).toBe(before.emitted);
  });

  it('refuses a region overlapping a sibling, naming the sibling', async () => {
    const error = await domainError(
      createRegion({
        ...base(),
        input: {
          code: community22,
          level: 'community',
          name: '重叠社区',
          parent: street2,
          boundary: box(130.24, 46.7, 130.3, 46.8),
        },
      }),
    );
    expect(error.code).toBe('REGION_OVERLAP');
    expect(error.message).toContain(community21);
    expect(error.message).toContain('长安社区');
  });

  it('refuses an invalid geometry with PostGIS reason', async () => {
    const error = await domainError(
      createRegion({
        ...base(),
        input: { code: community22, level: 'community', name: '蝴蝶社区', parent: street2, boundary: bowTie },
      }),
    );
    expect(error.code).toBe('REGION_INVALID_GEOMETRY');
    expect(error.message).toMatch(/Self-intersection/);
  });

  it('refuses coordinates that are not WGS-84 longitude/latitude, and unclosed rings', async () => {
    const projected = await domainError(
      createRegion({
        ...base(),
        input: {
          code: community22,
          level: 'community',
          name: '投影坐标',
          parent: street2,
          boundary: box(14_500_000, 5_900_000, 14_510_000, 5_910_000),
        },
      }),
    );
    expect(projected.code).toBe('REGION_INVALID_GEOMETRY');
    expect(projected.message).toMatch(/WGS-84/);
    const open: AreaGeometry = {
      type: 'Polygon',
      coordinates: [
        [
          [130.25, 46.7],
          [130.3, 46.7],
          [130.3, 46.8],
          [130.25, 46.8],
        ],
      ],
    };
    const unclosed = await domainError(
      createRegion({
        ...base(),
        input: { code: community22, level: 'community', name: '未闭合', parent: street2, boundary: open },
      }),
    );
    expect(unclosed.message).toMatch(/not closed/);
  });

  it('refuses a code that does not follow its parent, with a field message', async () => {
    const error = await domainError(
      createRegion({
        ...base(),
        input: {
          code: '230804002001',
          level: 'community',
          name: '错码社区',
          parent: street2,
          boundary: box(130.25, 46.7, 130.3, 46.8),
        },
      }),
    );
    expect(error.code).toBe('REGION_INVALID_CODE');
    expect(error.fields).toEqual([
      { field: 'code', message: expect.stringMatching(/parent code \+ 3 digits/) as string },
    ]);
    const level = await domainError(
      createRegion({
        ...base(),
        input: {
          code: '230803002003',
          level: 'grid',
          name: '错级',
          parent: street2,
          boundary: box(130.25, 46.7, 130.3, 46.8),
        },
      }),
    );
    expect(level.code).toBe('REGION_INVALID_CODE');
    expect(level.fields?.map((f) => f.field)).toContain('code');
  });

  it('answers 404 for a parent out of scope and 403 in scope without the permission', async () => {
    const scopedAdmin = actorWith('admin', territory.communityB, '230800.230803.001.002');
    const out = await domainError(
      createRegion({
        ...base(),
        actor: scopedAdmin,
        input: {
          code: community22,
          level: 'community',
          name: 'x',
          parent: street2,
          boundary: box(130.25, 46.7, 130.3, 46.8),
        },
      }),
    );
    expect(out.code).toBe('NOT_FOUND');
    const worker = actorWith('grid_worker', territory.gridA1, '230800.230803.001.001.001');
    const forbidden = await domainError(
      createRegion({
        ...base(),
        actor: worker,
        input: {
          code: `${territory.gridA1}001`,
          level: 'microgrid',
          name: 'x',
          parent: territory.gridA1,
          boundary: box(130.3, 46.8, 130.31, 46.81),
        },
      }),
    );
    expect(forbidden.code).toBe('FORBIDDEN');
    const city = await domainError(
      createRegion({
        ...base(),
        actor: scopedAdmin,
        input: { code: '230900', level: 'city', name: 'x', boundary: box(131, 46, 131.1, 46.1) },
      }),
    );
    expect(city.code).toBe('FORBIDDEN');
  });
});

describe('re-gridding (重新划分网格) keeps history', () => {
  const regriddedAt = new Date('2026-06-01T00:00:00Z');
  // A point in the north half of grid A1 before, in grid A2 after the shared edge moves south from 46.9 to 46.85.
  const point = { lng: 130.35, lat: 46.87 };

  it('refuses to grow A2 into A1 before A1 shrinks, naming A1', async () => {
    const error = await domainError(
      replaceBoundary({
        ...base(),
        code: territory.gridA2,
        boundary: box(130.3, 46.85, 130.4, 47.0),
        validFrom: regriddedAt,
      }),
    );
    expect(error.code).toBe('REGION_OVERLAP');
    expect(error.message).toContain(territory.gridA1);
  });

  it('refuses a parent boundary that would leave its children outside', async () => {
    const error = await domainError(
      replaceBoundary({
        ...base(),
        code: territory.communityA,
        boundary: box(130.3, 46.8, 130.4, 46.95),
        validFrom: regriddedAt,
      }),
    );
    expect(error.code).toBe('REGION_OUTSIDE_PARENT');
    expect(error.message).toContain(territory.gridA2);
  });

  it('moves the shared edge, and the history query answers the old grid before and the new one after', async () => {
    const before = emitted;
    await replaceBoundary({
      ...base(),
      code: territory.gridA1,
      boundary: box(130.3, 46.8, 130.4, 46.85),
      validFrom: regriddedAt,
    });
    await replaceBoundary({
      ...base(),
      code: territory.gridA2,
      boundary: box(130.3, 46.85, 130.4, 47.0),
      validFrom: regriddedAt,
    });
    expect(emitted).toBe(before + 2);

    expect(await locateAt(db.orm, point.lng, point.lat, new Date('2026-03-01T00:00:00Z'))).toEqual({
      code: territory.gridA1,
      name: '西林一网格',
    });
    expect(await locateAt(db.orm, point.lng, point.lat, new Date('2026-07-01T00:00:00Z'))).toEqual({
      code: territory.gridA2,
      name: '西林二网格',
    });
    expect((await locateAt(db.orm, point.lng, point.lat, regriddedAt))?.code).toBe(territory.gridA2);
    // Before the territory existed, and outside every grid.
    expect(await locateAt(db.orm, point.lng, point.lat, new Date('2025-12-01T00:00:00Z'))).toBeNull();
    expect(await locateAt(db.orm, 120, 30, new Date('2026-07-01T00:00:00Z'))).toBeNull();

    const history = await rows<{ valid_from: Date; valid_to: Date | null }>(
      db.orm,
      sql`select valid_from, valid_to from region_boundary where region_code = ${territory.gridA1} order by valid_from`,
    );
    expect(
      history.map((h) => [
        new Date(h.valid_from).toISOString(),
        h.valid_to && new Date(h.valid_to).toISOString(),
      ]),
    ).toEqual([
      ['2026-01-01T00:00:00.000Z', regriddedAt.toISOString()],
      [regriddedAt.toISOString(), null],
    ]);
  });

  it('refuses a new version that does not start after the current one, and a future one', async () => {
    const early = await domainError(
      replaceBoundary({
        ...base(),
        code: territory.gridA1,
        boundary: box(130.3, 46.8, 130.4, 46.84),
        validFrom: new Date('2026-05-01T00:00:00Z'),
      }),
    );
    expect(early.code).toBe('VALIDATION_FAILED');
    expect(early.fields?.[0]?.field).toBe('validFrom');
    const future = await domainError(
      replaceBoundary({
        ...base(),
        code: territory.gridA1,
        boundary: box(130.3, 46.8, 130.4, 46.84),
        validFrom: new Date('2027-01-01T00:00:00Z'),
      }),
    );
    expect(future.code).toBe('VALIDATION_FAILED');
  });

  it('scopes boundary changes: 404 outside, 403 for a grid worker in their own grid', async () => {
    const scopedAdmin = actorWith('admin', territory.communityB, '230800.230803.001.002');
    const out = await domainError(
      replaceBoundary({
        ...base(),
        actor: scopedAdmin,
        code: territory.gridA1,
        boundary: box(130.3, 46.8, 130.4, 46.84),
      }),
    );
    expect(out.code).toBe('NOT_FOUND');
    const worker = actorWith('grid_worker', territory.gridA1, '230800.230803.001.001.001');
    const own = await domainError(
      replaceBoundary({
        ...base(),
        actor: worker,
        code: territory.gridA1,
        boundary: box(130.3, 46.8, 130.4, 46.84),
      }),
    );
    expect(own.code).toBe('FORBIDDEN');
    // A community-scoped admin may reshape the community's grids but not the community itself.
    const communityAdmin = actorWith('admin', territory.communityB, '230800.230803.001.002');
    const self = await domainError(
      renameRegion({ ...base(), actor: communityAdmin, code: territory.communityB, name: '新东林社区' }),
    );
    expect(self.code).toBe('FORBIDDEN');
    const renamed = await renameRegion({
      ...base(),
      actor: communityAdmin,
      code: territory.gridB1,
      name: '东林一网格(新)',
    });
    expect(renamed.name).toBe('东林一网格(新)');
  });
});
