/**
 * W6 — cockpit KPIs (驾驶舱) for the city with the most cases over a year, through the API, against a plain
 * GROUP BY over grid_case computing the headline figures, in the same run, alternating rounds.
 *
 *   npm run bench -- W6 [-- --rounds 3 --repeat 6 --seconds 5]
 *
 * Wangge: the calls the cockpit page makes for a region and period (GET /api/kpis, ?by=category, ?by=department,
 * /api/kpis/trend?interval=month, /api/kpis/grid-heat), each timed on its own, `repeat` times per round, one after
 * another; then a little concurrency (4 connections, autocannon in its own process) on the KPI report calls.
 * Raw: one statement over grid_case (region path range, reported / deadline / closing in the period, grouping sets
 * over the category) computing the headline counts, through a pg client, the same number of times.
 * Before timing, both sides must agree on the headline counts (accepted, duplicates, due to close, closed, overdue
 * now), else the workload throws.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { KpiReport } from '@wangge/contracts';
import { runLoad } from '../common/http-load.ts';
import {
  alternate,
  below,
  finish,
  loadAverage,
  machine,
  medianFigures,
  options,
  percentile,
  ratioOf,
  round2,
  type WorkloadResult,
} from '../common/result.ts';
import { scaleDatabaseUrl, signIn, startScaleServer } from '../common/scale.ts';

export interface Period {
  /** region code, e.g. the city's */
  region: string;
  /** China dates [from, to) */
  from: string;
  to: string;
}

/** The headline counts both sides compute. */
export interface Headline {
  accepted: number;
  duplicates: number;
  dueToClose: number;
  closed: number;
  overdueNow: number;
}

/** The calls the cockpit page makes (CockpitPage.tsx and panels.tsx), in order. */
export function cockpitCalls(p: Period): { name: string; path: string }[] {
  const q = `region=${p.region}&from=${p.from}&to=${p.to}`;
  return [
    { name: 'report', path: `/api/kpis?${q}` },
    { name: 'byCategory', path: `/api/kpis?${q}&by=category` },
    { name: 'byDepartment', path: `/api/kpis?${q}&by=department` },
    { name: 'trend', path: `/api/kpis/trend?${q}&interval=month` },
    { name: 'gridHeat', path: `/api/kpis/grid-heat?${q}` },
  ];
}

/** The KPI report calls (the figures the rollup answers). */
export const reportCalls = new Set(['report', 'byCategory', 'byDepartment']);

export function headlineOf(report: KpiReport): Headline {
  const c = report.counts;
  return {
    accepted: c.accepted,
    duplicates: c.duplicates,
    dueToClose: c.dueToClose,
    closed: c.closed,
    overdueNow: c.overdueNow,
  };
}

/** China midnight of a date, as the API reads period bounds. */
const chinaMidnight = (date: string) => new Date(`${date}T00:00:00+08:00`).toISOString();

/**
 * The raw reference: a plain GROUP BY over grid_case for the region's subtree (by its grid path) computing the
 * headline counts with the same definitions (docs/domain/kpis.md), totals and per category in one pass.
 */
export const rawStatement = `
  select category_code, grouping(category_code) as total,
         count(*) filter (where reported_at >= $2 and reported_at < $3 and status <> 'duplicate')::int as accepted,
         count(*) filter (where reported_at >= $2 and reported_at < $3 and status = 'duplicate')::int as duplicates,
         count(*) filter (where status not in ('not_filed', 'duplicate')
           and ((handle_due_at >= $2 and handle_due_at < $3) or (closed_at >= $2 and closed_at < $3)))::int
           as due_to_close,
         count(*) filter (where status in ('closed', 'evaluated') and closed_at < $3
           and ((handle_due_at >= $2 and handle_due_at < $3) or (closed_at >= $2 and closed_at < $3)))::int as closed,
         count(*) filter (where overdue and status not in ('closed', 'evaluated', 'not_filed', 'duplicate'))::int
           as overdue_now
  from grid_case
  where (region_path = $1 or (region_path >= $1 || '.' and region_path < $1 || '/'))
    and ((reported_at >= $2 and reported_at < $3) or (handle_due_at >= $2 and handle_due_at < $3)
      or (closed_at >= $2 and closed_at < $3)
      or (overdue and status not in ('closed', 'evaluated', 'not_filed', 'duplicate')))
  group by grouping sets ((), (category_code))`;

export async function rawHeadline(client: pg.ClientBase, regionPath: string, p: Period): Promise<Headline> {
  const result = await client.query<{
    total: number;
    accepted: number;
    duplicates: number;
    due_to_close: number;
    closed: number;
    overdue_now: number;
  }>({
    name: 'w6-raw',
    text: rawStatement,
    values: [regionPath, chinaMidnight(p.from), chinaMidnight(p.to)],
  });
  const total = result.rows.find((r) => Number(r.total) === 1);
  if (!total) throw new Error('W6: the raw statement returned no totals row');
  return {
    accepted: total.accepted,
    duplicates: total.duplicates,
    dueToClose: total.due_to_close,
    closed: total.closed,
    overdueNow: total.overdue_now,
  };
}

