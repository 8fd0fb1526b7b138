import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { enqueue } from '../../platform/outbox.ts';
import { auth, countRows, makeUser, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testConfig, testDatabase, testServer } from '../../test/harness.ts';
import { loadSecretBox } from '../../platform/crypto.ts';
import type { Wangge } from '../../server.ts';
import { processOutbox } from '../case/index.ts';
import { deliverWebhooks, isBlockedAddress, verifyWebhookSignature, webhookBackoffMs } from './index.ts';

// The same key the server under test uses (its data dir), to open the sealed signing secrets.
const secrets = loadSecretBox({ dataDir: testConfig().dataDir });

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 answering the given statuses in turn (then 200). */
async function receiver(
  statuses: number[],
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const queue = [...statuses];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.statusCode = queue.shift() ?? 200;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let db: Database;
let server: Wangge;
let admin: TestUser;
let operator: TestUser;
const clock = fixedClock('2026-11-20T02:00:00Z');

const send = (method: 'POST' | 'GET' | 'DELETE', url: string, user: TestUser | null, body?: unknown) =>
  server.app.inject({
    method,
    url,
    headers: user ? auth(user) : {},
    ...(body === undefined ? {} : { payload: body as object }),
  });

async function createHook(url: string, eventTypes: string[]): Promise<{ id: number; secret: string }> {
  const response = await send('POST', '/api/webhooks', admin, { url, eventTypes, allowPrivate: true });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: number; secret: string }>();
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  server = await testServer(db, { clock });
  admin = await makeUser(db, [{ role: 'admin', regionCode: null }]);
  operator = await makeUser(db, [{ role: 'auditor', regionCode: null }]);
});

afterAll(async () => {
  await server.app.close();
});

describe('SSRF guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fc00::1', true],
    ['fd12:3456::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['8.8.8.8', false],
    ['2001:4860:4860::8888', false],
  ])('%s blocked: %s', (address, blocked) => {
    expect(isBlockedAddress(address)).toBe(blocked);
  });
});

describe('webhook routes', () => {
  it('answers 401 without a session and 403 without webhook.admin', async () => {
    expect((await send('GET', '/api/webhooks', null)).statusCode).toBe(401);
    expect((await send('GET', '/api/webhooks', operator)).statusCode).toBe(403);
    const body = { url: 'https://example.org/hook', eventTypes: ['case.created'] };
    expect((await send('POST', '/api/webhooks', null, body)).statusCode).toBe(401);
    expect((await send('POST', '/api/webhooks', operator, body)).statusCode).toBe(403);
    expect((await send('POST', '/api/webhooks/1/actions/resume', operator)).statusCode).toBe(403);
    expect((await send('DELETE', '/api/webhooks/1', operator)).statusCode).toBe(403);
  });

  it.each(['http://127.0.0.1/', 'http://169.254.169.254/', 'http://[::1]:8080/x', 'http://10.0.0.5/'])(
    'refuses %s without allowPrivate (400, field url)',
    async (url) => {
      const response = await send('POST', '/api/webhooks', admin, { url, eventTypes: ['case.created'] });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'url' }] });
    },
  );

  it('refuses other schemes and empty event lists (400)', async () => {
    const ftp = await send('POST', '/api/webhooks', admin, {
      url: 'ftp://example.org/',
      eventTypes: ['case.created'],
    });
    expect(ftp.statusCode).toBe(400);
    const none = await send('POST', '/api/webhooks', admin, { url: 'https://example.org/', eventTypes: [] });
    expect(none.statusCode).toBe(400);
  });

  it('creates (201, secret once), lists without secrets, audits, deletes', async () => {
    const created = await send('POST', '/api/webhooks', admin, {
      url: 'http://127.0.0.1:9/x',
      eventTypes: ['case.closed'],
      allowPrivate: true,
    });
    expect(created.statusCode).toBe(201);
    const hook = created.json<{ id: number; secret: string; allowPrivate: boolean }>();
    expect(hook.secret).toMatch(/^whsec_/);
    expect(hook.allowPrivate).toBe(true);
    const list = await send('GET', '/api/webhooks', admin);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(hook.secret);
    // Sealed at rest: the table holds ciphertext that opens to the secret, never the secret itself.
    const [stored] = await rows<{ secret: string }>(
      db.orm,
      sql`select secret from webhook_endpoint where id = ${hook.id}`,
    );
    expect(stored!.secret).not.toContain(hook.secret);
    expect(secrets.decrypt(stored!.secret)).toBe(hook.secret);
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await send('GET', `/api/webhooks/${hook.id}/deliveries`, admin)).json()).toEqual({ items: [] });
    expect((await send('DELETE', `/api/webhooks/${hook.id}`, admin)).statusCode).toBe(204);
    expect((await send('DELETE', `/api/webhooks/${hook.id}`, admin)).statusCode).toBe(404);
    expect((await send('GET', '/api/webhooks/999/deliveries', admin)).statusCode).toBe(404);
    const audit = await rows<{ action: string }>(
      db.orm,
      sql`select action from audit_log where object_type = 'webhook_endpoint' order by id`,
    );
    expect(audit.map((a) => a.action)).toEqual(['webhook.create', 'webhook.delete']);
  });
});

