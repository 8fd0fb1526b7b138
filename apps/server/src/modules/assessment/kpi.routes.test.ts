import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiReport } from '@wangge/contracts';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import type { Wangge } from '../../server.ts';

/**
 * A hand-built fixture of 20 cases (rows inserted directly: grid_case + case_timeline) and the figures worked
 * out by hand below. Period: 2026-11-01 ≤ China date < 2026-11-16, i.e. [2026-10-31T16:00Z, 2026-11-15T16:00Z).
 */
const from = '2026-11-01';
const to = '2026-11-16';
const day = (d: string, hourUtc = 4) => `2026-${d}T${String(hourUtc).padStart(2, '0')}:00:00.000Z`;
/** The end of a China working day (23:59:59 +08:00), as deadlines are stored. */
const dueEnd = (d: string) => `2026-${d}T15:59:59.000Z`;

interface FixtureCase {
  n: number;
  grid: string;
  channel: string;
  category: '0401' | '0503';
  status: string;
  reportedAt: string;
  filedAt?: string;
  respondedAt?: string;
  closedAt?: string;
  handleDueAt?: string;
  reworkCount?: number;
  evaluation?: 'satisfied' | 'basically_satisfied' | 'dissatisfied';
  overdue?: boolean;
  /** lead department key, when dispatched */
  department?: 'urban-management' | 'water';
  parent?: number;
  /** extra timeline rows beyond the report row: [action, from, to, at, data] */
  timeline?: [string, string | null, string | null, string, Record<string, unknown>?][];
}

const U = 'urban-management' as const;
const W = 'water' as const;

