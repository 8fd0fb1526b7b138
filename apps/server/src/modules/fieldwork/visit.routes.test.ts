import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Building,
  Diary,
  FieldTasks,
  Household,
  OfflineGrid,
  Patrol,
  Visit,
  VisitPlan,
} from '@wangge/contracts';
import { rows, sql, type Database } from '../../platform/db.ts';
import {
  auth,
  buildTerritory,
  countRows,
  makeUser,
  territory as t,
  type TestUser,
} from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { ensureDefaultCalendar } from '../calendar/index.ts';
import { checkCharOf } from '../registry/person-id.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';

function residentId(area: string, birth: string, sequence: string): string {
  const first17 = `${area}${birth}${sequence}`;
  return `${first17}${checkCharOf(first17)}`;
}

/** Plaintext the factories seal: none of it may appear in an offline copy. */
const alice = { id: residentId('230803', '19450312', '042'), phone: '13912345678' };
const bob = { id: residentId('230803', '19800101', '013'), phone: '13687654321' };
const dan = { id: residentId('230803', '19700505', '031'), phone: '13700001111' };
const plainValues = [alice.id, alice.phone, bob.id, bob.phone, dan.id, dan.phone];

let db: Database;
let server: Wangge;
let worker: TestUser;
let colleague: TestUser;
let workerB1: TestUser;
let operatorA: TestUser;
let resident: TestUser;
let monthlyHousehold: Household;
let plainHousehold: Household;
let doneHousehold: Household;
let goneHousehold: Household;
let householdB1: Household;

const send = (user: TestUser, method: 'POST' | 'PUT', url: string, payload: object) =>
  server.app.inject({ method, url, headers: auth(user), payload });
const post = (user: TestUser, url: string, payload: object) => send(user, 'POST', url, payload);
const get = (user: TestUser, url: string) => server.app.inject({ method: 'GET', url, headers: auth(user) });
type Fields = { fields: { field: string }[] };

async function household(user: TestUser, building: Building, room: string): Promise<Household> {
  const response = await post(user, '/api/households', {
    buildingId: building.id,
    kind: 'registered',
    unit: '2',
    room,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<Household>();
}

const visitBody = (householdId: number, overrides: Record<string, unknown> = {}) => ({
  clientId: crypto.randomUUID(),
  householdId,
  kind: 'routine',
  visitedAt: '2026-11-20T01:30:00Z',
  notes: '了解近况',
  ...overrides,
});

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  await ensureDefaultCalendar(db.orm);
  server = await testServer(db);
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
  colleague = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
  workerB1 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridB1 }]);
  operatorA = await makeUser(db, [{ role: 'centre_operator', regionCode: t.communityA }]);
  resident = await makeUser(db, [{ role: 'resident', regionCode: t.gridA1 }]);

  const b = await post(worker, '/api/buildings', { gridCode: t.gridA1, name: '3号楼', kind: 'residential' });
  expect(b.statusCode, b.body).toBe(201);
  const building = b.json<Building>();
  monthlyHousehold = await household(worker, building, '301');
  plainHousehold = await household(worker, building, '302');
  doneHousehold = await household(worker, building, '401');
  goneHousehold = await household(worker, building, '402');
  const bB1 = await post(workerB1, '/api/buildings', {
    gridCode: t.gridB1,
    name: '1号楼',
    kind: 'residential',
  });
  householdB1 = await household(workerB1, bB1.json<Building>(), '101');

  const person = async (body: object) => {
    const response = await post(worker, '/api/persons', { gridCode: t.gridA1, ...body });
    expect(response.statusCode, response.body).toBe(201);
  };
  await person({
    name: '王秀英',
    gender: 'female',
    idNumber: alice.id,
    phone: alice.phone,
    householdId: monthlyHousehold.id,
    relationToHead: 'head',
    tags: [
      { kind: 'elderly_alone', fields: { careNeeds: '每周探访' } },
      { kind: 'corrections', fields: { periodFrom: '2026-01-01', periodTo: '2027-01-01' } },
    ],
  });
  await person({
    name: '王建国',
    gender: 'male',
    idNumber: bob.id,
    phone: bob.phone,
    householdId: plainHousehold.id,
    relationToHead: 'head',
  });
  await person({
    name: '赵大山',
    gender: 'male',
    idNumber: dan.id,
    phone: dan.phone,
    householdId: doneHousehold.id,
    relationToHead: 'head',
  });
  // The households were registered long ago (so a missed previous period can make them overdue); one moved away.
  await db.orm.execute(sql`update household set created_at = '2026-01-01T00:00:00Z'`);
  await db.orm.execute(sql`update household set status = 'moved_out' where id = ${goneHousehold.id}`);
});

