/**
 * W5 — vector tiles z12–z16 over the scale territory's busiest city: the grid layer (`GET /tiles/grids/…`, public) and
 * the case layer (`GET /tiles/cases/…`, signed in as the demo admin, the map's default filter: open cases) through
 * the API, against the same tiles made by PostgreSQL's `ST_AsMVT` on a plain connection (for grids the product's own
 * SQL, `gridTileWithAsMvt`; for cases the same clustering query, `caseTileQuery`, wrapped in ST_AsMVT), in the same
 * run, alternating rounds.
 *
 *   npm run bench -- W5 [-- --seconds 8 --rounds 2 --connections 4]
 *
 * Tiles: per zoom 12…16, the tiles holding the most cases of the city (the densest) and tiles drawn (fixed seed) over
 * the city's grids. Before timing, every tile is fetched once through the API and made once by ST_AsMVT: every
 * response must be 200, the case tiles must carry the same features (clusters: the same total count) as the
 * reference and the densest must not be empty, and the largest response must stay under the bound.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { caseListConditions } from '../../apps/server/src/modules/case/case.list.ts';
import { caseTileQuery, casePointsMinZoom } from '../../apps/server/src/modules/case/case.tiles.ts';
import { authenticate } from '../../apps/server/src/modules/identity/index.ts';
import { gridTileWithAsMvt, type TileAddress } from '../../apps/server/src/modules/region/region.geo.ts';
import { systemClock } from '../../apps/server/src/platform/clock.ts';
import { one, openDatabase, rows, sql, type Database, type SQL } from '../../apps/server/src/platform/db.ts';
import { createLogger } from '../../apps/server/src/platform/logger.ts';
import { runLoad, type LoadResult } from '../common/http-load.ts';
import {
  alternate,
  atMost,
  below,
  finish,
  loadAverage,
  machine,
  medianFigures,
  options,
  percentile,
  ratioOf,
  round2,
  type Figures,
  type WorkloadResult,
} from '../common/result.ts';
import { scaleDatabaseUrl, signIn, startScaleServer } from '../common/scale.ts';
import { seededRandom } from '../locate/locate.ts';

export type Layer = 'grids' | 'cases';
/** The largest tile response allowed, either layer. */
export const maxTileBytes = 500 * 1024;
/** The map's default filter (MapFilters: state open). */
export const caseQuery = 'state=open';

export const tilePath = (layer: Layer, { z, x, y }: TileAddress) =>
  layer === 'grids' ? `/tiles/grids/${z}/${x}/${y}.mvt` : `/tiles/cases/${z}/${x}/${y}.mvt?${caseQuery}`;

/** The tile at zoom z holding a WGS-84 point. */
export function tileOf(z: number, lng: number, lat: number): TileAddress {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return {
    z,
    x: Math.floor(((lng + 180) / 360) * n),
    y: Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n),
  };
}

/** The city with the most cases: its code and path. */
export async function busiestCity(
  db: Database,
): Promise<{ code: string; name: string; path: string; cases: number }> {
  const city = await one<{ code: string; name: string; path: string; cases: number }>(
    db.orm,
    sql`select r.code, r.name, r.path,
          (select count(*)::int from grid_case c where c.region_path >= r.path and c.region_path < r.path || '/') as cases
        from region r where r.level = 'city' order by cases desc, r.code limit 1`,
  );
  if (!city || city.cases === 0) throw new Error('W5: no city holds any case');
  return city;
}

/**
 * Per zoom 12…16: the `dense` tiles with the most open cases in the city (the map's default filter), then `spread`
 * tiles over the city's grids (a random grid's centre, fixed seed), without repeats.
 */