const fixture: FixtureCase[] = [
  // 1 fixed on the spot (简易程序): filed and closed at once; no deadline. First instant of the period.
  {
    n: 1,
    grid: t.gridA1,
    channel: 'grid_worker',
    category: '0401',
    status: 'closed',
    reportedAt: '2026-10-31T16:00:00.000Z',
    filedAt: day('11-02'),
    closedAt: day('11-02'),
    timeline: [['fixOnSpot', 'reported', 'closed', day('11-02')]],
  },
  // 2 evaluated 满意, closed 11-04 before its deadline 11-05
  {
    n: 2,
    grid: t.gridA1,
    channel: 'resident',
    category: '0401',
    status: 'evaluated',
    department: U,
    reportedAt: day('11-01'),
    filedAt: day('11-02'),
    respondedAt: day('11-04', 2),
    closedAt: day('11-04'),
    handleDueAt: dueEnd('11-05'),
    evaluation: 'satisfied',
    timeline: [
      ['respond', 'in_progress', 'responded', day('11-04', 2)],
      ['inspect', 'inspecting', 'closed', day('11-04'), { result: 'pass' }],
    ],
  },
  // 3 evaluated 基本满意, closed 11-06 after its deadline 11-05 (late)
  {
    n: 3,
    grid: t.gridA1,
    channel: 'resident',
    category: '0401',
    status: 'evaluated',
    department: U,
    reportedAt: day('11-01'),
    filedAt: day('11-02'),
    respondedAt: day('11-06', 2),
    closedAt: day('11-06'),
    handleDueAt: dueEnd('11-05'),
    evaluation: 'basically_satisfied',
  },
  // 4 reworked once (rework_count 1 and an inspect fail row), closed 11-09 before 11-10, rated 不满意
  {
    n: 4,
    grid: t.gridA2,
    channel: 'hotline',
    category: '0503',
    status: 'evaluated',
    department: W,
    reportedAt: day('11-03'),
    filedAt: day('11-03'),
    respondedAt: day('11-08'),
    closedAt: day('11-09'),
    handleDueAt: dueEnd('11-10'),
    reworkCount: 1,
    evaluation: 'dissatisfied',
    timeline: [['inspect', 'inspecting', 'dispatched', day('11-06'), { result: 'fail' }]],
  },
  // 5 closed 11-12 after its deadline 11-10 (late), not rated
  {
    n: 5,
    grid: t.gridA2,
    channel: 'hotline',
    category: '0503',
    status: 'closed',
    department: W,
    reportedAt: day('11-03'),
    filedAt: day('11-03'),
    respondedAt: day('11-12', 2),
    closedAt: day('11-12'),
    handleDueAt: dueEnd('11-10'),
  },
  // 6 in progress, due 11-12 (in the period), overdue now
  {
    n: 6,
    grid: t.gridA2,
    channel: 'grid_worker',
    category: '0503',
    status: 'in_progress',
    department: W,
    reportedAt: day('11-05'),
    filedAt: day('11-05'),
    handleDueAt: dueEnd('11-12'),
    overdue: true,
  },
  // 7 dispatched, due 11-20 (after the period): not due to close
  {
    n: 7,
    grid: t.gridB1,
    channel: 'resident',
    category: '0401',
    status: 'dispatched',
    department: U,
    reportedAt: day('11-14'),
    filedAt: day('11-14'),
    handleDueAt: dueEnd('11-20'),
  },
  // 8 responded, due 11-14, not closed, overdue now
  {
    n: 8,
    grid: t.gridB1,
    channel: 'resident',
    category: '0401',
    status: 'responded',
    department: U,
    reportedAt: day('11-10'),
    filedAt: day('11-10'),
    respondedAt: day('11-13'),
    handleDueAt: dueEnd('11-14'),
    overdue: true,
  },
  // 9 not filed (不予立案)
  { n: 9, grid: t.gridB1, channel: 'wish', category: '0401', status: 'not_filed', reportedAt: day('11-08') },
  // 10 duplicate of 7: left out of 受理
  {
    n: 10,
    grid: t.gridB1,
    channel: 'resident',
    category: '0401',
    status: 'duplicate',
    reportedAt: day('11-14', 6),
    parent: 7,
  },
  // 11 just reported, the last minute of the period (23:59 China time on 11-15)
  {
    n: 11,
    grid: t.gridB2,
    channel: 'hotline',
    category: '0503',
    status: 'reported',
    reportedAt: '2026-11-15T15:59:00.000Z',
  },
  // 12 being verified
  {
    n: 12,
    grid: t.gridB2,
    channel: 'hotline',
    category: '0503',
    status: 'verifying',
    reportedAt: day('11-15'),
  },
  // 13 reworked, seen only in the timeline (rework_count 0, an inspect fail row); inspecting again; overdue
  {
    n: 13,
    grid: t.gridB2,
    channel: 'department',
    category: '0503',
    status: 'inspecting',
    department: W,
    reportedAt: day('11-02'),
    filedAt: day('11-02'),
    respondedAt: day('11-09'),
    handleDueAt: dueEnd('11-08'),
    overdue: true,
    timeline: [
      ['respond', 'in_progress', 'responded', day('11-05')],
      ['inspect', 'inspecting', 'dispatched', day('11-06'), { result: 'fail' }],
      ['respond', 'in_progress', 'responded', day('11-09')],
    ],
  },
  // 14 leader's assignment, closed 11-03 before 11-04, 满意
  {
    n: 14,
    grid: t.gridA1,
    channel: 'leader',
    category: '0401',
    status: 'evaluated',
    department: U,
    reportedAt: day('11-02'),
    filedAt: day('11-02'),
    respondedAt: day('11-03', 2),
    closedAt: day('11-03'),
    handleDueAt: dueEnd('11-04'),
    evaluation: 'satisfied',
  },
  // 15 filed, not dispatched yet, due 11-18 (after the period)
  {
    n: 15,
    grid: t.gridA1,
    channel: 'system',
    category: '0401',
    status: 'filed',
    reportedAt: day('11-15', 1),
    filedAt: day('11-15', 2),
    handleDueAt: dueEnd('11-18'),
  },
  // 16 suspended (挂起), due 11-11, not overdue (the clock stops while suspended)
  {
    n: 16,
    grid: t.gridA2,
    channel: 'resident',
    category: '0503',
    status: 'suspended',
    department: W,
    reportedAt: day('11-06'),
    filedAt: day('11-06'),
    handleDueAt: dueEnd('11-11'),
  },
  // 17 reported BEFORE the period (10-20), closed in it (11-03) after its deadline 10-25: due to close, late
  {
    n: 17,
    grid: t.gridA1,
    channel: 'resident',
    category: '0401',
    status: 'closed',
    department: U,
    reportedAt: '2026-10-20T04:00:00.000Z',
    filedAt: '2026-10-20T05:00:00.000Z',
    respondedAt: day('11-03', 2),
    closedAt: day('11-03'),
    handleDueAt: '2026-10-25T15:59:59.000Z',
  },
  // 18 reported before the period, due 11-05 (in it), still in progress, overdue now
  {
    n: 18,
    grid: t.gridA2,
    channel: 'hotline',
    category: '0503',
    status: 'in_progress',
    department: W,
    reportedAt: '2026-10-25T04:00:00.000Z',
    filedAt: '2026-10-25T05:00:00.000Z',
    handleDueAt: dueEnd('11-05'),
    overdue: true,
  },
  // 19 reported at the first instant AFTER the period (00:00 China time on 11-16): left out
  {
    n: 19,
    grid: t.gridA1,
    channel: 'resident',
    category: '0401',
    status: 'dispatched',
    department: U,
    reportedAt: '2026-11-15T16:00:00.000Z',
    filedAt: day('11-16'),
    handleDueAt: dueEnd('11-25'),
  },
  // 20 closed 11-07 before 11-08 after an inspect pass, 满意
  {
    n: 20,
    grid: t.gridB2,
    channel: 'resident',
    category: '0401',
    status: 'evaluated',
    department: U,
    reportedAt: day('11-04'),
    filedAt: day('11-04'),
    respondedAt: day('11-07', 2),
    closedAt: day('11-07'),
    handleDueAt: dueEnd('11-08'),
    evaluation: 'satisfied',
    timeline: [['inspect', 'inspecting', 'closed', day('11-07'), { result: 'pass' }]],
  },
];