afterAll(async () => {
  await server.app.close();
});

describe('recording visits', () => {
  it('201 on the first POST, 200 with created:false on a replay; nothing stored twice', async () => {
    const body = visitBody(monthlyHousehold.id, {
      visitedAt: '2026-10-15T02:00:00Z',
      kind: 'care',
      needs: [{ kind: 'medical', text: '需要上门体检' }],
      followUpOn: '2026-10-25',
      location: { lng: 130.35, lat: 46.85, accuracy: 10 },
    });
    const first = await post(worker, '/api/visits', body);
    expect(first.statusCode, first.body).toBe(201);
    const visit = first.json<Visit>();
    expect(visit).toMatchObject({
      clientId: body.clientId,
      householdId: monthlyHousehold.id,
      householdLabel: '3号楼 2单元 301室',
      gridCode: t.gridA1,
      userId: worker.id,
      kind: 'care',
      needs: [{ kind: 'medical', text: '需要上门体检' }],
      followUpOn: '2026-10-25',
      created: true,
    });
    const count = await countRows(db, 'household_visit');
    const again = await post(worker, '/api/visits', body);
    expect(again.statusCode).toBe(200);
    expect(again.json<Visit>()).toEqual({ ...visit, created: false });
    expect(await countRows(db, 'household_visit')).toBe(count);
  });

  it('400 with field errors, 404 out of scope or not active, 403 without the permission', async () => {
    const early = await post(
      worker,
      '/api/visits',
      visitBody(plainHousehold.id, { visitedAt: '2026-11-20T01:30:00Z', followUpOn: '2026-11-19' }),
    );
    expect(early.statusCode).toBe(400);
    expect(early.json<Fields>().fields[0]!.field).toBe('body.followUpOn');
    const badKind = await post(worker, '/api/visits', visitBody(plainHousehold.id, { kind: 'party' }));
    expect(badKind.statusCode).toBe(400);
    expect(badKind.json<Fields>().fields[0]!.field).toBe('body.kind');
    const future = await post(
      worker,
      '/api/visits',
      visitBody(plainHousehold.id, { visitedAt: '2026-11-21T00:00:00Z' }),
    );
    expect(future.statusCode).toBe(400);
    expect(future.json<Fields>().fields[0]!.field).toBe('body.visitedAt');
    expect((await post(worker, '/api/visits', visitBody(householdB1.id))).statusCode).toBe(404);
    expect((await post(worker, '/api/visits', visitBody(goneHousehold.id))).statusCode).toBe(404);
    expect((await post(worker, '/api/visits', visitBody(999_999))).statusCode).toBe(404);
    expect((await post(resident, '/api/visits', visitBody(plainHousehold.id))).statusCode).toBe(403);
    expect((await post(operatorA, '/api/visits', visitBody(plainHousehold.id))).statusCode).toBe(403);
  });

  it('lists visits in scope with filters and a keyset cursor', async () => {
    // doneHousehold: two visits this quarter; the first asked for a follow-up the second made.
    for (const [at, followUpOn] of [
      ['2026-10-03T02:00:00Z', '2026-10-10'],
      ['2026-11-05T02:00:00Z', undefined],
    ] as const)
      expect(
        (
          await post(
            colleague,
            '/api/visits',
            visitBody(doneHousehold.id, { visitedAt: at, ...(followUpOn ? { followUpOn } : {}) }),
          )
        ).statusCode,
      ).toBe(201);
    const page1 = await get(worker, `/api/visits?grid=${t.gridA1}&limit=2`);
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json<{ items: Visit[]; nextCursor: string | null }>();
    expect(body1.items.map((v) => v.visitedAt)).toEqual([
      '2026-11-05T02:00:00.000Z',
      '2026-10-15T02:00:00.000Z',
    ]);
    expect(body1.nextCursor).not.toBeNull();
    const page2 = await get(worker, `/api/visits?grid=${t.gridA1}&limit=2&cursor=${body1.nextCursor}`);
    const body2 = page2.json<{ items: Visit[]; nextCursor: string | null }>();
    expect(body2.items.map((v) => v.visitedAt)).toEqual(['2026-10-03T02:00:00.000Z']);
    expect(body2.nextCursor).toBeNull();
    const mine = await get(worker, `/api/visits?userId=${worker.id}`);
    expect(mine.json<{ items: Visit[] }>().items).toHaveLength(1);
    const october = await get(worker, `/api/visits?from=2026-10-01&to=2026-10-15`);
    expect(october.json<{ items: Visit[] }>().items).toHaveLength(2);
    expect((await get(workerB1, `/api/visits?grid=${t.gridA1}`)).json<{ items: Visit[] }>().items).toEqual(
      [],
    );
    expect((await get(operatorA, `/api/visits`)).json<{ items: Visit[] }>().items).toHaveLength(3);
    expect((await get(resident, `/api/visits`)).statusCode).toBe(403);
    expect((await get(worker, `/api/visits?cursor=nonsense`)).statusCode).toBe(400);
  });
});

