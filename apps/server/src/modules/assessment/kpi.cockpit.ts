import type { GridHeat, KpiQuery, KpiTrend } from '@wangge/contracts';
import { insideAny, requireAccess, type Actor } from '../../platform/access.ts';
import { rows, sql, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion, type RegionRow } from '../region/index.ts';
import { chinaMidnight, drainKpiRollup, readsRollup } from './kpi.service.ts';

/**
 * Read models of the cockpit (驾驶舱): the trend of reported, closed and overdue cases per day, week or month, and
 * the grids with cases for the heat map. Same scope rule as the KPI report (the region's subtree by the case's
 * grid path) and the same period convention ([from, to) in China dates, UTC+8).
 */

export type TrendInterval = KpiTrend['interval'];

/** Most buckets a trend may have (a bit over a year of days). */
export const trendMaxBuckets = 400;

const dayMs = 86_400_000;

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

/** A real calendar date `YYYY-MM-DD` as UTC midnight (milliseconds), or null. */
function parseDate(value: string): number | null {
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value ? null : ms;
}

/** How many day / week (Monday first) / month buckets the China dates [from, to) touch. */
export function trendBucketCount(from: string, to: string, interval: TrendInterval): number {
  const start = new Date(`${from}T00:00:00Z`);
  const last = new Date(Date.parse(`${to}T00:00:00Z`) - dayMs);
  switch (interval) {
    case 'day':
      return Math.round((last.getTime() - start.getTime()) / dayMs) + 1;
    case 'week': {
      const monday = (d: Date) => d.getTime() - ((d.getUTCDay() + 6) % 7) * dayMs;
      return Math.round((monday(last) - monday(start)) / (7 * dayMs)) + 1;
    }
    case 'month':
      return (
        (last.getUTCFullYear() - start.getUTCFullYear()) * 12 + (last.getUTCMonth() - start.getUTCMonth()) + 1
      );
  }
}

async function kpiRegion(ex: Executor, actor: Actor, code: string): Promise<RegionRow> {
  const region = await findRegion(ex, code);
  if (!region) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  requireAccess(actor, 'kpi.read', { regionPath: region.path });
  return region;
}

/**
 * Reported (reported_at), closed (closed_at) and newly overdue (overdue_since) cases per bucket of China dates:
 * days, weeks starting on Monday, or calendar months. Buckets are clipped to [from, to): each is labelled with
 * its first date inside the period, so the first and last may be partial. One query; `generate_series` makes
 * empty buckets appear with zeros.
 */