async function insertFixture(db: Database): Promise<Map<string, number>> {
  return db.orm.transaction(async (tx) => {
    await tx.execute(sql`insert into case_category (code, parent_code, name_zh, name_en) values
      ('04', null, '市容环境', 'City appearance'), ('05', null, '公共设施', 'Public facilities')`);
    await tx.execute(sql`insert into case_category (code, parent_code, name_zh, name_en, department_key, handle_working_days) values
      ('0401', '04', '垃圾堆放与清运', 'Garbage', 'urban-management', 2),
      ('0503', '05', '供水、排水与供暖设施', 'Water and heating', 'water', 3)`);
    const departments = await rows<{ id: number; code: string }>(
      tx,
      sql`insert into department (code, name, region_code, region_path, created_at)
          select v.code, v.name, r.code, r.path, '2026-01-01T00:00:00Z'
          from (values ('urban-management', '城市管理综合执法'), ('water', '供水')) v(code, name)
          join region r on r.code = ${t.city}
          returning id::int as id, code`,
    );
    const departmentIds = new Map(departments.map((d) => [d.code, d.id]));
    const caseIds = new Map<number, number>();
    for (const c of fixture) {
      const inserted = await one<{ id: number }>(
        tx,
        sql`insert into grid_case (client_id, serial, title, category_code, channel, status, grid_code, region_path,
              owner_region_code, owner_region_path, owner_level, lead_department_id, reported_at, filed_at,
              responded_at, closed_at, handle_due_at, due_at, rework_count, evaluation, overdue, parent_case_id)
            select ${crypto.randomUUID()}, ${`2026-230803-${String(c.n).padStart(6, '0')}`}, ${`case ${c.n}`},
              ${c.category}, ${c.channel}, ${c.status}, g.code, g.path, g.code, g.path, 'grid',
              ${c.department ? departmentIds.get(c.department)! : null}, ${c.reportedAt}, ${c.filedAt ?? null},
              ${c.respondedAt ?? null}, ${c.closedAt ?? null}, ${c.handleDueAt ?? null}, ${c.handleDueAt ?? null},
              ${c.reworkCount ?? 0}, ${c.evaluation ?? null}, ${c.overdue ?? false},
              ${c.parent ? caseIds.get(c.parent)! : null}
            from region g where g.code = ${c.grid}
            returning id::int as id`,
      );
      caseIds.set(c.n, inserted!.id);
      const timeline = [['report', null, 'reported', c.reportedAt, {}], ...(c.timeline ?? [])] as const;
      for (const [action, fromStatus, toStatus, at, data] of timeline)
        await tx.execute(sql`insert into case_timeline (case_id, at, action, from_status, to_status, data)
          values (${inserted!.id}, ${at}, ${action}, ${fromStatus}, ${toStatus}, ${JSON.stringify(data ?? {})}::jsonb)`);
    }
    return departmentIds;
  });
}