describe('the visit plan', () => {
  it('gives each active household its status, due date and follow-up; never a tag', async () => {
    const response = await get(worker, `/api/grids/${t.gridA1}/visit-plan?on=2026-11-20`);
    expect(response.statusCode, response.body).toBe(200);
    const plan = response.json<VisitPlan>();
    expect(plan).toMatchObject({
      gridCode: t.gridA1,
      on: '2026-11-20',
      monthEnds: '2026-11-30',
      quarterEnds: '2026-12-31',
    });
    // plainHousehold: no visit last quarter nor this one → overdue (quarter).
    // monthlyHousehold: visited in October (last month, so not overdue monthly), none in November → due by the
    //   month's end; 1 visit this quarter → due by the quarter's end; the follow-up of 10-25 was never made.
    // doneHousehold: 2 visits this quarter → done, next due at the end of next quarter; its follow-up was made.
    expect(plan.items).toEqual([
      {
        householdId: plainHousehold.id,
        householdLabel: '3号楼 2单元 302室',
        monthly: false,
        lastVisitAt: null,
        visitsThisMonth: 0,
        visitsThisQuarter: 0,
        status: 'overdue',
        dueBy: '2026-12-31',
        followUpOn: null,
      },
      {
        householdId: monthlyHousehold.id,
        householdLabel: '3号楼 2单元 301室',
        monthly: true,
        lastVisitAt: '2026-10-15T02:00:00.000Z',
        visitsThisMonth: 0,
        visitsThisQuarter: 1,
        status: 'due',
        dueBy: '2026-11-30',
        followUpOn: '2026-10-25',
      },
      {
        householdId: doneHousehold.id,
        householdLabel: '3号楼 2单元 401室',
        monthly: false,
        lastVisitAt: '2026-11-05T02:00:00.000Z',
        visitsThisMonth: 1,
        visitsThisQuarter: 2,
        status: 'done',
        dueBy: '2027-03-31',
        followUpOn: null,
      },
    ]);
    expect(plan.counts).toEqual({ done: 1, due: 1, overdue: 1 });
    expect(response.body).not.toContain('elderly_alone');
    expect(response.body).not.toContain('corrections');
    // In December, with no November visit, the monthly household is overdue.
    const december = (await get(worker, `/api/grids/${t.gridA1}/visit-plan?on=2026-12-02`)).json<VisitPlan>();
    expect(december.items.find((i) => i.householdId === monthlyHousehold.id)!.status).toBe('overdue');
    // A plan for a day before a visit does not count it.
    const before = (await get(worker, `/api/grids/${t.gridA1}/visit-plan?on=2026-10-04`)).json<VisitPlan>();
    expect(before.items.find((i) => i.householdId === doneHousehold.id)).toMatchObject({
      visitsThisQuarter: 1,
      followUpOn: '2026-10-10',
    });
    expect((await get(operatorA, `/api/grids/${t.gridA1}/visit-plan`)).statusCode).toBe(200);
    expect((await get(workerB1, `/api/grids/${t.gridA1}/visit-plan`)).statusCode).toBe(404);
    expect((await get(resident, `/api/grids/${t.gridA1}/visit-plan`)).statusCode).toBe(403);
    const bad = await get(worker, `/api/grids/${t.gridA1}/visit-plan?on=2026-13-01`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Fields>().fields[0]!.field).toBe('query.on');
  });
});

