import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The real start command, end to end: an empty database → migrations → demo city → listening; demo accounts
 * sign in; SIGTERM lets in-flight requests finish and exits 0.
 */
const root = path.resolve(import.meta.dirname, '../../..');
let child: ChildProcess;
let base = '';
let output = '';
let exit: Promise<number | null>;
let dataDir: string | undefined;
let startDatabase: string | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  const args = ['--import', 'tsx', 'apps/server/src/main.ts'];
  if (process.env.DATABASE_URL) {
    const name = `wangge_start_${process.ppid}_${process.env.VITEST_POOL_ID ?? '0'}`;
    startDatabase = name;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    args.push('--demo');
  } else {
    delete env.DATABASE_URL;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-start-'));
    env.WANGGE_DATA_DIR = dataDir;
  }
  const started = Date.now();
  child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  base = `http://127.0.0.1:${port}`;
  // Generous: on a loaded 2-core machine this is a third PGlite + PostGIS start beside the test workers'.
  let healthy = false;
  for (let i = 0; i < 480 && !healthy; i++) {
    healthy = await fetch(`${base}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!healthy) throw new Error(`server not healthy after 240 s:\n${output.slice(-4000)}`);
  process.stdout.write(`server healthy after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}, 300_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  if (startDatabase && process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${startDatabase} with (force)`);
    await admin.end();
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function login(username: string): Promise<{ status: number; token?: string }> {
  const response = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'demo12345' }),
  });
  const body = (await response.json()) as { token?: string };
  return { status: response.status, token: body.token };
}

describe('npm start', () => {
  it('serves health and prints the demo accounts', async () => {
    const health = (await (await fetch(`${base}/api/health`)).json()) as Record<string, string>;
    expect(health.status).toBe('ok');
    expect(health.database).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    expect(health.migration).toMatch(/^\d{14}$/);
    expect(output).toContain('demo-street');
    expect(output).toContain('demo12345');
  });

  it('lets the demo street operator and a demo grid worker sign in, each within their scope', async () => {
    const street = await login('demo-street');
    expect(street.status).toBe(200);
    const worker = await login('demo-worker');
    expect(worker.status).toBe(200);
    const me = (await (
      await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${worker.token}` } })
    ).json()) as {
      scope: { level: string; regionCode: string }[];
    };
    expect(me.scope).toHaveLength(1);
    expect(me.scope[0]!.level).toBe('grid');
    expect(me.scope[0]!.regionCode).toMatch(/^\d{15}$/);
  });

  it('drains in-flight requests on SIGTERM and exits 0', async () => {
    const incoming = () =>
      output.split('\n').filter((line) => line.includes('"msg":"incoming request"')).length;
    const completed = () =>
      output.split('\n').filter((line) => line.includes('"msg":"request completed"')).length;
    // The log is written asynchronously: wait until the earlier tests' requests are all logged, so that the next
    // "incoming request" line is this test's request and not a late line from before (a CI run sent the signal early).
    for (let i = 0; i < 400 && completed() < incoming(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(completed()).toBe(incoming());
    const before = incoming();
    // A request whose body is still arriving when the signal comes: deterministically in flight.
    const body = JSON.stringify({ username: 'demo-leader', password: 'demo12345' });
    const request = http.request(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const response = new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      request.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      });
      request.on('error', reject);
    });
    request.write(body.slice(0, 10));
    for (let i = 0; i < 400 && incoming() === before; i++) await new Promise((r) => setTimeout(r, 5));
    expect(incoming()).toBeGreaterThan(before);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 400));
    expect(child.exitCode).toBeNull(); // still draining: the request is not finished
    request.end(body.slice(10));
    const answer = await response;
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('token');
    expect(await exit).toBe(0);
    expect(output).toContain('"msg":"stopped"');
  });
});
