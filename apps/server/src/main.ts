import { createLogger } from './platform/logger.ts';
import { loadConfig } from './platform/config.ts';
import { systemClock } from './platform/clock.ts';
import { openDatabase } from './platform/db.ts';
import { migrate } from './platform/migrate.ts';
import { createWangge, type ServerState } from './server.ts';
import { demoAccounts, demoPassword } from './seed/demo-accounts.ts';
import { isTerritoryEmpty, seedDemoCity } from './seed/demo-city.ts';

const started = Date.now();
const config = loadConfig();
const logger = createLogger(config.logLevel);
const args = new Set(process.argv.slice(2));

const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
const { applied, current } = await migrate(db);
logger.info({ database: db.kind, applied: applied.length, migration: current }, 'database ready');

const state: ServerState = { seeding: false };
// Demo users are never put into a real PostgreSQL database unless asked for with --demo.
const mayseed = !config.databaseUrl || args.has('--demo');
if (mayseed && (await isTerritoryEmpty(db))) {
  const seeded = await seedDemoCity(db, { now: systemClock.now(), logger });
  logger.info(seeded, 'demo city seeded');
  printDemoAccounts();
} else if (mayseed && !config.databaseUrl) {
  printDemoAccounts();
}

const wangge = await createWangge({ config, db, logger, clock: systemClock, state });
await wangge.app.listen({ port: config.port, host: config.host });
logger.info(
  { port: config.port, database: db.kind, seconds: (Date.now() - started) / 1000 },
  'wangge listening',
);

function printDemoAccounts(): void {
  const lines = demoAccounts.map((a) => `  ${a.username.padEnd(18)} ${a.zh} / ${a.en}`);
  process.stdout.write(`\n演示账号 Demo accounts (password: ${demoPassword}):\n${lines.join('\n')}\n\n`);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining in-flight requests');
  const timer = setTimeout(() => {
    logger.error('drain timed out; exiting');
    process.exit(1);
  }, 20_000);
  timer.unref();
  try {
    await wangge.app.close();
    await db.close();
    logger.info('stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'error while stopping');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
