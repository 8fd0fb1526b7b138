import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/web/dist, made by `npm run build:web` (`npm start` builds it when missing). */
const defaultWebDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL URL; when absent Wangge runs on embedded PGlite. */
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: string;
  /** Seconds a session stays valid without use. */
  sessionIdleSeconds: number;
  /** Request body cap in bytes. */
  bodyLimit: number;
  version: string;
  secureCookies: boolean;
  /** 不满意重办: a dissatisfied evaluation may reopen the case (WANGGE_REOPEN_ON_DISSATISFIED, default on). */
  reopenOnDissatisfied: boolean;
  /** The built web apps served at `/` (WANGGE_WEB_DIR, default apps/web/dist); null serves none. */
  webDir: string | null;
  /** Days after moving out before a person is anonymised by the retention job (WANGGE_RETENTION_MOVED_OUT_DAYS, 730). */
  retentionMovedOutDays: number;
  /**
   * The grid sizing guidance (300–500 households or 1000–1500 people): WANGGE_GRID_HOUSEHOLDS_MIN/MAX,
   * WANGGE_GRID_PEOPLE_MIN/MAX.
   */
  gridSizing: { householdsMin: number; householdsMax: number; peopleMin: number; peopleMax: number };
}

/** A non-negative integer from the environment: unset or empty → the default; anything else must parse. */
function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number ≥ 0, got ${value}`);
  return n;
}

/** A boolean switch from the environment: unset or empty → the default; '0', 'false', 'no', 'off' → false. */
function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(value.trim().toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.WANGGE_DATA_DIR ?? 'data'),
    logLevel: env.LOG_LEVEL ?? 'info',
    sessionIdleSeconds: Number(env.WANGGE_SESSION_IDLE_SECONDS ?? 8 * 3600),
    bodyLimit: Number(env.WANGGE_BODY_LIMIT ?? 1024 * 1024),
    version: env.npm_package_version ?? '0.1.0',
    secureCookies: env.WANGGE_SECURE_COOKIES === '1',
    reopenOnDissatisfied: flag(env.WANGGE_REOPEN_ON_DISSATISFIED, true),
    webDir: env.WANGGE_WEB_DIR === '' ? null : path.resolve(env.WANGGE_WEB_DIR ?? defaultWebDir),
    retentionMovedOutDays: count('WANGGE_RETENTION_MOVED_OUT_DAYS', env.WANGGE_RETENTION_MOVED_OUT_DAYS, 730),
    gridSizing: gridSizing(env),
  };
}

function gridSizing(env: NodeJS.ProcessEnv): Config['gridSizing'] {
  const sizing = {
    householdsMin: count('WANGGE_GRID_HOUSEHOLDS_MIN', env.WANGGE_GRID_HOUSEHOLDS_MIN, 300),
    householdsMax: count('WANGGE_GRID_HOUSEHOLDS_MAX', env.WANGGE_GRID_HOUSEHOLDS_MAX, 500),
    peopleMin: count('WANGGE_GRID_PEOPLE_MIN', env.WANGGE_GRID_PEOPLE_MIN, 1000),
    peopleMax: count('WANGGE_GRID_PEOPLE_MAX', env.WANGGE_GRID_PEOPLE_MAX, 1500),
  };
  if (sizing.householdsMin > sizing.householdsMax || sizing.peopleMin > sizing.peopleMax)
    throw new Error('WANGGE_GRID_*_MIN must not exceed the matching _MAX');
  return sizing;
}
