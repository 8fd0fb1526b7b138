import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GridHeat, KpiReport, KpiTrend } from '@wangge/contracts';
import { fixedClock } from '../../platform/clock.ts';
import { sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { trendBucketCount } from './kpi.cockpit.ts';

/**
 * Cases around the China-time edges of the period 2026-11-01 ≤ date < 2026-11-16 (UTC+8: the period is
 * [2026-10-31T16:00Z, 2026-11-15T16:00Z)). 2026-11-01 is a Sunday.
 */
interface FixtureCase {
  n: number;
  grid: string;
  status: string;
  reportedAt: string;
  closedAt?: string;
  overdueSince?: string;
  overdue?: boolean;
}

const fixture: FixtureCase[] = [
  // 1: 00:00 China time on 11-01, the first instant of the period
  { n: 1, grid: t.gridA1, status: 'reported', reportedAt: '2026-10-31T16:00:00Z' },
  // 2: 23:59:59 China time on 11-01
  { n: 2, grid: t.gridA1, status: 'filed', reportedAt: '2026-11-01T15:59:59Z' },
  // 3: 00:00 on 11-02 (Monday), closed on 11-04
  {
    n: 3,
    grid: t.gridA1,
    status: 'closed',
    reportedAt: '2026-11-01T16:00:00Z',
    closedAt: '2026-11-04T04:00:00Z',
  },
  // 4: reported 23:59:59 on 10-31 (before the period), overdue since 11-01 11:00, closed on 11-02
  {
    n: 4,
    grid: t.gridA2,
    status: 'evaluated',
    reportedAt: '2026-10-31T15:59:59Z',
    overdueSince: '2026-11-01T03:00:00Z',
    closedAt: '2026-11-02T04:00:00Z',
  },
  // 5: reported 11-10, overdue since 23:59 on 11-15 (the last minute of the period), open and overdue now
  {
    n: 5,
    grid: t.gridB1,
    status: 'in_progress',
    reportedAt: '2026-11-10T04:00:00Z',
    overdueSince: '2026-11-15T15:59:00Z',
    overdue: true,
  },
  // 6: 00:00 on 11-16, the first instant after the period
  { n: 6, grid: t.gridB1, status: 'reported', reportedAt: '2026-11-15T16:00:00Z' },
  // 7: reported long before the period, still open and overdue (overdue since before the period)
  {
    n: 7,
    grid: t.gridB2,
    status: 'dispatched',
    reportedAt: '2026-09-01T04:00:00Z',
    overdueSince: '2026-09-10T04:00:00Z',
    overdue: true,
  },
  // 8: a duplicate reported 11-09 (counted as reported), never open
  { n: 8, grid: t.gridA2, status: 'duplicate', reportedAt: '2026-11-09T04:00:00Z' },
];

let db: Database;
let server: Wangge;
let cityOperator: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await db.orm.transaction(async (tx) => {
    await tx.execute(sql`insert into case_category (code, parent_code, name_zh, name_en) values
      ('04', null, '市容环境', 'City appearance'), ('0401', '04', '垃圾堆放与清运', 'Garbage')`);
    for (const c of fixture)
      await tx.execute(sql`insert into grid_case (client_id, serial, title, category_code, channel, status, grid_code,
          region_path, owner_region_code, owner_region_path, owner_level, reported_at, closed_at, overdue_since, overdue)
        select ${crypto.randomUUID()}, ${`2026-230803-${String(c.n).padStart(6, '0')}`}, ${`case ${c.n}`}, '0401',
          'grid_worker', ${c.status}, g.code, g.path, g.code, g.path, 'grid', ${c.reportedAt}, ${c.closedAt ?? null},
          ${c.overdueSince ?? null}, ${c.overdue ?? false}
        from region g where g.code = ${c.grid}`);
  });
  server = await testServer(db, { clock: fixedClock('2026-11-20T02:00:00Z') });
  cityOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.city }]);
});

afterAll(async () => {
  await server?.app.close();
});

const get = (user: TestUser | null, url: string) =>
  server.app.inject({ method: 'GET', url, headers: user ? auth(user) : {} });

