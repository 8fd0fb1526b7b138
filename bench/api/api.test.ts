/**
 * W1, W3 and W4 on a small territory (the test factories): the checks that run after each round catch a missing
 * case, timeline row, outbox message or transition, and the raw reference does the same work as Wangge (PostgreSQL
 * only: it is a pg Pool in its own process).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../apps/server/src/platform/clock.ts';
import { one, sql, type Database } from '../../apps/server/src/platform/db.ts';
import { ensureDefaultTaxonomy } from '../../apps/server/src/modules/taxonomy/index.ts';
import type { Wangge } from '../../apps/server/src/server.ts';
import {
  auth,
  buildTerritory,
  makeUser,
  territory,
  type TestUser,
} from '../../apps/server/src/test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../apps/server/src/test/harness.ts';
import { sameQueue, type QueueAnswer } from './queue-compare.ts';
import { makeRequests, type Reporter } from './requests.ts';
import {
  caseRow,
  checkCreated,
  checkFiled,
  deleteCases,
  makeReportedCases,
  outboxMark,
  reporterFor,
  startRawServer,
  type RawServer,
} from './shared.ts';

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
const fixedNow = new Date('2026-11-20T02:00:00Z');
let worker: TestUser;
let operator: TestUser;
let reporter: Reporter;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-bench-api-'));
  server = await testServer(db, { clock, config: { dataDir } });
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
  reporter = await reporterFor(db.orm, {
    username: worker.username,
    token: worker.token,
    gridCode: territory.gridA1,
    points: 5,
  });
});

afterAll(async () => {
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The next request the load generator would send, as built by requests.ts. */
function nextRequest(requests: ReturnType<typeof makeRequests>) {
  const template = requests[0]!;
  return template.setupRequest!(template);
}

async function createThroughWangge(count: number): Promise<number[]> {
  const requests = makeRequests({ kind: 'create', side: 'wangge', reporters: [reporter] });
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const request = nextRequest(requests);
    const response = await server.app.inject({
      method: 'POST',
      url: request.path,
      headers: request.headers,
      payload: request.body!,
    });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json<{ id: number; gridCode: string }>();
    expect(body.gridCode).toBe(territory.gridA1); // routed by the point inside the reporter's grid
    ids.push(body.id);
  }
  return ids;
}

describe('W1 created-case check', () => {
  it('passes when every 2xx made its case, timeline row and outbox message, and throws when one is missing', async () => {
    const mark = await outboxMark(db.orm);
    const ids = await createThroughWangge(3);
    const window = { reporterIds: [reporter.userId], from: fixedNow, to: fixedNow, outboxAfter: mark };
    expect((await checkCreated(db.orm, { ...window, expected: 3 })).sort()).toEqual([...ids].sort());
    // more 2xx answers than cases: a request answered but wrote nothing
    await expect(checkCreated(db.orm, { ...window, expected: 4 })).rejects.toThrow(
      /4 answered 2xx but 3 cases/,
    );
    // a case without its outbox message
    await db.orm.execute(
      sql`delete from outbox where id > ${mark} and (payload ->> 'caseId')::bigint = ${ids[0]!}`,
    );
    await expect(checkCreated(db.orm, { ...window, expected: 3 })).rejects.toThrow(/2 outbox messages/);
    // a case gone
    await deleteCases(db.orm, [ids[1]!], mark);
    await expect(checkCreated(db.orm, { ...window, expected: 3 })).rejects.toThrow(/but 2 cases/);
    await deleteCases(db.orm, ids, mark);
  });
});

describe('W3 queue comparison', () => {
  it('throws when the two answers differ in counts or cases, or are empty', async () => {
    const ids = await createThroughWangge(2);
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/queues/mine?limit=50',
      headers: auth(worker),
    });
    expect(response.statusCode).toBe(200);
    const answer = response.json<QueueAnswer>();
    expect(answer.items.map((i) => i.id).sort()).toEqual([...ids].sort());
    expect(() => sameQueue(answer, structuredClone(answer))).not.toThrow();
    const fewer = { ...answer, items: answer.items.slice(1) };
    expect(() => sameQueue(answer, fewer)).toThrow(/differ in items/);
    const counted = {
      ...answer,
      buckets: answer.buckets.map((b, i) => (i === 0 ? { ...b, count: b.count + 1 } : b)),
    };
    expect(() => sameQueue(answer, counted)).toThrow(/differ in buckets/);
    const empty = { ...answer, items: [] };
    expect(() => sameQueue(empty, empty)).toThrow(/empty/);
    await deleteCases(db.orm, ids, 0);
  });
});

