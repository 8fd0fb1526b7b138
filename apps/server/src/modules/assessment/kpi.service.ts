import {
  departmentScoreWeights,
  type KpiCounts,
  type KpiDimension,
  type KpiFigures,
  type KpiGroup,
  type KpiQuery,
  type KpiRate,
  type KpiRates,
  type KpiReport,
} from '@wangge/contracts';
import { insideAny, requireAccess, type Actor } from '../../platform/access.ts';
import { rows, sql, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import type { Job } from '../../platform/jobs.ts';
import { findRegion } from '../region/index.ts';

/**
 * KPIs (考核指标) for a region subtree and a period: the one place that defines 受理, 立案率, 办结率, 结案率,
 * 按期结案率, 返工率, 满意率 and current overdue. Every definition and edge case is written down in
 * docs/domain/kpis.md; keep the two in step.
 */

/** China dates: a period boundary `YYYY-MM-DD` is midnight in UTC+8 (China has no daylight saving). */
export function chinaMidnight(date: string): string {
  return new Date(`${date}T00:00:00+08:00`).toISOString();
}

const channelNames: Record<string, string> = {
  grid_worker: '网格员上报',
  resident: '居民随手拍',
  wish: '我的心愿',
  hotline: '热线工单',
  department: '部门交办',
  leader: '领导交办',
  system: '系统预警',
};

/** The grouping key of each breakdown (text, or null for "none"). */
function keyOf(by: KpiDimension | null): SQL {
  switch (by) {
    case 'category':
      return sql`c.category_code`;
    case 'department':
      return sql`c.lead_department_id::text`;
    case 'grid':
      return sql`c.grid_code`;
    case 'channel':
      return sql`c.channel`;
    case null:
      return sql`null::text`;
  }
}

interface CohortRow {
  k: string | null;
  total: number;
  accepted: number;
  filed: number;
  not_filed: number;
  duplicates: number;
  resolved: number;
  responded: number;
  reworked: number;
  rated: number;
  satisfied: number;
  basically_satisfied: number;
  dissatisfied: number;
  open: number;
}

interface DueRow {
  k: string | null;
  total: number;
  due_to_close: number;
  closed: number;
  closed_on_time: number;
}

interface OverdueRow {
  k: string | null;
  total: number;
  overdue_now: number;
}

/** `grouping sets ((), (k))` gives the totals row (total = 1) and one row per key in one pass. */
const groupingOf = (): SQL => sql`group by grouping sets ((), (k))`;

/**
 * Cases reported in [from, to): accepted, filed, resolved, responded, reworked, rated. Facts come from the
 * case's milestones and its timeline (a 'file' or 'fixOnSpot' row, a 'respond' row, an 'inspect' row with
 * result 'fail'), whichever shows it.
 */
async function cohortFigures(
  ex: Executor,
  inside: SQL,
  from: string,
  to: string,
  by: KpiDimension | null,
): Promise<CohortRow[]> {
  return rows<CohortRow>(
    ex,
    sql`with cohort as (
          select c.id, ${keyOf(by)} as k, c.status, c.filed_at, c.responded_at, c.rework_count, c.evaluation
          from grid_case c
          where ${inside} and c.reported_at >= ${from}::timestamptz and c.reported_at < ${to}::timestamptz
        ),
        flagged as (
          select cohort.k, cohort.status, cohort.evaluation,
                 cohort.status = 'duplicate' as duplicate,
                 (cohort.filed_at is not null or coalesce(facts.filed, false)) as filed,
                 (cohort.responded_at is not null or coalesce(facts.responded, false)) as responded,
                 (cohort.rework_count > 0 or coalesce(facts.failed, false)) as failed
          from cohort
          -- per case, through the (case_id, id) index: a plan that stays the same on a small and a large table
          left join lateral (
            select bool_or(t.action in ('file', 'fixOnSpot')) as filed,
                   bool_or(t.action = 'respond') as responded,
                   bool_or(t.action = 'inspect' and t.data ->> 'result' = 'fail') as failed
            from case_timeline t
            where t.case_id = cohort.id and t.action in ('file', 'fixOnSpot', 'respond', 'inspect')
          ) facts on true
        )
        select k, grouping(k)::int as total,
               count(*) filter (where not duplicate)::int as accepted,
               count(*) filter (where not duplicate and filed)::int as filed,
               count(*) filter (where status = 'not_filed')::int as not_filed,
               count(*) filter (where duplicate)::int as duplicates,
               count(*) filter (where status in ('closed', 'evaluated'))::int as resolved,
               count(*) filter (where not duplicate and responded)::int as responded,
               count(*) filter (where not duplicate and responded and failed)::int as reworked,
               count(*) filter (where not duplicate and evaluation is not null)::int as rated,
               count(*) filter (where not duplicate and evaluation = 'satisfied')::int as satisfied,
               count(*) filter (where not duplicate and evaluation = 'basically_satisfied')::int as basically_satisfied,
               count(*) filter (where not duplicate and evaluation = 'dissatisfied')::int as dissatisfied,
               count(*) filter (where status not in ('closed', 'evaluated', 'not_filed', 'duplicate'))::int as open
        from flagged
        ${groupingOf()}`,
  );
}

/**
 * 应结案 due to close: filed cases (not 'not_filed' or 'duplicate') whose handling deadline falls in [from, to)
 * or that were closed in [from, to), whatever their report date. Closed: closed now and closed before `to`;
 * on time: closed no later than the handling deadline (no deadline: on time).
 */
async function dueFigures(
  ex: Executor,
  inside: SQL,
  from: string,
  to: string,
  by: KpiDimension | null,
): Promise<DueRow[]> {
  return rows<DueRow>(
    ex,
    sql`with due as (
          select ${keyOf(by)} as k, c.status, c.closed_at, c.handle_due_at
          from grid_case c
          where ${inside} and c.status not in ('not_filed', 'duplicate')
            and ((c.handle_due_at >= ${from}::timestamptz and c.handle_due_at < ${to}::timestamptz)
              or (c.closed_at >= ${from}::timestamptz and c.closed_at < ${to}::timestamptz))
        ),
        flagged as (
          select k, handle_due_at, closed_at,
                 (status in ('closed', 'evaluated') and closed_at < ${to}::timestamptz) as closed
          from due
        )
        select k, grouping(k)::int as total,
               count(*)::int as due_to_close,
               count(*) filter (where closed)::int as closed,
               count(*) filter (where closed and (handle_due_at is null or closed_at <= handle_due_at))::int
                 as closed_on_time
        from flagged
        ${groupingOf()}`,
  );
}

/** Open cases marked overdue now (by the deadline scanner), whatever their report date. */
async function overdueFigures(ex: Executor, inside: SQL, by: KpiDimension | null): Promise<OverdueRow[]> {
  return rows<OverdueRow>(
    ex,
    sql`select k, grouping(k)::int as total, count(*)::int as overdue_now
        from (select ${keyOf(by)} as k from grid_case c
              where ${inside} and c.overdue
                and c.status not in ('closed', 'evaluated', 'not_filed', 'duplicate')) o
        ${groupingOf()}`,
  );
}

/**
 * The rollup (case_kpi_*, db/migrations/20261128000200_kpi_rollup.sql) keeps the same figures as additive counters
 * per district (`area`, the first two segments of the grid path), China day or month, and one breakdown. It answers
 * regions down to district level (a city over a year sums a few thousand rows); deeper regions, and the breakdown
 * by grid, read grid_case directly above. Writers only queue the ids of the cases they change (case_kpi_dirty);
 * `drainKpiRollup` brings those cases' counters up to date, set-based. Every rollup read drains first, so it reflects
 * every write committed before it; a job drains every few seconds so that is rarely much work. kpi.rollup.test.ts
 * compares the two.
 */
export const rollupMaxDepth = 2;

/**
 * Brings the rollup up to date with every committed write (case_kpi_drain(), one statement: its own short
 * transaction when `ex` is not one). Returns the number of cases whose counters were recomputed.
 */
export async function drainKpiRollup(ex: Executor): Promise<number> {
  const [row] = await rows<{ n: number }>(ex, sql`select case_kpi_drain() as n`);
  return row?.n ?? 0;
}

/** The job that keeps the queue short (main.ts). */
export function kpiRollupJob(options: { db: { orm: Executor } }): Job {
  return { name: 'kpi-rollup', everyMs: 3000, run: () => drainKpiRollup(options.db.orm) };
}

export function readsRollup(regionPath: string, by: KpiDimension | null): boolean {
  return by !== 'grid' && regionPath.split('.').length <= rollupMaxDepth;
}

const monthStart = (date: string): string => `${date.slice(0, 8)}01`;
function nextMonth(month: string): string {
  const d = new Date(`${month}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
}

/**
 * The period [from, to) in China dates as whole months [fullFrom, fullTo) (read from month rows) and the partial
 * months at its edges (read from day rows, clipped to the period).
 */
export function periodSpans(
  from: string,
  to: string,
): {
  fullFrom: string;
  fullTo: string;
  partial: [string, string][];
} {
  const fullFrom = from === monthStart(from) ? from : nextMonth(monthStart(from));
  const fullTo = monthStart(to);
  const partial: [string, string][] = [];
  if (from !== monthStart(from)) partial.push([monthStart(from), nextMonth(monthStart(from))]);
  if (to !== monthStart(to) && monthStart(to) !== partial[0]?.[0])
    partial.push([monthStart(to), nextMonth(monthStart(to))]);
  return { fullFrom, fullTo, partial };
}

const rollupKey = (by: KpiDimension | null): SQL =>
  by === null ? sql`null::text` : by === 'department' ? sql`nullif(r.key, '')` : sql`r.key`;

async function cohortFromRollup(
  ex: Executor,
  inside: SQL,
  from: string,
  to: string,
  by: KpiDimension | null,
): Promise<CohortRow[]> {
  const { fullFrom, fullTo } = periodSpans(from, to);
  const full = sql`(r.day >= ${fullFrom}::date and r.day < ${fullTo}::date)`;
  return rows<CohortRow>(
    ex,
    sql`select k, grouping(k)::int as total,
               coalesce(sum(accepted), 0)::int as accepted, coalesce(sum(filed), 0)::int as filed,
               coalesce(sum(not_filed), 0)::int as not_filed, coalesce(sum(duplicates), 0)::int as duplicates,
               coalesce(sum(resolved), 0)::int as resolved, coalesce(sum(responded), 0)::int as responded,
               coalesce(sum(reworked), 0)::int as reworked, coalesce(sum(rated), 0)::int as rated,
               coalesce(sum(satisfied), 0)::int as satisfied,
               coalesce(sum(basically_satisfied), 0)::int as basically_satisfied,
               coalesce(sum(dissatisfied), 0)::int as dissatisfied, coalesce(sum(open), 0)::int as open
        from (select ${rollupKey(by)} as k, r.* from case_kpi_cohort_day r
              where r.dim = ${by ?? ''} and r.span = 'm' and ${inside} and ${full}
              union all
              select ${rollupKey(by)} as k, r.* from case_kpi_cohort_day r
              where r.dim = ${by ?? ''} and r.span = 'd' and ${inside}
                and r.day >= ${from}::date and r.day < ${to}::date and not ${full}) r
        ${groupingOf()}`,
  );
}

async function dueFromRollup(
  ex: Executor,
  inside: SQL,
  from: string,
  to: string,
  by: KpiDimension | null,
): Promise<DueRow[]> {
  const { fullFrom, fullTo, partial } = periodSpans(from, to);
  const full = (column: string) =>
    sql`(${sql.raw(column)} >= ${fullFrom}::date and ${sql.raw(column)} < ${fullTo}::date)`;
  const inPartial = (column: string) =>
    partial.length === 0
      ? sql`false`
      : sql`(${sql.join(
          partial.map(
            ([a, b]) => sql`(${sql.raw(column)} >= ${a}::date and ${sql.raw(column)} < ${b}::date)`,
          ),
          sql` or `,
        )})`;
  const inPeriod = (column: string) =>
    sql`(${sql.raw(column)} >= ${from}::date and ${sql.raw(column)} < ${to}::date)`;
  return rows<DueRow>(
    ex,
    sql`select k, grouping(k)::int as total,
               coalesce(sum(cases), 0)::int as due_to_close,
               coalesce(sum(closed_status) filter (where closed_day < ${to}::date), 0)::int as closed,
               coalesce(sum(closed_on_time) filter (where closed_day < ${to}::date), 0)::int as closed_on_time
        from (select ${rollupKey(by)} as k, r.* from case_kpi_due_day r
              where r.dim = ${by ?? ''} and r.span = 'm' and ${inside}
                and not ${inPartial('r.due_day')} and not ${inPartial('r.closed_day')}
                and (${full('r.due_day')} or ${full('r.closed_day')})
              union all
              select ${rollupKey(by)} as k, r.* from case_kpi_due_day r
              where r.dim = ${by ?? ''} and r.span = 'd' and ${inside} and ${inPartial('r.due_day')}
                and (${inPeriod('r.due_day')} or ${inPeriod('r.closed_day')})
              union all
              select ${rollupKey(by)} as k, r.* from case_kpi_due_day r
              where r.dim = ${by ?? ''} and r.span = 'd' and ${inside} and ${inPartial('r.closed_day')}
                and not ${inPartial('r.due_day')}
                and (${inPeriod('r.due_day')} or ${inPeriod('r.closed_day')})) r
        ${groupingOf()}`,
  );
}

async function overdueFromRollup(ex: Executor, inside: SQL, by: KpiDimension | null): Promise<OverdueRow[]> {
  return rows<OverdueRow>(
    ex,
    sql`select k, grouping(k)::int as total, coalesce(sum(cases), 0)::int as overdue_now
        from (select ${rollupKey(by)} as k, r.cases from case_kpi_overdue r
              where r.dim = ${by ?? ''} and ${inside} and r.cases <> 0) r
        ${groupingOf()}`,
  );
}

/** A ratio rounded to 4 decimals, with its parts; null when the denominator is 0. */
export function rate(numerator: number, denominator: number): KpiRate {
  return {
    value: denominator === 0 ? null : Math.round((numerator / denominator) * 10_000) / 10_000,
    numerator,
    denominator,
  };
}

export function ratesOf(c: KpiCounts): KpiRates {
  return {
    filingRate: rate(c.filed, c.accepted),
    resolutionRate: rate(c.resolved, c.accepted),
    closureRate: rate(c.closed, c.dueToClose),
    onTimeClosureRate: rate(c.closedOnTime, c.dueToClose),
    reworkRate: rate(c.reworked, c.responded),
    satisfactionRate: rate(c.satisfied + c.basicallySatisfied, c.rated),
  };
}

/**
 * Department composite score (综合评分), 0–100: 30 % closure rate, 30 % on-time closure rate, 20 % (1 − rework
 * rate), 20 % satisfaction. A component without data (denominator 0) is left out and the others' weights are
 * scaled up to 100 %; null when no component has data. Rounded to 2 decimals.
 */
export function departmentScore(rates: KpiRates): number | null {
  const parts: [number | null, number][] = [
    [rates.closureRate.value, departmentScoreWeights.closureRate],
    [rates.onTimeClosureRate.value, departmentScoreWeights.onTimeClosureRate],
    [rates.reworkRate.value === null ? null : 1 - rates.reworkRate.value, departmentScoreWeights.reworkRate],
    [rates.satisfactionRate.value, departmentScoreWeights.satisfactionRate],
  ];
  let weight = 0;
  let sum = 0;
  for (const [value, w] of parts) {
    if (value === null) continue;
    weight += w;
    sum += value * w;
  }
  return weight === 0 ? null : Math.round((sum / weight) * 10_000) / 100;
}

const emptyCounts = (): KpiCounts => ({
  accepted: 0,
  filed: 0,
  notFiled: 0,
  duplicates: 0,
  resolved: 0,
  dueToClose: 0,
  closed: 0,
  closedOnTime: 0,
  responded: 0,
  reworked: 0,
  rated: 0,
  satisfied: 0,
  basicallySatisfied: 0,
  dissatisfied: 0,
  open: 0,
  overdueNow: 0,
});

async function namesOf(ex: Executor, by: KpiDimension, keys: string[]): Promise<Map<string, string>> {
  if (by === 'channel') return new Map(keys.map((k) => [k, channelNames[k] ?? k]));
  if (keys.length === 0) return new Map();
  const list = JSON.stringify(keys);
  const found =
    by === 'category'
      ? await rows<{ key: string; name: string }>(
          ex,
          sql`select code as key, name_zh as name from case_category
              where code in (select value from json_array_elements_text(${list}::json))`,
        )
      : by === 'grid'
        ? await rows<{ key: string; name: string }>(
            ex,
            sql`select code as key, name from region
                where code in (select value from json_array_elements_text(${list}::json))`,
          )
        : await rows<{ key: string; name: string }>(
            ex,
            sql`select id::text as key, name from department
                where id in (select value::bigint from json_array_elements_text(${list}::json))`,
          );
  return new Map(found.map((r) => [r.key, r.name]));
}

/** The KPI report for a region subtree and a period, optionally broken down by one dimension. */
export async function kpiReport(options: {
  ex: Executor;
  actor: Actor;
  query: KpiQuery;
  now: Date;
  /** Read grid_case even where the rollup answers (the rollup's consistency test). */
  direct?: boolean;
}): Promise<KpiReport> {
  const { ex, actor, query, now } = options;
  const region = await findRegion(ex, query.region);
  if (!region) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  requireAccess(actor, 'kpi.read', { regionPath: region.path });
  const by = query.by ?? null;
  const from = chinaMidnight(query.from);
  const to = chinaMidnight(query.to);
  let cohort: CohortRow[], due: DueRow[], overdue: OverdueRow[];
  if (readsRollup(region.path, by) && !options.direct) {
    // The districts (areas) of the region, each an equality on the rollup's key: tight index ranges.
    const areas =
      region.path.split('.').length >= rollupMaxDepth
        ? [region.path]
        : [
            region.path,
            ...(
              await rows<{ path: string }>(
                ex,
                sql`select path from region
                    where path >= ${`${region.path}.`} and path < ${`${region.path}/`} and path not like '%.%.%'`,
              )
            ).map((r) => r.path),
          ];
    const inside = sql`r.area in (${sql.join(
      areas.map((a) => sql`${a}`),
      sql`, `,
    )})`;
    await drainKpiRollup(ex);
    cohort = await cohortFromRollup(ex, inside, query.from, query.to, by);
    due = await dueFromRollup(ex, inside, query.from, query.to, by);
    overdue = await overdueFromRollup(ex, inside, by);
  } else {
    // Region first: an index-friendly range on the materialised path.
    const inside = insideAny(sql`c.region_path`, [region.path]);
    cohort = await cohortFigures(ex, inside, from, to, by);
    due = await dueFigures(ex, inside, from, to, by);
    overdue = await overdueFigures(ex, inside, by);
  }

  const byKey = new Map<string | null, KpiCounts>();
  const totals = emptyCounts();
  const countsFor = (row: { k: string | null; total: number }): KpiCounts => {
    if (row.total === 1) return totals;
    let counts = byKey.get(row.k);
    if (!counts) byKey.set(row.k, (counts = emptyCounts()));
    return counts;
  };
  for (const row of cohort) {
    const c = countsFor(row);
    c.accepted = row.accepted;
    c.filed = row.filed;
    c.notFiled = row.not_filed;
    c.duplicates = row.duplicates;
    c.resolved = row.resolved;
    c.responded = row.responded;
    c.reworked = row.reworked;
    c.rated = row.rated;
    c.satisfied = row.satisfied;
    c.basicallySatisfied = row.basically_satisfied;
    c.dissatisfied = row.dissatisfied;
    c.open = row.open;
  }
  for (const row of due) {
    const c = countsFor(row);
    c.dueToClose = row.due_to_close;
    c.closed = row.closed;
    c.closedOnTime = row.closed_on_time;
  }
  for (const row of overdue) countsFor(row).overdueNow = row.overdue_now;

  let groups: KpiGroup[] = [];
  if (by) {
    const keys = [...byKey.keys()].filter((k): k is string => k !== null);
    const names = await namesOf(ex, by, keys);
    groups = [...byKey.entries()]
      .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0))
      .map(([key, counts]) => {
        const figures: KpiFigures = { counts, rates: ratesOf(counts) };
        return {
          key,
          name:
            key === null
              ? by === 'department'
                ? '未派遣 (not dispatched)'
                : null
              : (names.get(key) ?? null),
          ...figures,
          ...(by === 'department' ? { score: departmentScore(figures.rates) } : {}),
        };
      });
  }
  return {
    region: { code: region.code, name: region.name, level: region.level },
    from: query.from,
    to: query.to,
    asOf: now.toISOString(),
    by,
    counts: totals,
    rates: ratesOf(totals),
    groups,
  };
}