describe('the offline copy', () => {
  it('carries masks only (no plaintext, no tag kinds) and leaves one audit row', async () => {
    const auditsBefore = await countRows(db, 'audit_log');
    const logsBefore = capturedLogs.length;
    const response = await get(worker, `/api/grids/${t.gridA1}/offline`);
    expect(response.statusCode, response.body).toBe(200);
    const copy = response.json<OfflineGrid>();
    expect(copy.gridCode).toBe(t.gridA1);
    expect(copy.gridName).toBe('西林一网格');
    expect(copy.households.map((h) => h.id).sort()).toEqual(
      [monthlyHousehold.id, plainHousehold.id, doneHousehold.id].sort(),
    );
    const monthly = copy.households.find((h) => h.id === monthlyHousehold.id)!;
    expect(monthly).toMatchObject({
      label: '3号楼 2单元 301室',
      monthly: true,
      buildingName: '3号楼',
      unit: '2',
    });
    expect(monthly.members).toHaveLength(1);
    expect(monthly.members[0]).toMatchObject({
      name: '王秀英',
      birthYear: 1945,
      version: 1,
      relationToHead: 'head',
    });
    expect(monthly.members[0]!.idNumberMasked).toMatch(/\*/);
    expect(monthly.members[0]!.phoneMasked).toMatch(/\*/);
    expect(copy.households.find((h) => h.id === plainHousehold.id)!.monthly).toBe(false);
    for (const value of plainValues) expect(response.body).not.toContain(value);
    expect(response.body).not.toContain('elderly_alone');
    expect(response.body).not.toContain('corrections');
    const newLogs = capturedLogs.slice(logsBefore).join('');
    for (const value of plainValues) expect(newLogs).not.toContain(value);

    expect(await countRows(db, 'audit_log')).toBe(auditsBefore + 1);
    const [audit] = await rows<{ action: string; actor_id: number; object_id: string; detail: unknown }>(
      db.orm,
      sql`select action, actor_id::int as actor_id, object_id, detail from audit_log order by id desc limit 1`,
    );
    expect(audit).toEqual({
      action: 'grid.offline.read',
      actor_id: worker.id,
      object_id: t.gridA1,
      detail: { households: 3, persons: 3 },
    });
    expect((await get(workerB1, `/api/grids/${t.gridA1}/offline`)).statusCode).toBe(404);
    expect((await get(operatorA, `/api/grids/${t.gridA1}/offline`)).statusCode).toBe(403);
  });
});

