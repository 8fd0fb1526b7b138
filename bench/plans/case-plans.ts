/**
 * Prints the PostgreSQL plans of the real queue and KPI queries at scale (issue 3: "with 1M cases the queue and
 * KPI queries use indexes; no sequential scan of the case table for a grid worker's queue").
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_plans npm run bench:plans -- [--prepare] [--cases 1000000]
 *
 * --prepare seeds a city-scale territory (7,830 grids) and the cases when the database holds fewer. The plans are
 * captured with PostgreSQL's auto_explain (EXPLAIN ANALYZE of every statement the product code runs, sent back as
 * notices), so what is printed is the plan of the product's own SQL, not a copy of it. Exit 1 when a grid worker's
 * queue reads grid_case sequentially.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Actor, RoleGrant } from '../../apps/server/src/platform/access.ts';
import { systemClock } from '../../apps/server/src/platform/clock.ts';
import { one, openDatabase, rows, sql, type Database } from '../../apps/server/src/platform/db.ts';
import { createLogger } from '../../apps/server/src/platform/logger.ts';
import { migrate } from '../../apps/server/src/platform/migrate.ts';
import { listMyQueue } from '../../apps/server/src/modules/case/case.queues.ts';
import { kpiReport } from '../../apps/server/src/modules/assessment/kpi.service.ts';
import { seedScale } from '../../apps/server/src/seed/demo-city.ts';
import { seedScaleCases } from '../../apps/server/src/seed/demo-cases.ts';

const argv = process.argv.slice(2);
const wanted = Number(argv[argv.indexOf('--cases') + 1] ?? 1_000_000) || 1_000_000;
const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL must point at PostgreSQL (plans are a production question)\n');
  process.exit(2);
}

const logger = createLogger('warn');
const count = async (database: Database) =>
  (await one<{ n: number }>(database.orm, sql`select count(*)::int as n from grid_case`))?.n ?? 0;

// Seeding runs on an ordinary connection: auto_explain would analyse every insert.
const plain = await openDatabase({ databaseUrl: url, poolSize: 2, logger });
await migrate(plain);
if (argv.includes('--prepare')) {
  const grids = await one<{ n: number }>(
    plain.orm,
    sql`select count(*)::int as n from region where level = 'grid'`,
  );
  if ((grids?.n ?? 0) < 5000) await seedScale(plain, { scale: 'city', now: systemClock.now(), logger });
  const have = await count(plain);
  if (have < wanted) {
    // The generator numbers its cases from 1 and spreads them over the whole period: start it afresh.
    if (have > 0) await plain.execScript('truncate grid_case, case_serial_counter cascade');
    process.stdout.write(`seeding ${wanted} cases…\n`);
    const seeded = await seedScaleCases(plain, { count: wanted, now: systemClock.now() });
    process.stdout.write(`${JSON.stringify(seeded)}\n`);
  }
  await plain.execScript('analyze');
}
await plain.close();

const notices: string[] = [];
const db: Database = await openDatabase({
  databaseUrl: url,
  poolSize: 1,
  logger,
  onConnect: async (client) => {
    client.on('notice', (msg) => notices.push(msg.message ?? ''));
    await client.query(`load 'auto_explain'`);
    await client.query(`set auto_explain.log_min_duration = 0`);
    await client.query(`set auto_explain.log_analyze = on`);
    await client.query(`set auto_explain.log_buffers = on`);
    await client.query(`set client_min_messages = log`);
  },
});
const total = await count(db);
notices.length = 0;

async function actorWith(role: RoleGrant['role'], extra = sql`true`): Promise<Actor | undefined> {
  const grant = await one<{ user_id: number; username: string }>(
    db.orm,
    sql`select r.user_id::int as user_id, u.username from user_role r join app_user u on u.id = r.user_id
        where r.role = ${role} and ${extra} order by r.user_id limit 1`,
  );
  if (!grant) return undefined;
  const grants = await rows<{
    role: RoleGrant['role'];
    region_code: string | null;
    region_path: string | null;
    department_id: number | null;
    specialty: string | null;
  }>(
    db.orm,
    sql`select role, region_code, region_path, department_id::int as department_id, specialty from user_role where user_id = ${grant.user_id}`,
  );
  return {
    userId: grant.user_id,
    username: grant.username,
    displayName: grant.username,
    sessionId: 0,
    grants: grants.map((g) => ({
      role: g.role,
      regionCode: g.region_code,
      regionPath: g.region_path,
      departmentId: g.department_id,
      specialty: g.specialty,
    })),
  };
}

/** The busiest grid: the worst case for a grid worker's queue. */
const busiest = await one<{ grid_code: string }>(
  db.orm,
  sql`select grid_code from grid_case group by grid_code order by count(*) desc limit 1`,
);
const actors: [string, Actor | undefined][] = [
  [
    'grid worker (busiest grid)',
    await actorWith('grid_worker', sql`r.region_code = ${busiest?.grid_code ?? ''}`),
  ],
  ['centre operator (street)', await actorWith('centre_operator', sql`length(r.region_code) = 9`)],
  ['department handler', await actorWith('department_handler')],
  ['leader', await actorWith('leader')],
];

