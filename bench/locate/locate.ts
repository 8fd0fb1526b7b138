/**
 * W2 — point → grid over the scale territory's ~41,000 grids: Wangge's in-process router (`GridRouter`, what case
 * intake and `GET /api/grids/locate` call) against PostGIS `ST_Contains` with the GiST index on
 * `region_boundary.geom`, in the same run, alternating rounds.
 *
 *   npm run bench -- W2 [-- --points 200000 --raw-points 6000 --rounds 3 --seconds 5]
 *
 * Points are deterministic (a fixed seed): most drawn in a random grid's bounding box (so most fall in a grid and some
 * in the gaps between grids), the rest anywhere over the territory's extent grown by a margin (outside every grid).
 * Before timing, both sides answer a sample of points and must name the same grid for each (a point within 1e-9° of
 * a grid's edge may differ: ST_Contains says "not inside" exactly on the edge); any other difference throws.
 * The raw reference is measured two ways — a prepared statement per point, and a batch of points per statement
 * (unnest of arrays joined with ST_Contains) — and the faster is the reference.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '../../apps/server/src/platform/logger.ts';
import { openDatabase } from '../../apps/server/src/platform/db.ts';
import { GridRouter } from '../../apps/server/src/modules/region/grid-router.ts';
import { runLoad } from '../common/http-load.ts';
import {
  alternate,
  atLeast,
  finish,
  loadAverage,
  machine,
  medianFigures,
  options,
  ratioOf,
  round2,
  type WorkloadResult,
} from '../common/result.ts';
import { scaleDatabaseUrl, startScaleServer } from '../common/scale.ts';

export interface Points {
  lngs: Float64Array;
  lats: Float64Array;
}

/** Small fixed-seed PRNG (mulberry32): the same points on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Current grid boundaries as the router loads them: level 'grid', valid now. */
const currentGrids = `from region_boundary b join region r on r.code = b.region_code
  where b.valid_to is null and r.level = 'grid'`;

/** Bounding boxes of every current grid, 4 numbers each (minX, minY, maxX, maxY). */
export async function gridBoxes(client: pg.ClientBase): Promise<Float64Array> {
  const result = await client.query<{ a: number; b: number; c: number; d: number }>(
    `select ST_XMin(b.geom) as a, ST_YMin(b.geom) as b, ST_XMax(b.geom) as c, ST_YMax(b.geom) as d ${currentGrids}
     order by b.region_code`,
  );
  const boxes = new Float64Array(result.rows.length * 4);
  result.rows.forEach((row, i) => boxes.set([row.a, row.b, row.c, row.d], i * 4));
  if (boxes.length === 0) throw new Error('W2: the database holds no current grid boundary');
  return boxes;
}

/** `count` points: 90% in a random grid's box, 10% anywhere over the whole extent grown by 5% (outside). */
export function makePoints(boxes: Float64Array, count: number, seed: number): Points {
  const random = seededRandom(seed);
  const grids = boxes.length / 4;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let g = 0; g < grids; g++) {
    minX = Math.min(minX, boxes[4 * g]!);
    minY = Math.min(minY, boxes[4 * g + 1]!);
    maxX = Math.max(maxX, boxes[4 * g + 2]!);
    maxY = Math.max(maxY, boxes[4 * g + 3]!);
  }
  const width = maxX - minX;
  const height = maxY - minY;
  const lngs = new Float64Array(count);
  const lats = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    if (random() < 0.9) {
      const g = Math.floor(random() * grids) * 4;
      lngs[i] = boxes[g]! + random() * (boxes[g + 2]! - boxes[g]!);
      lats[i] = boxes[g + 1]! + random() * (boxes[g + 3]! - boxes[g + 1]!);
    } else {
      lngs[i] = minX - 0.05 * width + random() * width * 1.1;
      lats[i] = minY - 0.05 * height + random() * height * 1.1;
    }
  }
  return { lngs, lats };
}

export function slicePoints(points: Points, from: number, to: number): Points {
  return { lngs: points.lngs.subarray(from, to), lats: points.lats.subarray(from, to) };
}

const arrayText = (values: Float64Array) => `{${Array.from(values).join(',')}}`;

/** The raw statement for one point: the product's question asked of PostGIS (GiST on region_boundary.geom). */
export const rawOneText = `select b.region_code as code ${currentGrids}
  and ST_Contains(b.geom, ST_SetSRID(ST_Point($1::float8, $2::float8), 4326))
  order by b.region_code limit 1`;

/** The raw statement for a batch: arrays of points, unnest, one ST_Contains per point (lateral). */
export const rawBatchText = `select p.i::int as i, g.code
  from unnest($1::float8[], $2::float8[]) with ordinality as p(lng, lat, i)
  left join lateral (
    select b.region_code as code ${currentGrids}
      and ST_Contains(b.geom, ST_SetSRID(ST_Point(p.lng, p.lat), 4326))
    order by b.region_code limit 1) g on true
  order by p.i`;

/** A point-locating side: answers the grid code (or null) of every point, in order. */
export type Locator = (points: Points) => Promise<(string | null)[]>;

