/**
 * W3 — a grid worker's queue through the API (`GET /api/queues/mine`: auth, bucket counts, the first page) against
 * the raw reference: the same statements in plain SQL (raw-queue.ts) behind node:http, in the same run, alternating.
 *
 *   npm run bench -- W3 [-- --rounds 3 --seconds 8]
 *
 * The worker is the one of the busiest grid (most cases in a grid worker's buckets: reported, verifying,
 * responded, inspecting). Before measuring, both sides must answer the same
 * buckets, counts and case ids; per side and round: throughput at saturation (10 connections) and latency at a fixed
 * 500 req/s.
 */
import { one, sql } from '../../apps/server/src/platform/db.ts';
import { runLoad } from '../common/http-load.ts';
import {
  compareSides,
  atLeast,
  below,
  finish,
  loadAverage,
  machine,
  options,
  round2,
  type Figures,
  type WorkloadResult,
} from '../common/result.ts';
import { scaleFacts, signIn, startScaleServer } from '../common/scale.ts';
import { sameQueue, type QueueAnswer } from './queue-compare.ts';
import { startRawServer } from './shared.ts';

const opts = options();
const rounds = opts.int('rounds', 3);
const seconds = opts.int('seconds', 8);
const rate = opts.int('rate', 500);
const say = (line: string) => process.stdout.write(`${line}\n`);

const startedAt = performance.now();
const loadAtStart = loadAverage();
const server = await startScaleServer();
const raw = await startRawServer(server.databaseUrl);
const ex = server.db.orm;

try {
  const facts = await scaleFacts(server.db);
  const busiest = await one<{ username: string; user_id: number; region_path: string; open: number }>(
    ex,
    sql`select u.username, u.id::int as user_id, r.region_path, b.open
        from (select grid_code, count(*)::int as open from grid_case
              where status in ('reported', 'verifying', 'responded', 'inspecting')
              group by grid_code order by count(*) desc, grid_code limit 1) b
        join user_role r on r.region_code = b.grid_code and r.role = 'grid_worker'
        join app_user u on u.id = r.user_id order by u.id limit 1`,
  );
  if (!busiest) throw new Error('no grid worker for the busiest grid');
  const token = await signIn(server.baseUrl, busiest.username, 'demo12345');
  const wanggePath = '/api/queues/mine?limit=50';
  const rawPath = `/w3/queue?userId=${busiest.user_id}&gridPath=${encodeURIComponent(busiest.region_path)}&limit=50`;
  const headers = { authorization: `Bearer ${token}` };

  // Same answer: the same buckets, counts and case ids on both sides.
  const answer = async (url: string, h: Record<string, string> = {}) => {
    const response = await fetch(url, { headers: h });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    return (await response.json()) as QueueAnswer;
  };
  const w = await answer(`${server.baseUrl}${wanggePath}`, headers);
  const r = await answer(`${raw.baseUrl}${rawPath}`);
  sameQueue(w, r);
  say(
    `same queue for ${busiest.username} (${busiest.open} cases in the grid's worker buckets): ${JSON.stringify(w.buckets)} items ${w.items.length}`,
  );

  async function measure(side: 'wangge' | 'raw'): Promise<Figures> {
    const url = side === 'wangge' ? `${server.baseUrl}${wanggePath}` : `${raw.baseUrl}${rawPath}`;
    const h = side === 'wangge' ? headers : {};
    const saturated = await runLoad({ url, connections: 10, duration: seconds, headers: h });
    const paced = await runLoad({ url, connections: 10, duration: seconds, overallRate: rate, headers: h });
    return {
      requestsPerSecond: round2(saturated.requestsPerSecond),
      p99AtRateMs: paced.latencyMs.p99,
      p50AtRateMs: paced.latencyMs.p50,
      achievedRate: round2(paced.requestsPerSecond),
      p99SaturatedMs: saturated.latencyMs.p99,
    };
  }
  // warm-up (JIT, prepared statements, caches) on both sides
  for (const url of [`${server.baseUrl}${wanggePath}`, `${raw.baseUrl}${rawPath}`])
    await runLoad({ url, connections: 10, amount: 500, headers: url.includes('/api/') ? headers : {} });

  const {
    rounds: measured,
    wangge,
    raw: rawFigures,
    ratio,
  } = await compareSides(rounds, measure, 'requestsPerSecond', say);
  const result: WorkloadResult = {
    id: 'W3',
    title: "a grid worker's queue through the API",
    at: new Date().toISOString(),
    database: 'postgres',
    data: `${facts.grids.toLocaleString('en-US')} grids, ${facts.cases.toLocaleString('en-US')} cases; ${busiest.username}, ${busiest.open} cases in the grid's worker buckets`,
    wangge: { what: 'GET /api/queues/mine (auth, bucket counts, first page of 50)', figures: wangge },
    raw: { what: 'node:http + pg: the same count and page statements (named)', figures: rawFigures },
    ratio: { label: 'Wangge req/s ÷ raw req/s at saturation', value: ratio },
    goals: [
      atLeast('throughput vs raw', ratio === null ? null : round2(ratio * 100), 40, '%', '≥ 40%'),
      below(`p99 at ${rate} req/s`, wangge.p99AtRateMs ?? null, 20, 'ms'),
    ],
    rounds: measured,
    notes: [
      `${rounds} rounds per side, alternating; each round ${seconds} s at saturation (10 connections) then ${rate} req/s for ${seconds} s`,
      'both sides checked to answer the same buckets, counts and case ids before measuring',
    ],
    machine: machine(loadAtStart),
    seconds: Math.round((performance.now() - startedAt) / 1000),
  };
  finish(result, opts.resultFile);
} finally {
  await raw.close();
  await server.close();
}
