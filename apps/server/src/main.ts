import { createLogger } from './platform/logger.ts';
import { loadConfig } from './platform/config.ts';
import { systemClock } from './platform/clock.ts';
import { openDatabase } from './platform/db.ts';
import { migrate } from './platform/migrate.ts';
import { createWangge, type ServerState } from './server.ts';
import { startJobs } from './platform/jobs.ts';
import { processOutbox } from './modules/case/index.ts';
import { scanDeadlines } from './modules/case/case.scanner.ts';
import { deliverWebhooks } from './modules/interop/index.ts';
import { runRetention } from './modules/registry/index.ts';
import { noticeJobs } from './modules/notice/index.ts';
import { kpiRollupJob } from './modules/assessment/index.ts';
import { loadSecretBox } from './platform/crypto.ts';
import { ensureDefaultCalendar } from './modules/calendar/index.ts';
import { ensureDefaultTaxonomy } from './modules/taxonomy/index.ts';
import { ensureDefaultHotlineClassifications } from './modules/interop/index.ts';
import { demoAccounts, demoPassword } from './seed/demo-accounts.ts';
import { isTerritoryEmpty, seedDemoCity } from './seed/demo-city.ts';

const started = Date.now();
const config = loadConfig();
const logger = createLogger(config.logLevel);
const argv = process.argv.slice(2);
const args = new Set(argv);
// --role api: HTTP only; --role worker: background jobs only; default: both in one process.
const role = argv[argv.indexOf('--role') + 1] ?? 'all';
if (args.has('--role') && !['api', 'worker', 'all'].includes(role))
  throw new Error('--role must be api, worker or all');

const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
const { applied, current } = await migrate(db);
logger.info({ database: db.kind, applied: applied.length, migration: current }, 'database ready');
// Reference data every installation needs: the holiday calendar and the default case taxonomy (only where absent).
await ensureDefaultCalendar(db.orm);
await ensureDefaultTaxonomy(db.orm);
await ensureDefaultHotlineClassifications(db.orm);

const state: ServerState = { seeding: false };
// Demo users are never put into a real PostgreSQL database unless asked for with --demo.
const mayseed = !config.databaseUrl || args.has('--demo');
if (mayseed && (await isTerritoryEmpty(db))) {
  const seeded = await seedDemoCity(db, {
    now: systemClock.now(),
    logger,
    secrets: loadSecretBox({ dataDir: config.dataDir }),
  });
  logger.info(seeded, 'demo city seeded');
  printDemoAccounts();
} else if (mayseed && !config.databaseUrl) {
  printDemoAccounts();
}

const wangge =
  role === 'worker' ? undefined : await createWangge({ config, db, logger, clock: systemClock, state });
if (wangge) {
  await wangge.app.listen({ port: config.port, host: config.host });
  logger.info(
    { port: config.port, database: db.kind, seconds: (Date.now() - started) / 1000 },
    'wangge listening',
  );
}
const secrets = loadSecretBox({ dataDir: config.dataDir });
const jobs =
  role === 'api'
    ? undefined
    : startJobs({
        logger,
        jobs: [
          // After-commit work: notifications to the next owner of a case.
          { name: 'case-notifications', everyMs: 2000, run: () => processOutbox({ db, clock: systemClock }) },
          // Deadlines: overdue marks, auto-escalation of unaccepted dispatches, yellow/red cards. Idempotent.
          { name: 'case-deadlines', everyMs: 60_000, run: () => scanDeadlines({ db, clock: systemClock }) },
          // Retention: persons moved out longer than the configured period are anonymised. Daily, idempotent.
          {
            name: 'registry-retention',
            everyMs: 24 * 3600_000,
            run: () => runRetention({ db, clock: systemClock, days: config.retentionMovedOutDays }),
          },
          // Signed webhooks to registered endpoints, from the outbox, with retries.
          {
            name: 'webhooks',
            everyMs: 5000,
            run: () => deliverWebhooks({ db, clock: systemClock, secrets }),
          },
          // Notices: publish scheduled ones; remind grids that have not relayed, then escalate. Idempotent.
          ...noticeJobs({ db, clock: systemClock }),
          // KPI rollup: recompute the counters of the cases changed since the last drain (reads drain too).
          kpiRollupJob({ db }),
        ],
      });

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
    // Keep-alive sockets with no request in flight (browsers and fetch open spare ones) would hold the drain
    // open until they time out: close them as soon as they are idle, while in-flight requests finish.
    const closing = wangge?.app.close();
    const sweep = setInterval(() => wangge?.app.server.closeIdleConnections(), 250);
    sweep.unref();
    await closing;
    clearInterval(sweep);
    await jobs?.stop();
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