export function routerLocator(router: Pick<GridRouter, 'locate'>): Locator {
  return ({ lngs, lats }) => Promise.resolve(Array.from(lngs, (lng, i) => router.locate(lng, lats[i]!)));
}

/** PostGIS, one prepared statement execution per point. */
export function preparedLocator(client: pg.ClientBase): Locator {
  return async ({ lngs, lats }) => {
    const answers: (string | null)[] = new Array(lngs.length);
    for (let i = 0; i < lngs.length; i++) {
      const result = await client.query<{ code: string }>({
        name: 'w2_locate_one',
        text: rawOneText,
        values: [lngs[i], lats[i]],
      });
      answers[i] = result.rows[0]?.code ?? null;
    }
    return answers;
  };
}

/** PostGIS, `batch` points per statement. */
export function batchLocator(client: pg.ClientBase, batch = 1000): Locator {
  return async (points) => {
    const answers: (string | null)[] = [];
    for (let from = 0; from < points.lngs.length; from += batch) {
      const part = slicePoints(points, from, Math.min(points.lngs.length, from + batch));
      const result = await client.query<{ i: number; code: string | null }>({
        name: 'w2_locate_batch',
        text: rawBatchText,
        values: [arrayText(part.lngs), arrayText(part.lats)],
      });
      if (result.rows.length !== part.lngs.length)
        throw new Error(`W2 raw: ${result.rows.length} answers for ${part.lngs.length} points`);
      for (const row of result.rows) answers.push(row.code);
    }
    return answers;
  };
}

export interface Agreement {
  points: number;
  inGrid: number;
  outside: number;
  /** disagreements allowed because the point lies on a grid edge */
  onEdge: number;
}

/**
 * Both sides answer every point; they must agree. A disagreement is allowed only when the point lies within 1e-9°
 * of the boundary of a grid either side named (on a shared edge ST_Contains says "not inside"); anything else throws.
 */
export async function checkAgreement(
  client: pg.ClientBase,
  points: Points,
  wangge: Locator,
  raw: Locator,
): Promise<Agreement> {
  const ours = await wangge(points);
  const theirs = await raw(points);
  if (ours.length !== points.lngs.length || theirs.length !== points.lngs.length)
    throw new Error(`W2: ${ours.length} / ${theirs.length} answers for ${points.lngs.length} points`);
  let onEdge = 0;
  const wrong: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] === theirs[i]) continue;
    const codes = [ours[i], theirs[i]].filter((c): c is string => c !== null);
    const edge = await client.query<{ n: number }>(
      `select count(*)::int as n from region_boundary b
       where b.valid_to is null and b.region_code = any($3::text[])
         and ST_DWithin(ST_Boundary(b.geom), ST_SetSRID(ST_Point($1::float8, $2::float8), 4326), 1e-9)`,
      [points.lngs[i], points.lats[i], codes],
    );
    if ((edge.rows[0]?.n ?? 0) > 0) onEdge++;
    else wrong.push(`(${points.lngs[i]}, ${points.lats[i]}): Wangge ${ours[i]}, PostGIS ${theirs[i]}`);
  }
  if (wrong.length > 0)
    throw new Error(
      `W2: Wangge and PostGIS disagree on ${wrong.length} of ${ours.length} points (not on an edge): ` +
        wrong.slice(0, 5).join('; '),
    );
  const inGrid = theirs.filter((c) => c !== null).length;
  return { points: ours.length, inGrid, outside: ours.length - inGrid, onEdge };
}

/**
 * Times whole passes of `locator` over `points`, repeated until `minSeconds` have passed (one pass at least, so a
 * fast side is not measured over a fraction of a second a busy machine can distort); lookups per second. Throws when
 * a pass answers other than one answer per point or none in a grid.
 */
export async function timeLocator(
  locator: Locator,
  points: Points,
  minSeconds = 0,
): Promise<{ perSecond: number; hits: number }> {
  const started = performance.now();
  let passes = 0;
  let hits = 0;
  do {
    const answers = await locator(points);
    hits = answers.filter((a) => a !== null).length;
    if (answers.length !== points.lngs.length || hits === 0)
      throw new Error(`W2: ${answers.length} answers, ${hits} in a grid, for ${points.lngs.length} points`);
    passes++;
  } while ((performance.now() - started) / 1000 < minSeconds);
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: (passes * points.lngs.length) / seconds, hits };
}

/** autocannon's requests for /api/grids/locate, cycling through points (built in the load generator's process). */
export function makeRequests(args: { lngs: number[]; lats: number[] }) {
  return args.lngs.map((lng, i) => ({
    method: 'GET',
    path: `/api/grids/locate?lng=${lng}&lat=${args.lats[i]}`,
  }));
}

