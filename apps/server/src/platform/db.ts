import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import pg from 'pg';
import type { Logger } from 'pino';
import { DomainError } from './errors.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** Drizzle database over either driver: one code path for both. */
export type Orm = PgDatabase<PgQueryResultHKT, Record<string, never>>;
export type Tx = PgTransaction<
  PgQueryResultHKT,
  Record<string, never>,
  ExtractTablesWithRelations<Record<string, never>>
>;
/** Anything that runs queries: the database itself or an open transaction. */
export type Executor = Orm | Tx;

export interface Database {
  kind: DatabaseKind;
  orm: Orm;
  /** Runs a script of several statements (migrations). No parameters. */
  execScript(text: string): Promise<void>;
  /**
   * Applies one migration script and records it, in one transaction, unless it is already recorded
   * (checked under a lock, so two processes starting at once apply it once). Returns true when applied.
   */
  applyMigration(version: string, name: string, checksum: string, text: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  /** Data directory for PGlite; `memory://` keeps it in memory (tests). */
  dataDir?: string;
  logger?: Logger;
  poolSize?: number;
  /** PostgreSQL only: runs on every new connection (session settings, notice listeners). */
  onConnect?: (client: pg.PoolClient) => Promise<void>;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openPglite(options.dataDir ?? 'memory://', options);
}

async function openPglite(dataDir: string, options: OpenOptions): Promise<Database> {
  if (!dataDir.startsWith('memory://')) fs.mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir, extensions: { postgis } });
  const orm = drizzlePglite(client) as unknown as Orm;
  options.logger?.debug({ dataDir }, 'pglite open');
  return {
    kind: 'pglite',
    orm,
    async execScript(text) {
      await client.exec(text);
    },
    async applyMigration(version, name, checksum, text) {
      return client.transaction(async (tx) => {
        const done = await tx.query('select 1 from schema_migration where version = $1', [version]);
        if (done.rows.length > 0) return false;
        await tx.exec(text);
        await tx.query('insert into schema_migration (version, name, checksum) values ($1, $2, $3)', [
          version,
          name,
          checksum,
        ]);
        return true;
      });
    },
    async close() {
      await client.close();
    },
  };
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client whose server went away emits 'error' on the pool: without a handler the process dies.
  pool.on('error', (error) => options.logger?.warn({ err: error.message }, 'postgres pool client error'));
  const onConnect = options.onConnect;
  if (onConnect) pool.on('connect', (client) => void onConnect(client));
  const orm = drizzlePostgres(pool) as unknown as Orm;
  // Fail fast at start-up if the server is not there.
  const client = await pool.connect();
  client.release();
  return {
    kind: 'postgres',
    orm,
    async execScript(text) {
      await pool.query(text);
    },
    async applyMigration(version, name, checksum, text) {
      const session = await pool.connect();
      try {
        await session.query('begin');
        await session.query('select pg_advisory_xact_lock(7263001)');
        const done = await session.query('select 1 from schema_migration where version = $1', [version]);
        if (done.rows.length > 0) {
          await session.query('rollback');
          return false;
        }
        await session.query(text);
        await session.query('insert into schema_migration (version, name, checksum) values ($1, $2, $3)', [
          version,
          name,
          checksum,
        ]);
        await session.query('commit');
        return true;
      } catch (error) {
        await session.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        session.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** Runs a query and returns its rows. Cast integers in SQL (`::int`): `pg` returns int8 as strings. */
export async function rows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = await executor.execute(query);
  // Both drivers answer { rows }; drizzle's shared type leaves it unknown.
  return (result as { rows: T[] }).rows;
}

export async function one<T>(executor: Executor, query: SQL): Promise<T | undefined> {
  const result = await rows<T>(executor, query);
  return result[0];
}

export { sql };
export type { SQL };

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01',
  '57P02',
  '57P03',
]);

/** True for errors that mean the database cannot be reached right now (answer 503, retry later). */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const e = current as { code?: string; message?: string; cause?: unknown };
    if (e.code && (unavailableCodes.has(e.code) || e.code.startsWith('08'))) return true;
    if (
      typeof e.message === 'string' &&
      /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
        e.message,
      )
    )
      return true;
    current = e.cause;
  }
  return false;
}

/** Postgres unique violation / serialization failure, looked up through drizzle's wrapping. */
export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const e = current as { code?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    current = e.cause;
  }
  return undefined;
}

export function unavailable(): DomainError {
  return new DomainError(
    'DATABASE_UNAVAILABLE',
    '数据库暂时不可用,请稍后重试 (database unavailable, retry later)',
  );
}

/** A timestamp column as ISO text (pg gives Date, PGlite may give text); null stays null. */
export function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}
