import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RunningWangge {
  baseUrl: string;
  /** everything the server printed (stdout and stderr, info level), complete once `stop` has resolved */
  logFile: string;
  /** when the server started: the day its demo city was generated for */
  startedAt: Date;
  stop(): Promise<void>;
}

/**
 * Starts the real server (`apps/server/src/main.ts`, as `npm start` does) with the demo city: on a fresh PGlite
 * directory, or on a fresh PostgreSQL database when DATABASE_URL is set (`--demo`). Waits for /api/health = ok.
 */
export async function startWangge(): Promise<RunningWangge> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wangge-e2e-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    WANGGE_DATA_DIR: dataDir,
    // info: every request line goes to the log, which the run then searches for residents' ID numbers and phones
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info',
  };
  const args = ['--import', 'tsx', path.join(repoRoot, 'apps/server/src/main.ts')];
  let dropDatabase: (() => Promise<void>) | null = null;
  if (process.env.DATABASE_URL) {
    const name = `wangge_e2e_${process.pid}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    args.push('--demo');
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const startedAt = new Date();
  const logDir = path.join(repoRoot, 'e2e/artifacts');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `server-${process.env.DATABASE_URL ? 'postgres' : 'pglite'}.log`);
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    log.write(d);
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const logClosed = new Promise((resolve) => child.once('close', () => log.end(() => resolve(undefined))));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 200_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wangge exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${baseUrl}/api/health`);
      const body = (await response.json()) as { status?: string };
      if (body.status === 'ok') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`wangge did not become healthy in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    baseUrl,
    logFile,
    startedAt,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
        clearTimeout(timer);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await logClosed;
      rmSync(dataDir, { recursive: true, force: true });
      if (dropDatabase) await dropDatabase();
    },
  };
}