export async function kpiTrend(options: {
  ex: Executor;
  actor: Actor;
  query: { region: string; from: string; to: string; interval: TrendInterval };
  /** Read grid_case even where the rollup answers (the rollup's consistency test). */
  direct?: boolean;
}): Promise<KpiTrend> {
  const { ex, actor, query } = options;
  const fromMs = parseDate(query.from);
  const toMs = parseDate(query.to);
  if (fromMs === null) throw invalid('querystring.from', '日期无效 (invalid date)');
  if (toMs === null) throw invalid('querystring.to', '日期无效 (invalid date)');
  if (toMs <= fromMs) throw invalid('querystring.to', 'to 必须晚于 from (to must be after from)');
  const buckets = trendBucketCount(query.from, query.to, query.interval);
  if (buckets > trendMaxBuckets)
    throw invalid(
      'querystring.to',
      `最多 ${trendMaxBuckets} 个时间段,当前 ${buckets} 个:请缩短期间或加大间隔 (at most ${trendMaxBuckets} buckets, asked for ${buckets}: shorten the period or use a longer interval)`,
    );
  const region = await kpiRegion(ex, actor, query.region);
  const inside = insideAny(sql`c.region_path`, [region.path]);
  const from = chinaMidnight(query.from);
  const to = chinaMidnight(query.to);
  const unit = sql`${query.interval}::text`;
  /** The China-time bucket of an instant, clipped to the period's first day. */
  const bucketOf = (column: string) =>
    sql`greatest(date_trunc(${unit}, (${sql.raw(column)} at time zone 'UTC') + interval '8 hours')::date, ${query.from}::date)`;
  const series = sql`select greatest(g::date, ${query.from}::date) as bucket
          from generate_series(date_trunc(${unit}, ${query.from}::date::timestamp),
                               (${query.to}::date - 1)::timestamp,
                               ('1 ' || ${unit})::interval) g`;
  if (readsRollup(region.path, null) && !options.direct) {
    // The rollup's events per district and China day (case_kpi_event_day; see kpi.service.ts).
    await drainKpiRollup(ex);
    const list = await rows<{ bucket: string; reported: number; closed: number; overdue: number }>(
      ex,
      sql`with series as (${series}),
          happened as (
            select greatest(date_trunc(${unit}, r.day::timestamp)::date, ${query.from}::date) as bucket,
                   r.what, r.cases
            from case_kpi_event_day r
            where ${insideAny(sql`r.area`, [region.path])}
              and r.day >= ${query.from}::date and r.day < ${query.to}::date
          )
          select to_char(s.bucket, 'YYYY-MM-DD') as bucket,
                 coalesce(sum(h.cases) filter (where h.what = 'reported'), 0)::int as reported,
                 coalesce(sum(h.cases) filter (where h.what = 'closed'), 0)::int as closed,
                 coalesce(sum(h.cases) filter (where h.what = 'overdue'), 0)::int as overdue
          from series s left join happened h on h.bucket = s.bucket
          group by s.bucket
          order by s.bucket`,
    );
    return { interval: query.interval, points: list };
  }
  const list = await rows<{ bucket: string; reported: number; closed: number; overdue: number }>(
    ex,
    sql`with series as (
          select greatest(g::date, ${query.from}::date) as bucket
          from generate_series(date_trunc(${unit}, ${query.from}::date::timestamp),
                               (${query.to}::date - 1)::timestamp,
                               ('1 ' || ${unit})::interval) g
        ),
        happened as (
          select ${bucketOf('c.reported_at')} as bucket, 'reported' as what from grid_case c
          where ${inside} and c.reported_at >= ${from}::timestamptz and c.reported_at < ${to}::timestamptz
          union all
          select ${bucketOf('c.closed_at')}, 'closed' from grid_case c
          where ${inside} and c.closed_at >= ${from}::timestamptz and c.closed_at < ${to}::timestamptz
          union all
          select ${bucketOf('c.overdue_since')}, 'overdue' from grid_case c
          where ${inside} and c.overdue_since >= ${from}::timestamptz and c.overdue_since < ${to}::timestamptz
        )
        select to_char(s.bucket, 'YYYY-MM-DD') as bucket,
               count(h.what) filter (where h.what = 'reported')::int as reported,
               count(h.what) filter (where h.what = 'closed')::int as closed,
               count(h.what) filter (where h.what = 'overdue')::int as overdue
        from series s left join happened h on h.bucket = s.bucket
        group by s.bucket
        order by s.bucket`,
  );
  return { interval: query.interval, points: list };
}

/**
 * The grids of a region's subtree that have a current boundary and cases: reported in [from, to), open now, and
 * open and overdue now — only grids with something reported or open. The point is on the grid's surface.
 */
export async function gridHeat(options: { ex: Executor; actor: Actor; query: KpiQuery }): Promise<GridHeat> {
  const { ex, actor, query } = options;
  const region = await kpiRegion(ex, actor, query.region);
  const inside = insideAny(sql`c.region_path`, [region.path]);
  const from = chinaMidnight(query.from);
  const to = chinaMidnight(query.to);
  const reported = sql`(c.reported_at >= ${from}::timestamptz and c.reported_at < ${to}::timestamptz)`;
  const open = sql`(c.status not in ('closed', 'evaluated', 'not_filed', 'duplicate'))`;
  const list = await rows<{
    code: string;
    name: string;
    lng: number;
    lat: number;
    reported: number;
    open: number;
    overdue: number;
  }>(
    ex,
    sql`with counted as (
          select c.grid_code as code,
                 count(*) filter (where ${reported})::int as reported,
                 count(*) filter (where ${open})::int as open,
                 count(*) filter (where ${open} and c.overdue)::int as overdue
          from grid_case c
          where ${inside} and (${reported} or ${open})
          group by c.grid_code
        )
        select g.code, g.name, ST_X(p.point) as lng, ST_Y(p.point) as lat, n.reported, n.open, n.overdue
        from counted n
        join region g on g.code = n.code and g.level = 'grid'
        join region_boundary b on b.region_code = g.code and b.valid_to is null
        cross join lateral (select ST_PointOnSurface(b.geom) as point) p
        where n.reported > 0 or n.open > 0
        order by g.code`,
  );
  return {
    items: list.map((row) => ({
      code: row.code,
      name: row.name,
      point: [Number(row.lng), Number(row.lat)],
      reported: row.reported,
      open: row.open,
      overdue: row.overdue,
    })),
  };
}
