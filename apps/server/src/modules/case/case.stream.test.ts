import crypto from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CaseStreamEventSchema, type CaseCreated, type CaseStreamEvent } from '@wangge/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db.ts';
import { auth, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { buildWorkflowWorld, type WorkflowWorld, type WorldUser } from './case.workflow.fixtures.ts';

let db: Database;
let server: Wangge;
let world: WorkflowWorld;
let dataDir: string;
let base: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
const open: Stream[] = [];

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-stream-'));
  server = await testServer(db, { clock, config: { dataDir } });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const stream of open) stream.close();
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

interface ServerSentEvent {
  id: number | null;
  event: string;
  data: string;
}

interface Stream {
  response: Response;
  events: ServerSentEvent[];
  /** the `case` events, parsed with the contract's schema */
  cases(): (CaseStreamEvent & { id: number })[];
  waitFor(what: string, predicate: () => boolean, timeoutMs?: number): Promise<void>;
  ended(): boolean;
  close(): void;
}

/** A real HTTP client of GET /api/stream: fetch, and the body read as server-sent events. */
async function openStream(
  user: TestUser,
  options: { lastEventId?: number; query?: string } = {},
): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(`${base}/api/stream${options.query ?? ''}`, {
    headers: {
      ...auth(user),
      ...(options.lastEventId !== undefined ? { 'last-event-id': String(options.lastEventId) } : {}),
    },
    signal: controller.signal,
  });
  const events: ServerSentEvent[] = [];
  let done = false;
  void (async () => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          if (fields.has('data'))
            events.push({
              id: fields.has('id') ? Number(fields.get('id')) : null,
              event: fields.get('event') ?? 'message',
              data: fields.get('data')!,
            });
        }
      }
    } catch {
      // aborted by the test
    } finally {
      done = true;
    }
  })();
  const stream: Stream = {
    response,
    events,
    cases: () =>
      events
        .filter((e) => e.event === 'case')
        .map((e) => ({ id: e.id!, ...CaseStreamEventSchema.parse(JSON.parse(e.data)) })),
    async waitFor(what, predicate, timeoutMs = 3000) {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until)
          throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    ended: () => done,
    close: () => controller.abort(),
  };
  open.push(stream);
  return stream;
}

const where = {
  A1: { lng: 130.35, lat: 46.85 },
  B1: { lng: 130.45, lat: 46.85 },
};

async function report(user: WorldUser, grid: keyof typeof where): Promise<CaseCreated> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/cases',
    headers: auth(world.users[user]),
    payload: {
      clientId: crypto.randomUUID(),
      title: '井盖缺失',
      description: '路口井盖缺失',
      categoryCode: '0501',
      location: where[grid],
      channel: 'grid_worker',
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<CaseCreated>();
}