/** GET one cockpit call; throws on anything but 200. */
export async function getJson<T>(baseUrl: string, token: string, url: string): Promise<T> {
  const response = await fetch(`${baseUrl}${url}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`W6: GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Throws unless both sides give the same headline counts (and there is something to count). */
export function checkAgreement(wangge: Headline, raw: Headline): void {
  const keys = Object.keys(raw) as (keyof Headline)[];
  const differing = keys.filter((k) => wangge[k] !== raw[k]);
  if (differing.length > 0)
    throw new Error(
      `W6: Wangge and the raw GROUP BY disagree on ${differing.join(', ')}: ` +
        `wangge ${JSON.stringify(wangge)}, raw ${JSON.stringify(raw)}`,
    );
  if (raw.accepted === 0 || raw.closed === 0)
    throw new Error(`W6: nothing to count in the period (${JSON.stringify(raw)})`);
}

/** Times each cockpit call `repeat` times, one after another; checks every report's headline. */
export async function timeCockpit(
  baseUrl: string,
  token: string,
  p: Period,
  repeat: number,
  expected: Headline,
): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>();
  for (let i = 0; i < repeat; i++)
    for (const call of cockpitCalls(p)) {
      const started = performance.now();
      const body = await getJson<unknown>(baseUrl, token, call.path);
      const ms = performance.now() - started;
      if (call.name === 'report') checkAgreement(headlineOf(body as KpiReport), expected);
      times.set(call.name, [...(times.get(call.name) ?? []), ms]);
    }
  return times;
}

/** Times the raw statement `times` times; checks its headline each time. */
export async function timeRaw(
  client: pg.ClientBase,
  regionPath: string,
  p: Period,
  times: number,
  expected: Headline,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const headline = await rawHeadline(client, regionPath, p);
    out.push(performance.now() - started);
    checkAgreement(expected, headline);
  }
  return out;
}

export function makeRequests(args: { paths: string[]; token: string }) {
  return args.paths.map((p) => ({
    method: 'GET',
    path: p,
    headers: { authorization: `Bearer ${args.token}` },
  }));
}

const ms = (value: number | null) => (value === null ? null : round2(value));

/** The busiest city, the China date today and a year before. */
async function choosePeriod(client: pg.ClientBase): Promise<{ period: Period; path: string; cases: number }> {
  const busiest = await client.query<{ code: string; path: string; cases: number }>(
    `select r.code, r.path, n.cases from (
       select split_part(region_path, '.', 1) as city, count(*)::int as cases from grid_case group by 1
       order by 2 desc limit 1) n
     join region r on r.path = n.city`,
  );
  const city = busiest.rows[0];
  if (!city) throw new Error('W6: no cases in the database');
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const yearAgo = new Date(Date.parse(`${today}T00:00:00Z`) - 365 * 86_400_000).toISOString().slice(0, 10);
  return { period: { region: city.code, from: yearAgo, to: today }, path: city.path, cases: city.cases };
}

/** A city-level account: a leader (or centre operator) of the city with kpi.read, else the system admin. */
async function chooseAccount(client: pg.ClientBase, cityCode: string): Promise<string> {
  const found = await client.query<{ username: string }>(
    `select u.username from app_user u join user_role g on g.user_id = u.id
     where (g.role = 'leader' and g.region_code = $1) or g.role = 'admin'
     order by (g.role = 'leader') desc, u.id limit 1`,
    [cityCode],
  );
  if (!found.rows[0]) throw new Error(`W6: no leader of ${cityCode} and no admin account`);
  return found.rows[0].username;
}

