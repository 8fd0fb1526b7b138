/**
 * W1 — create a case through the API (`POST /api/cases`: schema validation, auth, routing by point, taxonomy,
 * serial, insert, timeline, outbox) against the raw reference: the same case row, timeline row and outbox row
 * inserted with plain SQL in one transaction (raw-server.ts), in the same run, alternating rounds.
 *
 *   npm run bench -- W1 [-- --rounds 3 --seconds 6 --reporters 12]
 *
 * Grid workers of grids spread over the scale territory report what they found on patrol, each at a point inside
 * their grid (so the case is routed by point), every request with a fresh clientId. Per side and round: throughput
 * at saturation (10 connections) and latency at a fixed 200 req/s. After each load the rows are counted: as many
 * cases, timeline rows and outbox messages as 2xx answers, or the workload throws. The cases are deleted at the end.
 */
import { rows, sql } from '../../apps/server/src/platform/db.ts';
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
import { makeRequests, type CreateArgs, type Reporter } from './requests.ts';
import {
  caseRow,
  checkCreated,
  deleteCases,
  outboxMark,
  reporterFor,
  requestsModule,
  startRawServer,
} from './shared.ts';

const opts = options();
const rounds = opts.int('rounds', 3);
const seconds = opts.int('seconds', 6);
const rate = opts.int('rate', 200);
const reporterCount = opts.int('reporters', 12);
const say = (line: string) => process.stdout.write(`${line}\n`);

const startedAt = performance.now();
const loadAtStart = loadAverage();
const server = await startScaleServer();
const raw = await startRawServer(server.databaseUrl);
const ex = server.db.orm;
const runStart = new Date();
const firstOutbox = await outboxMark(ex);
let reporters: Reporter[] = [];

