import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaseAction, CaseDetail, CaseStatus, CaseTimelineEntry } from '@wangge/contracts';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, territory } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { transitions } from './case.workflow.ts';
import {
  buildWorkflowWorld,
  insertCase,
  type WorkflowWorld,
  type WorldUser,
} from './case.workflow.fixtures.ts';

let db: Database;
let server: Wangge;
let world: WorkflowWorld;
let dataDir: string;

const clock = fixedClock('2026-11-20T02:00:00Z');

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-case-routes-'));
  server = await testServer(db, { clock, config: { dataDir } });
});

afterAll(async () => {
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

type CaseOptions = Parameters<typeof insertCase>[2];

interface Spec {
  action: CaseAction;
  from: CaseStatus;
  setup?: CaseOptions;
  actor: WorldUser;
  body: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  bad: Record<string, unknown>;
  badField: string;
  wrongState: CaseStatus;
  outsider: WorldUser;
  expected: CaseStatus;
  /** how two identical requests at once collide: the state moves on, or only the version does */
  race: 'state' | 'version';
}

const reporter = () => world.users.resident.id;

const specs: Spec[] = [
  {
    action: 'verify',
    from: 'reported',
    actor: 'workerA1',
    body: () => ({}),
    bad: { comment: 5 },
    badField: 'body.comment',
    wrongState: 'filed',
    outsider: 'workerB1',
    expected: 'verifying',
    race: 'state',
  },
  {
    action: 'file',
    from: 'reported',
    actor: 'operatorA',
    body: () => ({ categoryCode: '0502' }),
    bad: { categoryCode: 'x' },
    badField: 'body.categoryCode',
    wrongState: 'dispatched',
    outsider: 'operatorB',
    expected: 'filed',
    race: 'state',
  },
  {
    action: 'notFile',
    from: 'verifying',
    actor: 'operatorA',
    body: () => ({ reason: '经核实不属实' }),
    bad: {},
    badField: 'body.reason',
    wrongState: 'filed',
    outsider: 'operatorB',
    expected: 'not_filed',
    race: 'state',
  },
  {
    action: 'mergeDuplicate',
    from: 'reported',
    actor: 'operatorA',
    body: async () => ({ parentCaseId: await insertCase(db, world, { status: 'filed' }) }),
    bad: { parentCaseId: 'one' },
    badField: 'body.parentCaseId',
    wrongState: 'filed',
    outsider: 'operatorB',
    expected: 'duplicate',
    race: 'state',
  },
  {
    action: 'fixOnSpot',
    from: 'reported',
    setup: { categoryCode: '0401' },
    actor: 'workerA1',
    body: () => ({ result: '已清理' }),
    bad: {},
    badField: 'body.result',
    wrongState: 'filed',
    outsider: 'workerB1',
    expected: 'closed',
    race: 'state',
  },
  {
    action: 'escalate',
    from: 'filed',
    actor: 'operatorA',
    body: () => ({ reason: '需街道协调' }),
    bad: { reason: '' },
    badField: 'body.reason',
    wrongState: 'dispatched',
    outsider: 'operatorB',
    expected: 'filed',
    race: 'version',
  },
  {
    action: 'dispatch',
    from: 'filed',
    actor: 'operatorA',
    body: () => ({ leadDepartmentId: world.departments.urban, coDepartmentIds: [world.departments.water] }),
    bad: { leadDepartmentId: 0 },
    badField: 'body.leadDepartmentId',
    wrongState: 'reported',
    outsider: 'operatorB',
    expected: 'dispatched',
    race: 'state',
  },
  {
    action: 'accept',
    from: 'dispatched',
    actor: 'handlerUrban',
    body: () => ({}),
    bad: { comment: 1 },
    badField: 'body.comment',
    wrongState: 'responded',
    outsider: 'handlerWater',
    expected: 'in_progress',
    race: 'state',
  },
  {
    action: 'returnCase',
    from: 'dispatched',
    actor: 'handlerUrban',
    body: () => ({ reason: '非本部门职责' }),
    bad: {},
    badField: 'body.reason',
    wrongState: 'responded',
    outsider: 'handlerWater',
    expected: 'filed',
    race: 'state',
  },
  {
    action: 'suspend',
    from: 'in_progress',
    actor: 'handlerUrban',
    body: () => ({ reason: '等待材料' }),
    bad: {},
    badField: 'body.reason',
    wrongState: 'dispatched',
    outsider: 'handlerWater',
    expected: 'suspended',
    race: 'state',
  },
  {
    action: 'resume',
    from: 'suspended',
    actor: 'handlerUrban',
    body: () => ({}),
    bad: { comment: 1 },
    badField: 'body.comment',
    wrongState: 'responded',
    outsider: 'handlerWater',
    expected: 'in_progress',
    race: 'state',
  },
  {
    action: 'requestExtension',
    from: 'in_progress',
    actor: 'handlerUrban',
    body: () => ({ days: 3, reason: '需采购配件' }),
    bad: { days: 0, reason: '需采购' },
    badField: 'body.days',
    wrongState: 'dispatched',
    outsider: 'handlerWater',
    expected: 'in_progress',
    race: 'state',
  },
  {
    action: 'approveExtension',
    from: 'in_progress',
    setup: { extensionRequested: true },
    actor: 'operatorA',
    body: () => ({}),
    bad: { comment: 1 },
    badField: 'body.comment',
    wrongState: 'responded',
    outsider: 'operatorB',
    expected: 'in_progress',
    race: 'state',
  },
  {
    action: 'rejectExtension',
    from: 'in_progress',
    setup: { extensionRequested: true },
    actor: 'operatorA',
    body: () => ({ reason: '无需延期' }),
    bad: {},
    badField: 'body.reason',
    wrongState: 'responded',
    outsider: 'operatorB',
    expected: 'in_progress',
    race: 'state',
  },
  {
    action: 'respond',
    from: 'in_progress',
    actor: 'handlerUrban',
    body: () => ({ result: '已更换井盖' }),
    bad: {},
    badField: 'body.result',
    wrongState: 'dispatched',
    outsider: 'handlerWater',
    expected: 'responded',
    race: 'state',
  },
  {
    action: 'startInspection',
    from: 'responded',
    actor: 'workerA1',
    body: () => ({}),
    bad: { comment: 1 },
    badField: 'body.comment',
    wrongState: 'in_progress',
    outsider: 'workerB1',
    expected: 'inspecting',
    race: 'state',
  },
  {
    action: 'inspect',
    from: 'inspecting',
    actor: 'workerA1',
    body: () => ({ result: 'pass' }),
    bad: { result: 'fail' },
    badField: 'body.comment',
    wrongState: 'in_progress',
    outsider: 'workerB1',
    expected: 'closed',
    race: 'state',
  },
  {
    action: 'evaluate',
    from: 'closed',
    setup: { reporterUserId: -1 },
    actor: 'resident',
    body: () => ({ evaluation: 'satisfied' }),
    bad: { evaluation: 'great' },
    badField: 'body.evaluation',
    wrongState: 'in_progress',
    outsider: 'otherResident',
    expected: 'evaluated',
    race: 'state',
  },
  {
    action: 'reopen',
    from: 'evaluated',
    setup: { evaluation: 'dissatisfied' },
    actor: 'operatorA',
    body: () => ({ reason: '居民不满意' }),
    bad: {},
    badField: 'body.reason',
    wrongState: 'closed',
    outsider: 'operatorB',
    expected: 'dispatched',
    race: 'state',
  },
  {
    action: 'supervise',
    from: 'in_progress',
    actor: 'operatorStreet',
    body: () => ({ level: 'yellow' }),
    bad: { level: 'none' },
    badField: 'body.level',
    wrongState: 'closed',
    outsider: 'operatorB',
    expected: 'in_progress',
    race: 'version',
  },
  {
    action: 'instruct',
    from: 'in_progress',
    actor: 'leader',
    body: () => ({ comment: '请尽快解决' }),
    bad: {},
    badField: 'body.comment',
    wrongState: 'closed',
    outsider: 'operatorB',
    expected: 'in_progress',
    race: 'version',
  },
  {
    action: 'markUrgent',
    from: 'filed',
    actor: 'operatorA',
    body: () => ({}),
    bad: { comment: 1 },
    badField: 'body.comment',
    wrongState: 'closed',
    outsider: 'operatorB',
    expected: 'filed',
    race: 'state',
  },
];

async function makeCase(spec: Spec, status = spec.from): Promise<number> {
  const setup = { ...spec.setup };
  if (setup.reporterUserId === -1) setup.reporterUserId = reporter();
  return insertCase(db, world, { ...setup, status });
}

function post(caseId: number, action: string, payload: unknown, user?: WorldUser) {
  return server.app.inject({
    method: 'POST',
    url: `/api/cases/${caseId}/actions/${action}`,
    payload: payload as Record<string, unknown>,
    headers: user ? auth(world.users[user]) : {},
  });
}

it('covers every action of the table', () => {
  expect(specs.map((s) => s.action).sort()).toEqual(transitions.map((t) => t.action).sort());
});

describe.each(specs)('POST /api/cases/:id/actions/$action', (spec) => {
  it('401 without a session', async () => {
    const id = await makeCase(spec);
    const response = await post(id, spec.action, await spec.body());
    expect(response.statusCode).toBe(401);
  });

  it('400 with a bad body, naming the field', async () => {
    const id = await makeCase(spec);
    const response = await post(id, spec.action, spec.bad, spec.actor);
    expect(response.statusCode, response.body).toBe(400);
    const body = response.json<{ code: string; fields: { field: string }[] }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.fields.map((f) => f.field)).toContain(spec.badField);
  });

  it('404 for someone who cannot see the case', async () => {
    const id = await makeCase(spec);
    const response = await post(id, spec.action, await spec.body(), spec.outsider);
    expect(response.statusCode, response.body).toBe(404);
    const missing = await post(9_999_999, spec.action, await spec.body(), spec.actor);
    expect(missing.statusCode).toBe(404);
  });

  it('409 in a state that does not allow it', async () => {
    const id = await makeCase(spec, spec.wrongState);
    const response = await post(id, spec.action, await spec.body(), spec.actor);
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json<{ code: string }>().code).toBe('CASE_INVALID_TRANSITION');
  });

  it('200: changes the case, appends the timeline and the outbox', async () => {
    const id = await makeCase(spec);
    const before = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${id}`,
      headers: auth(world.users[spec.actor]),
    });
    expect(before.statusCode, before.body).toBe(200);
    expect(before.json<CaseDetail>().allowedActions).toContain(spec.action);
    const response = await post(id, spec.action, await spec.body(), spec.actor);
    expect(response.statusCode, response.body).toBe(200);
    const detail = response.json<CaseDetail>();
    expect(detail.status).toBe(spec.expected);
    expect(detail.version).toBe(1);
    const timeline = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${id}/timeline`,
      headers: auth(world.users[spec.actor]),
    });
    const items = timeline.json<{ items: CaseTimelineEntry[] }>().items;
    const last = items.at(-1)!;
    expect(last).toMatchObject({ action: spec.action, fromStatus: spec.from, toStatus: spec.expected });
    expect(last.actor?.id).toBe(world.users[spec.actor].id);
    const outbox = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from outbox where topic = ${transitions.find((t) => t.action === spec.action)!.event}
          and (payload ->> 'caseId')::int = ${id}`,
    );
    expect(outbox?.n).toBe(1);
  });

  it(`409 for the loser of two identical requests at once (${spec.race})`, async () => {
    const id = await makeCase(spec);
    const body = { ...(await spec.body()), ...(spec.race === 'version' ? { expectedVersion: 0 } : {}) };
    const responses = await Promise.all([
      post(id, spec.action, body, spec.actor),
      post(id, spec.action, body, spec.actor),
    ]);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const loser = responses.find((r) => r.statusCode === 409)!.json<{ code: string }>();
    expect(loser.code).toBe(spec.race === 'state' ? 'CASE_INVALID_TRANSITION' : 'CASE_VERSION_CONFLICT');
    const row = await one<{ version: number; n: number }>(
      db.orm,
      sql`select version, (select count(*)::int from case_timeline t where t.case_id = c.id and t.action = ${spec.action}) as n
          from grid_case c where c.id = ${id}`,
    );
    expect(row).toEqual({ version: 1, n: 1 });
  });
});

describe('rules beyond the state', () => {
  const get = (id: number, user: WorldUser) =>
    server.app.inject({ method: 'GET', url: `/api/cases/${id}`, headers: auth(world.users[user]) });

  it('403 when the caller sees the case but is not the one to act', async () => {
    const filed = await insertCase(db, world, { status: 'filed' });
    const response = await post(filed, 'dispatch', { leadDepartmentId: world.departments.urban }, 'workerA1');
    expect(response.statusCode).toBe(403);
    const mine = await insertCase(db, world, { reporterUserId: world.users.resident.id });
    expect((await post(mine, 'verify', {}, 'resident')).statusCode).toBe(403);
    expect((await post(mine, 'supervise', { level: 'red' }, 'operatorA')).statusCode).toBe(403);
  });

  it('supervise: a card is given again or raised, never lowered', async () => {
    const id = await insertCase(db, world, { status: 'in_progress' });
    expect((await post(id, 'supervise', { level: 'red' }, 'operatorStreet')).statusCode).toBe(200);
    const lowered = await post(id, 'supervise', { level: 'yellow' }, 'operatorStreet');
    expect(lowered.statusCode).toBe(409);
    expect(lowered.json<{ code: string }>().code).toBe('CASE_INVALID_TRANSITION');
    expect((await get(id, 'operatorStreet')).json<CaseDetail>().supervision).toBe('red');
    expect(
      (await post(id, 'supervise', { level: 'red', comment: '再次督办' }, 'operatorStreet')).statusCode,
    ).toBe(200);
  });

  it('answers allowedActions from the same table and policy', async () => {
    const id = await insertCase(db, world, { status: 'reported', reporterUserId: world.users.resident.id });
    expect((await get(id, 'operatorA')).json<CaseDetail>().allowedActions.sort()).toEqual(
      ['escalate', 'file', 'markUrgent', 'mergeDuplicate', 'notFile', 'verify'].sort(),
    );
    expect((await get(id, 'workerA1')).json<CaseDetail>().allowedActions).toEqual(['verify']);
    expect((await get(id, 'leader')).json<CaseDetail>().allowedActions.sort()).toEqual([
      'instruct',
      'supervise',
    ]);
    expect((await get(id, 'resident')).json<CaseDetail>().allowedActions).toEqual([]);
    expect((await get(id, 'otherResident')).statusCode).toBe(404);
    expect((await get(id, 'handlerUrban')).statusCode).toBe(404);
  });

  it('shows the case with a masked reporter, location and owner', async () => {
    const id = await insertCase(db, world, { status: 'filed' });
    const detail = (await get(id, 'operatorA')).json<CaseDetail>();
    expect(detail.reporter.name).toBe('张**');
    expect(detail.location).toEqual([130.35, 46.85]);
    expect(detail.owner).toMatchObject({ regionCode: territory.communityA, level: 'community' });
    expect(detail.grid.code).toBe(territory.gridA1);
    expect(JSON.stringify(detail)).not.toContain('张三丰');
  });

  it('dispatch: departments must cover the place; sets the accept deadline and the departments', async () => {
    const id = await insertCase(db, world, { status: 'filed' });
    const wrong = await post(id, 'dispatch', { leadDepartmentId: world.departments.eastOnly }, 'operatorA');
    expect(wrong.statusCode).toBe(400);
    const dup = await post(
      id,
      'dispatch',
      { leadDepartmentId: world.departments.urban, ccDepartmentIds: [world.departments.urban] },
      'operatorA',
    );
    expect(dup.statusCode).toBe(400);
    const ok = await post(
      id,
      'dispatch',
      { leadDepartmentId: world.departments.urban, ccDepartmentIds: [world.departments.water] },
      'operatorA',
    );
    expect(ok.statusCode, ok.body).toBe(200);
    const detail = ok.json<CaseDetail>();
    // 0501: 2 hours to accept
    expect(detail.due.accept).toBe('2026-11-20T04:00:00.000Z');
    expect(detail.due.current).toBe(detail.due.accept);
    expect(detail.leadDepartment?.id).toBe(world.departments.urban);
    expect(detail.departments.map((d) => d.role).sort()).toEqual(['cc', 'lead']);
    // the cc department now sees the case, but may not accept it
    expect((await get(id, 'handlerWater')).json<CaseDetail>().allowedActions).toEqual([]);
    expect((await post(id, 'accept', {}, 'handlerWater')).statusCode).toBe(403);
  });

  it('dispatch without a lead department uses the item’s default for the place, or asks for one', async () => {
    const id = await insertCase(db, world, { status: 'filed' });
    const none = await post(id, 'dispatch', {}, 'operatorA');
    expect(none.statusCode, none.body).toBe(400);
    await db.orm
      .execute(sql`insert into category_department_rule (item_code, region_code, region_path, department_id)
      values ('0501', ${territory.district}, ${world.paths.district}, ${world.departments.water})`);
    const ok = await post(id, 'dispatch', {}, 'operatorA');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<CaseDetail>().leadDepartment?.id).toBe(world.departments.water);
    await db.orm.execute(sql`delete from category_department_rule where item_code = '0501'`);
  });

  it('inspect fail: rework back to the lead department', async () => {
    const id = await insertCase(db, world, { status: 'responded' });
    const response = await post(id, 'inspect', { result: 'fail', comment: '井盖仍松动' }, 'workerA1');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<CaseDetail>()).toMatchObject({ status: 'dispatched', reworkCount: 1 });
    expect((await get(id, 'handlerUrban')).json<CaseDetail>().allowedActions).toContain('accept');
  });

  it('escalate: one level up; skip-level only for urgent cases or emergencies', async () => {
    const plain = await insertCase(db, world, { status: 'filed' });
    const skip = await post(plain, 'escalate', { reason: '重大', skipLevel: true }, 'operatorA');
    expect(skip.statusCode).toBe(400);
    const one_ = await post(plain, 'escalate', { reason: '需街道协调' }, 'operatorA');
    expect(one_.json<CaseDetail>().owner).toMatchObject({ regionCode: territory.street, level: 'street' });
    // the community no longer owns it: the street does
    expect(
      (await post(plain, 'dispatch', { leadDepartmentId: world.departments.urban }, 'operatorA')).statusCode,
    ).toBe(403);
    const urgent = await insertCase(db, world, { status: 'filed', urgent: true });
    const skipped = await post(urgent, 'escalate', { reason: '紧急', skipLevel: true }, 'operatorA');
    expect(skipped.json<CaseDetail>().owner).toMatchObject({
      regionCode: territory.district,
      level: 'district',
    });
    const top = await insertCase(db, world, { status: 'filed', ownerLevel: 'city' });
    expect((await get(top, 'operatorA')).json<CaseDetail>().allowedActions).not.toContain('escalate');
  });

  it('fix on the spot only where the item allows it (简易程序)', async () => {
    const id = await insertCase(db, world, { categoryCode: '0501' });
    const response = await post(id, 'fixOnSpot', { result: '已处理' }, 'workerA1');
    expect(response.statusCode).toBe(409);
  });

  it('evaluate: by the reporter, or by an operator’s call-back; the method is recorded', async () => {
    const id = await insertCase(db, world, { status: 'closed', reporterUserId: world.users.resident.id });
    expect(
      (await post(id, 'evaluate', { evaluation: 'satisfied', method: 'self' }, 'hotline')).statusCode,
    ).toBe(403);
    const callback = await post(id, 'evaluate', { evaluation: 'dissatisfied' }, 'hotline');
    expect(callback.statusCode, callback.body).toBe(200);
    const timeline = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${id}/timeline`,
      headers: auth(world.users.resident),
    });
    expect(timeline.json<{ items: CaseTimelineEntry[] }>().items.at(-1)?.data).toMatchObject({
      method: 'callback',
      evaluation: 'dissatisfied',
    });
    const reopened = await post(id, 'reopen', { reason: '居民不满意' }, 'operatorA');
    expect(reopened.json<CaseDetail>()).toMatchObject({ status: 'dispatched', evaluation: null });
  });

  it('suspend stops the clock; resume moves the handling deadline by the working days lost', async () => {
    const id = await insertCase(db, world, { status: 'suspended' });
    // suspended and resumed on the same day: no working day lost, the deadline stays
    const sameDay = await post(id, 'resume', {}, 'handlerUrban');
    expect(sameDay.json<CaseDetail>().due.handle).toBe('2026-11-25T15:59:59.000Z');
    // suspended on Friday 2026-09-25 (中秋节 25–27 Sept), resumed on Friday 2026-10-09: the working days after
    // the 25th up to the 9th are 28, 29, 30 Sept and 8, 9 Oct (1–7 Oct National Day) → 5 working days
    const later = await insertCase(db, world, { status: 'suspended' });
    await db.orm.execute(
      sql`update grid_case set handle_due_at = '2026-09-30T15:59:59.999Z' where id = ${later}`,
    );
    await db.orm.execute(
      sql`update case_timeline set at = '2026-09-25T02:00:00Z' where case_id = ${later} and action = 'suspend'`,
    );
    clock.set('2026-10-09T03:00:00Z');
    try {
      const resumed = await post(later, 'resume', {}, 'handlerUrban');
      expect(resumed.statusCode).toBe(200);
      // due end of 30 Sept + 5 working days: 8, 9, 10 (make-up Saturday), 12, 13 Oct → end of Tuesday 13 Oct
      expect(resumed.json<CaseDetail>().due.handle).toBe('2026-10-13T15:59:59.999Z');
    } finally {
      clock.set('2026-11-20T02:00:00Z');
    }
  });

  it('extension: requested days move the handling deadline when approved', async () => {
    const id = await insertCase(db, world, { status: 'in_progress' });
    await post(id, 'requestExtension', { days: 2, reason: '需采购' }, 'handlerUrban');
    const approved = await post(id, 'approveExtension', {}, 'operatorA');
    expect(approved.json<CaseDetail>()).toMatchObject({ extensionRequested: false });
    // due Wednesday 25 November (end of day, China time) + 2 working days: the end of Friday the 27th
    expect(approved.json<CaseDetail>().due.handle).toBe('2026-11-27T15:59:59.999Z');
  });

  it('extension days are Chinese working days: across the National Day holiday 2026', async () => {
    const id = await insertCase(db, world, { status: 'in_progress' });
    // due at the end of Wednesday 30 September 2026, China time
    await db.orm.execute(
      sql`update grid_case set handle_due_at = '2026-09-30T15:59:59.999Z' where id = ${id}`,
    );
    await post(id, 'requestExtension', { days: 3, reason: '节日期间无法施工' }, 'handlerUrban');
    const approved = await post(id, 'approveExtension', {}, 'operatorA');
    expect(approved.statusCode, approved.body).toBe(200);
    // 1–7 October are holidays; Thursday 8, Friday 9 and the make-up Saturday 10 are the three working days
    // (calendar days would have given 3 October)
    expect(approved.json<CaseDetail>().due.handle).toBe('2026-10-10T15:59:59.999Z');
    expect(approved.json<CaseDetail>().due.beyondCalendar).toBe(false);
    const timeline = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${id}/timeline`,
      headers: auth(world.users.operatorA),
    });
    expect(timeline.json<{ items: CaseTimelineEntry[] }>().items.at(-1)?.data).toMatchObject({
      days: 3,
      handleDueAt: '2026-10-10T15:59:59.999Z',
    });
  });

  it('409 CASE_VERSION_CONFLICT for a stale expectedVersion; 404 for an unknown action', async () => {
    const id = await insertCase(db, world, { status: 'reported' });
    const stale = await post(id, 'verify', { expectedVersion: 3 }, 'operatorA');
    expect(stale.statusCode).toBe(409);
    expect(stale.json<{ code: string }>().code).toBe('CASE_VERSION_CONFLICT');
    expect((await post(id, 'setStatus', {}, 'operatorA')).statusCode).toBe(404);
    expect((await post(id, 'verify', { expectedVersion: 0 }, 'operatorA')).statusCode).toBe(200);
  });
});

describe('attachments on a step', () => {
  const upload = async (caseId: number, user: WorldUser, colour: string) => {
    const png = await sharp({ create: { width: 16, height: 12, channels: 3, background: colour } })
      .png()
      .toBuffer();
    const response = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${caseId}/photos`,
      payload: png,
      headers: { 'content-type': 'image/png', ...auth(world.users[user]) },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: number }>().id;
  };
  const timelineOf = async (caseId: number, user: WorldUser) =>
    (
      await server.app.inject({
        method: 'GET',
        url: `/api/cases/${caseId}/timeline`,
        headers: auth(world.users[user]),
      })
    ).json<{ items: CaseTimelineEntry[] }>().items;

  it('respond with a photo of the fixed problem, inspect with another: the timeline shows them', async () => {
    const id = await insertCase(db, world, { status: 'in_progress' });
    const fixed = await upload(id, 'handlerUrban', '#3a3');
    const responded = await post(
      id,
      'respond',
      { result: '已更换井盖', attachments: [fixed] },
      'handlerUrban',
    );
    expect(responded.statusCode, responded.body).toBe(200);
    await post(id, 'startInspection', {}, 'workerA1');
    const checked = await upload(id, 'workerA1', '#33a');
    const inspected = await post(id, 'inspect', { result: 'pass', attachments: [checked] }, 'workerA1');
    expect(inspected.statusCode, inspected.body).toBe(200);

    const items = await timelineOf(id, 'operatorA');
    expect(items.find((t) => t.action === 'respond')?.attachments).toEqual([
      { photoId: fixed, contentType: 'image/jpeg' },
    ]);
    expect(items.find((t) => t.action === 'inspect')?.attachments).toEqual([
      { photoId: checked, contentType: 'image/jpeg' },
    ]);
    expect(items.find((t) => t.action === 'startInspection')?.attachments).toEqual([]);
    // the attached photo is readable through the case
    const read = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${id}/photos/${fixed}`,
      headers: auth(world.users.operatorA),
    });
    expect(read.statusCode).toBe(200);
  });

  it('400 body.attachments for a photo of another case or an unknown photo; nothing changes', async () => {
    const id = await insertCase(db, world, { status: 'in_progress' });
    const other = await insertCase(db, world, { status: 'in_progress' });
    const foreign = await upload(other, 'handlerUrban', '#a33');
    for (const attachments of [[foreign], [9_999_999]]) {
      const response = await post(id, 'respond', { result: '已处理', attachments }, 'handlerUrban');
      expect(response.statusCode, response.body).toBe(400);
      const body = response.json<{ code: string; message: string; fields: { field: string }[] }>();
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.message).toMatch(
        /^body\.attachments: .*不是本案件的照片.*\(photo \d+ is not a photo of this case/,
      );
      expect(body.fields.map((f) => f.field)).toEqual(['body.attachments']);
    }
    const row = await one<{ status: string; version: number }>(
      db.orm,
      sql`select status, version from grid_case where id = ${id}`,
    );
    expect(row).toEqual({ status: 'in_progress', version: 0 });
  });

  it('photos follow the case policy: a handler whose department is not on the case gets 404', async () => {
    const id = await insertCase(db, world, { status: 'in_progress' });
    const photo = await upload(id, 'handlerUrban', '#3aa');
    // handlerWater covers the district but the water department is not on this case: it cannot see it at all
    const detail = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${id}`,
      headers: auth(world.users.handlerWater),
    });
    expect(detail.statusCode).toBe(404);
    const read = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${id}/photos/${photo}`,
      headers: auth(world.users.handlerWater),
    });
    expect(read.statusCode).toBe(404);
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#aa3' } })
      .png()
      .toBuffer();
    const write = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${id}/photos`,
      payload: png,
      headers: { 'content-type': 'image/png', ...auth(world.users.handlerWater) },
    });
    expect(write.statusCode).toBe(404);
  });

  it('400 for more than 10 photos on one step', async () => {
    const id = await insertCase(db, world, { status: 'in_progress' });
    const attachments = Array.from({ length: 11 }, (_, i) => i + 1);
    const response = await post(id, 'respond', { result: '已处理', attachments }, 'handlerUrban');
    expect(response.statusCode).toBe(400);
    expect(response.json<{ fields: { field: string }[] }>().fields.map((f) => f.field)).toContain(
      'body.attachments',
    );
  });
});

