import {
  fieldworkLimits,
  type ComplianceQuery,
  type ComplianceReport,
  type ComplianceRow,
} from '@wangge/contracts';
import { can, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type SQL } from '../../platform/db.ts';
import { getWorkCalendar } from '../calendar/index.ts';
import {
  chinaDate,
  chinaDayEnd,
  chinaDayStart,
  checkDate,
  datesBetween,
  fieldScopes,
  insideAny,
  insidePaths,
  monthStart,
  monthlySql,
  notFound,
  quarterStart,
  ratio,
  readPaths,
  requireFieldAccess,
} from './fieldwork.common.ts';
import { countedEnd } from './patrol.service.ts';

/**
 * Compliance per grid worker and grid (DOMAIN.md §5), for a period (day, month, quarter) up to a China date `on`:
 *
 * - patrol (一巡): seconds of patrol in the grid from the period's first day to the end of `on`, each session counted
 *   as started → ended (now while running), at most `patrolMaxSeconds`, and split at China midnight so every day
 *   gets only its own part. workingDays = working days of the period up to and including `on` (the Chinese
 *   working-day calendar the case deadlines use: holidays off, make-up days on); daysMet = those of them with at
 *   least `patrolHoursPerDay` hours in this grid; ratio = daysMet / workingDays.
 * - visits (两访): households of the grid (active now) with at least `visitsPerQuarter` visits, by anyone, from the
 *   first day of the quarter containing `on` to the end of `on` / active households.
 * - vulnerable: monthly households (a member carries a `monthlyVisitTags` tag) visited at least once from the first
 *   day of the month containing `on` to the end of `on` / monthly households.
 * - flags: the worker's points in this grid raising each anti-spoofing flag, inside the period up to `on`.
 * Ratios are rounded to 4 decimals, and are 1 when the denominator is 0.
 */