interface Captured {
  label: string;
  ms: number;
  plans: string[];
}
const report: Captured[] = [];
async function capture(label: string, run: () => Promise<unknown>): Promise<void> {
  notices.length = 0;
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  report.push({ label, ms, plans: notices.filter((n) => n.includes('Query Text')) });
}

for (const [label, actor] of actors) {
  if (!actor) continue;
  await capture(`queue: ${label} (${actor.username})`, () =>
    listMyQueue({ db, actor, query: { limit: 50 } }),
  );
}
const admin: Actor = {
  userId: 0,
  username: 'plans',
  displayName: 'plans',
  sessionId: 0,
  grants: [{ role: 'admin', regionCode: null, regionPath: null, departmentId: null, specialty: null }],
};
const city = await one<{ code: string }>(
  db.orm,
  sql`select r.code from region r where r.level = 'city' order by (select count(*) from grid_case c where c.region_path like r.path || '.%') desc limit 1`,
);
const now = systemClock.now();
const yearAgo = new Date(now.getTime() - 365 * 86_400_000).toISOString().slice(0, 10);
const today = now.toISOString().slice(0, 10);
// Selective scopes (a district over a month, a street over a year) should read through the region indexes;
// a whole city over a year reads about half the table, where a sequential scan is the right plan.
const district = await one<{ code: string }>(
  db.orm,
  sql`select code from region where level = 'district' and path like ${`${city?.code ?? ''}.%`} order by code limit 1`,
);
const street = await one<{ code: string }>(
  db.orm,
  sql`select code from region where level = 'street' and path like ${`${city?.code ?? ''}.%`} order by code limit 1`,
);
const monthAgo = new Date(now.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
if (district)
  await capture(`kpi: district ${district.code} ${monthAgo}…${today} by category`, () =>
    kpiReport({
      ex: db.orm,
      actor: admin,
      now,
      query: { region: district.code, from: monthAgo, to: today, by: 'category' },
    }),
  );
if (street)
  await capture(`kpi: street ${street.code} ${yearAgo}…${today}`, () =>
    kpiReport({ ex: db.orm, actor: admin, now, query: { region: street.code, from: yearAgo, to: today } }),
  );
for (const by of [undefined, 'category', 'department'] as const)
  await capture(`kpi: city ${city?.code} ${yearAgo}…${today}${by ? ` by ${by}` : ''}`, () =>
    kpiReport({
      ex: db.orm,
      actor: admin,
      now,
      query: { region: city!.code, from: yearAgo, to: today, ...(by ? { by } : {}) },
    }),
  );
await db.close();

const seqOnCases = (plans: string[]) => plans.some((p) => /Seq Scan on grid_case\b/.test(p));
const lines = [
  `# Case queue and KPI plans at ${total.toLocaleString('en-US')} cases`,
  '',
  `Run ${new Date().toISOString()} on PostgreSQL via auto_explain (EXPLAIN ANALYZE of the product's own statements).`,
  'Re-run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_plans npm run bench:plans -- --prepare`.',
  '',
  '| Workload | Time (ms, whole call) | Statements | Sequential scan of grid_case |',
  '|---|---|---|---|',
  ...report.map(
    (r) => `| ${r.label} | ${r.ms.toFixed(1)} | ${r.plans.length} | ${seqOnCases(r.plans) ? 'yes' : 'no'} |`,
  ),
  '',
  ...report.flatMap((r) => [`## ${r.label}`, '', '```', ...r.plans.map((p) => p.trim()), '```', '']),
];
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'case-plans.md');
fs.writeFileSync(out, lines.join('\n'));
process.stdout.write(`${lines.slice(0, 6 + report.length + 2).join('\n')}\nfull plans: ${out}\n`);
const gridWorker = report.find((r) => r.label.startsWith('queue: grid worker'));
if (!gridWorker) {
  process.stderr.write('no grid worker found: seed first (--prepare)\n');
  process.exit(1);
}
if (seqOnCases(gridWorker.plans)) {
  process.stderr.write("FAIL: a grid worker's queue reads grid_case sequentially\n");
  process.exit(1);
}
