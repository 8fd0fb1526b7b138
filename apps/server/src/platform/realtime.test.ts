import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, testConfig, testDatabase } from '../test/harness.ts';
import type { Actor } from './access.ts';
import { fixedClock } from './clock.ts';
import { one, sql, type Database } from './db.ts';
import { createHttpApp } from './http.ts';
import { createLogger } from './logger.ts';
import { enqueue } from './outbox.ts';
import {
  createRealtimeHub,
  registerRealtimeRoutes,
  wakeRealtime,
  type RealtimeHub,
  type RealtimeMessage,
} from './realtime.ts';

let db: Database;
const logs: string[] = [];
const logger = createLogger(
  'info',
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  }),
);
const hubs: RealtimeHub[] = [];

const actor = (userId: number): Actor => ({
  userId,
  username: `u${userId}`,
  displayName: `u${userId}`,
  sessionId: userId,
  grants: [],
});

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
});

afterAll(async () => {
  for (const hub of hubs) await hub.stop();
  // Rows inserted with explicit ids below: keep the sequence ahead of them for whoever runs next.
  await db.orm.execute(sql`select setval('outbox_id_seq', greatest(1, (select max(id) from outbox)))`);
});

/** A hub whose `test.` rows go to the subscriber named in the payload (`to`), everyone when absent. */
function testHub(options: { holeMs?: number; replayLimit?: number } = {}): RealtimeHub {
  const hub = createRealtimeHub({ db, logger, pollMs: 50, ...options });
  hub.register('test.', (rows) =>
    Promise.resolve((row, subscriber) =>
      row.payload.to === undefined || row.payload.to === subscriber.actor.userId
        ? { event: 'test', data: { topic: row.topic, n: row.payload.n, batch: rows.length } }
        : null,
    ),
  );
  hubs.push(hub);
  return hub;
}