async function act(caseId: number, action: string, body: Record<string, unknown>, user: WorldUser) {
  const response = await server.app.inject({
    method: 'POST',
    url: `/api/cases/${caseId}/actions/${action}`,
    headers: auth(world.users[user]),
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(200);
}

const caseIds = (stream: Stream) => stream.cases().map((e) => e.caseId);

describe('GET /api/stream', () => {
  it('pushes a case reported by someone else in the subscriber’s place within a moment', async () => {
    const operator = await openStream(world.users.operatorA);
    expect(operator.response.status).toBe(200);
    expect(operator.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(operator.response.headers.get('cache-control')).toBe('no-cache');
    expect(operator.response.headers.get('x-accel-buffering')).toBe('no');

    const started = Date.now();
    const created = await report('workerA1', 'A1');
    await operator.waitFor('the new case', () => caseIds(operator).includes(created.id), 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    const [event] = operator.cases();
    expect(event).toEqual({
      id: expect.any(Number) as number,
      topic: 'case.created',
      caseId: created.id,
      serial: created.serial,
      status: 'reported',
      at: '2026-11-20T02:00:00.000Z',
    });
    // the SSE id is the outbox id
    expect(operator.events.find((e) => e.event === 'case')!.id).toBe(event!.id);
  });

  it('never pushes a case outside the subscriber’s place', async () => {
    const a = await openStream(world.users.operatorA);
    const b = await openStream(world.users.operatorB);
    const inA = await report('workerA1', 'A1');
    const inB = await report('workerB1', 'B1');
    // events arrive in outbox order: once the later one is there, the earlier one would have been too
    await b.waitFor('the case in B', () => caseIds(b).includes(inB.id));
    await a.waitFor('the case in A', () => caseIds(a).includes(inA.id));
    expect(caseIds(b)).toEqual([inB.id]);
    expect(caseIds(a)).toEqual([inA.id]);
  });

  it('a department handler hears only of cases their department is on', async () => {
    const urban = await openStream(world.users.handlerUrban);
    const water = await openStream(world.users.handlerWater);
    const operator = await openStream(world.users.operatorA);
    const forUrban = await report('workerA1', 'A1');
    await act(forUrban.id, 'file', {}, 'operatorA');
    await act(forUrban.id, 'dispatch', { leadDepartmentId: world.departments.urban }, 'operatorA');
    await urban.waitFor('the dispatch', () =>
      urban.cases().some((e) => e.caseId === forUrban.id && e.topic === 'case.dispatched'),
    );
    expect(urban.cases().find((e) => e.topic === 'case.dispatched')).toMatchObject({ status: 'dispatched' });

    const forWater = await report('workerA1', 'A1');
    await act(forWater.id, 'file', {}, 'operatorA');
    await act(forWater.id, 'dispatch', { leadDepartmentId: world.departments.water }, 'operatorA');
    await water.waitFor('the water dispatch', () => caseIds(water).includes(forWater.id));
    await operator.waitFor('every change', () => operator.cases().length === 6);
    expect(new Set(caseIds(water))).toEqual(new Set([forWater.id]));
    expect(new Set(caseIds(urban))).toEqual(new Set([forUrban.id]));
    // the operator of the place saw every step of both, in order
    expect(operator.cases().map((e) => e.topic)).toEqual([
      'case.created',
      'case.filed',
      'case.dispatched',
      'case.created',
      'case.filed',
      'case.dispatched',
    ]);
    const ids = operator.cases().map((e) => e.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
  });

  it('a reconnect with Last-Event-ID gets the events it missed, and not the earlier ones', async () => {
    const first = await openStream(world.users.operatorA);
    const seen = await report('workerA1', 'A1');
    await first.waitFor('the first case', () => caseIds(first).includes(seen.id));
    const lastEventId = first.cases().at(-1)!.id;
    first.close();

    // while disconnected: two cases in the place, one outside it
    const missed1 = await report('workerA1', 'A1');
    const elsewhere = await report('workerB1', 'B1');
    const missed2 = await report('workerA1', 'A1');

    const resumed = await openStream(world.users.operatorA, { lastEventId });
    await resumed.waitFor('the missed cases', () => caseIds(resumed).includes(missed2.id));
    expect(caseIds(resumed)).toEqual([missed1.id, missed2.id]);
    expect(resumed.cases().every((e) => e.id > lastEventId)).toBe(true);

    // the same through the query string (for clients that cannot set the header)
    const byQuery = await openStream(world.users.operatorA, { query: `?lastEventId=${lastEventId}` });
    await byQuery.waitFor('the missed cases', () => caseIds(byQuery).includes(missed2.id));
    expect(caseIds(byQuery)).toEqual([missed1.id, missed2.id]);

    // live events follow the replay, none twice; a fresh stream gets no history
    const fresh = await openStream(world.users.operatorA);
    const live = await report('workerA1', 'A1');
    await resumed.waitFor('the live case', () => caseIds(resumed).includes(live.id));
    await fresh.waitFor('the live case', () => caseIds(fresh).includes(live.id));
    expect(caseIds(resumed)).toEqual([missed1.id, missed2.id, live.id]);
    expect(caseIds(fresh)).toEqual([live.id]);
    expect(caseIds(resumed)).not.toContain(elsewhere.id);
  });

  it('401 without a session', async () => {
    const response = await fetch(`${base}/api/stream`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('UNAUTHENTICATED');
  });

  it('closing the app ends open streams at once, so a graceful shutdown is not held up', async () => {
    const other = await testServer(db, { clock, config: { dataDir } });
    await other.app.listen({ port: 0, host: '127.0.0.1' });
    const previous = base;
    base = `http://127.0.0.1:${(other.app.server.address() as AddressInfo).port}`;
    try {
      const stream = await openStream(world.users.operatorA);
      const another = await openStream(world.users.workerA1);
      expect(stream.response.status).toBe(200);
      const started = Date.now();
      await other.app.close();
      expect(Date.now() - started).toBeLessThan(2000);
      await stream.waitFor('the end of the stream', () => stream.ended() && another.ended());
    } finally {
      base = previous;
    }
  });
});
