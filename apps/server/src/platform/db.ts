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
  /**
   * LISTENs on `channel` and calls `onNotify` with each notification's payload; resolves with the unlisten.
   * PostgreSQL: one dedicated connection per Database (not from the pool) carries every channel; when it drops it
   * is opened again with backoff, and then every listener gets `onNotify('')`, since notifications sent during
   * the gap are lost (listeners should look at the source at once). A failed first connection is retried the
   * same way rather than thrown. PGlite: its own single-session listen.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
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
  /** PostgreSQL only: first and longest wait before opening a dropped LISTEN connection again (ms). */
  listenRetryMs?: { min: number; max: number };
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
    async listen(channel, onNotify) {
      const unlisten = await client.listen(channel, onNotify);
      return async () => {
        if (!client.closed) await unlisten();
      };
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
  const listener = createPgListener(url, options);
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
    listen: listener.listen,
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

type NotifyCallback = (payload: string) => void;

/**
 * The LISTEN side of a PostgreSQL Database: one `pg.Client` of its own (a pooled connection would be handed to
 * other queries and lose its LISTENs), opened on the first listen and kept until close. When it drops (server
 * restart, `pg_terminate_backend`, network) it is opened again after min, 2·min, … max ms and LISTENs on every
 * channel again; then each listener is told with an empty payload.
 */
function createPgListener(url: string, options: OpenOptions): Pick<Database, 'listen' | 'close'> {
  const retryMin = options.listenRetryMs?.min ?? 250;
  const retryMax = options.listenRetryMs?.max ?? 10_000;
  const logger = options.logger;
  const channels = new Map<string, Set<NotifyCallback>>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;

  function notify(channel: string, payload: string): void {
    for (const callback of [...(channels.get(channel) ?? [])])
      try {
        callback(payload);
      } catch (error) {
        logger?.error({ err: error, channel }, 'postgres notification listener failed');
      }
  }

  async function listenOn(session: pg.Client, channel: string): Promise<void> {
    await session.query(`listen ${session.escapeIdentifier(channel)}`);
  }

  /** The open connection, or a new one listening on every channel. */
  function connection(): Promise<pg.Client> {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const session = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: 5000,
        keepAlive: true,
      });
      session.on('notification', (message) => notify(message.channel, message.payload ?? ''));
      session.on('error', (error) => lost(session, error));
      session.on('end', () => lost(session));
      try {
        await session.connect();
        for (const channel of channels.keys()) await listenOn(session, channel);
      } catch (error) {
        await session.end().catch(() => undefined);
        throw error;
      }
      if (closed) {
        await session.end().catch(() => undefined);
        throw new Error('database closed');
      }
      client = session;
      failures = 0;
      return session;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  function lost(session: pg.Client, error?: Error): void {
    if (session !== client) return;
    client = null;
    session.end().catch(() => undefined);
    logger?.warn({ err: error?.message }, 'postgres listen connection lost');
    reconnectLater();
  }

  function reconnectLater(): void {
    if (closed || retry || channels.size === 0) return;
    const delay = Math.min(retryMax, retryMin * 2 ** Math.min(failures, 20));
    failures += 1;
    retry = setTimeout(() => {
      retry = undefined;
      if (closed || channels.size === 0) return;
      connection().then(
        () => {
          logger?.info({ channels: [...channels.keys()] }, 'postgres listen connection restored');
          for (const channel of channels.keys()) notify(channel, '');
        },
        (error: unknown) => {
          logger?.warn({ err: (error as Error).message }, 'postgres listen reconnect failed');
          reconnectLater();
        },
      );
    }, delay);
    retry.unref();
  }

  return {
    async listen(channel, onNotify) {
      if (closed) throw new Error('database closed');
      let callbacks = channels.get(channel);
      const first = !callbacks;
      if (!callbacks) channels.set(channel, (callbacks = new Set()));
      // A wrapper per call, so the same function listening twice is unlistened once per call.
      const callback: NotifyCallback = (payload) => onNotify(payload);
      callbacks.add(callback);
      if (first || !client)
        try {
          const session = await connection();
          if (first) await listenOn(session, channel);
        } catch (error) {
          // Not listening yet: opened again with backoff, and this listener is told when it is.
          logger?.warn({ err: (error as Error).message, channel }, 'postgres listen failed; retrying');
          reconnectLater();
        }
      return async () => {
        const set = channels.get(channel);
        if (!set?.delete(callback) || set.size > 0) return;
        channels.delete(channel);
        const session = client;
        if (session)
          await session.query(`unlisten ${session.escapeIdentifier(channel)}`).catch(() => undefined);
      };
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      await connecting?.catch(() => undefined);
      const session = client;
      client = null;
      await session?.end().catch(() => undefined);
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