describe('W4 transition check', () => {
  it('passes when each case was filed with its rows, and throws when one was not', async () => {
    const ids = await makeReportedCases(db.orm, { streetCode: territory.street, count: 3, tag: 'test' });
    const mark = await outboxMark(db.orm);
    const requests = makeRequests({
      kind: 'transition',
      side: 'wangge',
      items: ids.map((id) => ({ id, token: operator.token, actorId: operator.id })),
      handleDays: 7,
    });
    for (const _ of ids.slice(0, 2)) {
      const request = nextRequest(requests);
      const response = await server.app.inject({
        method: 'POST',
        url: request.path,
        headers: request.headers,
        payload: request.body!,
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json<{ status: string }>().status).toBe('filed');
    }
    await checkFiled(db.orm, { ids: ids.slice(0, 2), from: fixedNow, outboxAfter: mark });
    await expect(checkFiled(db.orm, { ids, from: fixedNow, outboxAfter: mark })).rejects.toThrow(
      /of 3 cases 2 are filed/,
    );
    // filed without the timeline row: caught too
    await db.orm.execute(sql`delete from case_timeline where case_id = ${ids[0]!} and action = 'file'`);
    await expect(
      checkFiled(db.orm, { ids: ids.slice(0, 2), from: fixedNow, outboxAfter: mark }),
    ).rejects.toThrow(/1 have the file timeline row/);
    await deleteCases(db.orm, ids, mark);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('the raw reference (PostgreSQL)', () => {
  let raw: RawServer;
  beforeAll(async () => {
    const name = await one<{ name: string }>(db.orm, sql`select current_database() as name`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name!.name}`;
    raw = await startRawServer(url.toString(), 2);
  });
  afterAll(async () => {
    await raw?.close();
  });

  it('W1: writes the same case row (and its timeline row) as Wangge for the same report', async () => {
    const [wanggeId] = await createThroughWangge(1);
    const request = nextRequest(makeRequests({ kind: 'create', side: 'raw', reporters: [reporter] }));
    const mark = await outboxMark(db.orm);
    const from = new Date();
    const response = await fetch(`${raw.baseUrl}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body!,
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: number };
    expect(await caseRow(db.orm, id)).toEqual(await caseRow(db.orm, wanggeId!));
    await checkCreated(db.orm, {
      reporterIds: [reporter.userId],
      from,
      to: new Date(),
      outboxAfter: mark,
      expected: 1,
    });
    await deleteCases(db.orm, [id, wanggeId!], 0);
  });

  it('W3: answers the same queue as Wangge', async () => {
    const ids = await createThroughWangge(3);
    const wangge = await server.app.inject({
      method: 'GET',
      url: '/api/queues/mine?limit=50',
      headers: auth(worker),
    });
    const grid = await one<{ path: string }>(
      db.orm,
      sql`select path from region where code = ${territory.gridA1}`,
    );
    const response = await fetch(
      `${raw.baseUrl}/w3/queue?userId=${worker.id}&gridPath=${encodeURIComponent(grid!.path)}&limit=50`,
    );
    expect(response.status).toBe(200);
    const rawAnswer = (await response.json()) as QueueAnswer;
    sameQueue(wangge.json<QueueAnswer>(), rawAnswer);
    expect(rawAnswer.items).toHaveLength(3);
    await deleteCases(db.orm, ids, 0);
  });

  it('W4: files a reported case with its rows, and refuses one already filed', async () => {
    const ids = await makeReportedCases(db.orm, { streetCode: territory.street, count: 1, tag: 'raw' });
    const mark = await outboxMark(db.orm);
    const from = new Date();
    const file = () =>
      fetch(`${raw.baseUrl}/w4/cases/${ids[0]}/file`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ actorId: operator.id, handleDays: 7 }),
      });
    expect((await file()).status).toBe(200);
    await checkFiled(db.orm, { ids, from, outboxAfter: mark });
    expect((await file()).status).toBe(409);
    await deleteCases(db.orm, ids, mark);
  });
});
