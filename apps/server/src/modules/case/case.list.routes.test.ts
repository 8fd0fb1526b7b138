import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaseList, NearbyCases } from '@wangge/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { wgs84ToGcj02 } from '../region/gcj02.ts';
import { canSeeCase } from './case.policy.ts';
import { loadCase } from './case.read.ts';
import { actorOfUser, buildWorkflowWorld, type WorkflowWorld } from './case.workflow.fixtures.ts';

let db: Database;
let server: Wangge;
let world: WorkflowWorld;
let dataDir: string;
let admin: TestUser;
let auditor: TestUser;
/** a department handler who is also a grid worker of grid B1 */
let twoHats: TestUser;
const clock = fixedClock('2026-11-20T02:00:00Z');
const ids: Record<string, number> = {};

interface Fixture {
  key: string;
  grid: keyof typeof territory;
  status: string;
  category: string;
  channel?: string;
  title?: string;
  point?: [number, number];
  reportedAt: string;
  dueAt?: string;
  overdue?: boolean;
  supervision?: string;
  reporter?: () => number;
  lead?: 'urban' | 'water' | 'eastOnly';
  cc?: 'urban' | 'water' | 'eastOnly';
}

const fixtures: Fixture[] = [
  {
    key: 'a1',
    grid: 'gridA1',
    status: 'reported',
    category: '0501',
    title: '井盖缺失',
    point: [130.35, 46.85],
    reportedAt: '2026-11-19T02:00:00Z', // China 2026-11-19 10:00
    reporter: () => world.users.workerA1.id,
  },
  {
    key: 'a2',
    grid: 'gridA1',
    status: 'dispatched',
    category: '0501',
    channel: 'hotline',
    point: [130.351, 46.85],
    reportedAt: '2026-11-18T16:30:00Z', // China 2026-11-19 00:30
    dueAt: '2026-11-20T06:00:00Z',
    lead: 'urban',
  },
  {
    key: 'a3',
    grid: 'gridA1',
    status: 'in_progress',
    category: '0503',
    point: [130.36, 46.86],
    reportedAt: '2026-11-18T15:30:00Z', // China 2026-11-18 23:30
    dueAt: '2026-11-18T15:59:59Z',
    overdue: true,
    supervision: 'yellow',
    lead: 'water',
  },
  {
    key: 'a4',
    grid: 'gridA2',
    status: 'closed',
    category: '0501',
    channel: 'resident',
    point: [130.35, 46.95],
    reportedAt: '2026-11-10T02:00:00Z',
    reporter: () => world.users.resident.id,
  },
  { key: 'a5', grid: 'gridA1', status: 'not_filed', category: '0101', reportedAt: '2026-11-12T02:00:00Z' },
  {
    key: 'a6',
    grid: 'gridA1',
    status: 'reported',
    category: '0501',
    point: [130.3501, 46.85],
    reportedAt: '2026-10-01T02:00:00Z',
  },
  {
    key: 'a7',
    grid: 'gridA1',
    status: 'reported',
    category: '0501',
    channel: 'resident',
    point: [130.352, 46.85],
    reportedAt: '2026-11-19T03:00:00Z',
    reporter: () => world.users.resident.id,
  },
  {
    key: 'b1',
    grid: 'gridB1',
    status: 'filed',
    category: '0501',
    point: [130.45, 46.85],
    reportedAt: '2026-11-17T02:00:00Z',
    cc: 'urban',
  },
  {
    key: 'b2',
    grid: 'gridB2',
    status: 'in_progress',
    category: '0503',
    channel: 'department',
    point: [130.45, 46.95],
    reportedAt: '2026-11-16T02:00:00Z',
    dueAt: '2026-11-19T15:59:59Z',
    overdue: true,
    supervision: 'red',
    lead: 'eastOnly',
  },
];

const communityOf = (grid: keyof typeof territory) =>
  grid.startsWith('gridA') ? ('communityA' as const) : ('communityB' as const);