async function trend(query: string, user = cityOperator): Promise<KpiTrend> {
  const response = await get(user, `/api/kpis/trend?${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<KpiTrend>();
}

const nonZero = (points: KpiTrend['points']) =>
  points
    .filter((p) => p.reported + p.closed + p.overdue > 0)
    .map((p) => [p.bucket, p.reported, p.closed, p.overdue]);

describe('GET /api/kpis/trend', () => {
  it('counts per China day, with every empty day present as zeros', async () => {
    const result = await trend(`region=${t.city}&from=2026-11-01&to=2026-11-16`);
    expect(result.interval).toBe('day');
    expect(result.points).toHaveLength(15);
    expect(result.points[0]!.bucket).toBe('2026-11-01');
    expect(result.points.at(-1)!.bucket).toBe('2026-11-15');
    // 11-01: reported 1, 2; case 4 overdue. 11-02: reported 3; case 4 closed. 11-04: 3 closed.
    // 11-09: 8 reported. 11-10: 5 reported. 11-15: 5 overdue (23:59). 6 is on 11-16, 4 reported and 7 before.
    expect(nonZero(result.points)).toEqual([
      ['2026-11-01', 2, 0, 1],
      ['2026-11-02', 1, 1, 0],
      ['2026-11-04', 0, 1, 0],
      ['2026-11-09', 1, 0, 0],
      ['2026-11-10', 1, 0, 0],
      ['2026-11-15', 0, 0, 1],
    ]);
    expect(result.points[2]).toEqual({ bucket: '2026-11-03', reported: 0, closed: 0, overdue: 0 });
  });

  it('reports as many cases as the KPI report has (accepted + duplicates) over the same period', async () => {
    const result = await trend(`region=${t.city}&from=2026-11-01&to=2026-11-16`);
    const kpis = (
      await get(cityOperator, `/api/kpis?region=${t.city}&from=2026-11-01&to=2026-11-16`)
    ).json<KpiReport>();
    expect(result.points.reduce((sum, p) => sum + p.reported, 0)).toBe(
      kpis.counts.accepted + kpis.counts.duplicates,
    );
  });

  it('groups weeks from Monday, the first one clipped to the period', async () => {
    const result = await trend(`region=${t.city}&from=2026-11-01&to=2026-11-16&interval=week`);
    // Sunday 11-01 alone (its week began on Monday 10-26), then 11-02…11-08 and 11-09…11-15
    expect(result.points).toEqual([
      { bucket: '2026-11-01', reported: 2, closed: 0, overdue: 1 },
      { bucket: '2026-11-02', reported: 1, closed: 2, overdue: 0 },
      { bucket: '2026-11-09', reported: 2, closed: 0, overdue: 1 },
    ]);
  });

  it('groups calendar months', async () => {
    const result = await trend(`region=${t.city}&from=2026-09-15&to=2026-12-01&interval=month`);
    // case 7 was reported 09-01 (before the period) but became overdue 09-10 — also before it
    expect(result.points).toEqual([
      { bucket: '2026-09-15', reported: 0, closed: 0, overdue: 0 },
      { bucket: '2026-10-01', reported: 1, closed: 0, overdue: 0 },
      { bucket: '2026-11-01', reported: 6, closed: 2, overdue: 2 },
    ]);
    const wider = await trend(`region=${t.city}&from=2026-09-01&to=2026-10-01&interval=month`);
    expect(wider.points).toEqual([{ bucket: '2026-09-01', reported: 1, closed: 0, overdue: 1 }]);
  });

  it('covers only the region subtree asked for', async () => {
    const result = await trend(`region=${t.communityB}&from=2026-11-01&to=2026-11-16`);
    expect(nonZero(result.points)).toEqual([
      ['2026-11-10', 1, 0, 0],
      ['2026-11-15', 0, 0, 1],
    ]);
  });

  it('caps the number of buckets at 400 with a field message', async () => {
    expect(trendBucketCount('2026-11-01', '2026-11-16', 'day')).toBe(15);
    expect(trendBucketCount('2026-11-01', '2026-11-16', 'week')).toBe(3);
    expect(trendBucketCount('2026-11-02', '2026-11-09', 'week')).toBe(1);
    expect(trendBucketCount('2026-01-31', '2026-03-01', 'month')).toBe(2);
    const response = await get(
      cityOperator,
      `/api/kpis/trend?region=${t.city}&from=2025-01-01&to=2026-02-06`,
    );
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'querystring.to' }],
    });
    // 400 days exactly is allowed; the same period by week is small
    expect((await trend(`region=${t.city}&from=2025-01-01&to=2026-02-05`)).points).toHaveLength(400);
    expect((await trend(`region=${t.city}&from=2025-01-01&to=2026-02-06&interval=week`)).points).toHaveLength(
      58,
    );
  });

  it('answers 400 for bad dates and an empty period, 404 outside the scope, 403 without kpi.read, 401', async () => {
    for (const query of [
      `region=${t.city}&from=2026-02-30&to=2026-03-10`,
      `region=${t.city}&from=2026-11-10&to=2026-11-10`,
      `region=${t.city}&from=2026-11-10&to=2026-11-01`,
      `region=${t.city}&from=2026-11-01&to=2026-11-10&interval=year`,
      `region=${t.city}&from=2026-11-01`,
    ])
      expect((await get(cityOperator, `/api/kpis/trend?${query}`)).statusCode, query).toBe(400);
    const gridLeader = await makeUser(db, [{ role: 'grid_leader', regionCode: t.gridB1 }]);
    for (const region of [t.city, t.gridA1, '230899'])
      expect(
        (await get(gridLeader, `/api/kpis/trend?region=${region}&from=2026-11-01&to=2026-11-16`)).statusCode,
        region,
      ).toBe(404);
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridB1 }]);
    expect(
      (await get(worker, `/api/kpis/trend?region=${t.gridB1}&from=2026-11-01&to=2026-11-16`)).statusCode,
    ).toBe(403);
    expect(
      (await get(null, `/api/kpis/trend?region=${t.city}&from=2026-11-01&to=2026-11-16`)).statusCode,
    ).toBe(401);
  });
});

describe('GET /api/kpis/grid-heat', () => {
  const heat = async (query: string, user = cityOperator) => {
    const response = await get(user, `/api/kpis/grid-heat?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<GridHeat>();
  };

  it('lists the grids with cases reported in the period or open now, with a point inside each', async () => {
    const { items } = await heat(`region=${t.city}&from=2026-11-01&to=2026-11-16`);
    // A1: 1, 2, 3 reported; 1, 2 open. A2: 8 reported (a duplicate, not open); 4 before the period.
    // B1: 5 reported, open, overdue; 6 after the period but open. B2: 7 reported before, open and overdue.
    expect(items.map(({ point: _point, ...rest }) => rest)).toEqual([
      { code: t.gridA1, name: '西林一网格', reported: 3, open: 2, overdue: 0 },
      { code: t.gridA2, name: '西林二网格', reported: 1, open: 0, overdue: 0 },
      { code: t.gridB1, name: '东林一网格', reported: 1, open: 2, overdue: 1 },
      { code: t.gridB2, name: '东林二网格', reported: 0, open: 1, overdue: 1 },
    ]);
    const [lng, lat] = items[0]!.point;
    expect(lng > 130.3 && lng < 130.4 && lat > 46.8 && lat < 46.9).toBe(true);
  });

  it('leaves out grids with nothing reported and nothing open, and grids without a current boundary', async () => {
    const { items } = await heat(`region=${t.communityA}&from=2026-12-01&to=2026-12-31`);
    expect(items.map((i) => [i.code, i.reported, i.open])).toEqual([[t.gridA1, 0, 2]]);
    await db.orm.execute(sql`update region_boundary set valid_to = '2026-11-01T00:00:00Z'
                             where region_code = ${t.gridB2} and valid_to is null`);
    const after = await heat(`region=${t.communityB}&from=2026-11-01&to=2026-11-16`);
    expect(after.items.map((i) => i.code)).toEqual([t.gridB1]);
  });

  it('answers 404 outside the scope, 400 for a bad period, 401', async () => {
    const gridLeader = await makeUser(db, [{ role: 'grid_leader', regionCode: t.gridB1 }]);
    expect(
      (await get(gridLeader, `/api/kpis/grid-heat?region=${t.communityA}&from=2026-11-01&to=2026-11-16`))
        .statusCode,
    ).toBe(404);
    expect((await heat(`region=${t.gridB1}&from=2026-11-01&to=2026-11-16`, gridLeader)).items).toHaveLength(
      1,
    );
    expect(
      (await get(cityOperator, `/api/kpis/grid-heat?region=${t.city}&from=2026-11-16&to=2026-11-01`))
        .statusCode,
    ).toBe(400);
    expect(
      (await get(null, `/api/kpis/grid-heat?region=${t.city}&from=2026-11-01&to=2026-11-16`)).statusCode,
    ).toBe(401);
  });
});