export async function complianceReport(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  query: ComplianceQuery;
}): Promise<ComplianceReport> {
  const { db, actor, query } = options;
  requireFieldAccess(actor);
  const now = options.clock.now();
  const on = query.on ? checkDate(query.on, 'query.on') : chinaDate(now);
  const from = query.period === 'day' ? on : query.period === 'month' ? monthStart(on) : quarterStart(on);
  const { monitor, record } = fieldScopes(actor);
  const monitors = can(actor, 'fieldwork.monitor');

  let regionPaths: string[] | 'all';
  if (query.region) {
    const region = await one<{ path: string }>(
      db.orm,
      sql`select path from region where code = ${query.region}`,
    );
    if (!region || !insidePaths(readPaths(actor), region.path))
      throw notFound('未找到区域 (region not found)');
    regionPaths = [region.path];
  } else regionPaths = monitors ? monitor : record;

  // A plain worker sees their own rows; a monitor everyone's in the regions they monitor.
  const whose: SQL = sql`(ur.user_id = ${actor.userId} or ${insideAny(sql`g.path`, monitor)})`;
  const pairs = await rows<{ user_id: number; user_name: string; grid_code: string; grid_name: string }>(
    db.orm,
    sql`select distinct ur.user_id::int as user_id, u.display_name as user_name, g.code as grid_code,
          g.name as grid_name
        from user_role ur join region g on g.code = ur.region_code and g.level = 'grid'
        join app_user u on u.id = ur.user_id
        where ur.role = 'grid_worker' and u.status = 'active' and ${insideAny(sql`g.path`, regionPaths)}
          and ${whose}
        order by g.code, ur.user_id::int`,
  );
  const report: ComplianceReport = { period: query.period, from, to: on, on, rows: [] };
  if (pairs.length === 0) return report;

  const periodStart = chinaDayStart(from);
  const periodEnd = chinaDayEnd(on);
  const userIds = [...new Set(pairs.map((p) => p.user_id))];
  const gridCodes = [...new Set(pairs.map((p) => p.grid_code))];
  const inList = (values: (string | number)[]) =>
    sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    );

  // Patrol seconds per (user, grid, China day).
  const earliest = new Date(periodStart.getTime() - fieldworkLimits.patrolMaxSeconds * 1000).toISOString();
  const patrols = await rows<{
    user_id: number;
    grid_code: string;
    started_at: Date | string;
    ended_at: Date | string | null;
  }>(
    db.orm,
    sql`select user_id::int as user_id, grid_code, started_at, ended_at from patrol
        where user_id in (${inList(userIds)}) and grid_code in (${inList(gridCodes)})
          and started_at >= ${earliest} and started_at < ${periodEnd.toISOString()}`,
  );
  const days = datesBetween(from, on);
  const perDay = new Map<string, Map<string, number>>();
  for (const p of patrols) {
    const started = new Date(p.started_at);
    const end = countedEnd(started, p.ended_at === null ? null : new Date(p.ended_at), now);
    const key = `${p.user_id}:${p.grid_code}`;
    const byDay = perDay.get(key) ?? new Map<string, number>();
    for (const day of days) {
      const overlap =
        Math.min(end.getTime(), chinaDayEnd(day).getTime()) -
        Math.max(started.getTime(), chinaDayStart(day).getTime());
      if (overlap > 0) byDay.set(day, (byDay.get(day) ?? 0) + overlap / 1000);
    }
    perDay.set(key, byDay);
  }
  const calendar = await getWorkCalendar(db.orm);
  const workingDays = days.filter((d) => calendar.isWorkingDay(d));

  const flags = await rows<{
    user_id: number;
    grid_code: string;
    outside: number;
    speed: number;
    repeated: number;
  }>(
    db.orm,
    sql`select p.user_id::int as user_id, p.grid_code,
          count(*) filter (where pp.outside_grid)::int as outside,
          count(*) filter (where pp.impossible_speed)::int as speed,
          count(*) filter (where pp.repeated_coordinates)::int as repeated
        from patrol p join patrol_point pp on pp.patrol_id = p.id
        where p.user_id in (${inList(userIds)}) and p.grid_code in (${inList(gridCodes)})
          and p.started_at >= ${earliest} and p.started_at < ${periodEnd.toISOString()}
          and pp.at >= ${periodStart.toISOString()} and pp.at < ${periodEnd.toISOString()}
        group by p.user_id, p.grid_code`,
  );
  const flagsOf = new Map(flags.map((f) => [`${f.user_id}:${f.grid_code}`, f]));

  const quarterFrom = chinaDayStart(quarterStart(on)).toISOString();
  const monthFrom = chinaDayStart(monthStart(on)).toISOString();
  const coverage = await rows<{
    grid_code: string;
    households: number;
    covered: number;
    monthly: number;
    monthly_covered: number;
  }>(
    db.orm,
    sql`select x.grid_code, count(*)::int as households,
          count(*) filter (where x.quarter_visits >= ${fieldworkLimits.visitsPerQuarter})::int as covered,
          count(*) filter (where x.monthly)::int as monthly,
          count(*) filter (where x.monthly and x.month_visits >= 1)::int as monthly_covered
        from (select h.grid_code, ${monthlySql} as monthly,
                (select count(*) from household_visit v where v.household_id = h.id
                   and v.visited_at >= ${quarterFrom} and v.visited_at < ${periodEnd.toISOString()}) as quarter_visits,
                (select count(*) from household_visit v where v.household_id = h.id
                   and v.visited_at >= ${monthFrom} and v.visited_at < ${periodEnd.toISOString()}) as month_visits
              from household h where h.grid_code in (${inList(gridCodes)}) and h.status = 'active') x
        group by x.grid_code`,
  );
  const coverageOf = new Map(coverage.map((c) => [c.grid_code, c]));

  const hoursNeeded = fieldworkLimits.patrolHoursPerDay * 3600;
  report.rows = pairs.map((pair): ComplianceRow => {
    const key = `${pair.user_id}:${pair.grid_code}`;
    const byDay = perDay.get(key) ?? new Map<string, number>();
    const seconds = Math.floor([...byDay.values()].reduce((sum, s) => sum + s, 0));
    const daysMet = workingDays.filter((d) => (byDay.get(d) ?? 0) >= hoursNeeded).length;
    const c = coverageOf.get(pair.grid_code);
    const f = flagsOf.get(key);
    return {
      userId: pair.user_id,
      userName: pair.user_name,
      gridCode: pair.grid_code,
      gridName: pair.grid_name,
      patrol: {
        seconds,
        workingDays: workingDays.length,
        daysMet,
        ratio: ratio(daysMet, workingDays.length),
      },
      visits: {
        households: c?.households ?? 0,
        covered: c?.covered ?? 0,
        ratio: ratio(c?.covered ?? 0, c?.households ?? 0),
      },
      vulnerable: {
        households: c?.monthly ?? 0,
        covered: c?.monthly_covered ?? 0,
        ratio: ratio(c?.monthly_covered ?? 0, c?.monthly ?? 0),
      },
      flags: {
        outsideGrid: f?.outside ?? 0,
        impossibleSpeed: f?.speed ?? 0,
        repeatedCoordinates: f?.repeated ?? 0,
      },
    };
  });
  return report;
}