let serial = 0;
async function insert(f: Fixture): Promise<number> {
  serial += 1;
  const owner = communityOf(f.grid);
  const lead = f.lead ? world.departments[f.lead] : null;
  const id = (await one<{ id: number }>(
    db.orm,
    sql`insert into grid_case (client_id, serial, title, description, category_code, channel, status, location,
          grid_code, region_path, owner_region_code, owner_region_path, owner_level, lead_department_id,
          reporter_user_id, due_at, overdue, supervision, reported_at)
        values (${crypto.randomUUID()}, ${`2026-230803-${String(700000 + serial)}`}, ${f.title ?? `事件 ${f.key}`},
          '描述', ${f.category}, ${f.channel ?? 'grid_worker'}, ${f.status},
          ${f.point ? sql`st_setsrid(st_makepoint(${f.point[0]}::float8, ${f.point[1]}::float8), 4326)` : sql`null`},
          ${territory[f.grid]}, ${world.paths[f.grid]}, ${territory[owner]}, ${world.paths[owner]}, 'community',
          ${lead}, ${f.reporter?.() ?? null}, ${f.dueAt ?? null}, ${f.overdue ?? false}, ${f.supervision ?? 'none'},
          ${f.reportedAt})
        returning id::int as id`,
  ))!.id;
  for (const [department, role] of [
    [f.lead, 'lead'],
    [f.cc, 'cc'],
  ] as const)
    if (department)
      await db.orm.execute(sql`insert into case_department (case_id, department_id, role, status, assigned_at)
        values (${id}, ${world.departments[department]}, ${role}, 'pending', ${f.reportedAt})`);
  return id;
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  admin = await makeUser(db, [{ role: 'admin' }]);
  auditor = await makeUser(db, [{ role: 'auditor' }]);
  twoHats = await makeUser(db, [
    { role: 'department_handler', regionCode: territory.district, departmentId: world.departments.water },
    { role: 'grid_worker', regionCode: territory.gridB1 },
  ]);
  for (const f of fixtures) ids[f.key] = await insert(f);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-case-list-'));
  server = await testServer(db, { clock, config: { dataDir } });
});