let db: Database;
let server: Wangge;
let cityOperator: TestUser;
let outsider: TestUser;
let departmentIds: Map<string, number>;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  departmentIds = await insertFixture(db);
  server = await testServer(db, { clock: fixedClock('2026-11-20T02:00:00Z') });
  cityOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.city }]);
  // a grid leader of a grid in community B holds kpi.read there only
  outsider = await makeUser(db, [{ role: 'grid_leader', regionCode: t.gridB1 }]);
});

afterAll(async () => {
  await server?.app.close();
});

async function report(user: TestUser, query: string): Promise<KpiReport> {
  const response = await server.app.inject({ method: 'GET', url: `/api/kpis?${query}`, headers: auth(user) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<KpiReport>();
}

describe('GET /api/kpis over the 20-case fixture', () => {
  it('equals the figures worked out by hand (city, 2026-11-01 ≤ date < 2026-11-16)', async () => {
    const kpis = await report(cityOperator, `region=${t.city}&from=${from}&to=${to}`);
    // Cohort (reported in the period): cases 1–16 and 20 = 17 cases; 17 and 18 before it, 19 after it.
    // 受理 accepted = 17 − 1 duplicate (10) = 16.
    // 立案 filed = 1 (fix on the spot) + 2,3,4,5,6,7,8,13,14,15,16,20 = 13; not filed: 9 (不予立案), 11, 12 (not yet).
    // 办结 resolved = closed or evaluated: 1,2,3,4,5,14,20 = 7.
    // responded = 2,3,4,5,8,13,14,20 = 8 (fix-on-the-spot case 1 has no response step).
    // reworked = 4 (rework_count) + 13 (inspect fail in the timeline) = 2.
    // rated = 2,3,4,14,20 = 5: 满意 2,14,20 = 3; 基本满意 3 = 1; 不满意 4 = 1.
    // open now in the cohort = 17 − 7 resolved − 1 not filed − 1 duplicate = 8 (6,7,8,11,12,13,15,16).
    // 应结案 due to close (any report date; deadline in the period, or closed in it):
    //   1 (closed 11-02, no deadline), 2, 3, 4, 5, 6, 8, 13, 14, 16, 17 (closed 11-03), 18 (due 11-05), 20 = 13;
    //   not 7 (due 11-20), 15 (due 11-18), 19 (due 11-25), 9/10 (not filed / duplicate), 11/12 (no deadline, open).
    // closed = 1,2,3,4,5,14,17,20 = 8; on time = 1 (no deadline), 2, 4, 14, 20 = 5 (3, 5, 17 were late).
    // overdue now (open, overdue, any report date) = 6, 8, 13, 18 = 4.
    expect(kpis.counts).toEqual({
      accepted: 16,
      filed: 13,
      notFiled: 1,
      duplicates: 1,
      resolved: 7,
      dueToClose: 13,
      closed: 8,
      closedOnTime: 5,
      responded: 8,
      reworked: 2,
      rated: 5,
      satisfied: 3,
      basicallySatisfied: 1,
      dissatisfied: 1,
      open: 8,
      overdueNow: 4,
    });
    expect(kpis.rates).toEqual({
      filingRate: { value: 0.8125, numerator: 13, denominator: 16 }, // 13 / 16
      resolutionRate: { value: 0.4375, numerator: 7, denominator: 16 }, // 7 / 16
      closureRate: { value: 0.6154, numerator: 8, denominator: 13 }, // 8 / 13 = 0.615384…
      onTimeClosureRate: { value: 0.3846, numerator: 5, denominator: 13 }, // 5 / 13 = 0.384615…
      reworkRate: { value: 0.25, numerator: 2, denominator: 8 }, // 2 / 8
      satisfactionRate: { value: 0.8, numerator: 4, denominator: 5 }, // (3 + 1) / 5
    });
    expect(kpis.region).toEqual({ code: t.city, name: '佳木斯市', level: 'city' });
    expect(kpis.asOf).toBe('2026-11-20T02:00:00.000Z');
    expect(kpis.groups).toEqual([]);
  });

  it('breaks down by category', async () => {
    const kpis = await report(cityOperator, `region=${t.city}&from=${from}&to=${to}&by=category`);
    expect(kpis.groups.map((g) => g.key)).toEqual(['0401', '0503']);
    const water = kpis.groups.find((g) => g.key === '0503')!;
    // 0503 cohort: 4,5,6,11,12,13,16 (18 is before the period) → accepted 7; filed 4,5,6,13,16 = 5;
    // resolved 4,5 = 2; responded 4,5,13 = 3; reworked 4,13 = 2; rated 4 (不满意) = 1.
    // due to close: 4,5,6,13,16,18 = 6; closed 4,5 = 2; on time 4 = 1. Overdue now: 6, 13, 18 = 3.
    expect(water.name).toBe('供水、排水与供暖设施');
    expect(water.counts).toMatchObject({
      accepted: 7,
      filed: 5,
      resolved: 2,
      responded: 3,
      reworked: 2,
      rated: 1,
      satisfied: 0,
      dueToClose: 6,
      closed: 2,
      closedOnTime: 1,
      overdueNow: 3,
    });
    // The groups add up to the totals.
    const sum = (k: 'accepted' | 'dueToClose' | 'overdueNow') =>
      kpis.groups.reduce((s, g) => s + g.counts[k], 0);
    expect([sum('accepted'), sum('dueToClose'), sum('overdueNow')]).toEqual([16, 13, 4]);
  });

  it('scores departments: 30 % closure, 30 % on time, 20 % (1 − rework), 20 % satisfaction', async () => {
    const kpis = await report(cityOperator, `region=${t.city}&from=${from}&to=${to}&by=department`);
    const water = kpis.groups.find((g) => g.key === String(departmentIds.get('water')))!;
    // water (lead on 4,5,6,13,16,18): closure 2/6 = 0.3333, on time 1/6 = 0.1667, rework 2/3 = 0.6667,
    // satisfaction 0/1 = 0 → 100 × (0.3·0.3333 + 0.3·0.1667 + 0.2·(1 − 0.6667) + 0.2·0) = 21.666 → 21.67
    expect(water.name).toBe('供水');
    expect(water.rates.closureRate).toEqual({ value: 0.3333, numerator: 2, denominator: 6 });
    expect(water.score).toBe(21.67);
    const urban = kpis.groups.find((g) => g.key === String(departmentIds.get('urban-management')))!;
    // urban (lead on 2,3,7,8,14,17,19,20): due 2,3,8,14,17,20 = 6, closed 2,3,14,17,20 = 5, on time 2,14,20 = 3;
    // responded 2,3,8,14,20 = 5 (17 is outside the cohort), reworked 0; rated 2,3,14,20 = 4, all (basically) satisfied.
    // score = 100 × (0.3·0.8333 + 0.3·0.5 + 0.2·1 + 0.2·1) = 100 × 0.79999 = 80.00
    expect(urban.counts).toMatchObject({
      dueToClose: 6,
      closed: 5,
      closedOnTime: 3,
      responded: 5,
      reworked: 0,
      rated: 4,
    });
    expect(urban.score).toBe(80);
    // cases never dispatched (1, 9, 10, 11, 12, 15) group under "none"
    const none = kpis.groups.find((g) => g.key === null)!;
    expect(none.counts.accepted).toBe(5); // 1, 9, 11, 12, 15 (10 is a duplicate)
  });

  it('breaks down by grid and by channel', async () => {
    const byGrid = await report(cityOperator, `region=${t.city}&from=${from}&to=${to}&by=grid`);
    // A1: 1,2,3,14,15 (17 before, 19 after) = 5; A2: 4,5,6,16 = 4; B1: 7,8,9 = 3 (+10 duplicate); B2: 11,12,13,20 = 4
    expect(byGrid.groups.map((g) => [g.key, g.counts.accepted])).toEqual([
      [t.gridA1, 5],
      [t.gridA2, 4],
      [t.gridB1, 3],
      [t.gridB2, 4],
    ]);
    expect(byGrid.groups[0]!.name).toBe('西林一网格');
    const byChannel = await report(cityOperator, `region=${t.city}&from=${from}&to=${to}&by=channel`);
    const hotline = byChannel.groups.find((g) => g.key === 'hotline')!;
    // hotline: 4, 5, 11, 12 = 4 accepted (18 is before the period); filed 4, 5 = 2
    expect(hotline.counts).toMatchObject({ accepted: 4, filed: 2 });
    expect(hotline.rates.filingRate.value).toBe(0.5);
  });

  it('covers only the region subtree asked for', async () => {
    const kpis = await report(cityOperator, `region=${t.communityA}&from=${from}&to=${to}`);
    // community A (grids A1, A2): cohort 1,2,3,4,5,6,14,15,16 = 9; resolved 1,2,3,4,5,14 = 6
    expect(kpis.counts.accepted).toBe(9);
    expect(kpis.counts.resolved).toBe(6);
    expect(kpis.rates.resolutionRate).toEqual({ value: 0.6667, numerator: 6, denominator: 9 });
  });
});

describe('GET /api/kpis access and validation', () => {
  it('answers 401 without a session', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: `/api/kpis?region=${t.city}&from=${from}&to=${to}`,
    });
    expect(response.statusCode).toBe(401);
  });

  it('answers 404 outside the caller’s scope and for an unknown region', async () => {
    for (const region of [t.communityA, t.city, '230899']) {
      const response = await server.app.inject({
        method: 'GET',
        url: `/api/kpis?region=${region}&from=${from}&to=${to}`,
        headers: auth(outsider),
      });
      expect(response.statusCode, region).toBe(404);
    }
    // inside its own grid it may read
    const own = await report(outsider, `region=${t.gridB1}&from=${from}&to=${to}`);
    expect(own.counts.accepted).toBe(3);
  });

  it('answers 403 to a role without kpi.read', async () => {
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    const response = await server.app.inject({
      method: 'GET',
      url: `/api/kpis?region=${t.gridA1}&from=${from}&to=${to}`,
      headers: auth(worker),
    });
    expect(response.statusCode).toBe(403);
  });

  it('answers 400 for bad dates, an empty or too long period and an unknown breakdown', async () => {
    for (const query of [
      `region=${t.city}&from=2026-13-01&to=${to}`,
      `region=${t.city}&from=${to}&to=${from}`,
      `region=${t.city}&from=${from}&to=${from}`,
      `region=${t.city}&from=2020-01-01&to=2026-01-01`,
      `region=${t.city}&from=${from}&to=${to}&by=worker`,
      `region=abc&from=${from}&to=${to}`,
    ]) {
      const response = await server.app.inject({
        method: 'GET',
        url: `/api/kpis?${query}`,
        headers: auth(cityOperator),
      });
      expect(response.statusCode, query).toBe(400);
    }
  });
});
