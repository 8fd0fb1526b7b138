import crypto from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';

/**
 * The done-when test of issue 7: a stream dropped while events are being sent and resumed with Last-Event-ID loses
 * no event and doubles none — for staff (`/api/stream`, alert and notice events) and for residents
 * (`/api/public/grids/{code}/stream`), over real HTTP.
 */

let db: Database;
let server: Wangge;
let dataDir: string;
let base: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let operator: TestUser;
let workerA1: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-notice-stream-'));
  server = await testServer(db, { clock, config: { dataDir } });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
  workerA1 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
});

afterAll(async () => {
  await server.app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads server-sent events from a response until `stop` says so or the deadline passes. */
async function readEvents(
  response: Response,
  stop: (events: SseEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<SseEvent[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  while (!stop(events) && Date.now() < deadline) {
    const timer = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), deadline - Date.now()),
    );
    const chunk = await Promise.race([reader.read(), timer]);
    if (chunk === 'timeout' || chunk.done) break;
    buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const colon = line.indexOf(': ');
        if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
      }
      const id = fields.get('id');
      const event = fields.get('event');
      if (id === undefined || !event || event === 'ping') continue;
      events.push({
        id: Number(id),
        event,
        data: JSON.parse(fields.get('data') ?? '{}') as Record<string, unknown>,
      });
      if (stop(events)) break;
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

async function api(user: TestUser, url: string, payload: unknown): Promise<{ id: number }> {
  const response = await server.app.inject({
    method: 'POST',
    url,
    headers: auth(user),
    payload: payload as object,
  });
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json<{ id: number }>();
}

/**
 * Sends `rounds` rounds of changes, a few milliseconds apart: per round an alert to the street (seen by worker A1
 * and residents of A1), an alert to community B (seen by neither), a notice to grid A1's staff, a public notice to
 * community A (residents of A1) and one to community B.
 */
async function produce(rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await api(operator, '/api/alerts', {
      clientId: crypto.randomUUID(),
      kind: 'emergency',
      title: `街道协查 ${i}`,
      description: '测试',
      regionCode: territory.street,
    });
    await api(operator, '/api/alerts', {
      clientId: crypto.randomUUID(),
      kind: 'emergency',
      title: `东林协查 ${i}`,
      description: '测试',
      regionCode: territory.communityB,
    });
    await api(operator, '/api/notices', {
      clientId: crypto.randomUUID(),
      title: `网格通知 ${i}`,
      body: '测试',
      target: { kind: 'region', regionCode: territory.gridA1 },
    });
    await api(operator, '/api/notices', {
      clientId: crypto.randomUUID(),
      title: `居民通知 A ${i}`,
      body: '测试',
      target: { kind: 'residents', regionCode: territory.communityA },
    });
    await api(operator, '/api/notices', {
      clientId: crypto.randomUUID(),
      title: `居民通知 B ${i}`,
      body: '测试',
      target: { kind: 'residents', regionCode: territory.communityB },
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The outbox ids after `after` the staff worker of A1 may see (alerts overlapping A1, notices to them). */
async function expectedIds(after: number, audience: 'worker' | 'resident'): Promise<number[]> {
  const found = await rows<{ id: number; topic: string; payload: Record<string, unknown> }>(
    db.orm,
    sql`select id::int as id, topic, payload from outbox where id > ${after} order by id`,
  );
  const recipients = new Set(
    (
      await rows<{ notice_id: number }>(
        db.orm,
        sql`select notice_id::int as notice_id from notice_recipient where user_id = ${workerA1.id}`,
      )
    ).map((r) => r.notice_id),
  );
  const streetPath = (
    await rows<{ path: string }>(db.orm, sql`select path from region where code = ${territory.street}`)
  )[0]!.path;
  const communityA = (
    await rows<{ path: string }>(db.orm, sql`select path from region where code = ${territory.communityA}`)
  )[0]!.path;
  return found
    .filter((row) => {
      if (row.topic === 'alert.created') return row.payload.targetPath === streetPath;
      if (row.topic === 'notice.published')
        return audience === 'worker'
          ? recipients.has(row.payload.noticeId as number)
          : row.payload.public === true && row.payload.regionPath === communityA;
      return false;
    })
    .map((row) => row.id);
}

async function maxOutboxId(): Promise<number> {
  return (
    (await rows<{ max: number | null }>(db.orm, sql`select max(id)::int as max from outbox`))[0]!.max ?? 0
  );
}

async function dropAndResume(url: string, headers: Record<string, string>, audience: 'worker' | 'resident') {
  const start = await maxOutboxId();
  const rounds = 12;
  const firstController = new AbortController();
  // The first connection also names where it starts, so events written while it subscribes are not missed.
  const first = await fetch(url, {
    headers: { ...headers, 'last-event-id': String(start) },
    signal: firstController.signal,
  });
  expect(first.status).toBe(200);
  const producing = produce(rounds);
  // Take a few events, then drop the connection while the producer keeps going.
  const before = await readEvents(first, (events) => events.length >= 5);
  firstController.abort();
  expect(before.length).toBe(5);
  const lastSeen = before[before.length - 1]!.id;

  // Resume a moment later, while events are still being written.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const secondController = new AbortController();
  const second = await fetch(url, {
    headers: { ...headers, 'last-event-id': String(lastSeen) },
    signal: secondController.signal,
  });
  expect(second.status).toBe(200);
  // events per round: the worker 3 (street alert, A1 notice, the public notice to community A, which its workers
  // relay); a resident of A1 2 (street alert, public notice to community A)
  const total = rounds * (audience === 'worker' ? 3 : 2);
  const after = await readEvents(second, (events) => before.length + events.length >= total);
  await producing;
  // a little longer: nothing more (and nothing doubled) should come
  const extra = await readEvents(
    await fetch(url, { headers: { ...headers, 'last-event-id': String(after.at(-1)?.id ?? lastSeen) } }),
    () => false,
    500,
  );
  secondController.abort();

  const received = [...before, ...after].map((e) => e.id);
  const expected = await expectedIds(start, audience);
  expect(expected.length).toBe(total);
  expect(new Set(received).size).toBe(received.length); // none doubled
  expect(received).toEqual(expected); // none lost, in order
  expect(extra).toEqual([]);
  return [...before, ...after];
}

describe('SSE: drop and resume with Last-Event-ID', () => {
  it('staff stream (/api/stream): alerts and notices, no event lost, none doubled', async () => {
    const events = await dropAndResume(`${base}/api/stream`, auth(workerA1), 'worker');
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(['alert', 'notice']));
    expect(events.find((e) => e.event === 'alert')!.data).toMatchObject({
      topic: 'alert.created',
      status: 'open',
    });
    // alerts of community B never reach a worker of A1
    expect(events.some((e) => String(e.data.title).startsWith('东林'))).toBe(false);
  });

  it('resident stream (/api/public/grids/{code}/stream): no account, public events of its areas only', async () => {
    const events = await dropAndResume(`${base}/api/public/grids/${territory.gridA1}/stream`, {}, 'resident');
    const titles = events.map((e) => String(e.data.title));
    expect(
      titles.some((t) => t.startsWith('居民通知 B') || t.startsWith('网格通知') || t.startsWith('东林')),
    ).toBe(false);
    const unknown = await fetch(`${base}/api/public/grids/999999999999999/stream`);
    expect(unknown.status).toBe(404);
  });

  it('closing an alert reaches staff and residents of the area live', async () => {
    const alert = await api(operator, '/api/alerts', {
      clientId: crypto.randomUUID(),
      kind: 'missing_person',
      title: '寻人',
      description: '测试',
      regionCode: territory.street,
    });
    const staffController = new AbortController();
    const residentController = new AbortController();
    const staff = await fetch(`${base}/api/stream`, {
      headers: auth(workerA1),
      signal: staffController.signal,
    });
    const resident = await fetch(`${base}/api/public/grids/${territory.gridB2}/stream`, {
      signal: residentController.signal,
    });
    const isClose = (events: SseEvent[]) => events.some((e) => e.data.topic === 'alert.closed');
    const staffEvents = readEvents(staff, isClose);
    const residentEvents = readEvents(resident, isClose);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await api(operator, `/api/alerts/${alert.id}/close`, { outcome: 'found' });
    const [s, r] = await Promise.all([staffEvents, residentEvents]);
    staffController.abort();
    residentController.abort();
    expect(s.find((e) => e.data.topic === 'alert.closed')?.data).toMatchObject({
      alertId: alert.id,
      status: 'closed',
      outcome: 'found',
    });
    expect(r.find((e) => e.data.topic === 'alert.closed')?.data).toMatchObject({
      alertId: alert.id,
      outcome: 'found',
    });
  });
});
