import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, testDatabase } from '../test/harness.ts';
import type { Actor } from './access.ts';
import { one, openDatabase, rows, sql, type Database } from './db.ts';
import { createLogger } from './logger.ts';
import { enqueue } from './outbox.ts';
import { createRealtimeHub, outboxChannel, type RealtimeHub, type RealtimeMessage } from './realtime.ts';

/**
 * The LISTEN/NOTIFY wake: an outbox insert committed anywhere wakes the hubs at once, without waiting for their
 * poll (every hub here polls once a minute, so only a notification can deliver within the test's waits).
 */

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
const others: Database[] = [];

const actor: Actor = { userId: 1, username: 'u1', displayName: 'u1', sessionId: 1, grants: [] };

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
});

afterAll(async () => {
  for (const hub of hubs) await hub.stop();
  for (const other of others) await other.close();
});

/** A hub that polls only once a minute and sends every `test.` row to everyone. */
function slowHub(on: Database): RealtimeHub {
  const hub = createRealtimeHub({ db: on, logger, pollMs: 60_000 });
  hub.register('test.', () => Promise.resolve((row) => ({ event: 'test', data: { n: row.payload.n } })));
  hubs.push(hub);
  return hub;
}

async function subscribe(hub: RealtimeHub): Promise<RealtimeMessage[]> {
  const messages: RealtimeMessage[] = [];
  await hub.subscribe({ actor, deliver: (message) => messages.push(message), end: () => undefined });
  return messages;
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Commits one outbox row the way a module does (no `wakeRealtime()`: only the NOTIFY can wake a hub). */
async function commitRow(on: Database, n: number): Promise<void> {
  await on.orm.transaction(async (tx) => {
    await enqueue(tx, { topic: 'test.notify', payload: { n } }, new Date());
  });
}

const numbers = (messages: RealtimeMessage[]) => messages.map((m) => (m.data as { n: number }).n);

describe('outbox NOTIFY trigger', () => {
  it('is a statement-level after-insert trigger', async () => {
    const trigger = await one<{ rowLevel: number; enabled: string }>(
      db.orm,
      sql`select (tgtype & 1)::int as "rowLevel", tgenabled as enabled from pg_trigger
          where tgrelid = 'outbox'::regclass and tgname = 'outbox_notify'`,
    );
    expect(trigger).toEqual({ rowLevel: 0, enabled: 'O' });
  });

  it('notifies once per committed insert statement with an empty payload, never for a rollback', async () => {
    const payloads: string[] = [];
    const unlisten = await db.listen(outboxChannel, (payload) => payloads.push(payload));
    try {
      // One statement inserting three rows: one notification.
      await db.orm.execute(sql`insert into outbox (topic, payload, created_at, available_at)
        select 'test.many', jsonb_build_object('n', n), now(), now() from generate_series(1, 3) n`);
      await until('the first notification', () => payloads.length === 1);
      await commitRow(db, 4);
      await until('the second notification', () => payloads.length === 2);
      await db.orm
        .transaction(async (tx) => {
          await enqueue(tx, { topic: 'test.rolled-back', payload: { n: 5 } }, new Date());
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await sleep(200);
      expect(payloads).toEqual(['', '']);
    } finally {
      await unlisten();
    }
    // After the unlisten nothing more arrives.
    await commitRow(db, 6);
    await sleep(200);
    expect(payloads).toHaveLength(2);
  });
});

describe('realtime hub woken by NOTIFY', () => {
  it('a committed outbox insert reaches a subscriber at once, not at the next poll', async () => {
    const hub = slowHub(db);
    const messages = await subscribe(hub);
    await commitRow(db, 10);
    await until('the row', () => messages.length === 1);
    await commitRow(db, 11);
    await until('the next row', () => messages.length === 2);
    expect(numbers(messages)).toEqual([10, 11]);
    await hub.stop();
  });
});

const databaseUrl = process.env.DATABASE_URL;

describe.runIf(databaseUrl)('across server processes (PostgreSQL)', () => {
  let a: Database;
  let b: Database;

  /** The backends listening in this test database (the LISTEN connection's last query was its LISTEN). */
  async function listeners(): Promise<number[]> {
    const found = await rows<{ pid: number }>(
      a.orm,
      sql`select pid from pg_stat_activity
          where datname = current_database() and query ilike 'listen%' and pid <> pg_backend_pid()`,
    );
    return found.map((row) => row.pid);
  }

  beforeAll(async () => {
    // Two handles on the same database, as two server processes would have.
    const name = (await one<{ name: string }>(db.orm, sql`select current_database() as name`))!.name;
    const url = new URL(databaseUrl!);
    url.pathname = `/${name}`;
    a = await openDatabase({ databaseUrl: url.toString(), poolSize: 2, logger });
    b = await openDatabase({
      databaseUrl: url.toString(),
      poolSize: 2,
      logger,
      listenRetryMs: { min: 600, max: 2000 },
    });
    others.push(a, b);
  });

  it('hub B gets a row committed through handle A within a second; after its LISTEN connection is killed it reconnects and loses nothing', async () => {
    const hub = slowHub(b);
    const messages = await subscribe(hub);
    const [pid] = await listeners();
    expect(pid).toBeDefined();

    await commitRow(a, 20);
    await until('the row from A', () => messages.length === 1);

    // Kill B's LISTEN connection and wait until it is gone, then commit while B is not listening.
    await a.orm.execute(sql`select pg_terminate_backend(${pid}::int)`);
    await until('the old backend to go', async () => !(await listeners()).includes(pid!), 3000);
    await commitRow(a, 21);
    await sleep(200);
    expect(numbers(messages)).toEqual([20]); // the notification went nowhere: B is not listening yet

    // B reconnects (after 600 ms), listens again and looks at once: the row of the gap arrives.
    await until('the row of the gap', () => messages.length === 2, 3000);
    const [newPid] = await listeners();
    expect(newPid).toBeDefined();
    expect(newPid).not.toBe(pid);

    await commitRow(a, 22);
    await until('a row after the reconnect', () => messages.length === 3);
    expect(numbers(messages)).toEqual([20, 21, 22]);
    expect(logs.some((line) => line.includes('postgres listen connection lost'))).toBe(true);
    await hub.stop();
  });

  it('hubs on both handles get every row, whichever handle commits it', async () => {
    const hubA = slowHub(a);
    const hubB = slowHub(b);
    const onA = await subscribe(hubA);
    const onB = await subscribe(hubB);
    await commitRow(a, 30);
    await commitRow(b, 31);
    await until('both rows on both', () => onA.length === 2 && onB.length === 2);
    expect(numbers(onA)).toEqual([30, 31]);
    expect(numbers(onB)).toEqual([30, 31]);
    await hubA.stop();
    await hubB.stop();
  });

  it('close() ends the LISTEN connection', async () => {
    const c = await openDatabase({ databaseUrl: new URL(databaseUrl!).toString(), poolSize: 1 });
    const name = (await one<{ name: string }>(c.orm, sql`select current_database() as name`))!.name;
    let notified = 0;
    await c.listen('wangge_test_close', () => (notified += 1));
    const count = async () =>
      (await one<{ n: number }>(
        a.orm,
        sql`select count(*)::int as n from pg_stat_activity
              where datname = ${name} and query ilike 'listen "wangge_test_close"%'`,
      ))!.n;
    expect(await count()).toBe(1);
    await c.orm.execute(sql`select pg_notify('wangge_test_close', 'x')`);
    await until('the notification', () => notified === 1);
    await c.close();
    await until('the connection to end', async () => (await count()) === 0, 3000);
  });
});
