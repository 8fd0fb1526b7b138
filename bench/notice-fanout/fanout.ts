/**
 * Notice fan-out benchmark (issue 7 "one notice to 10,000 SSE subscribers in one server process, time to the last
 * delivery (p99) and reach, next to a plain Node SSE loop in the same run"; issue 9 W8. Goal: p99 ≤ 1 s, reach 100%).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:fanout [-- --subscribers 10000 --rounds 2]
 *   npm run bench:fanout                        # PGlite (in a temporary directory)
 *
 * On a fresh database (PostgreSQL: a new database `wangge_bench_fanout_<pid>` on the server of DATABASE_URL, dropped
 * at the end; else PGlite) seeded with the demo city, a real Wangge server (production config, started in this
 * process) listens on 127.0.0.1, and the raw reference — a plain Node `http` SSE server (raw-server.ts) — runs in a
 * child process. Rounds alternate Wangge, raw, Wangge, raw …; each round forks a fresh load generator
 * (loadgen.ts, its own process) that opens N SSE streams with `http.request`:
 *   Wangge: the residents' public streams `GET /api/public/grids/{code}/stream`, spread round-robin over the grids
 *     of the demo street; once all are up, the street's centre operator (demo-street) sends ONE notice to the
 *     residents of the street (`POST /api/notices`, target `residents`): commit → outbox → NOTIFY → realtime hub →
 *     per-subscriber filter → SSE write;
 *   raw: `GET /stream` on the raw server; `POST /send` writes one frame to every stream in a loop.
 * Time to delivery = when a stream parsed the notice − the instant before the send request (the machine's
 * monotonic clock, shared by both processes); a stream without it 30 s after the send is not reached.
 * Prints both, the ratio of the p99s, and writes results.json beside this file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { one, rows, sql } from '../../apps/server/src/platform/db.ts';
import { startDemoServer } from '../common/demo-server.ts';
import { demoPassword } from '../../apps/server/src/seed/demo-accounts.ts';
import { finish, machine, options, type WorkloadResult } from '../common/result.ts';
import { runRound, startRawServer, type RoundOutcome } from './harness.ts';
import type { RoundFigures } from './sse.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  const value = at >= 0 ? Number(argv[at + 1]) : NaN;
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const subscribers = option('--subscribers', 10_000);
const rounds = option('--rounds', 2);
const timeoutMs = option('--timeout-seconds', 30) * 1000;
const here = path.dirname(fileURLToPath(import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);
const loadAverage = () => os.loadavg().map((l) => Number(l.toFixed(2)));
const loadAtStart = loadAverage();
const startedAt = new Date().toISOString();

/* ---------------------------------------------------------------- a fresh demo city, Wangge on loopback */

const server = await startDemoServer('fanout');
const { db } = server;
say(`database: ${db.kind}; demo city seeded in ${server.seedSeconds.toFixed(1)} s`);

// The demo street operator's street, and its grids: every stream follows one of them.
const street = await one<{ code: string; name: string; path: string }>(
  db.orm,
  sql`select r.code, r.name, r.path from app_user u join user_role ur on ur.user_id = u.id
      join region r on r.path = ur.region_path
      where u.username = 'demo-street' and ur.role = 'centre_operator'`,
);
if (!street) throw new Error('the demo city has no demo-street operator');
const grids = (
  await rows<{ code: string }>(
    db.orm,
    sql`select code from region where level = 'grid' and path like ${`${street.path}.%`} order by code`,
  )
).map((g) => g.code);
if (grids.length === 0) throw new Error(`street ${street.code} has no grids`);
say(
  `target: residents of ${street.name} (${street.code}), ${grids.length} grids; ${subscribers} subscribers`,
);

/* ---------------------------------------------------------------- Wangge and the raw server on loopback */

const base = server.baseUrl;
const login = await fetch(`${base}/api/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'demo-street', password: demoPassword }),
});
if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
const { token } = (await login.json()) as { token: string };
const raw = await startRawServer();

const wanggeUrls = Array.from(
  { length: subscribers },
  (_, i) => `${base}/api/public/grids/${grids[i % grids.length]}/stream`,
);
const rawUrls = Array.from(
  { length: subscribers },
  (_, i) => `${raw.base}/stream?grid=${grids[i % grids.length]}`,
);

async function sendNotice(title: string): Promise<void> {
  const response = await fetch(`${base}/api/notices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: randomUUID(),
      title,
      body: '请各位居民注意：本周六上午九点至十一点小区停水检修。(benchmark notice: water off on Saturday 9–11.)',
      target: { kind: 'residents', regionCode: street!.code },
    }),
  });
  if (response.status !== 201) throw new Error(`send failed: ${response.status} ${await response.text()}`);
}

