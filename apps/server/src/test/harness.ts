import { Writable } from 'node:stream';
import pg from 'pg';
import { createLogger } from '../platform/logger.ts';
import { fixedClock, type Clock } from '../platform/clock.ts';
import { loadConfig, type Config } from '../platform/config.ts';
import { openDatabase, rows, sql, type Database } from '../platform/db.ts';
import { migrate } from '../platform/migrate.ts';
import { createWangge, type Wangge } from '../server.ts';

let shared: Promise<Database> | undefined;

export const testDatabasePrefix = 'wangge_test_';

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Everything the server logs during tests, so tests can check that no personal data reaches the logs. */
export const capturedLogs: string[] = [];

/**
 * One database per test worker, migrated once: PGlite in memory by default, or a fresh database named after
 * the worker on the PostgreSQL server of DATABASE_URL.
 */
export function testDatabase(): Promise<Database> {
  shared ??= (async () => {
    const url = process.env.DATABASE_URL;
    let databaseUrl: string | undefined;
    if (url) {
      // Named after this test run (the vitest main process) and worker, so two runs on one server never meet;
      // databases left by runs that are gone are dropped.
      const name = `${testDatabasePrefix}${process.ppid}_${process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '0'}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const existing = await admin.query<{ datname: string }>(
        `select datname from pg_database where datname like '${testDatabasePrefix}%'`,
      );
      for (const { datname } of existing.rows) {
        const pid = Number(datname.slice(testDatabasePrefix.length).split('_')[0]);
        if (datname === name || !isAlive(pid))
          await admin.query(`drop database if exists ${datname} with (force)`).catch(() => undefined);
      }
      await admin.query(`create database ${name}`);
      await admin.end();
      const parsed = new URL(url);
      parsed.pathname = `/${name}`;
      databaseUrl = parsed.toString();
    }
    const db = await openDatabase({ databaseUrl, dataDir: 'memory://', poolSize: 5 });
    await migrate(db);
    return db;
  })();
  return shared;
}

/** Empties every table (keeps the schema), so each test file starts from nothing. */
export async function resetDatabase(db: Database): Promise<void> {
  const tables = await rows<{ table_name: string }>(
    db.orm,
    sql`select table_name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE'
          and table_name not in ('schema_migration', 'spatial_ref_sys')`,
  );
  if (tables.length > 0)
    await db.execScript(
      `truncate ${tables.map((t) => `"${t.table_name}"`).join(', ')} restart identity cascade`,
    );
  await db.execScript(`insert into audit_head (id, last_id, last_hash) values (1, 0, repeat('0', 64))`);
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), logLevel: 'info', webDir: null, ...overrides };
}

export async function testServer(
  db: Database,
  options: { clock?: Clock; config?: Partial<Config> } = {},
): Promise<Wangge> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      capturedLogs.push(chunk.toString());
      done();
    },
  });
  return createWangge({
    config: testConfig(options.config),
    db,
    logger: createLogger('info', sink),
    clock: options.clock ?? fixedClock('2026-11-20T02:00:00Z'),
  });
}