describe('reopenOnDissatisfied switched off', () => {
  let strict: Wangge;

  beforeAll(async () => {
    strict = await testServer(db, {
      clock: fixedClock('2026-11-20T02:00:00Z'),
      config: { dataDir, reopenOnDissatisfied: false },
    });
  });

  afterAll(async () => {
    await strict?.app.close();
  });

  it('reopen is not offered and answers 409', async () => {
    const id = await insertCase(db, world, { status: 'evaluated', evaluation: 'dissatisfied' });
    const headers = auth(world.users.operatorA);
    const offered = await server.app.inject({ method: 'GET', url: `/api/cases/${id}`, headers });
    expect(offered.json<CaseDetail>().allowedActions).toContain('reopen');
    const detail = await strict.app.inject({ method: 'GET', url: `/api/cases/${id}`, headers });
    expect(detail.statusCode, detail.body).toBe(200);
    expect(detail.json<CaseDetail>().allowedActions).not.toContain('reopen');
    const response = await strict.app.inject({
      method: 'POST',
      url: `/api/cases/${id}/actions/reopen`,
      payload: { reason: '居民不满意' },
      headers,
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json<{ code: string }>().code).toBe('CASE_INVALID_TRANSITION');
    expect(
      (await one<{ status: string }>(db.orm, sql`select status from grid_case where id = ${id}`))?.status,
    ).toBe('evaluated');
  });
});
