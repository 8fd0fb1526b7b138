import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KpiDimension, KpiQuery, KpiReport } from '@wangge/contracts';
import type { Actor } from '../../platform/access.ts';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { resetDatabase, testDatabase } from '../../test/harness.ts';
import { seedScaleCases } from '../../seed/demo-cases.ts';
import { scanDeadlines } from '../case/case.scanner.ts';
import { buildWorkflowWorld, type WorkflowWorld } from '../case/case.workflow.fixtures.ts';
import { kpiTrend } from './kpi.cockpit.ts';
import { drainKpiRollup, kpiReport, periodSpans, readsRollup } from './kpi.service.ts';

/**
 * The KPI rollup (case_kpi_*) against grid_case: after cases are reported, filed, dispatched, responded, reworked,
 * closed, evaluated, marked overdue by the deadline scanner and deleted, every figure of every breakdown and period
 * read from the rollup (which drains the queue of changed cases first) equals the one computed from grid_case
 * directly; writes only queue; a write committed while a drain runs is not lost; one counter off by one is caught.
 */
const now = new Date('2026-11-24T04:00:00.000Z');
const admin: Actor = {
  userId: 1,
  username: 'admin',
  displayName: 'admin',
  sessionId: 1,
  grants: [{ role: 'admin', regionCode: null, regionPath: null, departmentId: null, specialty: null }],
};

const periods: [string, string][] = [
  ['2025-11-24', '2026-11-24'], // a year, partial months at both ends
  ['2026-09-01', '2026-11-01'], // whole months only
  ['2026-10-10', '2026-10-20'], // inside one month
  ['2026-08-15', '2026-11-25'], // past today
  ['2026-11-01', '2026-12-01'],
];
const dimensions: (KpiDimension | null)[] = [null, 'category', 'department', 'channel'];

let db: Database;
let world: WorkflowWorld;

async function differences(): Promise<string[]> {
  const found: string[] = [];
  for (const region of [world.paths.city.split('.').at(-1)!, world.paths.district.split('.').at(-1)!]) {
    for (const [from, to] of periods) {
      for (const by of dimensions) {
        const query: KpiQuery = { region, from, to, ...(by ? { by } : {}) };
        const fromRollup: KpiReport = await kpiReport({ ex: db.orm, actor: admin, query, now });
        const direct: KpiReport = await kpiReport({ ex: db.orm, actor: admin, query, now, direct: true });
        try {
          expect(fromRollup).toEqual(direct);
        } catch {
          found.push(`${region} ${from}…${to} by ${by ?? 'none'}`);
        }
      }
      for (const interval of ['day', 'week', 'month'] as const) {
        const query = { region, from, to, interval };
        const fromRollup = await kpiTrend({ ex: db.orm, actor: admin, query });
        const direct = await kpiTrend({ ex: db.orm, actor: admin, query, direct: true });
        try {
          expect(fromRollup).toEqual(direct);
        } catch {
          found.push(`${region} ${from}…${to} trend by ${interval}`);
        }
      }
    }
  }
  return found;
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  // Departments on some cases, so the department breakdown has keys and a "none" group.
  await seedScaleCases(db, { count: 600, now, days: 400 });
  await db.orm
    .execute(sql`update grid_case set lead_department_id = case when id % 3 = 0 then ${world.departments.urban}::bigint
    when id % 3 = 1 then ${world.departments.water}::bigint else null end where id % 2 = 0`);
});

