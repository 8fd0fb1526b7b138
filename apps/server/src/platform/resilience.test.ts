import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './db.ts';
import { migrate } from './migrate.ts';
import { auth, makeUser } from '../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';

describe('errors at the edge', () => {
  let server: Wangge;
  beforeAll(async () => {
    const db = await testDatabase();
    await resetDatabase(db);
    server = await testServer(db, { config: { bodyLimit: 64 * 1024 } });
  });

  it('refuses an oversized body with 413 and a clear code', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'x', password: 'y'.repeat(200 * 1024) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers malformed JSON with 400 and never a stack trace', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": ',
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<Record<string, unknown>>();
    expect(Object.keys(body).sort()).toEqual(['code', 'message']);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('answers an unknown path with a JSON 404 and echoes a request id', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/nothing-here',
      headers: { 'x-request-id': 'req-12345678' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'NOT_FOUND', message: '未找到 (not found)' });
    expect(response.headers['x-request-id']).toBe('req-12345678');
  });

  it('caps page sizes with a field message', async () => {
    const admin = await makeUser(await testDatabase(), [{ role: 'admin' }]);
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/users?limit=100000',
      headers: auth(admin),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'querystring.limit' }],
    });
  });

  it('logs neither passwords nor tokens', async () => {
    await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'someone', password: 'secret-pass-123' },
    });
    await server.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: 'Bearer token-abcdef-123456' },
    });
    const logs = capturedLogs.join('');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain('secret-pass-123');
    expect(logs).not.toContain('token-abcdef-123456');
  });
});

/**
 * PostgreSQL going away and coming back, seen from Wangge: a TCP proxy stands between the pool and the server;
 * closing it cuts every connection and refuses new ones (as a restart does), opening it again lets the pool
 * reconnect. Wangge must answer 503 meanwhile and recover without a restart.
 */
describe.runIf(Boolean(process.env.DATABASE_URL))('PostgreSQL restart', () => {
  let proxy: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  let proxyPort = 0;
  let db: Database;
  let server: Wangge;

  function startProxy(target: URL): Promise<void> {
    return new Promise((resolve) => {
      proxy = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      proxy.listen(proxyPort, '127.0.0.1', () => {
        proxyPort = (proxy!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  function stopProxy(): Promise<void> {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    return new Promise((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  }

  beforeAll(async () => {
    const shared = await testDatabase();
    await resetDatabase(shared);
    const base = new URL(process.env.DATABASE_URL!);
    const { rows, sql } = await import('./db.ts');
    const [{ name } = { name: '' }] = await rows<{ name: string }>(
      shared.orm,
      sql`select current_database() as name`,
    );
    await startProxy(base);
    const viaProxy = new URL(base);
    viaProxy.host = `127.0.0.1:${proxyPort}`;
    viaProxy.pathname = `/${name}`;
    db = await openDatabase({ databaseUrl: viaProxy.toString(), poolSize: 3 });
    await migrate(db);
    server = await testServer(db);
  });

  afterAll(async () => {
    await db?.close().catch(() => undefined);
    await stopProxy();
  });

  it('answers 503 while the database is down and recovers by itself', async () => {
    const health = () => server.app.inject({ method: 'GET', url: '/api/health' });
    expect((await health()).statusCode).toBe(200);
    await stopProxy();
    const down = await health();
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'unavailable', database: 'postgres' });
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'a', password: 'b' },
    });
    expect(login.statusCode).toBe(503);
    expect(login.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    await startProxy(new URL(process.env.DATABASE_URL!));
    let recovered = 0;
    for (let attempt = 0; attempt < 20 && recovered !== 200; attempt++) {
      recovered = (await health()).statusCode;
      if (recovered !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(recovered).toBe(200);
  });
});