async function main(): Promise<void> {
  const opts = options();
  const pointCount = opts.int('points', 200_000);
  const rawPoints = opts.int('raw-points', 6_000);
  const sampleCount = opts.int('sample', 5_000);
  const rounds = opts.int('rounds', 3);
  const httpSeconds = opts.int('seconds', 5);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();

  const db = await openDatabase({
    databaseUrl: scaleDatabaseUrl(),
    poolSize: 2,
    logger: createLogger('warn'),
  });
  const client = new pg.Client({ connectionString: scaleDatabaseUrl() });
  await client.connect();
  try {
    const loadStarted = performance.now();
    const router = await GridRouter.create({ db: db.orm });
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    say(`W2: router loaded ${router.size} grids in ${loadSeconds.toFixed(1)} s`);

    const boxes = await gridBoxes(client);
    const points = makePoints(boxes, pointCount, 20261124);
    const wangge = routerLocator(router);
    const prepared = preparedLocator(client);
    const batched = batchLocator(client);

    const sample = slicePoints(points, 0, Math.min(pointCount, sampleCount));
    const agreement = await checkAgreement(client, sample, wangge, batched);
    say(`W2: agreement on ${JSON.stringify(agreement)}`);
    // The prepared statement is the same question: it must give the same answers (checked on part of the sample).
    const preparedSample = slicePoints(sample, 0, Math.min(sample.lngs.length, 1000));
    const fromPrepared = await prepared(preparedSample);
    const fromBatch = await batched(preparedSample);
    if (fromPrepared.some((code, i) => code !== fromBatch[i]))
      throw new Error('W2: the prepared and the batched raw statements disagree');

    const rawSet = slicePoints(points, sampleCount, Math.min(pointCount, sampleCount + rawPoints));
    const all = await alternate(
      rounds,
      async () => {
        const timed = await timeLocator(wangge, points, 2);
        return {
          lookupsPerSecond: Math.round(timed.perSecond),
          hitPercent: round2((100 * timed.hits) / pointCount),
        };
      },
      async () => {
        const one = await timeLocator(prepared, rawSet);
        const batch = await timeLocator(batched, rawSet);
        return {
          lookupsPerSecond: Math.round(Math.max(one.perSecond, batch.perSecond)),
          preparedPerSecond: Math.round(one.perSecond),
          batchedPerSecond: Math.round(batch.perSecond),
        };
      },
      say,
    );
    const wanggeFigures = medianFigures(all, 'wangge');
    const rawFigures = medianFigures(all, 'raw');
    const rawWay =
      (rawFigures.batchedPerSecond ?? 0) >= (rawFigures.preparedPerSecond ?? 0)
        ? 'batched (1,000 points per statement, unnest + ST_Contains)'
        : 'prepared statement, one point per execution';

    // The HTTP figure: GET /api/grids/locate on a real server (points inside a grid: outside ones answer 404).
    const inside = Array.from(points.lngs.subarray(0, sampleCount))
      .map((lng, i) => ({ lng, lat: points.lats[i]!, code: router.locate(lng, points.lats[i]!) }))
      .filter((p) => p.code !== null)
      .slice(0, 2000);
    const server = await startScaleServer();
    let http;
    try {
      http = await runLoad({
        url: server.baseUrl,
        connections: 10,
        duration: httpSeconds,
        requests: {
          module: fileURLToPath(import.meta.url),
          args: { lngs: inside.map((p) => p.lng), lats: inside.map((p) => p.lat) },
        },
      });
    } finally {
      await server.close();
    }
    wanggeFigures.routerLoadSeconds = round2(loadSeconds);
    wanggeFigures.httpRequestsPerSecond = Math.round(http.requestsPerSecond);
    wanggeFigures.httpP99Ms = http.latencyMs.p99;

    const ratio = ratioOf(wanggeFigures.lookupsPerSecond, rawFigures.lookupsPerSecond);
    const result: WorkloadResult = {
      id: 'W2',
      title: 'point → grid over the scale territory',
      at: startedAt,
      database: 'postgres',
      data: `${router.size.toLocaleString('en-US')} grids; ${pointCount.toLocaleString('en-US')} points (${rawPoints.toLocaleString('en-US')} for the raw side)`,
      wangge: {
        what: 'in-process grid router (flatbush + ring crossing), lookups/s in one thread',
        figures: wanggeFigures,
      },
      raw: { what: `PostGIS ST_Contains with the GiST index, ${rawWay}`, figures: rawFigures },
      ratio: { label: 'Wangge lookups/s ÷ PostGIS lookups/s (higher is better)', value: ratio },
      goals: [atLeast('Wangge vs PostGIS ST_Contains', ratio, 30, '×', '≥ 30×')],
      rounds: all,
      notes: [
        `Agreement checked before timing on ${agreement.points.toLocaleString('en-US')} points ` +
          `(${agreement.inGrid} in a grid, ${agreement.outside} outside every grid; ${agreement.onEdge} on a grid edge allowed to differ).`,
        `Router load from the database: ${round2(loadSeconds)} s for ${router.size} grids.`,
        `HTTP: GET /api/grids/locate, 10 connections for ${httpSeconds} s (autocannon in its own process): ` +
          `${Math.round(http.requestsPerSecond)} req/s, p50 ${http.latencyMs.p50} ms, p99 ${http.latencyMs.p99} ms (not part of the ratio).`,
      ],
      machine: machine(loadAtStart),
      seconds: Math.round((Date.now() - Date.parse(startedAt)) / 1000),
    };
    finish(result, opts.resultFile);
  } finally {
    await client.end();
    await db.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