async function sendRaw(title: string): Promise<void> {
  const response = await fetch(`${raw.base}/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  if (response.status !== 204) throw new Error(`raw send failed: ${response.status}`);
}

/* ---------------------------------------------------------------- rounds, alternating */

interface Round {
  round: number;
  system: 'wangge' | 'raw';
  figures: RoundFigures;
  connectSeconds: number;
  sendAnsweredMs: number;
  closedEarly: number;
  duplicates: number;
  loadAverage: number[];
}
const results: Round[] = [];
const fmt = (ms: number | null) => (ms === null ? 'not reached' : `${ms.toFixed(0)} ms`);
const describeRound = (r: Round) =>
  `reach ${(r.figures.reach * 100).toFixed(2)}% (${r.figures.received}/${r.figures.subscribers}) · ` +
  `p50 ${fmt(r.figures.p50Ms)} · p95 ${fmt(r.figures.p95Ms)} · p99 ${fmt(r.figures.p99Ms)} · max ${fmt(r.figures.maxMs)} · ` +
  `send answered in ${r.sendAnsweredMs.toFixed(0)} ms · connected ${r.figures.connected} in ${r.connectSeconds.toFixed(1)} s`;

const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));
let broken = false;
for (let round = 1; round <= rounds; round++) {
  for (const system of ['wangge', 'raw'] as const) {
    const marker = `基准测试通知 (fan-out benchmark) ${system} ${round} ${randomUUID().slice(0, 8)}`;
    const outcome: RoundOutcome = await runRound({
      urls: system === 'wangge' ? wanggeUrls : rawUrls,
      marker,
      timeoutMs,
      send: () => (system === 'wangge' ? sendNotice(marker) : sendRaw(marker)),
    });
    const r: Round = {
      round,
      system,
      figures: outcome.result.figures,
      connectSeconds: outcome.ready.connectMs / 1000,
      sendAnsweredMs: Number(outcome.sendAnsweredMs.toFixed(1)),
      closedEarly: outcome.result.closedEarly,
      duplicates: outcome.result.duplicates,
      loadAverage: loadAverage(),
    };
    results.push(r);
    say(`round ${round} ${system === 'wangge' ? 'Wangge' : 'raw   '}: ${describeRound(r)}`);
    if (outcome.ready.failed > 0)
      say(`  ${outcome.ready.failed} streams failed to open: ${outcome.ready.errors.join('; ')}`);
    if (r.closedEarly > 0 || r.duplicates > 0)
      say(`  ${r.closedEarly} streams closed early, ${r.duplicates} duplicate deliveries`);
    // The reference must reach everyone: otherwise the workload (not Wangge) is broken and no figure counts.
    if (system === 'raw' && (r.figures.reach < 1 || outcome.ready.failed > 0)) broken = true;
    await settle(); // the closed streams leave both servers
  }
}

/* ---------------------------------------------------------------- summary */

const median = (values: (number | null)[]) => {
  if (values.some((v) => v === null)) return null;
  const sorted = (values as number[]).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const medianOf = (system: 'wangge' | 'raw') => {
  const mine = results.filter((r) => r.system === system).map((r) => r.figures);
  return {
    reach: Math.min(...mine.map((f) => f.reach)),
    p50Ms: median(mine.map((f) => f.p50Ms)),
    p95Ms: median(mine.map((f) => f.p95Ms)),
    p99Ms: median(mine.map((f) => f.p99Ms)),
    maxMs: median(mine.map((f) => f.maxMs)),
  };
};
const wanggeMedian = medianOf('wangge');
const rawMedian = medianOf('raw');
const ratio =
  wanggeMedian.p99Ms !== null && rawMedian.p99Ms !== null && rawMedian.p99Ms > 0
    ? Number((wanggeMedian.p99Ms / rawMedian.p99Ms).toFixed(2))
    : null;
const goalMet = wanggeMedian.reach === 1 && wanggeMedian.p99Ms !== null && wanggeMedian.p99Ms <= 1000;

const cell = (ms: number | null) => (ms === null ? '—' : ms.toFixed(0)).padStart(8);
say('');
say(`median of ${rounds} rounds, ${subscribers} subscribers   reach     p50 ms   p95 ms   p99 ms   max ms`);
for (const [name, m] of [
  ['Wangge', wanggeMedian],
  ['raw Node SSE loop', rawMedian],
] as const)
  say(
    `${name.padEnd(38)} ${`${(m.reach * 100).toFixed(2)}%`.padStart(7)} ${cell(m.p50Ms)} ${cell(m.p95Ms)} ${cell(m.p99Ms)} ${cell(m.maxMs)}`,
  );
say(`ratio of p99s (Wangge / raw): ${ratio === null ? '—' : `${ratio}×`}`);
say(
  `goal (p99 ≤ 1 s, reach 100%): ${goalMet ? 'met' : 'NOT met'}${db.kind === 'pglite' ? ' (PGlite; the goal is for PostgreSQL)' : ''}`,
);
const loadAtEnd = loadAverage();
say(
  `load average (1, 5, 15 min): ${loadAtStart.join(', ')} at the start, ${loadAtEnd.join(', ')} at the end`,
);

const summary = {
  benchmark: 'notice-fanout',
  at: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadAtEnd,
  },
  database: db.kind,
  subscribers,
  grids: grids.length,
  target: { kind: 'residents', regionCode: street.code, name: street.name },
  timeoutSeconds: timeoutMs / 1000,
  rounds: results,
  median: { wangge: wanggeMedian, raw: rawMedian },
  p99Ratio: ratio,
  goal: { p99MaxMs: 1000, reach: 1, met: db.kind === 'postgres' ? goalMet : null },
  referenceBroken: broken,
};
const resultsFile = path.join(here, 'results.json');
// Formatted as the repository's prettier check wants it (short arrays on one line).
fs.writeFileSync(
  resultsFile,
  await prettier.format(JSON.stringify(summary), {
    ...(await prettier.resolveConfig(resultsFile)),
    parser: 'json',
  }),
);
say(`wrote ${path.relative(process.cwd(), resultsFile)}`);

await raw.close();
await server.close();
// The runner's common summary (W8 of issue 9), when run by `npm run bench -- W8` / `bench:all`.
const resultFile = options().resultFile;
if (resultFile && !broken) {
  const pick = (m: typeof wanggeMedian) => ({
    reachPercent: Number((m.reach * 100).toFixed(2)),
    p50Ms: m.p50Ms === null ? null : Number(m.p50Ms.toFixed(1)),
    p99Ms: m.p99Ms === null ? null : Number(m.p99Ms.toFixed(1)),
    maxMs: m.maxMs === null ? null : Number(m.maxMs.toFixed(1)),
  });
  const result: WorkloadResult = {
    id: 'W8',
    title: `one notice to ${subscribers.toLocaleString('en-US')} SSE subscribers`,
    at: summary.at,
    database: db.kind,
    data: `demo city, ${subscribers.toLocaleString('en-US')} resident streams over the ${grids.length} grids of ${street.name}`,
    wangge: {
      what: 'POST /api/notices to the residents of a street → outbox → NOTIFY → hub → per-grid SSE streams; time from the send to each stream parsing it',
      figures: pick(wanggeMedian),
    },
    raw: {
      what: 'a plain Node http SSE server writing one pre-serialised frame to every response in a loop',
      figures: pick(rawMedian),
    },
    ratio: { label: 'p99 Wangge ÷ raw (lower is better)', value: ratio },
    goals: [
      {
        label: 'p99 time to delivery',
        target: '≤ 1000 ms',
        value: wanggeMedian.p99Ms === null ? null : Number(wanggeMedian.p99Ms.toFixed(1)),
        unit: 'ms',
        met: wanggeMedian.p99Ms !== null && wanggeMedian.p99Ms <= 1000,
      },
      {
        label: 'reach',
        target: '100%',
        value: Number((wanggeMedian.reach * 100).toFixed(2)),
        unit: '%',
        met: wanggeMedian.reach === 1,
      },
    ],
    rounds: results.map((r) => ({
      round: r.round,
      system: r.system,
      figures: {
        reachPercent: Number((r.figures.reach * 100).toFixed(2)),
        p50Ms: r.figures.p50Ms,
        p99Ms: r.figures.p99Ms,
        maxMs: r.figures.maxMs,
      },
    })),
    notes: [
      "The load generator (one process) opens and reads all streams; on a 2-core machine its own reading of 10,000 sockets is most of the raw reference's time.",
    ],
    machine: machine(loadAtStart),
    seconds: Math.round((Date.now() - Date.parse(startedAt)) / 1000),
  };
  finish(result, resultFile);
}
if (broken) {
  say('the raw reference did not reach every subscriber: the workload is broken, these figures do not count');
  process.exitCode = 1;
}