afterAll(async () => {
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function list(user: TestUser, query: string): Promise<CaseList> {
  const response = await server.app.inject({
    method: 'GET',
    url: `/api/cases?${query}`,
    headers: auth(user),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<CaseList>();
}

const keysOf = (body: { items: { id: number }[] }) =>
  body.items.map((item) => Object.entries(ids).find(([, id]) => id === item.id)?.[0] ?? `#${item.id}`);

describe('GET /api/cases', () => {
  it('401 without a session, 403 without case.read (a resident), 400 for a bad query', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/api/cases' })).statusCode).toBe(401);
    const resident = await server.app.inject({
      method: 'GET',
      url: '/api/cases',
      headers: auth(world.users.resident),
    });
    expect(resident.statusCode).toBe(403);
    for (const query of [
      'categoryCode=5',
      'bbox=130.4,46.8,130.3,46.9',
      'bbox=1,2,3',
      'limit=0',
      'limit=5001',
      'state=late',
      'from=2026-02-30',
      'to=20261101',
      'cursor=nonsense',
      'sort=title',
    ]) {
      const response = await server.app.inject({
        method: 'GET',
        url: `/api/cases?${query}`,
        headers: auth(admin),
      });
      expect(response.statusCode, query).toBe(400);
      expect(response.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    }
  });

  it('404 for a region outside the caller’s scope or unknown, never a hint', async () => {
    for (const region of [territory.communityB, territory.street, '230803009']) {
      const response = await server.app.inject({
        method: 'GET',
        url: `/api/cases?region=${region}`,
        headers: auth(world.users.operatorA),
      });
      expect(response.statusCode, region).toBe(404);
      expect(response.json()).toEqual({ code: 'NOT_FOUND', message: '未找到 (not found)' });
    }
  });

  it('lists exactly the cases canSeeCase lets each caller see (department handlers: their department’s)', async () => {
    const users: TestUser[] = [
      ...Object.entries(world.users)
        .filter(([name]) => !name.toLowerCase().includes('resident'))
        .map(([, user]) => user),
      admin,
      auditor,
      twoHats,
    ];
    for (const user of users) {
      const actor = await actorOfUser(db, user);
      const expected: number[] = [];
      for (const id of Object.values(ids))
        if (canSeeCase(actor, (await loadCase(db.orm, id))!.facts)) expected.push(id);
      const body = await list(user, 'state=all&limit=5000');
      expect(
        body.items.map((i) => i.id).sort((a, b) => a - b),
        user.username,
      ).toEqual(expected.sort((a, b) => a - b));
      expect(body.total).toBe(expected.length);
    }
    // The department handlers see their department's cases only, as lead or cc.
    expect(keysOf(await list(world.users.handlerUrban, 'state=all')).sort()).toEqual(['a2', 'b1']);
    expect(keysOf(await list(world.users.handlerWater, 'state=all')).sort()).toEqual(['a3']);
    expect(keysOf(await list(twoHats, 'state=all')).sort()).toEqual(['a3', 'b1']);
    expect(keysOf(await list(world.users.operatorB, 'state=all')).sort()).toEqual(['b1', 'b2']);
  });

  it('presents each case: point, grid name, lead department, deadline', async () => {
    const body = await list(admin, `q=${encodeURIComponent('2026-230803-7000')}&state=all`);
    const a2 = body.items.find((i) => i.id === ids.a2)!;
    expect(a2).toEqual({
      id: ids.a2,
      serial: expect.stringMatching(/^2026-230803-7\d{5}$/) as string,
      title: '事件 a2',
      status: 'dispatched',
      channel: 'hotline',
      categoryCode: '0501',
      urgent: false,
      supervision: 'none',
      overdue: false,
      dueAt: '2026-11-20T06:00:00.000Z',
      gridCode: territory.gridA1,
      gridName: '西林一网格',
      ownerRegionCode: territory.communityA,
      leadDepartment: '城管',
      point: [130.351, 46.85],
      reportedAt: '2026-11-18T16:30:00.000Z',
    });
    expect(body.items.find((i) => i.id === ids.a5)).toMatchObject({ point: null, leadDepartment: null });
  });

  it('filters: state (default open), region, bbox, category, status, channel, supervised', async () => {
    const admin_ = (query: string) => list(admin, query).then((b) => keysOf(b).sort());
    expect(await admin_('')).toEqual(['a1', 'a2', 'a3', 'a6', 'a7', 'b1', 'b2']);
    expect(await admin_('state=overdue')).toEqual(['a3', 'b2']);
    expect(await admin_('state=closed')).toEqual(['a4', 'a5']);
    expect(await admin_('state=all')).toHaveLength(9);
    expect(await admin_(`region=${territory.communityA}&state=all`)).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
      'a5',
      'a6',
      'a7',
    ]);
    expect(await admin_(`region=${territory.gridA2}&state=all`)).toEqual(['a4']);
    // the operator of community A may narrow to a grid of theirs
    expect(keysOf(await list(world.users.operatorA, `region=${territory.gridA1}`)).sort()).toEqual([
      'a1',
      'a2',
      'a3',
      'a6',
      'a7',
    ]);
    expect(await admin_('bbox=130.3495,46.845,130.3515,46.855&state=all')).toEqual(['a1', 'a2', 'a6']);
    expect(await admin_('bbox=130.4,46.9,130.5,47&state=all')).toEqual(['b2']);
    expect(await admin_('categoryCode=05&state=all')).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
      'a6',
      'a7',
      'b1',
      'b2',
    ]);
    expect(await admin_('categoryCode=0503&state=all')).toEqual(['a3', 'b2']);
    expect(await admin_('categoryCode=01&state=all')).toEqual(['a5']);
    expect(await admin_('status=dispatched')).toEqual(['a2']);
    // state and status together: an open state with a closed status is nothing
    expect(await admin_('status=closed')).toEqual([]);
    expect(await admin_('status=closed&state=all')).toEqual(['a4']);
    expect(await admin_('channel=resident&state=all')).toEqual(['a4', 'a7']);
    expect(await admin_('supervised=1')).toEqual(['a3', 'b2']);
    expect(await admin_('supervised=false')).toEqual(['a1', 'a2', 'a6', 'a7', 'b1']);
  });

  it('from / to are China dates (UTC+8): from inclusive, to exclusive', async () => {
    const keys = (query: string) => list(admin, `state=all&${query}`).then((b) => keysOf(b).sort());
    expect(await keys('from=2026-11-19')).toEqual(['a1', 'a2', 'a7']);
    expect(await keys('from=2026-11-18&to=2026-11-19')).toEqual(['a3']);
    expect(await keys('to=2026-11-11')).toEqual(['a4', 'a6']);
  });

  it('q: a serial prefix, or text in the title or description', async () => {
    const a3 = await one<{ serial: string }>(db.orm, sql`select serial from grid_case where id = ${ids.a3}`);
    expect(keysOf(await list(admin, `state=all&q=${a3!.serial}`))).toEqual(['a3']);
    expect(keysOf(await list(admin, `state=all&q=${encodeURIComponent('井盖')}`))).toEqual(['a1']);
    expect(keysOf(await list(admin, 'state=all&q=%25'))).toEqual([]);
  });

  it('sorts by report time (newest first) or deadline (earliest first, none last) and pages by cursor', async () => {
    const reported = await list(admin, 'state=all');
    expect(keysOf(reported)).toEqual(['a7', 'a1', 'a2', 'a3', 'b1', 'b2', 'a5', 'a4', 'a6']);
    const due = await list(admin, 'state=all&sort=due');
    expect(keysOf(due).slice(0, 3)).toEqual(['a3', 'b2', 'a2']);
    for (const sort of ['reported', 'due']) {
      const full = sort === 'due' ? due : reported;
      const walked: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: CaseList = await list(
          admin,
          `state=all&sort=${sort}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.total).toBe(9);
        expect(page.totalCapped).toBe(false);
        walked.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(walked, sort).toEqual(full.items.map((i) => i.id));
      expect(pages).toBe(5);
    }
  });

  it('counts at most 10 000 matching cases and says so', async () => {
    await db.orm.execute(sql`insert into grid_case (client_id, serial, title, category_code, channel, status,
        grid_code, region_path, owner_region_code, owner_region_path, owner_level, reported_at)
      select gen_random_uuid(), '2026-BULK-' || n, '批量', '0101', 'grid_worker', 'closed',
        ${territory.gridB2}, ${world.paths.gridB2}, ${territory.communityB}, ${world.paths.communityB}, 'community',
        '2026-11-01T00:00:00Z'::timestamptz + n * interval '1 second'
      from generate_series(1, 10005) n`);
    try {
      const body = await list(admin, `state=closed&region=${territory.gridB2}&limit=3`);
      expect(body).toMatchObject({ total: 10_000, totalCapped: true });
      expect(body.items).toHaveLength(3);
      expect(body.nextCursor).not.toBeNull();
      const few = await list(admin, `state=closed&region=${territory.gridB2}&to=2026-11-01&limit=3`);
      // 2026-11-01 China = from 2026-10-31T16:00Z: none of them
      expect(few).toMatchObject({ total: 0, totalCapped: false, items: [], nextCursor: null });
    } finally {
      await db.orm.execute(sql`delete from grid_case where serial like '2026-BULK-%'`);
    }
  });
});

describe('GET /api/cases/nearby', () => {
  async function nearby(user: TestUser, query: string): Promise<NearbyCases> {
    const response = await server.app.inject({
      method: 'GET',
      url: `/api/cases/nearby?${query}`,
      headers: auth(user),
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<NearbyCases>();
  }

  it('open cases of the item within the radius, reported in the last days, nearest first', async () => {
    const body = await nearby(world.users.workerA1, 'categoryCode=0501&lng=130.35&lat=46.85');
    expect(keysOf(body)).toEqual(['a1', 'a2', 'a7']);
    expect(body.items[0]).toMatchObject({
      id: ids.a1,
      distanceM: 0,
      status: 'reported',
      categoryCode: '0501',
    });
    // 0.001° of longitude at 46.85° N is about 76 m
    expect(body.items[1]!.distanceM).toBeGreaterThan(70);
    expect(body.items[1]!.distanceM).toBeLessThan(80);
    expect(
      keysOf(await nearby(world.users.workerA1, 'categoryCode=0501&lng=130.35&lat=46.85&radius=50')),
    ).toEqual(['a1']);
    // older than the window (a6, 50 days ago) only with days=90
    expect(
      keysOf(await nearby(world.users.workerA1, 'categoryCode=0501&lng=130.35&lat=46.85&radius=50&days=90')),
    ).toEqual(['a1', 'a6']);
  });

  it('a 2-digit code matches the class; closed cases and other classes never', async () => {
    expect(keysOf(await nearby(admin, 'categoryCode=05&lng=130.35&lat=46.85&radius=2000'))).toEqual([
      'a1',
      'a2',
      'a7',
      'a3',
    ]);
    expect(keysOf(await nearby(admin, 'categoryCode=0501&lng=130.35&lat=46.85&radius=2000'))).toEqual([
      'a1',
      'a2',
      'a7',
    ]);
    expect(keysOf(await nearby(admin, 'categoryCode=01&lng=130.35&lat=46.85&radius=2000'))).toEqual([]);
    // a4 (closed) sits exactly here
    expect(keysOf(await nearby(admin, 'categoryCode=0501&lng=130.35&lat=46.95&radius=100&days=90'))).toEqual(
      [],
    );
  });

  it('only cases the caller may see: out of scope none, a resident their own, a handler their department’s', async () => {
    expect(
      (await nearby(world.users.operatorB, 'categoryCode=05&lng=130.35&lat=46.85&radius=2000')).items,
    ).toEqual([]);
    expect(
      keysOf(await nearby(world.users.resident, 'categoryCode=05&lng=130.35&lat=46.85&radius=2000')),
    ).toEqual(['a7']);
    expect(
      keysOf(await nearby(world.users.handlerUrban, 'categoryCode=05&lng=130.35&lat=46.85&radius=2000')),
    ).toEqual(['a2']);
  });

  it('accepts a GCJ-02 point (Chinese map apps) and converts it', async () => {
    const [lng, lat] = wgs84ToGcj02(130.35, 46.85);
    expect(Math.abs(lng - 130.35) + Math.abs(lat - 46.85)).toBeGreaterThan(0.001);
    const body = await nearby(
      world.users.workerA1,
      `categoryCode=0501&lng=${lng}&lat=${lat}&crs=gcj02&radius=50`,
    );
    expect(keysOf(body)).toEqual(['a1']);
    expect(body.items[0]!.distanceM).toBeLessThan(1);
    // the same numbers read as WGS-84 are hundreds of metres off
    expect(
      (await nearby(world.users.workerA1, `categoryCode=0501&lng=${lng}&lat=${lat}&radius=50`)).items,
    ).toEqual([]);
  });

  it('401 without a session, 400 for a bad query', async () => {
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/cases/nearby?categoryCode=05&lng=130&lat=46' }))
        .statusCode,
    ).toBe(401);
    for (const query of [
      'lng=130&lat=46',
      'categoryCode=x&lng=130&lat=46',
      'categoryCode=05&lng=200&lat=46',
      'categoryCode=05&lng=130&lat=46&radius=5',
      'categoryCode=05&lng=130&lat=46&days=91',
      'categoryCode=05&lng=130&lat=46&crs=bd09',
    ]) {
      const response = await server.app.inject({
        method: 'GET',
        url: `/api/cases/nearby?${query}`,
        headers: auth(world.users.workerA1),
      });
      expect(response.statusCode, query).toBe(400);
    }
  });
});