export async function tileSet(
  db: Database,
  cityPath: string,
  /** the case layer's conditions (scope and filter), so "densest" means the most cases the tiles will show */
  conditions: SQL[],
  options: { dense?: number; spread?: number; seed?: number; zooms?: number[] } = {},
): Promise<TileAddress[]> {
  const dense = options.dense ?? 4;
  const spread = options.spread ?? 4;
  const random = seededRandom(options.seed ?? 5);
  const centres = await rows<{ lng: number; lat: number }>(
    db.orm,
    sql`select ST_X(r.centroid) as lng, ST_Y(r.centroid) as lat from region r
        where r.level = 'grid' and r.centroid is not null and r.path >= ${cityPath} and r.path < ${`${cityPath}/`}
        order by r.code`,
  );
  const out: TileAddress[] = [];
  for (const z of options.zooms ?? [12, 13, 14, 15, 16]) {
    const n = 2 ** z;
    const densest = await rows<{ x: number; y: number }>(
      db.orm,
      sql`select floor((ST_X(c.location) + 180) / 360 * ${n}::float8)::int as x,
                 floor((1 - ln(tan(radians(ST_Y(c.location))) + 1 / cos(radians(ST_Y(c.location)))) / pi()) / 2 * ${n}::float8)::int as y
          from grid_case c
          where c.region_path >= ${cityPath} and c.region_path < ${`${cityPath}/`} and c.location is not null
            and ${sql.join(conditions, sql` and `)}
          group by 1, 2 order by count(*) desc, 1, 2 limit ${dense}`,
    );
    const seen = new Set<string>();
    const add = (t: TileAddress) => {
      const key = `${t.z}/${t.x}/${t.y}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(t);
      }
    };
    for (const d of densest) add({ z, x: d.x, y: d.y });
    for (let i = 0; i < spread * 4 && seen.size < dense + spread && centres.length > 0; i++) {
      const c = centres[Math.floor(random() * centres.length)]!;
      add(tileOf(z, c.lng, c.lat));
    }
  }
  return out;
}

/** The case layer by PostGIS alone: the product's clustering query, encoded by ST_AsMVT. */
export function caseTileWithAsMvt(address: TileAddress, conditions: SQL[]): SQL {
  const layer = address.z < casePointsMinZoom ? 'case-clusters' : 'cases';
  const properties =
    address.z < casePointsMinZoom
      ? sql`q.count, q.overdue, q.urgent`
      : sql`q.id, q.serial, q.status, q.category as "categoryCode", q.overdue, q.urgent`;
  return sql`select coalesce(ST_AsMVT(t, ${layer}, 4096, 'geom'), ''::bytea) as tile
             from (select ST_Point(q.x, q.y) as geom, ${properties}
                   from (${caseTileQuery(address, conditions)}) q
                   ${address.z < casePointsMinZoom ? sql`` : sql`limit 2000`}) t`;
}

/** What a tile holds, to compare the two sides: features per layer and, for clusters, the cases they count. */
export function tileSummary(bytes: Uint8Array): { features: number; cases: number } {
  const tile = new VectorTile(new Pbf(bytes));
  let features = 0;
  let cases = 0;
  for (const layer of Object.values(tile.layers)) {
    features += layer.length;
    for (let i = 0; i < layer.length; i++) {
      const count = layer.feature(i).properties.count;
      cases += typeof count === 'number' ? count : 1;
    }
  }
  return { features, cases };
}

export interface TileCheck {
  /** per layer: response bytes of every tile, in the order of the tile set */
  bytes: Record<Layer, number[]>;
  /** per layer: ms of each tile's first fetch through the API, one at a time (grid tiles: not yet cached) */
  firstMs: Record<Layer, number[]>;
  /** case tiles whose cases differ from the reference (must be none) */
  mismatches: string[];
}

/**
 * Fetches every tile once through the API and compares with the reference. Throws on a non-200, an empty grid layer
 * over the city, an empty densest case tile, a case tile that does not hold the reference's cases, or a tile over
 * the size bound.
 */
export async function checkTiles(options: {
  baseUrl: string;
  token: string;
  tiles: TileAddress[];
  reference: (layer: Layer, address: TileAddress) => Promise<Uint8Array>;
  densest: TileAddress[];
}): Promise<TileCheck> {
  const bytes: Record<Layer, number[]> = { grids: [], cases: [] };
  const firstMs: Record<Layer, number[]> = { grids: [], cases: [] };
  const mismatches: string[] = [];
  for (const layer of ['grids', 'cases'] as const) {
    let features = 0;
    for (const address of options.tiles) {
      const url = `${options.baseUrl}${tilePath(layer, address)}`;
      const at = performance.now();
      const response = await fetch(url, {
        headers: layer === 'cases' ? { authorization: `Bearer ${options.token}` } : {},
      });
      const body = new Uint8Array(await response.arrayBuffer());
      firstMs[layer].push(performance.now() - at);
      if (response.status !== 200)
        throw new Error(
          `W5: ${tilePath(layer, address)} answered ${response.status}: ${Buffer.from(body).toString()}`,
        );
      if (body.length > maxTileBytes)
        throw new Error(`W5: ${tilePath(layer, address)} is ${body.length} bytes, over ${maxTileBytes}`);
      bytes[layer].push(body.length);
      const ours = tileSummary(body);
      features += ours.features;
      const theirs = tileSummary(await options.reference(layer, address));
      if (ours.features !== theirs.features || ours.cases !== theirs.cases)
        mismatches.push(
          `${tilePath(layer, address)}: Wangge ${JSON.stringify(ours)}, ST_AsMVT ${JSON.stringify(theirs)}`,
        );
      const isDense = options.densest.some(
        (d) => d.z === address.z && d.x === address.x && d.y === address.y,
      );
      if (isDense && ours.features === 0)
        throw new Error(`W5: the dense tile ${tilePath(layer, address)} is empty`);
    }
    if (features === 0) throw new Error(`W5: every ${layer} tile is empty`);
  }
  if (mismatches.length > 0)
    throw new Error(
      `W5: ${mismatches.length} tiles differ from ST_AsMVT: ${mismatches.slice(0, 3).join('; ')}`,
    );
  return { bytes, firstMs, mismatches };
}

/**
 * The raw side's load: `connections` concurrent callers cycling through the tiles for `seconds`, each timing its
 * calls; p50/p99 in ms and requests per second. Throws when a call fails or answers an empty tile where the
 * reference set says it is not empty.
 */
export async function rawLoad(
  make: (address: TileAddress) => Promise<Uint8Array>,
  tiles: TileAddress[],
  connections: number,
  seconds: number,
): Promise<{ requests: number; requestsPerSecond: number; p50: number | null; p99: number | null }> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const address = tiles[next++ % tiles.length]!;
        const at = performance.now();
        await make(address);
        latencies.push(performance.now() - at);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  if (latencies.length === 0) throw new Error('W5 raw: no tile was made');
  return {
    requests: latencies.length,
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** autocannon's requests (in the load generator's process): the tile paths in order, cycled. */
export function makeRequests(args: { paths: string[] }) {
  return args.paths.map((p) => ({ method: 'GET', path: p }));
}

function figuresOf(load: LoadResult): Figures {
  return {
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    requestsPerSecond: Math.round(load.requestsPerSecond),
  };
}

async function main(): Promise<void> {
  const opts = options();
  const seconds = opts.int('seconds', 8);
  const rounds = opts.int('rounds', 2);
  const connections = opts.int('connections', 4);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();

  const logger = createLogger('warn');
  const rawDb = await openDatabase({ databaseUrl: scaleDatabaseUrl(), poolSize: connections, logger });
  const server = await startScaleServer();
  try {
    const token = await signIn(server.baseUrl, 'demo-admin', 'demo12345');
    const actor = await authenticate({ db: rawDb, clock: systemClock, token, sessionSeconds: 3600 });
    if (!actor) throw new Error('W5: the demo admin session does not authenticate');
    const conditions = await caseListConditions({ db: rawDb, actor, query: { state: 'open' } });

    const city = await busiestCity(rawDb);
    const tiles = await tileSet(rawDb, city.path, conditions);
    const densest = await tileSet(rawDb, city.path, conditions, { spread: 0, dense: 1 });
    say(`W5: ${tiles.length} tiles (z12–z16) over ${city.name} ${city.code} (${city.cases} cases)`);
    const raw = async (layer: Layer, address: TileAddress): Promise<Uint8Array> => {
      if (layer === 'grids') return gridTileWithAsMvt(rawDb.orm, address);
      const row = await one<{ tile: Uint8Array }>(rawDb.orm, caseTileWithAsMvt(address, conditions));
      return row?.tile ?? new Uint8Array(0);
    };

    const check = await checkTiles({ baseUrl: server.baseUrl, token, tiles, reference: raw, densest });
    const sizes = (layer: Layer) => ({
      maxBytes: Math.max(...check.bytes[layer]),
      meanBytes: Math.round(check.bytes[layer].reduce((a, b) => a + b, 0) / check.bytes[layer].length),
    });
    say(
      `W5: every tile checked; grids ${JSON.stringify(sizes('grids'))}, cases ${JSON.stringify(sizes('cases'))}`,
    );

    const headers = { authorization: `Bearer ${token}` };
    const httpLoad = (layer: Layer) =>
      runLoad({
        url: server.baseUrl,
        connections,
        duration: seconds,
        // grid tiles are public (the resident pages fetch them without an account)
        headers: layer === 'cases' ? headers : {},
        requests: {
          module: fileURLToPath(import.meta.url),
          args: { paths: tiles.map((t) => tilePath(layer, t)) },
        },
      });
    const all = await alternate(
      rounds,
      async () => {
        const grids = figuresOf(await httpLoad('grids'));
        const cases = figuresOf(await httpLoad('cases'));
        return prefixed(grids, cases);
      },
      async () => {
        const grids = await rawLoad((a) => raw('grids', a), tiles, connections, seconds);
        const cases = await rawLoad((a) => raw('cases', a), tiles, connections, seconds);
        const of = (r: typeof grids): Figures => ({
          p50Ms: r.p50 === null ? null : round2(r.p50),
          p99Ms: r.p99 === null ? null : round2(r.p99),
          requestsPerSecond: Math.round(r.requestsPerSecond),
        });
        return prefixed(of(grids), of(cases));
      },
      say,
    );
    const wangge = medianFigures(all, 'wangge');
    const reference = Object.fromEntries(
      Object.entries(medianFigures(all, 'raw')).map(([k, v]) => [k, v === null ? null : round2(v)]),
    );
    for (const layer of ['grids', 'cases'] as const) {
      const s = sizes(layer);
      const first = percentile(check.firstMs[layer], 99);
      wangge[`${layer}FirstFetchP99Ms`] = first === null ? null : round2(first);
      wangge[`${layer}MaxBytes`] = s.maxBytes;
      wangge[`${layer}MeanBytes`] = s.meanBytes;
    }
    const gridRatio = ratioOf(wangge.gridsP99Ms, reference.gridsP99Ms);
    const caseRatio = ratioOf(wangge.casesP99Ms, reference.casesP99Ms);
    const worse = gridRatio === null || caseRatio === null ? null : Math.max(gridRatio, caseRatio);
    const result: WorkloadResult = {
      id: 'W5',
      title: 'vector tiles z12–z16: grids and cases',
      at: startedAt,
      database: 'postgres',
      data: `${tiles.length} tiles z12–z16 over ${city.name} (${city.cases.toLocaleString('en-US')} cases); case layer filtered to open cases`,
      wangge: {
        what: `GET /tiles/grids and /tiles/cases through the API (autocannon, ${connections} connections, ${seconds} s per layer)`,
        figures: wangge,
      },
      raw: {
        what: `the same tiles by ST_AsMVT on a plain connection pool (${connections} callers): gridTileWithAsMvt; the case clustering query in ST_AsMVT`,
        figures: reference,
      },
      ratio: {
        label: 'Wangge p99 ÷ ST_AsMVT p99, the worse of the two layers (lower is better)',
        value: worse,
      },
      goals: [
        below('grid tiles p99', wangge.gridsP99Ms ?? null, 100, 'ms'),
        below('case tiles p99', wangge.casesP99Ms ?? null, 100, 'ms'),
        atMost(
          'largest tile response',
          Math.max(sizes('grids').maxBytes, sizes('cases').maxBytes),
          maxTileBytes,
          'bytes',
          '≤ 500 KB',
        ),
      ],
      rounds: all,
      notes: [
        `Grid layer p99 ratio ${gridRatio ?? 'n/a'}, case layer p99 ratio ${caseRatio ?? 'n/a'} (Wangge ÷ ST_AsMVT).`,
        'Every tile was fetched through the API and made by ST_AsMVT before timing: all 200, the same features and case counts, the densest case tiles not empty.',
        "Case tiles: clusters (64-unit cells, ≤ 4,096 per tile) below z15, single cases (≤ 2,000 per tile) from z15; the map's default filter (open cases), as the demo admin.",
        'Grid tiles are public geometry: the server keeps encoded grid tiles in memory (LRU, 64 MB, 60 s, cleared on a boundary change), so under load they are mostly served from memory; the raw side makes every tile anew. gridsFirstFetchP99Ms is the p99 of each tile fetched once, one at a time, before it was cached.',
        "autocannon's latencies are whole milliseconds; the raw side's are measured to the microsecond.",
      ],
      machine: machine(loadAtStart),
      seconds: Math.round((Date.now() - Date.parse(startedAt)) / 1000),
    };
    finish(result, opts.resultFile);
  } finally {
    await server.close();
    await rawDb.close();
  }
}

function prefixed(grids: Figures, cases: Figures): Figures {
  const out: Figures = {};
  for (const [k, v] of Object.entries(grids)) out[`grids${k[0]!.toUpperCase()}${k.slice(1)}`] = v;
  for (const [k, v] of Object.entries(cases)) out[`cases${k[0]!.toUpperCase()}${k.slice(1)}`] = v;
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
