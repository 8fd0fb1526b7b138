/**
 * What every benchmark starts from: a fresh database with the demo city (PostgreSQL from `DATABASE_URL` — a throw-away
 * database `wangge_bench_<name>_<pid>` on that server — else PGlite in a temporary directory) and a real Wangge server
 * on loopback with the production configuration; `close()` stops the server and drops the database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { systemClock } from '../../apps/server/src/platform/clock.ts';
import { loadSecretBox, type SecretBox } from '../../apps/server/src/platform/crypto.ts';
import { openDatabase, type Database } from '../../apps/server/src/platform/db.ts';
import { createLogger } from '../../apps/server/src/platform/logger.ts';
import { migrate } from '../../apps/server/src/platform/migrate.ts';
import type { Wangge } from '../../apps/server/src/server.ts';
import { listenOnLoopback } from './listen.ts';
import { seedDemoCity } from '../../apps/server/src/seed/demo-city.ts';

export interface DemoServer {
  db: Database;
  /** the database's own URL (PostgreSQL) or undefined (PGlite) */
  databaseUrl: string | undefined;
  dataDir: string;
  secrets: SecretBox;
  logger: Logger;
  seedSeconds: number;
  wangge: Wangge;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  close(): Promise<void>;
}

export async function startDemoServer(name: string): Promise<DemoServer> {
  const url = process.env.DATABASE_URL;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `wangge-bench-${name}-`));
  let databaseUrl: string | undefined;
  let database: string | undefined;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(statement);
    await client.end();
  };
  if (url) {
    database = `wangge_bench_${name}_${process.pid}`;
    await admin(`drop database if exists ${database} with (force)`);
    await admin(`create database ${database}`);
    const parsed = new URL(url);
    parsed.pathname = `/${database}`;
    databaseUrl = parsed.toString();
  }
  const logger = createLogger('warn');
  const db = await openDatabase({ databaseUrl, dataDir: path.join(dataDir, 'pglite'), logger });
  await migrate(db);
  const secrets = loadSecretBox({ dataDir });
  const seeded = Date.now();
  await seedDemoCity(db, { now: systemClock.now(), logger, secrets });
  const seedSeconds = (Date.now() - seeded) / 1000;

  const { wangge, baseUrl } = await listenOnLoopback({ db, databaseUrl, dataDir: dataDir, logger });
  return {
    db,
    databaseUrl,
    dataDir,
    secrets,
    logger,
    seedSeconds,
    wangge,
    baseUrl,
    async close() {
      await wangge.app.close();
      await db.close();
      if (database) {
        await new Promise((resolve) => setTimeout(resolve, 500)); // the pool's sessions finish closing
        await admin(`drop database if exists ${database} with (force)`);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
