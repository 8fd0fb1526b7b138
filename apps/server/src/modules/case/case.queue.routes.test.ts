import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { enqueue } from '../../platform/outbox.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { authenticate } from '../identity/index.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';
import { processOutbox } from './case.notify.ts';
import { bucketsFor } from './case.queues.ts';

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let gridWorker: TestUser;
let operatorA: TestUser;
let operatorStreet: TestUser;
let handler: TestUser;
let leader: TestUser;
let departmentId: number;
const ids: Record<string, number> = {};

interface Fixture {
  key: string;
  status: string;
  grid: string;
  owner: string;
  title?: string;
  dueAt?: string;
  overdue?: boolean;
  supervision?: string;
  instructed?: boolean;
  reporter?: number;
  department?: 'pending' | 'accepted';
}

const pathOf: Record<string, string> = {
  [territory.gridA1]: '230800.230803.001.001.001',
  [territory.gridB1]: '230800.230803.001.002.001',
  [territory.communityA]: '230800.230803.001.001',
  [territory.communityB]: '230800.230803.001.002',
  [territory.street]: '230800.230803.001',
};

let serial = 0;
async function insertCase(f: Fixture): Promise<number> {
  serial += 1;
  const level = f.owner === territory.street ? 'street' : 'community';
  const row = await one<{ id: number }>(
    db.orm,
    sql`insert into grid_case (client_id, serial, title, description, category_code, channel, status, grid_code,
          region_path, owner_region_code, owner_region_path, owner_level, reporter_user_id, due_at, overdue,
          supervision, instructed, reported_at)
        values (${crypto.randomUUID()}, ${`2026-230803-${String(900000 + serial)}`}, ${f.title ?? `事件 ${f.key}`},
          '', '0101', 'grid_worker', ${f.status}, ${f.grid}, ${pathOf[f.grid]}, ${f.owner}, ${pathOf[f.owner]},
          ${level}, ${f.reporter ?? null}, ${f.dueAt ?? null}, ${f.overdue ?? false}, ${f.supervision ?? 'none'},
          ${f.instructed ?? false}, ${new Date(Date.UTC(2026, 10, 1, serial)).toISOString()})
        returning id::int as id`,
  );
  if (f.department)
    await db.orm.execute(sql`insert into case_department (case_id, department_id, role, status, assigned_at)
      values (${row!.id}, ${departmentId}, 'lead', ${f.department}, '2026-11-10T00:00:00Z')`);
  return row!.id;
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-queues-'));
  server = await testServer(db, { clock, config: { dataDir } });
  departmentId = (await one<{ id: number }>(
    db.orm,
    sql`insert into department (code, name, region_code, region_path)
        values ('urban-management-230803001', '城管中队', ${territory.street}, ${pathOf[territory.street]})
        returning id::int as id`,
  ))!.id;
  gridWorker = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
  operatorA = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.communityA }]);
  operatorStreet = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
  handler = await makeUser(db, [{ role: 'department_handler', regionCode: territory.street, departmentId }]);
  leader = await makeUser(db, [{ role: 'leader', regionCode: territory.district }]);

  const A1 = territory.gridA1;
  const B1 = territory.gridB1;
  const cA = territory.communityA;
  const st = territory.street;
  const fixtures: Fixture[] = [
    { key: 'c1', status: 'reported', grid: A1, owner: cA, reporter: gridWorker.id, title: '井盖缺失' },
    { key: 'c2', status: 'verifying', grid: A1, owner: cA },
    { key: 'c3', status: 'filed', grid: A1, owner: cA },
    { key: 'c4', status: 'responded', grid: A1, owner: cA, dueAt: '2026-11-22T15:59:59Z' },
    { key: 'c5', status: 'inspecting', grid: A1, owner: st, dueAt: '2026-11-21T15:59:59Z' },
    {
      key: 'c6',
      status: 'dispatched',
      grid: A1,
      owner: st,
      dueAt: '2026-11-20T06:00:00Z',
      department: 'pending',
    },
    {
      key: 'c7',
      status: 'in_progress',
      grid: A1,
      owner: st,
      dueAt: '2026-11-18T15:59:59Z',
      overdue: true,
      supervision: 'yellow',
      department: 'accepted',
    },
    { key: 'c8', status: 'closed', grid: A1, owner: cA, instructed: true },
    { key: 'c9', status: 'reported', grid: B1, owner: territory.communityB, reporter: gridWorker.id },
    {
      key: 'c10',
      status: 'in_progress',
      grid: B1,
      owner: st,
      dueAt: '2026-11-19T15:59:59Z',
      overdue: true,
      instructed: true,
      department: 'accepted',
    },
  ];
  for (const f of fixtures) ids[f.key] = await insertCase(f);
});