describe('webhook delivery', () => {
  it('signs, retries with backoff, delivers exactly once, and leaves the outbox to notifications', async () => {
    const good = await receiver([]);
    const flaky = await receiver([500, 503]);
    try {
      const goodHook = await createHook(good.url, ['case.created', 'case.closed']);
      const flakyHook = await createHook(flaky.url, ['case.created']);
      await db.orm.transaction(async (tx) => {
        await enqueue(
          tx,
          {
            topic: 'case.created',
            payload: { caseId: 424242, serial: 'S1', actorId: 1, phone: '13800138000' },
          },
          clock.now(),
        );
        await enqueue(tx, { topic: 'case.dispatched', payload: { caseId: 424242 } }, clock.now());
      });

      const first = await deliverWebhooks({ db, clock, secrets });
      expect(first).toMatchObject({ fannedOut: 2, delivered: 1, failed: 1 });
      expect(good.received).toHaveLength(1);
      const [message] = good.received;
      const headers = message!.headers;
      expect(headers['x-wangge-event']).toBe('case.created');
      expect(
        verifyWebhookSignature({
          secret: goodHook.secret,
          timestamp: String(headers['x-wangge-timestamp']),
          body: message!.body,
          signature: String(headers['x-wangge-signature']),
          nowSeconds: Math.floor(clock.now().getTime() / 1000),
        }),
      ).toBe(true);
      // A tampered body, a wrong secret or a stale timestamp fail.
      const base = {
        secret: goodHook.secret,
        timestamp: String(headers['x-wangge-timestamp']),
        body: message!.body,
        signature: String(headers['x-wangge-signature']),
        nowSeconds: Math.floor(clock.now().getTime() / 1000),
      };
      expect(verifyWebhookSignature({ ...base, body: `${base.body} ` })).toBe(false);
      expect(verifyWebhookSignature({ ...base, secret: flakyHook.secret })).toBe(false);
      expect(verifyWebhookSignature({ ...base, nowSeconds: base.nowSeconds + 301 })).toBe(false);
      const body = JSON.parse(message!.body) as { id: string; type: string; data: Record<string, unknown> };
      expect(body.type).toBe('case.created');
      expect(body.data).toEqual({ caseId: 424242, serial: 'S1', actorId: 1 });
      expect(message!.body).not.toContain('13800138000');

      // Not due yet: nothing is sent.
      expect(await deliverWebhooks({ db, clock, secrets })).toMatchObject({ fannedOut: 0, attempted: 0 });
      clock.advance(webhookBackoffMs(1));
      expect(await deliverWebhooks({ db, clock, secrets })).toMatchObject({ delivered: 0, failed: 1 });
      clock.advance(webhookBackoffMs(2));
      expect(await deliverWebhooks({ db, clock, secrets })).toMatchObject({ delivered: 1, failed: 0 });
      clock.advance(3600_000);
      expect(await deliverWebhooks({ db, clock, secrets })).toMatchObject({ fannedOut: 0, attempted: 0 });

      expect(flaky.received).toHaveLength(3);
      expect(new Set(flaky.received.map((r) => r.headers['x-wangge-delivery'])).size).toBe(1);
      expect(good.received).toHaveLength(1);
      const deliveries = await send('GET', `/api/webhooks/${flakyHook.id}/deliveries`, admin);
      const [delivery] = deliveries.json<{
        items: { status: string; attempts: number; attemptLog: { statusCode: number }[] }[];
      }>().items;
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 3 });
      expect(delivery!.attemptLog.map((a) => a.statusCode)).toEqual([500, 503, 200]);
      expect(await countRows(db, 'webhook_delivery')).toBe(2);
      expect(await countRows(db, 'webhook_attempt')).toBe(4);

      // The outbox rows are still there for the notification processor.
      const pending = await rows<{ n: number }>(
        db.orm,
        sql`select count(*)::int as n from outbox where processed_at is null`,
      );
      expect(pending[0]!.n).toBe(2);
      expect(await processOutbox({ db, clock })).toMatchObject({ processed: 2, failed: 0 });
    } finally {
      await good.close();
      await flaky.close();
    }
  });

  it('re-checks the address at delivery time and pauses a failing endpoint, telling the admins', async () => {
    const hook = await createHook('http://127.0.0.1:9/never', ['case.evaluated']);
    await db.execScript(`update webhook_endpoint set allow_private = false where id = ${hook.id}`);
    await db.orm.transaction(async (tx) => {
      await enqueue(tx, { topic: 'case.evaluated', payload: { caseId: 7 } }, clock.now());
    });
    let calls = 0;
    const fetchImpl: typeof fetch = () => {
      calls += 1;
      return Promise.resolve(new Response('no', { status: 500 }));
    };
    for (let i = 0; i < 10; i++) {
      await deliverWebhooks({ db, clock, secrets, fetchImpl });
      clock.advance(3600_000);
    }
    expect(calls).toBe(0); // refused by the guard before any request
    clock.set('2026-11-20T02:30:00Z'); // back inside the test sessions' idle window
    const [endpoint] = (await send('GET', '/api/webhooks', admin))
      .json<{ items: { id: number; pausedAt: string | null; failureCount: number }[] }>()
      .items.filter((e) => e.id === hook.id);
    expect(endpoint!.failureCount).toBe(10);
    expect(endpoint!.pausedAt).not.toBeNull();
    const notes = await rows<{ user_id: number }>(
      db.orm,
      sql`select user_id::int as user_id from notification where kind = 'webhook.paused'`,
    );
    expect(notes.map((n) => n.user_id)).toEqual([admin.id]);
    // Paused: nothing more is attempted until resumed.
    expect(await deliverWebhooks({ db, clock, secrets, fetchImpl })).toMatchObject({ attempted: 0 });
    await db.execScript(`update webhook_endpoint set allow_private = true where id = ${hook.id}`);
    const resumed = await send('POST', `/api/webhooks/${hook.id}/actions/resume`, admin);
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({ pausedAt: null, failureCount: 0 });
    const ok: typeof fetch = () => Promise.resolve(new Response(null, { status: 204 }));
    expect(await deliverWebhooks({ db, clock, secrets, fetchImpl: ok })).toMatchObject({ delivered: 1 });
  });
});
