/**
 * W4 — a transition through the API: 立案 (`POST /api/cases/:id/actions/file`) by the street centre's operator on a
 * reported hotline work order (auth, lock, visibility, version and state checks, the handling deadline from the
 * item's time limit and the work calendar, update, timeline, outbox, audit, the case answered back) against the raw
 * reference: a guarded UPDATE (status, version) + INSERT timeline + INSERT outbox in one transaction (raw-server.ts),
 * in the same run, alternating rounds.
 *
 *   npm run bench -- W4 [-- --rounds 3 --seconds 8 --streets 4]
 *
 * Before each round the cases it will file (one per request, never twice) are written directly in status
 * `reported`, owned by the centres of a few streets; after it every one must be filed with its timeline row and its
 * `case.filed` message, or the workload throws. The cases are deleted at the end (audit rows are append-only and
 * stay: they name a case id only).
 */
import { rows, sql } from '../../apps/server/src/platform/db.ts';
import { runLoad } from '../common/http-load.ts';
import {
  compareSides,
  atLeast,
  finish,
  loadAverage,
  machine,
  options,
  round2,
  type Figures,
  type WorkloadResult,
} from '../common/result.ts';
import { scaleFacts, signIn, startScaleServer } from '../common/scale.ts';
import type { TransitionArgs } from './requests.ts';
import {
  checkFiled,
  deleteCases,
  makeReportedCases,
  outboxMark,
  requestsModule,
  startRawServer,
} from './shared.ts';

const opts = options();
const rounds = opts.int('rounds', 3);
const seconds = opts.int('seconds', 8);
const streetCount = opts.int('streets', 4);
const say = (line: string) => process.stdout.write(`${line}\n`);
/** the raw side's handling deadline: a fixed number of days (Wangge computes it from the calendar) */
const handleDays = 7;

const startedAt = performance.now();
const loadAtStart = loadAverage();
const server = await startScaleServer();
const raw = await startRawServer(server.databaseUrl);
const ex = server.db.orm;
const firstOutbox = await outboxMark(ex);
const made: number[] = [];
const tag = `W4-${Date.now().toString(36)}`;

interface Operator {
  streetCode: string;
  userId: number;
  token: string;
}

/** `count` fresh reported cases spread over the operators' streets, each with its operator's token. */
async function casesFor(operators: Operator[], count: number): Promise<TransitionArgs['items']> {
  const items: TransitionArgs['items'] = [];
  const each = Math.ceil(count / operators.length);
  for (const operator of operators) {
    const ids = await makeReportedCases(ex, { streetCode: operator.streetCode, count: each, tag });
    made.push(...ids);
    for (const id of ids) items.push({ id, token: operator.token, actorId: operator.userId });
  }
  // interleave the streets
  return items.sort((a, b) => (a.id % 7) - (b.id % 7) || a.id - b.id).slice(0, count);
}

try {
  const facts = await scaleFacts(server.db);
  const found = await rows<{ username: string; user_id: number; street: string }>(
    ex,
    sql`select u.username, u.id::int as user_id, r.region_code as street
        from user_role r join app_user u on u.id = r.user_id join region s on s.code = r.region_code
        where r.role = 'centre_operator' and s.level = 'street' and u.username = 'op-' || r.region_code
          and exists (select 1 from region g where g.path like s.path || '.%' and g.level = 'grid')
        order by md5(r.region_code) limit ${streetCount}`,
  );
  if (found.length === 0) throw new Error('no street centre operators (op-<street>) found');
  const operators: Operator[] = [];
  for (const f of found)
    operators.push({
      streetCode: f.street,
      userId: f.user_id,
      token: await signIn(server.baseUrl, f.username, 'demo12345'),
    });

  /** One load of `amount` file requests on fresh cases, checked afterwards. */
  async function fileCases(side: 'wangge' | 'raw', amount: number) {
    const items = await casesFor(operators, amount);
    const from = new Date();
    const mark = await outboxMark(ex);
    const args: TransitionArgs = { kind: 'transition', side, items, handleDays };
    const load = await runLoad({
      url: side === 'wangge' ? server.baseUrl : raw.baseUrl,
      connections: 10,
      amount: items.length,
      requests: { module: requestsModule, args },
    });
    await checkFiled(ex, { ids: items.map((i) => i.id), from, outboxAfter: mark });
    return load;
  }

  // Same work, and warm-up: both sides file cases; the checks above prove each was filed with its rows.
  const estimate = { wangge: 0, raw: 0 };
  for (const side of ['wangge', 'raw'] as const) {
    const warm = await fileCases(side, 300);
    estimate[side] = warm.requestsPerSecond;
    say(`warm-up ${side}: ${round2(warm.requestsPerSecond)} req/s`);
  }

  async function measure(side: 'wangge' | 'raw'): Promise<Figures> {
    const load = await fileCases(side, Math.max(200, Math.round(estimate[side] * seconds)));
    return {
      requestsPerSecond: round2(load.requestsPerSecond),
      p50Ms: load.latencyMs.p50,
      p99Ms: load.latencyMs.p99,
      requests: load.requests,
    };
  }
  const {
    rounds: measured,
    wangge,
    raw: rawFigures,
    ratio,
  } = await compareSides(rounds, measure, 'requestsPerSecond', say);
  const result: WorkloadResult = {
    id: 'W4',
    title: 'a transition through the API',
    at: new Date().toISOString(),
    database: 'postgres',
    data: `${facts.grids.toLocaleString('en-US')} grids, ${facts.cases.toLocaleString('en-US')} cases; 立案 (file) by ${operators.length} street centres`,
    wangge: {
      what: 'POST /api/cases/:id/actions/file (auth, lock, guards, deadline, update, timeline, outbox, audit, detail)',
      figures: wangge,
    },
    raw: {
      what: 'node:http + pg: guarded UPDATE + timeline + outbox in one transaction (named)',
      figures: rawFigures,
    },
    ratio: { label: 'Wangge req/s ÷ raw req/s at saturation', value: ratio },
    goals: [atLeast('throughput vs raw', ratio === null ? null : round2(ratio * 100), 40, '%', '≥ 40%')],
    rounds: measured,
    notes: [
      `${rounds} rounds per side, alternating; each round files about ${seconds} s worth of fresh cases (10 connections), one case per request`,
      'after each round every case is checked filed, with its file timeline row and case.filed outbox message',
      'Wangge also appends a hash-chained audit row and answers the case detail; the raw side does neither',
    ],
    machine: machine(loadAtStart),
    seconds: Math.round((performance.now() - startedAt) / 1000),
  };
  finish(result, opts.resultFile);
} finally {
  await deleteCases(ex, made, firstOutbox);
  say(`cleaned up ${made.length} cases`);
  await raw.close();
  await server.close();
}