afterAll(async () => {
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

interface QueueBody {
  buckets: { key: string; count: number; label_zh: string }[];
  bucket: string | null;
  items: { id: number; serial: string }[];
  nextCursor: string | null;
}

const queue = (user: TestUser | null, query = '') =>
  server.app.inject({
    method: 'GET',
    url: `/api/queues/mine${query}`,
    ...(user ? { headers: auth(user) } : {}),
  });

const counts = (body: QueueBody) => Object.fromEntries(body.buckets.map((b) => [b.key, b.count]));
const keys = (body: QueueBody, names: string[]) => body.items.map((i) => names.find((n) => ids[n] === i.id));

describe('GET /api/queues/mine', () => {
  it('401 without a session, 400 for a bucket the actor does not have or a bad cursor', async () => {
    expect((await queue(null)).statusCode).toBe(401);
    expect((await queue(gridWorker, '?bucket=to_dispatch')).statusCode).toBe(400);
    expect((await queue(gridWorker, '?bucket=to_inspect&cursor=garbage')).statusCode).toBe(400);
    expect((await queue(gridWorker, '?limit=500')).statusCode).toBe(400);
  });

  const all = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10'];

  it('grid worker: to inspect and reported in my grids, my reports; soonest deadline first, paged by cursor', async () => {
    const response = await queue(gridWorker);
    expect(response.statusCode).toBe(200);
    const body = response.json<QueueBody>();
    expect(counts(body)).toEqual({ to_inspect: 2, reported_in_my_grids: 2, my_reports: 2 });
    expect(body.bucket).toBe('to_inspect');
    expect(keys(body, all)).toEqual(['c5', 'c4']);

    const first = (await queue(gridWorker, '?bucket=to_inspect&limit=1')).json<QueueBody>();
    expect(keys(first, all)).toEqual(['c5']);
    expect(first.nextCursor).not.toBeNull();
    const second = (
      await queue(gridWorker, `?bucket=to_inspect&limit=1&cursor=${first.nextCursor}`)
    ).json<QueueBody>();
    expect(keys(second, all)).toEqual(['c4']);
    expect(second.nextCursor).toBeNull();

    const mine = (await queue(gridWorker, '?bucket=my_reports')).json<QueueBody>();
    expect(keys(mine, all)).toEqual(['c9', 'c1']);
  });

  it('centre operator: owned by my centre (verify, file, dispatch, inspect) and overdue in my subtree', async () => {
    const body = (await queue(operatorA)).json<QueueBody>();
    expect(counts(body)).toEqual({
      to_verify: 1,
      to_file: 1,
      to_dispatch: 1,
      to_inspect: 1,
      overdue: 1,
      my_reports: 0,
    });
    expect(keys((await queue(operatorA, '?bucket=overdue')).json<QueueBody>(), all)).toEqual(['c7']);
    const street = (await queue(operatorStreet)).json<QueueBody>();
    expect(counts(street)).toEqual({
      to_verify: 0,
      to_file: 0,
      to_dispatch: 0,
      to_inspect: 1,
      overdue: 2,
      my_reports: 0,
    });
    expect(street.bucket).toBe('to_inspect');
  });

  it('department handler: awaiting acceptance, in progress, overdue', async () => {
    const body = (await queue(handler)).json<QueueBody>();
    expect(counts(body)).toEqual({ awaiting_accept: 1, in_progress: 2, overdue: 2 });
    expect(keys(body, all)).toEqual(['c6']);
    expect(keys((await queue(handler, '?bucket=in_progress')).json<QueueBody>(), all)).toEqual(['c7', 'c10']);
  });

  it('leader: supervised and instructed open cases', async () => {
    const body = (await queue(leader)).json<QueueBody>();
    expect(counts(body)).toEqual({ supervised: 1, instructed: 1 });
    expect(keys((await queue(leader, '?bucket=instructed')).json<QueueBody>(), all)).toEqual(['c10']);
  });

  it('searches by serial prefix and by text', async () => {
    const bySerial = (await queue(gridWorker, `?bucket=my_reports&q=2026-230803-900001`)).json<QueueBody>();
    expect(keys(bySerial, all)).toEqual(['c1']);
    const byText = (
      await queue(gridWorker, `?bucket=my_reports&q=${encodeURIComponent('井盖')}`)
    ).json<QueueBody>();
    expect(keys(byText, all)).toEqual(['c1']);
    const wildcard = (await queue(gridWorker, `?bucket=my_reports&q=%25`)).json<QueueBody>();
    expect(wildcard.items).toEqual([]);
  });
});

interface NotificationBody {
  items: { id: number; kind: string; caseId: number; title: string; readAt: string | null }[];
  unreadCount: number;
}

const notifications = (user: TestUser | null, query = '') =>
  server.app.inject({
    method: 'GET',
    url: `/api/notifications${query}`,
    ...(user ? { headers: auth(user) } : {}),
  });

describe('outbox → notifications', () => {
  it('a new case notifies the owning centre’s operators exactly once, however often the processor runs', async () => {
    await db.orm.execute(sql`update outbox set processed_at = ${clock.now().toISOString()}`);
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: auth(gridWorker),
      payload: {
        clientId: crypto.randomUUID(),
        title: '路灯不亮',
        categoryCode: '0101',
        location: { lng: 130.35, lat: 46.85 },
        channel: 'grid_worker',
      },
    });
    expect(created.statusCode).toBe(201);
    const caseId = created.json<{ id: number }>().id;

    const first = await processOutbox({ db, clock });
    const second = await processOutbox({ db, clock });
    expect(first).toMatchObject({ processed: 1, failed: 0, notifications: 1 });
    expect(second).toMatchObject({ processed: 0, notifications: 0 });

    const stored = await rows<{ user_id: number }>(
      db.orm,
      sql`select user_id::int as user_id from notification where case_id = ${caseId}`,
    );
    expect(stored).toEqual([{ user_id: operatorA.id }]);

    const list = (await notifications(operatorA, '?unread=1')).json<NotificationBody>();
    expect(list.unreadCount).toBe(1);
    expect(list.items[0]).toMatchObject({ kind: 'case.created', caseId });
    expect(list.items[0]?.title).toContain('路灯不亮');
  });

  it('dispatch notifies the department’s handlers, closing notifies the reporter; the actor is not told', async () => {
    await db.orm.transaction(async (tx) => {
      await enqueue(
        tx,
        { topic: 'case.dispatched', payload: { caseId: ids.c6, actorId: operatorStreet.id } },
        clock.now(),
      );
      await enqueue(
        tx,
        { topic: 'case.closed', payload: { caseId: ids.c1, actorId: operatorA.id } },
        clock.now(),
      );
    });
    const result = await processOutbox({ db, clock });
    expect(result).toMatchObject({ processed: 2, notifications: 2 });
    const handlerList = (await notifications(handler)).json<NotificationBody>();
    expect(handlerList.items.map((i) => [i.kind, i.caseId])).toEqual([['case.dispatched', ids.c6]]);
    const reporterList = (await notifications(gridWorker)).json<NotificationBody>();
    expect(reporterList.items.map((i) => [i.kind, i.caseId])).toEqual([['case.closed', ids.c1]]);
  });

  it('a department that returned a case is not told about it any more', async () => {
    const before = (await notifications(handler)).json<NotificationBody>().items.length;
    await db.orm.execute(sql`update case_department set status = 'returned' where case_id = ${ids.c6}`);
    try {
      await db.orm.transaction((tx) =>
        enqueue(
          tx,
          { topic: 'case.supervised', payload: { caseId: ids.c6, actorId: operatorStreet.id } },
          clock.now(),
        ),
      );
      await processOutbox({ db, clock });
      expect((await notifications(handler)).json<NotificationBody>().items.length).toBe(before);
    } finally {
      await db.orm.execute(sql`update case_department set status = 'pending' where case_id = ${ids.c6}`);
    }
  });

  it('a failing message backs off with its error recorded and does not block the others', async () => {
    await db.orm.transaction(async (tx) => {
      await enqueue(tx, { topic: 'case.created', payload: { caseId: 1e20 } }, clock.now());
      await enqueue(tx, { topic: 'case.responded', payload: { caseId: ids.c4 } }, clock.now());
    });
    const result = await processOutbox({ db, clock });
    expect(result).toMatchObject({ processed: 1, failed: 1 });
    const failed = await one<{
      attempts: number;
      last_error: string | null;
      later: boolean;
      processed: boolean;
    }>(
      db.orm,
      sql`select attempts, last_error, available_at > ${clock.now().toISOString()} as later,
            processed_at is not null as processed
          from outbox where payload->>'caseId' = '1e+20' or payload->>'caseId' = '100000000000000000000'`,
    );
    expect(failed).toMatchObject({ attempts: 1, later: true, processed: false });
    expect(failed?.last_error).toBeTruthy();
    // Responded: the grid's workers and the owning centre's operators.
    const responded = await rows<{ user_id: number }>(
      db.orm,
      sql`select user_id::int as user_id from notification where kind = 'case.responded' order by user_id`,
    );
    expect(responded.map((r) => r.user_id).sort()).toEqual([gridWorker.id, operatorA.id].sort());
    // Not due yet: the next run leaves it alone.
    expect(await processOutbox({ db, clock })).toMatchObject({ processed: 0, failed: 0 });
  });

  it('marking read: 200 for mine (then not unread), 404 for someone else’s, 401 without a session', async () => {
    const list = (await notifications(operatorA, '?unread=1')).json<NotificationBody>();
    const id = list.items[0]!.id;
    const read = await server.app.inject({
      method: 'POST',
      url: `/api/notifications/${id}/read`,
      headers: auth(operatorA),
    });
    expect(read.statusCode).toBe(200);
    const after = (await notifications(operatorA, '?unread=1')).json<NotificationBody>();
    expect(after.items.map((i) => i.id)).not.toContain(id);
    expect(after.unreadCount).toBe(list.unreadCount - 1);
    const other = await server.app.inject({
      method: 'POST',
      url: `/api/notifications/${id}/read`,
      headers: auth(handler),
    });
    expect(other.statusCode).toBe(404);
    expect(
      (await server.app.inject({ method: 'POST', url: `/api/notifications/${id}/read` })).statusCode,
    ).toBe(401);
    expect((await notifications(null)).statusCode).toBe(401);
  });
});

describe('queue queries can use indexes', () => {
  it('no bucket of any role needs a sequential scan of grid_case', async () => {
    const actors = await Promise.all(
      [gridWorker, operatorA, handler, leader].map((user) =>
        authenticate({ db, clock, token: user.token, sessionSeconds: 3600 }),
      ),
    );
    const plans: string[] = [];
    await db.orm.transaction(async (tx) => {
      // A handful of rows makes a sequential scan the cheapest plan; forbid it to see whether an index path exists.
      await tx.execute(sql`set local enable_seqscan = off`);
      for (const actor of actors)
        for (const [key, condition] of bucketsFor(actor!)) {
          const plan = await rows<{ 'QUERY PLAN': string }>(
            tx,
            sql`explain select count(*) from grid_case c where ${condition}`,
          );
          plans.push(`${key}:\n${plan.map((p) => p['QUERY PLAN']).join('\n')}`);
        }
    });
    const scanned = plans.filter((p) => /Seq Scan on grid_case/.test(p));
    expect(scanned).toEqual([]);
  });
});