async function listen(hub: RealtimeHub, userId: number, lastEventId?: number) {
  const messages: RealtimeMessage[] = [];
  let ended = false;
  const subscription = await hub.subscribe({
    actor: actor(userId),
    lastEventId,
    deliver: (message) => messages.push(message),
    end: () => {
      ended = true;
    },
  });
  return { messages, subscription, ended: () => ended };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function maxId(): Promise<number> {
  return (await one<{ n: number }>(db.orm, sql`select coalesce(max(id), 0)::int as n from outbox`))!.n;
}

/** An outbox row with a chosen id: a transaction that took its id earlier and commits now. */
async function insertWithId(id: number, n: number): Promise<void> {
  await db.orm.execute(sql`insert into outbox (id, topic, payload, created_at, available_at)
    values (${id}, 'test.late', ${JSON.stringify({ n })}::jsonb, now(), now())`);
}

describe('realtime hub', () => {
  it('sends new rows to the subscribers the module lets see them, from the newest row on', async () => {
    await enqueue(db.orm, { topic: 'test.before', payload: { n: 0 } }, new Date());
    const hub = testHub();
    const one_ = await listen(hub, 1);
    const two = await listen(hub, 2);
    await enqueue(db.orm, { topic: 'test.for-one', payload: { n: 1, to: 1 } }, new Date());
    await enqueue(db.orm, { topic: 'other.topic', payload: { n: 2 } }, new Date());
    await enqueue(db.orm, { topic: 'test.for-all', payload: { n: 3 } }, new Date());
    wakeRealtime();
    await until('both', () => one_.messages.length === 2 && two.messages.length === 1);
    expect(one_.messages.map((m) => (m.data as { n: number }).n)).toEqual([1, 3]);
    expect(two.messages.map((m) => (m.data as { n: number }).n)).toEqual([3]);
    expect(two.messages[0]).toMatchObject({ event: 'test', id: one_.messages[1]!.id });
    one_.subscription.close();
    two.subscription.close();
    expect(hub.subscriberCount).toBe(0);
  });

  it('a row whose id was skipped (committed late) still goes out; one that never commits is given up', async () => {
    const hub = testHub({ holeMs: 400 });
    const listener = await listen(hub, 1);
    const start = await maxId();
    await insertWithId(start + 2, 2);
    await until('the row after the gap', () => listener.messages.length === 1);
    await insertWithId(start + 1, 1);
    await until('the late row', () => listener.messages.length === 2);
    expect(listener.messages.map((m) => m.id)).toEqual([start + 2, start + 1]);

    await insertWithId(start + 4, 4);
    await until('the row after the next gap', () => listener.messages.length === 3);
    await sleep(700); // longer than holeMs: id start + 3 counts as rolled back
    await insertWithId(start + 3, 3);
    await insertWithId(start + 5, 5);
    await until('the next row', () => listener.messages.some((m) => m.id === start + 5));
    await sleep(200);
    expect(listener.messages.map((m) => m.id)).toEqual([start + 2, start + 1, start + 4, start + 5]);
    listener.subscription.close();
    await db.orm.execute(sql`select setval('outbox_id_seq', (select max(id) from outbox))`);
  });

  it('replays after Last-Event-ID (the newest 1000 rows at most), then goes live without repeats', async () => {
    const before = await maxId();
    await db.orm.execute(sql`insert into outbox (topic, payload, created_at, available_at)
      select 'test.bulk', jsonb_build_object('n', n), now(), now() from generate_series(1, 1100) n`);
    const last = await maxId();
    const hub = testHub();
    const listener = await listen(hub, 1, before);
    expect(listener.messages).toHaveLength(1000);
    expect(listener.messages[0]!.id).toBe(last - 999);
    expect(listener.messages.at(-1)!.id).toBe(last);
    // the rows the replay sent are not sent again by the tail
    await enqueue(db.orm, { topic: 'test.live', payload: { n: -1 } }, new Date());
    wakeRealtime();
    await until('the live row', () => listener.messages.length === 1001);
    await sleep(200);
    expect(listener.messages).toHaveLength(1001);
    expect(new Set(listener.messages.map((m) => m.id)).size).toBe(1001);
    // a replay from the newest id is empty
    const caughtUp = await listen(hub, 1, await maxId());
    expect(caughtUp.messages).toEqual([]);
    listener.subscription.close();
    caughtUp.subscription.close();
  });

  it('a failing module filter is logged and does not stop the others', async () => {
    const hub = testHub();
    hub.register('test.', () => Promise.reject(new Error('filter broke')));
    const listener = await listen(hub, 1);
    await enqueue(db.orm, { topic: 'test.after-failure', payload: { n: 9 } }, new Date());
    wakeRealtime();
    await until('the row', () => listener.messages.length === 1);
    expect(logs.some((line) => line.includes('realtime filter failed'))).toBe(true);
    listener.subscription.close();
  });

  it('stop ends every subscriber; no subscribing afterwards', async () => {
    const hub = testHub();
    const listener = await listen(hub, 1);
    await hub.stop();
    expect(listener.ended()).toBe(true);
    expect(hub.subscriberCount).toBe(0);
    await expect(listen(hub, 1)).rejects.toThrow(/stopped/);
  });
});

describe('GET /api/stream (the route, on its own)', () => {
  it('writes server-sent events with the outbox id, and pings', async () => {
    const config = testConfig();
    const { app } = createHttpApp({
      db,
      config,
      clock: fixedClock('2026-11-20T02:00:00Z'),
      logger,
      authenticate: (token) => Promise.resolve(token === 'good' ? actor(7) : null),
    });
    const hub = testHub();
    registerRealtimeRoutes(app, hub, { pingMs: 100 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/stream`;
      expect((await fetch(url, { headers: { authorization: 'Bearer bad' } })).status).toBe(401);
      const controller = new AbortController();
      const response = await fetch(url, {
        headers: { authorization: 'Bearer good' },
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      await until('the subscriber', () => hub.subscriberCount === 1);
      await enqueue(db.orm, { topic: 'test.route', payload: { n: 5, to: 7 } }, new Date());
      wakeRealtime();
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const deadline = Date.now() + 3000;
      while (!(text.includes('event: test') && text.includes('event: ping')) && Date.now() < deadline)
        text += decoder.decode((await reader.read()).value as Uint8Array | undefined, { stream: true });
      const id = await maxId();
      expect(text).toContain('retry: 3000\n\n');
      expect(text).toContain(`id: ${id}\nevent: test\ndata: {"topic":"test.route","n":5,"batch":1}\n\n`);
      expect(text).toContain('event: ping\ndata: {}\n\n');
      controller.abort();
      await until('the subscriber to leave', () => hub.subscriberCount === 0);
    } finally {
      await app.close();
    }
  });
});
