/**
 * The city-scale database every issue-9 workload runs on: PostgreSQL (the production database), a database
 * `wangge_scale` on the server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), holding the
 * demo city (its accounts and departments), the province territory (`seed --scale province`: 41,130 grids in 11
 * cities, 50,000 staff) and a year and more of benchmark cases (`seed --cases`, default 1,000,000). Prepared once and
 * reused while it still holds that much; `--fresh` (or WANGGE_BENCH_FRESH=1) drops and rebuilds it.
 *
 * `startScaleServer()` runs a real Wangge server (production configuration, the jobs not started) on 127.0.0.1 in
 * the calling process; load comes from another process (http-load.ts).
 */
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { loadConfig } from '../../apps/server/src/platform/config.ts';
import { systemClock } from '../../apps/server/src/platform/clock.ts';
import { loadSecretBox, type SecretBox } from '../../apps/server/src/platform/crypto.ts';
import { one, openDatabase, sql, type Database } from '../../apps/server/src/platform/db.ts';
import { createLogger } from '../../apps/server/src/platform/logger.ts';
import { migrate } from '../../apps/server/src/platform/migrate.ts';
import type { Wangge } from '../../apps/server/src/server.ts';
import { listenOnLoopback } from './listen.ts';
import { isTerritoryEmpty, seedDemoCity, seedScale } from '../../apps/server/src/seed/demo-city.ts';
import { seedScaleCases } from '../../apps/server/src/seed/demo-cases.ts';

export const scaleDatabaseName = process.env.WANGGE_BENCH_DB ?? 'wangge_scale';
/** Where the secret keys live: the same default data directory `npm run wangge` uses. */
export const scaleDataDir = loadConfig({}).dataDir;

export function serverUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function scaleDatabaseUrl(): string {
  const url = new URL(serverUrl());
  url.pathname = `/${scaleDatabaseName}`;
  return url.toString();
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface ScaleFacts {
  grids: number;
  cases: number;
  persons: number;
  /** seconds spent seeding in this call (0 when reused) */
  seedSeconds: number;
}

export async function scaleFacts(db: Database): Promise<Omit<ScaleFacts, 'seedSeconds'>> {
  const facts = await one<{ grids: number; cases: number; persons: number }>(
    db.orm,
    sql`select (select count(*)::int from region where level = 'grid') as grids,
               (select count(*)::int from grid_case) as cases,
               (select count(*)::int from person) as persons`,
  );
  return facts!;
}

/**
 * Makes sure the scale database exists and holds at least `cases` cases over ≥ 40,000 grids; seeds what is missing.
 */
export async function prepareScale(
  options: { cases?: number; fresh?: boolean; say?: (line: string) => void } = {},
): Promise<ScaleFacts> {
  const wanted = options.cases ?? 1_000_000;
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger = createLogger('warn');
  if (options.fresh || process.env.WANGGE_BENCH_FRESH === '1')
    await admin(`drop database if exists ${scaleDatabaseName} with (force)`);
  try {
    await admin(`create database ${scaleDatabaseName}`);
    say(`created database ${scaleDatabaseName}`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error; // already exists
  }
  const db = await openDatabase({ databaseUrl: scaleDatabaseUrl(), poolSize: 4, logger });
  const started = performance.now();
  try {
    await migrate(db);
    const secrets = loadSecretBox({ dataDir: scaleDataDir });
    if (await isTerritoryEmpty(db)) {
      say('seeding the demo city (accounts, departments, registry)…');
      await seedDemoCity(db, { now: systemClock.now(), logger, secrets });
    }
    let facts = await scaleFacts(db);
    if (facts.grids < 40_000) {
      say('seeding the province territory (~41,000 grids)…');
      await seedScale(db, { scale: 'province', now: systemClock.now(), logger });
      facts = await scaleFacts(db);
    }
    if (facts.cases < wanted) {
      say(`seeding ${wanted.toLocaleString('en-US')} cases (a few minutes)…`);
      // The generator numbers its cases from 1 and spreads them over its whole period: start afresh.
      if (facts.cases > 0) await db.execScript('truncate grid_case, case_serial_counter cascade');
      await seedScaleCases(db, { count: wanted, now: systemClock.now() });
      facts = await scaleFacts(db);
    }
    const seedSeconds = (performance.now() - started) / 1000;
    if (seedSeconds > 5) await db.execScript('vacuum analyze');
    return { ...facts, seedSeconds: Math.round(seedSeconds) };
  } finally {
    await db.close();
  }
}

export interface ScaleServer {
  db: Database;
  databaseUrl: string;
  secrets: SecretBox;
  logger: Logger;
  wangge: Wangge;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  close(): Promise<void>;
}

/** A Wangge server on the scale database (call prepareScale first). */
export async function startScaleServer(): Promise<ScaleServer> {
  const databaseUrl = scaleDatabaseUrl();
  const logger = createLogger('warn');
  const db = await openDatabase({ databaseUrl, logger });
  await migrate(db);
  const secrets = loadSecretBox({ dataDir: scaleDataDir });
  const { wangge, baseUrl } = await listenOnLoopback({ db, databaseUrl, dataDir: scaleDataDir, logger });
  return {
    db,
    databaseUrl,
    secrets,
    logger,
    wangge,
    baseUrl,
    async close() {
      // Load generators may still hold keep-alive sockets: cut them, let the last handlers finish, then the pool.
      await wangge.app.close();
      wangge.app.server.closeAllConnections();
      await new Promise((resolve) => setTimeout(resolve, 250));
      await db.close();
    },
  };
}

/** Signs in through the API; returns the bearer token. */
export async function signIn(baseUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json()) as { token?: string };
  if (response.status !== 200 || !body.token)
    throw new Error(`sign-in as ${username} failed: ${response.status} ${JSON.stringify(body)}`);
  return body.token;
}

export const benchRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
