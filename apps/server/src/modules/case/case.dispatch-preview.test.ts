import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaseDetail, DispatchPreview } from '@wangge/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, makeUser, territory } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { getWorkCalendar } from '../calendar/index.ts';
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
/** a department of the street (covers grid A1) and one of community A */
let streetDepartment: number;
let communityDepartment: number;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  const department = async (code: string, name: string, key: 'street' | 'communityA') =>
    (await one<{ id: number }>(
      db.orm,
      sql`insert into department (code, name, region_code, region_path)
          values (${code}, ${name}, ${territory[key]}, ${world.paths[key]}) returning id::int as id`,
    ))!.id;
  streetDepartment = await department('dp-street', '街道综合执法队', 'street');
  communityDepartment = await department('dp-community', '西林社区物业', 'communityA');
  // 0501 goes to water in this district by rule (the default department)
  await db.orm
    .execute(sql`insert into category_department_rule (item_code, region_code, region_path, department_id)
    values ('0501', ${territory.district}, ${world.paths.district}, ${world.departments.water})`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-dispatch-preview-'));
  // The clock moves on by days here: sessions must not idle out meanwhile.
  server = await testServer(db, { clock, config: { dataDir, sessionIdleSeconds: 365 * 86_400 } });
});

afterAll(async () => {
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function preview(caseId: number, user: WorldUser, query = '') {
  return server.app.inject({
    method: 'GET',
    url: `/api/cases/${caseId}/dispatch-preview${query}`,
    headers: auth(world.users[user]),
  });
}

async function act(caseId: number, action: string, body: Record<string, unknown>, user: WorldUser) {
  const response = await server.app.inject({
    method: 'POST',
    url: `/api/cases/${caseId}/actions/${action}`,
    headers: auth(world.users[user]),
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<CaseDetail>();
}

describe('GET /api/cases/{id}/dispatch-preview', () => {
  it('lists the departments that cover the case, the default first, with the deadlines of a dispatch now', async () => {
    clock.set('2026-11-20T02:00:00Z');
    const id = await insertCase(db, world, { status: 'filed' });
    const response = await preview(id, 'operatorA');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<DispatchPreview>();
    expect(body.defaultDepartmentId).toBe(world.departments.water);
    // the default, then the most local; eastOnly (community B) does not cover grid A1
    expect(body.departments.map((d) => d.id)).toEqual([
      world.departments.water,
      communityDepartment,
      streetDepartment,
      world.departments.urban,
    ]);
    expect(body.departments[1]).toEqual({
      id: communityDepartment,
      code: 'dp-community',
      name: '西林社区物业',
    });
    // 0501 at community level: 2 hours to accept, 3 working days to handle
    expect(body.limits).toEqual({ acceptHours: 2, handleWorkingDays: 3 });
    expect(body.acceptDueAt).toBe('2026-11-20T04:00:00.000Z');
    const calendar = await getWorkCalendar(db.orm);
    expect(body.handleDueAt).toBe(
      calendar.addWorkingDays(new Date('2026-11-20T02:00:00Z'), 3).dueAt.toISOString(),
    );
    // a chosen department that covers the place is fine; one that does not is refused
    expect((await preview(id, 'operatorA', `?departmentId=${streetDepartment}`)).statusCode).toBe(200);
    const wrong = await preview(id, 'operatorA', `?departmentId=${world.departments.eastOnly}`);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe('query.departmentId');
  });

  it('the deadlines it shows are the ones the dispatch sets at the same moment', async () => {
    // (a) a case filed through the workflow: the handling deadline runs from the filing
    clock.set('2026-11-20T03:00:00Z');
    const filed = await insertCase(db, world, { status: 'reported' });
    const afterFiling = await act(filed, 'file', {}, 'operatorA');
    expect(afterFiling.due.handle).not.toBeNull();
    clock.set('2026-11-23T09:30:00Z');
    const shown = (await preview(filed, 'operatorA')).json<DispatchPreview>();
    const dispatched = await act(filed, 'dispatch', {}, 'operatorA');
    expect(dispatched.leadDepartment?.id).toBe(shown.defaultDepartmentId);
    expect(dispatched.due.handle).toBe(shown.handleDueAt);
    expect(dispatched.due.accept).toBe(shown.acceptDueAt);
    expect(shown.handleDueAt).toBe(afterFiling.due.handle);
    expect(shown.acceptDueAt).toBe('2026-11-23T11:30:00.000Z');

    // (b) a case with no handling deadline yet: the dispatch counts one from now, as the preview said
    const bare = await insertCase(db, world, { status: 'filed' });
    clock.set('2026-11-28T03:00:00Z'); // a Saturday in China
    const shownBare = (
      await preview(bare, 'operatorA', `?departmentId=${world.departments.urban}`)
    ).json<DispatchPreview>();
    const dispatchedBare = await act(
      bare,
      'dispatch',
      { leadDepartmentId: world.departments.urban },
      'operatorA',
    );
    expect(dispatchedBare.due.handle).toBe(shownBare.handleDueAt);
    expect(dispatchedBare.due.accept).toBe(shownBare.acceptDueAt);
    expect(new Date(shownBare.handleDueAt).getTime()).toBeGreaterThan(
      new Date('2026-11-30T15:59:59Z').getTime(),
    );

    // (c) at the district level the item's limits for that level apply to both
    await db.orm
      .execute(sql`update case_category set limits_by_level = '{"district": {"acceptHours": 6}}'::jsonb
      where code = '0501'`);
    try {
      const high = await insertCase(db, world, { status: 'filed', ownerLevel: 'district' });
      const district = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.district }]);
      const shownHigh = (
        await server.app.inject({
          method: 'GET',
          url: `/api/cases/${high}/dispatch-preview`,
          headers: auth(district),
        })
      ).json<DispatchPreview>();
      expect(shownHigh.limits.acceptHours).toBe(6);
      const done = await server.app.inject({
        method: 'POST',
        url: `/api/cases/${high}/actions/dispatch`,
        headers: auth(district),
        payload: {},
      });
      expect(done.statusCode, done.body).toBe(200);
      expect(done.json<CaseDetail>().due).toMatchObject({
        accept: shownHigh.acceptDueAt,
        handle: shownHigh.handleDueAt,
      });
      expect(shownHigh.acceptDueAt).toBe('2026-11-28T09:00:00.000Z');
    } finally {
      await db.orm.execute(sql`update case_category set limits_by_level = '{}'::jsonb where code = '0501'`);
    }
  });

  it('answers as the dispatch would: 404 out of sight, 409 in the wrong state, 403 not the owner or no right to dispatch, 401', async () => {
    clock.set('2026-11-20T02:00:00Z');
    const filed = await insertCase(db, world, { status: 'filed' });
    expect((await preview(filed, 'operatorB')).statusCode).toBe(404);
    // a department handler may never dispatch: 403 whatever the case (it learns nothing of it)
    expect((await preview(filed, 'handlerUrban')).statusCode).toBe(403);
    expect((await preview(999_999, 'operatorA')).statusCode).toBe(404);
    // the street centre sees the case but the community owns it
    const notOwner = await preview(filed, 'operatorStreet');
    expect(notOwner.statusCode).toBe(403);
    expect(notOwner.json<{ code: string }>().code).toBe('FORBIDDEN');
    const reported = await insertCase(db, world, { status: 'reported' });
    const wrongState = await preview(reported, 'operatorA');
    expect(wrongState.statusCode).toBe(409);
    expect(wrongState.json<{ code: string }>().code).toBe('CASE_INVALID_TRANSITION');
    const dispatched = await insertCase(db, world, { status: 'dispatched' });
    expect((await preview(dispatched, 'operatorA')).statusCode).toBe(409);
    expect((await preview(dispatched, 'handlerUrban')).statusCode).toBe(403);
    expect((await preview(filed, 'operatorA', '?departmentId=0')).statusCode).toBe(400);
    expect(
      (await server.app.inject({ method: 'GET', url: `/api/cases/${filed}/dispatch-preview` })).statusCode,
    ).toBe(401);
  });
});