describe('KPI rollup', () => {
  it('answers cities and districts, not streets or the grid breakdown', () => {
    expect(readsRollup(world.paths.city, null)).toBe(true);
    expect(readsRollup(world.paths.district, 'category')).toBe(true);
    expect(readsRollup(world.paths.street, null)).toBe(false);
    expect(readsRollup(world.paths.city, 'grid')).toBe(false);
    expect(periodSpans('2025-11-24', '2026-11-24')).toEqual({
      fullFrom: '2025-12-01',
      fullTo: '2026-11-01',
      partial: [
        ['2025-11-01', '2025-12-01'],
        ['2026-11-01', '2026-12-01'],
      ],
    });
    expect(periodSpans('2026-10-10', '2026-10-20').partial).toEqual([['2026-10-01', '2026-11-01']]);
  });

  it('equals the figures from grid_case after a realistic sequence of changes', async () => {
    const cases = await rows<{ n: number }>(db.orm, sql`select count(*)::int as n from grid_case`);
    expect(cases[0]!.n).toBe(600);
    expect(await differences()).toEqual([]);

    // Transitions as the use-cases write them: the timeline row, then the case.
    const open = await rows<{ id: number }>(
      db.orm,
      sql`select id::int as id from grid_case where status in ('dispatched', 'in_progress') order by id limit 20`,
    );
    for (const [i, { id }] of open.entries()) {
      await db.orm.transaction(async (tx) => {
        await tx.execute(sql`insert into case_timeline (case_id, at, action, from_status, to_status)
          values (${id}, ${now.toISOString()}, 'respond', 'in_progress', 'responded')`);
        await tx.execute(sql`update grid_case set status = 'responded', responded_at = ${now.toISOString()}
          where id = ${id}`);
        if (i % 2 === 0) {
          // inspection fails: back to the department (返工)
          await tx.execute(sql`insert into case_timeline (case_id, at, action, from_status, to_status, data)
            values (${id}, ${now.toISOString()}, 'inspect', 'inspecting', 'dispatched', '{"result":"fail"}')`);
          await tx.execute(sql`update grid_case set status = 'dispatched', rework_count = rework_count + 1
            where id = ${id}`);
        } else {
          await tx.execute(sql`update grid_case set status = 'closed', closed_at = ${now.toISOString()}
            where id = ${id}`);
        }
      });
    }
    // Evaluations, a late closing, a filing from the timeline only, a deletion.
    await db.orm.execute(sql`update grid_case set status = 'evaluated', evaluation = 'dissatisfied'
      where id in (select id from grid_case where status = 'closed' and evaluation is null order by id limit 15)`);
    await db.orm.execute(sql`update grid_case set closed_at = handle_due_at + interval '3 days'
      where id in (select id from grid_case where status = 'evaluated' and handle_due_at is not null order by id limit 5)`);
    await db.orm.execute(sql`insert into case_timeline (case_id, at, action, from_status, to_status)
      select id, ${now.toISOString()}, 'file', 'verifying', 'filed' from grid_case
      where status = 'reported' order by id limit 5`);
    await db.orm.execute(
      sql`delete from case_department where case_id in (select id from grid_case where status = 'not_filed' order by id limit 3)`,
    );
    await db.orm.execute(
      sql`delete from case_timeline where case_id in (select id from grid_case where status = 'not_filed' order by id limit 3)`,
    );
    await db.orm.execute(
      sql`delete from grid_case where id in (select id from grid_case where status = 'not_filed' order by id limit 3)`,
    );
    // Overdue marks by the deadline scanner (set-based updates).
    const scanned = await scanDeadlines({ db, clock: fixedClock(now) });
    expect(scanned).toBeDefined();
    const overdue = await rows<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from grid_case where overdue and status not in ('closed', 'evaluated', 'not_filed', 'duplicate')`,
    );
    expect(overdue[0]!.n).toBeGreaterThan(0);
    expect(await differences()).toEqual([]);
  });

  it('writers only queue the changed cases; the read drains them', async () => {
    const [c] = await rows<{ id: number }>(
      db.orm,
      sql`select id::int as id from grid_case where status = 'dispatched' order by id limit 1`,
    );
    expect(c).toBeDefined();
    const closedAt = now.toISOString();
    await db.orm.execute(
      sql`update grid_case set status = 'closed', closed_at = ${closedAt} where id = ${c!.id}`,
    );
    const queued = await rows<{ case_id: number }>(db.orm, sql`select case_id::int from case_kpi_dirty`);
    expect(queued).toEqual([{ case_id: c!.id }]);
    // not applied yet: the stored facts are still those of the dispatched case
    const before = await one<{ resolved: boolean }>(
      db.orm,
      sql`select resolved from case_kpi_fact where case_id = ${c!.id}`,
    );
    expect(before).toEqual({ resolved: false });
    expect(await differences()).toEqual([]);
    expect(await rows(db.orm, sql`select 1 from case_kpi_dirty`)).toEqual([]);
    const after = await one<{ resolved: boolean }>(
      db.orm,
      sql`select resolved from case_kpi_fact where case_id = ${c!.id}`,
    );
    expect(after).toEqual({ resolved: true });
    expect(await drainKpiRollup(db.orm)).toBe(0);
  });

  // Two connections: PostgreSQL only.
  it.skipIf(!process.env.DATABASE_URL)('loses no write committed while a drain runs', async () => {
    const name = await one<{ name: string }>(db.orm, sql`select current_database() as name`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name!.name}`;
    const writer = new pg.Client({ connectionString: url.toString() });
    const locker = new pg.Client({ connectionString: url.toString() });
    await writer.connect();
    await locker.connect();
    try {
      const open = await rows<{ id: number }>(
        db.orm,
        sql`select id::int as id from grid_case where status in ('dispatched', 'in_progress') order by id limit 3`,
      );
      expect(open).toHaveLength(3);
      const [a, b, c] = open.map((r) => r.id);
      // A writer's transaction still open while a drain runs: its queued id is not visible, so not taken.
      await writer.query('begin');
      await writer.query(`update grid_case set status = 'closed', closed_at = $2 where id = $1`, [
        a,
        now.toISOString(),
      ]);
      expect(await drainKpiRollup(db.orm)).toBe(0);
      expect(await differences()).toEqual([]);
      await writer.query('commit');
      const stale = await one<{ resolved: boolean }>(
        db.orm,
        sql`select resolved from case_kpi_fact where case_id = ${a}`,
      );
      expect(stale).toEqual({ resolved: false });
      expect(await drainKpiRollup(db.orm)).toBe(1);
      expect(await differences()).toEqual([]);

      // A drain waiting for another (the lock held elsewhere) while a write commits: after both, nothing lost.
      await db.orm.execute(sql`update grid_case set status = 'not_filed' where id = ${b}`);
      await locker.query('begin');
      await locker.query('select pg_advisory_xact_lock(2026112800200)');
      const draining = drainKpiRollup(db.orm);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await writer.query(`update grid_case set overdue = true, overdue_since = $2 where id = $1`, [
        c,
        now.toISOString(),
      ]);
      await locker.query('commit');
      expect(await draining).toBeGreaterThanOrEqual(1);
      await drainKpiRollup(db.orm);
      expect(await rows(db.orm, sql`select 1 from case_kpi_dirty`)).toEqual([]);
      expect(await differences()).toEqual([]);
    } finally {
      await writer.query('rollback').catch(() => undefined);
      await locker.query('rollback').catch(() => undefined);
      await writer.end();
      await locker.end();
    }
  });

  it('catches a rollup counter off by one', async () => {
    const [fact] = await rows<{ area: string; reported_day: string; due_day: string; closed_day: string }>(
      db.orm,
      sql`select area, reported_day::text, due_day::text, closed_day::text from case_kpi_fact
          where in_due and closed_status and reported_day >= '2026-09-01'
            and closed_day >= '2026-09-01' and closed_day < '2026-11-01'
          order by case_id limit 1`,
    );
    expect(fact).toBeDefined();
    await db.orm.execute(sql`update case_kpi_cohort_day set accepted = accepted + 1
      where dim = 'category' and span = 'm' and area = ${fact!.area} and day = date_trunc('month', ${fact!.reported_day}::date)::date`);
    const off = await differences();
    expect(off.length).toBeGreaterThan(0);
    expect(off.every((d) => d.endsWith('by category'))).toBe(true);
    await db.orm.execute(sql`update case_kpi_cohort_day set accepted = accepted - 1
      where dim = 'category' and span = 'm' and area = ${fact!.area} and day = date_trunc('month', ${fact!.reported_day}::date)::date`);
    await db.orm.execute(sql`update case_kpi_due_day set cases = cases - 1
      where dim = '' and span = 'm' and area = ${fact!.area}
        and due_day = case_kpi_bucket('m', ${fact!.due_day}::date)
        and closed_day = date_trunc('month', ${fact!.closed_day}::date)::date`);
    const due = await differences();
    expect(due.length).toBeGreaterThan(0);
    expect(due.some((d) => d.includes('trend'))).toBe(false);
    await db.orm.execute(sql`update case_kpi_due_day set cases = cases + 1
      where dim = '' and span = 'm' and area = ${fact!.area}
        and due_day = case_kpi_bucket('m', ${fact!.due_day}::date)
        and closed_day = date_trunc('month', ${fact!.closed_day}::date)::date`);
    await db.orm.execute(sql`update case_kpi_event_day set cases = cases - 1
      where area = ${fact!.area} and what = 'closed' and day = ${fact!.closed_day}::date`);
    const trend = await differences();
    expect(trend.length).toBeGreaterThan(0);
    expect(trend.every((d) => d.includes('trend'))).toBe(true);
  });
});