describe('my tasks', () => {
  it('cases to verify and inspect in my grids, visits due or overdue (overdue first), my grids', async () => {
    const report = async (user: TestUser, title: string) => {
      const response = await post(user, '/api/cases', {
        clientId: crypto.randomUUID(),
        title,
        description: '现场发现',
        categoryCode: '0101',
        location: { lng: 130.35, lat: 46.85 },
        channel: 'grid_worker',
        extra: { parties: 1 },
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<{ id: number }>().id;
    };
    const toVerify = await report(colleague, '楼道堆放杂物');
    const toInspect = await report(colleague, '井盖破损');
    await db.orm.execute(sql`update grid_case set status = 'responded' where id = ${toInspect}`);
    const mine = await report(worker, '路灯不亮');
    const response = await get(worker, '/api/field/tasks');
    expect(response.statusCode, response.body).toBe(200);
    const tasks = response.json<FieldTasks>();
    expect(tasks.grids).toEqual([{ code: t.gridA1, name: '西林一网格' }]);
    expect(tasks.cases.map((c) => [c.id, c.task]).sort()).toEqual(
      [
        [toVerify, 'verify'],
        [toInspect, 'inspect'],
      ].sort(),
    );
    expect(tasks.cases.some((c) => c.id === mine)).toBe(false);
    expect(tasks.cases[0]).toMatchObject({ gridCode: t.gridA1, gridName: '西林一网格' });
    expect(tasks.visits.map((v) => [v.householdId, v.status, v.gridCode])).toEqual([
      [plainHousehold.id, 'overdue', t.gridA1],
      [monthlyHousehold.id, 'due', t.gridA1],
    ]);
    const other = (await get(workerB1, '/api/field/tasks')).json<FieldTasks>();
    expect(other.cases).toEqual([]);
    expect(other.grids).toEqual([{ code: t.gridB1, name: '东林一网格' }]);
    expect((await get(operatorA, '/api/field/tasks')).statusCode).toBe(403);
  });
});

describe('the work diary', () => {
  it('summarises the China day (a patrol across midnight counts its part), with notes and a version', async () => {
    // A patrol 23:00–01:30 China time (19th → 20th): 1.5 h on the 20th.
    const id = crypto.randomUUID();
    expect(
      (await post(worker, '/api/patrols', { id, gridCode: t.gridA1, startedAt: '2026-11-19T15:00:00Z' }))
        .statusCode,
    ).toBe(201);
    const at = (minutes: number) =>
      new Date(Date.parse('2026-11-19T15:00:00Z') + minutes * 60_000).toISOString();
    // Points every 10 minutes, 0.0005° of longitude (38.07 m) apart: two on the 19th, three on the 20th.
    const points = [10, 20, 70, 80, 90].map((m, i) => ({ at: at(m), lng: 130.35 + i * 0.0005, lat: 46.85 }));
    await post(worker, `/api/patrols/${id}/points`, { batchId: crypto.randomUUID(), points });
    const stopped = await post(worker, `/api/patrols/${id}/actions/stop`, {
      endedAt: '2026-11-19T17:30:00Z',
    });
    expect(stopped.json<Patrol>().durationSeconds).toBe(9000);
    await post(
      worker,
      '/api/visits',
      visitBody(plainHousehold.id, {
        visitedAt: '2026-11-20T01:30:00Z',
        needs: [
          { kind: 'employment', text: '' },
          { kind: 'housing', text: '' },
        ],
      }),
    );

    const response = await get(worker, '/api/diary/2026-11-20');
    expect(response.statusCode, response.body).toBe(200);
    const diary = response.json<Diary>();
    // Segments are counted on the day of their later point: 20→70, 70→80 and 80→90 minutes, 3 × 38.07 m.
    expect(diary.patrols).toEqual({ count: 1, seconds: 5400, meters: 114, flaggedPoints: 0 });
    expect(diary.visits).toEqual({ count: 1, households: 1, needsFound: 2 });
    // The tasks test reported one case at 10:00 China time on the 20th.
    expect(diary.cases).toEqual({ reported: 1, fixedOnSpot: 0, verified: 0, inspected: 0 });
    expect(diary.entries.map((e) => e.kind)).toEqual(['patrol', 'visit', 'case']);
    expect(diary.entries[0]).toEqual({
      at: '2026-11-19T16:00:00.000Z',
      kind: 'patrol',
      text: '巡查 西林一网格 1小时30分，114米',
    });
    expect(diary.entries[1]!.text).toBe('日常走访 3号楼 2单元 302室，发现需求 2 项');
    expect(diary.entries[2]!.text).toContain('上报事件');
    expect(diary).toMatchObject({ notes: '', version: 0, userId: worker.id });
    const yesterday = (await get(worker, '/api/diary/2026-11-19')).json<Diary>();
    expect(yesterday.patrols).toMatchObject({ count: 1, seconds: 3600, meters: 38 });

    const put = (expectedVersion: number | undefined, notes: string) =>
      send(worker, 'PUT', '/api/diary/2026-11-20', {
        notes,
        ...(expectedVersion === undefined ? {} : { expectedVersion }),
      });
    const first = await put(0, '走访王家，联系社区医生');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json<Diary>()).toMatchObject({ notes: '走访王家，联系社区医生', version: 1 });
    const stale = await put(0, '另一台手机的旧版本');
    expect(stale.statusCode).toBe(409);
    expect(stale.json<Fields>().fields[0]!.field).toBe('body.expectedVersion');
    expect((await put(1, '改过的日志')).json<Diary>()).toMatchObject({ notes: '改过的日志', version: 2 });
    expect((await put(undefined, '直接覆盖')).json<Diary>().version).toBe(3);
    expect((await get(operatorA, `/api/diary/2026-11-20?userId=${worker.id}`)).json<Diary>().notes).toBe(
      '直接覆盖',
    );
    expect((await get(workerB1, `/api/diary/2026-11-20?userId=${worker.id}`)).statusCode).toBe(404);
    expect((await get(resident, '/api/diary/2026-11-20')).statusCode).toBe(403);
    expect((await send(operatorA, 'PUT', '/api/diary/2026-11-20', { notes: 'x' })).statusCode).toBe(403);
    const badDate = await get(worker, '/api/diary/2026-02-30');
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json<Fields>().fields[0]!.field).toBe('params.date');
  });
});