try {
  const facts = await scaleFacts(server.db);
  const grids = await rows<{ code: string }>(
    ex,
    sql`select r.code from region r join app_user u on u.username = 'gw-' || r.code
        where r.level = 'grid' order by md5(r.code) limit ${reporterCount}`,
  );
  if (grids.length < reporterCount) throw new Error(`only ${grids.length} grid workers (gw-<grid>) found`);
  for (const grid of grids) {
    const username = `gw-${grid.code}`;
    const token = await signIn(server.baseUrl, username, 'demo12345');
    reporters.push(await reporterFor(ex, { username, token, gridCode: grid.code }));
  }
  reporters = reporters.filter((r) => r.points.length > 0);
  const reporterIds = reporters.map((r) => r.userId);
  const args = (side: 'wangge' | 'raw'): CreateArgs => ({ kind: 'create', side, reporters });

  // Same work: one case from each side for the same reporter and point; the rows must match.
  {
    const made = await Promise.all(
      (['wangge', 'raw'] as const).map(async (side) => {
        const [template] = makeRequests(args(side));
        const request = template!.setupRequest!(template!);
        const response = await fetch(`${side === 'wangge' ? server.baseUrl : raw.baseUrl}${request.path}`, {
          method: 'POST',
          headers: request.headers,
          body: request.body!,
        });
        const body = (await response.json()) as { id?: number; gridCode?: string };
        if (response.status !== 201 || !body.id)
          throw new Error(`${side}: first case answered ${response.status} ${JSON.stringify(body)}`);
        if (side === 'wangge' && body.gridCode !== reporters[0]!.place.gridCode)
          throw new Error(`wangge routed the point to ${body.gridCode}, not ${reporters[0]!.place.gridCode}`);
        return caseRow(ex, body.id);
      }),
    );
    const [w, r] = made;
    if (JSON.stringify(w) !== JSON.stringify(r))
      throw new Error(
        `the two sides wrote different cases:\n wangge ${JSON.stringify(w)}\n raw    ${JSON.stringify(r)}`,
      );
    say(`same rows on both sides: ${JSON.stringify(w)}`);
  }

  // Warm-up, and an estimate of each side's rate so a round sends a fixed count (every answer then counted).
  const estimate: Record<'wangge' | 'raw', number> = { wangge: 0, raw: 0 };
  for (const side of ['wangge', 'raw'] as const) {
    const url = side === 'wangge' ? server.baseUrl : raw.baseUrl;
    const warm = await runLoad({
      url,
      connections: 10,
      amount: 400,
      requests: { module: requestsModule, args: args(side) },
    });
    estimate[side] = warm.requestsPerSecond;
    say(`warm-up ${side}: ${round2(warm.requestsPerSecond)} req/s`);
  }

  async function measure(side: 'wangge' | 'raw'): Promise<Figures> {
    const url = side === 'wangge' ? server.baseUrl : raw.baseUrl;
    const requests = { module: requestsModule, args: args(side) };
    const from = new Date();
    const mark = await outboxMark(ex);
    const saturated = await runLoad({
      url,
      connections: 10,
      amount: Math.max(200, Math.round(estimate[side] * seconds)),
      requests,
    });
    const paced = await runLoad({
      url,
      connections: 10,
      amount: rate * seconds,
      overallRate: rate,
      requests,
    });
    const to = new Date();
    await checkCreated(ex, {
      reporterIds,
      from,
      to,
      outboxAfter: mark,
      expected: saturated.requests + paced.requests,
    });
    return {
      requestsPerSecond: round2(saturated.requestsPerSecond),
      p99AtRateMs: paced.latencyMs.p99,
      p50AtRateMs: paced.latencyMs.p50,
      achievedRate: round2(paced.requestsPerSecond),
      p99SaturatedMs: saturated.latencyMs.p99,
    };
  }

  const {
    rounds: measured,
    wangge,
    raw: rawFigures,
    ratio,
  } = await compareSides(rounds, measure, 'requestsPerSecond', say);
  const result: WorkloadResult = {
    id: 'W1',
    title: 'create a case through the API',
    at: new Date().toISOString(),
    database: 'postgres',
    data: `${facts.grids.toLocaleString('en-US')} grids, ${facts.cases.toLocaleString('en-US')} cases; ${reporters.length} grid workers reporting`,
    wangge: {
      what: 'POST /api/cases (validation, auth, routing by point, serial, insert, timeline, outbox)',
      figures: wangge,
    },
    raw: {
      what: 'node:http + pg: counter, case, timeline and outbox rows in one transaction (named statements)',
      figures: rawFigures,
    },
    ratio: { label: 'Wangge req/s ÷ raw req/s at saturation', value: ratio },
    goals: [
      atLeast('throughput vs raw', ratio === null ? null : round2(ratio * 100), 50, '%', '≥ 50%'),
      below(`p99 at ${rate} req/s`, wangge.p99AtRateMs ?? null, 50, 'ms'),
    ],
    rounds: measured,
    notes: [
      `${rounds} rounds per side, alternating; each round ${seconds} s at saturation (10 connections) then ${rate} req/s for ${seconds} s`,
      'every answer checked: the cases, their report timeline rows and case.created outbox messages counted after each round',
      'the raw side gets the routing answer (grid, owner, district) ready-made; Wangge routes each point itself',
    ],
    machine: machine(loadAtStart),
    seconds: Math.round((performance.now() - startedAt) / 1000),
  };
  finish(result, opts.resultFile);
} finally {
  // Clean up every case this run reported (also after a failure), with their timeline and outbox rows.
  const made = await rows<{ id: number }>(
    ex,
    sql`select id::int as id from grid_case
        where reporter_user_id = any(${`{${reporters.map((r) => r.userId).join(',') || 0}}`}::bigint[])
          and reported_at >= ${runStart.toISOString()}`,
  );
  await deleteCases(
    ex,
    made.map((m) => m.id),
    firstOutbox,
  );
  say(`cleaned up ${made.length} cases`);
  await raw.close();
  await server.close();
}