async function main(): Promise<void> {
  const opts = options();
  const rounds = opts.int('rounds', 3);
  const repeat = opts.int('repeat', 6);
  const seconds = opts.int('seconds', 5);
  const password = opts.string('password', 'demo12345');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();

  const client = new pg.Client({ connectionString: scaleDatabaseUrl() });
  await client.connect();
  const server = await startScaleServer();
  try {
    const { period, path: cityPath, cases } = await choosePeriod(client);
    const username = await chooseAccount(client, period.region);
    const token = await signIn(server.baseUrl, username, password);
    const total = await client.query<{ n: number }>('select count(*)::int as n from grid_case');
    say(
      `W6: ${username} on ${period.region} (${cases} cases of ${total.rows[0]!.n}) ${period.from}…${period.to}`,
    );

    const raw = await rawHeadline(client, cityPath, period);
    const report = await getJson<KpiReport>(server.baseUrl, token, cockpitCalls(period)[0]!.path);
    checkAgreement(headlineOf(report), raw);
    say(`W6: both sides agree on ${JSON.stringify(raw)}`);
    // Warm both sides once (plans, caches), outside the timing.
    await timeCockpit(server.baseUrl, token, period, 1, raw);
    await timeRaw(client, cityPath, period, 1, raw);

    const byCall = new Map<string, number[]>();
    const rawAll: number[] = [];
    const all = await alternate(
      rounds,
      async () => {
        const times = await timeCockpit(server.baseUrl, token, period, repeat, raw);
        const reportTimes: number[] = [];
        const figures: Record<string, number | null> = {};
        for (const [name, list] of times) {
          byCall.set(name, [...(byCall.get(name) ?? []), ...list]);
          if (reportCalls.has(name)) reportTimes.push(...list);
          figures[`${name}P95Ms`] = ms(percentile(list, 95));
        }
        return {
          kpiP50Ms: ms(percentile(reportTimes, 50)),
          kpiP95Ms: ms(percentile(reportTimes, 95)),
          ...figures,
        };
      },
      async () => {
        // The raw side runs as many statements as Wangge made KPI report calls.
        const times = await timeRaw(client, cityPath, period, repeat * reportCalls.size, raw);
        rawAll.push(...times);
        return { kpiP50Ms: ms(percentile(times, 50)), kpiP95Ms: ms(percentile(times, 95)) };
      },
      say,
    );

    const reportAll = [...byCall].filter(([n]) => reportCalls.has(n)).flatMap(([, list]) => list);
    const cockpitAll = [...byCall.values()].flat();
    const rounded = (figures: Record<string, number | null>) =>
      Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, ms(v)]));
    const wanggeFigures = {
      ...rounded(medianFigures(all, 'wangge')),
      kpiP50Ms: ms(percentile(reportAll, 50)),
      kpiP95Ms: ms(percentile(reportAll, 95)),
      kpiP99Ms: ms(percentile(reportAll, 99)),
      cockpitP95Ms: ms(percentile(cockpitAll, 95)),
    };
    const rawFigures = {
      kpiP50Ms: ms(percentile(rawAll, 50)),
      kpiP95Ms: ms(percentile(rawAll, 95)),
      kpiP99Ms: ms(percentile(rawAll, 99)),
    };

    // A little concurrency on the KPI report calls: 4 connections.
    const load = await runLoad({
      url: server.baseUrl,
      connections: 4,
      duration: seconds,
      requests: {
        module: fileURLToPath(import.meta.url),
        args: {
          paths: cockpitCalls(period)
            .filter((c) => reportCalls.has(c.name))
            .map((c) => c.path),
          token,
        },
      },
    });
    Object.assign(wanggeFigures, {
      concurrentRequestsPerSecond: Math.round(load.requestsPerSecond),
      concurrentP50Ms: load.latencyMs.p50,
      concurrentP99Ms: load.latencyMs.p99,
    });

    const ratio = ratioOf(wanggeFigures.kpiP95Ms, rawFigures.kpiP95Ms);
    const result: WorkloadResult = {
      id: 'W6',
      title: 'cockpit KPIs for the city over a year',
      at: startedAt,
      database: 'postgres',
      data: `city ${period.region}: ${cases.toLocaleString('en-US')} of ${total.rows[0]!.n.toLocaleString('en-US')} cases; ${period.from}…${period.to}`,
      wangge: {
        what: 'GET /api/kpis (none, by category, by department) through the API, sequential; trend and grid heat timed beside',
        figures: wanggeFigures,
      },
      raw: {
        what: 'one GROUP BY over grid_case (region path range, grouping sets over the category) via pg',
        figures: rawFigures,
      },
      ratio: { label: 'Wangge KPI p95 ÷ raw GROUP BY p95 (lower is better)', value: ratio },
      goals: [
        below('KPI report p95, city over a year', wanggeFigures.kpiP95Ms, 100, 'ms'),
        below('every cockpit call p95 (with trend and grid heat)', wanggeFigures.cockpitP95Ms, 100, 'ms'),
      ],
      rounds: all,
      notes: [
        `Agreement before timing and on every timed report: ${JSON.stringify(raw)}.`,
        `Per call p95 (ms): ${[...byCall].map(([n, l]) => `${n} ${ms(percentile(l, 95))}`).join(', ')}.`,
        `Concurrency: 4 connections for ${seconds} s on the three KPI report calls: ${Math.round(load.requestsPerSecond)} req/s, ` +
          `p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms.`,
        'Regions down to district level read the KPI rollup (case_kpi_*) for the report and the trend, after draining the queue of changed cases (case_kpi_drain()); grid heat reads grid_case.',
      ],
      machine: machine(loadAtStart),
      seconds: Math.round((Date.now() - Date.parse(startedAt)) / 1000),
    };
    finish(result, opts.resultFile);
  } finally {
    await server.close();
    await client.end();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
