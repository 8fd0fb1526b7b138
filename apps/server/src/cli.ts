import { createLogger } from './platform/logger.ts';
import { loadConfig } from './platform/config.ts';
import { loadSecretBox } from './platform/crypto.ts';
import { systemClock } from './platform/clock.ts';
import { openDatabase } from './platform/db.ts';
import { migrate } from './platform/migrate.ts';
import { verifyAuditChain } from './platform/audit.ts';
import { resealAll } from './platform/rekey.ts';
import { isTerritoryEmpty, seedDemoCity, seedScale } from './seed/demo-city.ts';
import { seedScaleCases } from './seed/demo-cases.ts';

const usage = `npm run wangge -- <command>
  migrate                       apply pending database migrations
  seed [--demo]                 seed the demo city into an empty database
  seed --scale city|province    generate a large territory for benchmarks (province: ~41k grids)
  seed --cases N [--city CODE] [--days D]
                                generate N benchmark cases over the existing grids (PostgreSQL; D days, default 730)
  audit-verify                  check the audit log's hash chain; exit 1 if a row was changed or deleted
  rekey                         re-seal every stored secret with the current key (after a key rotation: the
                                new key in WANGGE_SECRET_KEY, the old in WANGGE_SECRET_KEYS_PREVIOUS); exit 1 if
                                some value opens with no known key`;

const [command, ...rest] = process.argv.slice(2);
const config = loadConfig();
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');

function option(name: string): string | undefined {
  const index = rest.indexOf(name);
  return index >= 0 ? rest[index + 1] : undefined;
}

async function run(): Promise<number> {
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${usage}\n`);
    return command ? 0 : 2;
  }
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    switch (command) {
      case 'migrate': {
        const result = await migrate(db);
        process.stdout.write(`migrated: ${result.applied.length} applied, current ${result.current}\n`);
        return 0;
      }
      case 'seed': {
        await migrate(db);
        const cases = option('--cases');
        if (cases) {
          const count = Number(cases);
          if (!Number.isInteger(count) || count < 1)
            throw new Error('--cases must be a positive whole number');
          const days = option('--days');
          const result = await seedScaleCases(db, {
            count,
            now: systemClock.now(),
            ...(option('--city') ? { cityCode: option('--city')! } : {}),
            ...(days ? { days: Number(days) } : {}),
          });
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return 0;
        }
        const scale = option('--scale');
        if (scale) {
          if (scale !== 'city' && scale !== 'province') throw new Error('--scale must be city or province');
          const result = await seedScale(db, { scale, now: systemClock.now(), logger });
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return 0;
        }
        if (config.databaseUrl && !rest.includes('--demo')) {
          process.stderr.write('refusing to seed demo users into DATABASE_URL without --demo\n');
          return 2;
        }
        if (!(await isTerritoryEmpty(db))) {
          process.stderr.write('the database already holds a territory; nothing seeded\n');
          return 1;
        }
        process.stdout.write(
          `${JSON.stringify(await seedDemoCity(db, { now: systemClock.now(), logger, secrets: loadSecretBox({ dataDir: config.dataDir }) }))}\n`,
        );
        return 0;
      }
      case 'audit-verify': {
        const result = await verifyAuditChain(db.orm);
        if (result.ok) process.stdout.write(`audit chain ok: ${result.checked} rows verified\n`);
        else
          process.stdout.write(
            `audit chain BROKEN after ${result.checked} rows:\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`,
          );
        return result.ok ? 0 : 1;
      }
      case 'rekey': {
        await migrate(db);
        const report = await resealAll(db, loadSecretBox({ dataDir: config.dataDir }));
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return Object.values(report.unreadable).some((n) => n > 0) ? 1 : 0;
      }
      default:
        process.stderr.write(`unknown command: ${command}\n${usage}\n`);
        return 2;
    }
  } finally {
    await db.close();
  }
}

run().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
