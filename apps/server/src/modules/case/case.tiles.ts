import type { Actor } from '../../platform/access.ts';
import { rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { encodeTile, tileAddressProblems, tileExtent, type TileAddress } from '../region/index.ts';
import { caseListConditions, type CaseFilterQuery } from './case.list.ts';

/**
 * The console map's case layer as vector tiles (GET /tiles/cases/{z}/{x}/{y}.mvt): the cases the caller may see,
 * filtered like the case list. Bounded whatever the number of cases: below `casePointsMinZoom` the tile carries
 * clusters (layer `case-clusters`: one point per occupied cell of `clusterCell` tile units, with counts); from it on,
 * single cases (layer `cases`) up to `casePointsPerTile`, the urgent, overdue and newest first. Features carry no
 * personal data: no title, description, address or reporter.
 */

/** From this zoom on a tile carries single cases; below it, clusters. */
export const casePointsMinZoom = 15;
/** Most single cases in one tile (the rest are left out, and `truncated` says so). */
export const casePointsPerTile = 2000;
/** Cluster cell size in tile units (4096 per side; 64 px of a 512 px tile, like the old client-side clusters): at most (4096 / 512)² = 64 clusters per tile. */
export const clusterCell = 512;

export interface CaseTile {
  tile: Uint8Array;
  features: number;
  /** single-case tile that hit `casePointsPerTile` */
  truncated: boolean;
}

/** Tile bounds in WGS-84 degrees (web mercator tile scheme, y down from the north). */
export function tileBounds({ z, x, y }: TileAddress): {
  west: number;
  south: number;
  east: number;
  north: number;
} {
  const n = 2 ** z;
  const lat = (row: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * row) / n))) * 180) / Math.PI;
  return { west: (x / n) * 360 - 180, east: ((x + 1) / n) * 360 - 180, north: lat(y), south: lat(y + 1) };
}

/**
 * SQL for the tile coordinates (0…4096, y down) of `c.location` in tile z/x/y: web mercator by arithmetic (no
 * ST_Transform per point), clamped into the tile.
 */
function tilePosition({ z, x, y }: TileAddress): { px: SQL; py: SQL } {
  const world = 2 ** z * tileExtent;
  const clamp = (value: SQL) => sql`least(greatest(${value}, 0), ${tileExtent - 1})`;
  return {
    px: clamp(sql`((ST_X(c.location) + 180) / 360 * ${world}::float8 - ${x * tileExtent}::float8)`),
    py: clamp(
      sql`((1 - ln(tan(radians(ST_Y(c.location))) + 1 / cos(radians(ST_Y(c.location)))) / pi()) / 2 * ${world}::float8 - ${y * tileExtent}::float8)`,
    ),
  };
}

/**
 * The tile's rows as SQL (shared by the product and by the benchmark's ST_AsMVT reference): clusters
 * `(x, y, count, overdue, urgent)` below `casePointsMinZoom`, else cases `(x, y, id, serial, status, category,
 * overdue, urgent)`; x and y in tile units.
 */
export function caseTileQuery(address: TileAddress, conditions: SQL[]): SQL {
  const { west, south, east, north } = tileBounds(address);
  const { px, py } = tilePosition(address);
  const where = sql.join(
    [
      sql`c.location && ST_MakeEnvelope(${west}::float8, ${south}::float8, ${east}::float8, ${north}::float8, 4326)`,
      ...conditions,
    ],
    sql` and `,
  );
  if (address.z < casePointsMinZoom)
    return sql`select round(avg(p.px))::int as x, round(avg(p.py))::int as y, count(*)::int as count,
                 (count(*) filter (where p.overdue))::int as overdue, (count(*) filter (where p.urgent))::int as urgent
               from (select ${px} as px, ${py} as py, c.overdue, c.urgent from grid_case c where ${where}) p
               group by floor(p.px / ${clusterCell}), floor(p.py / ${clusterCell})`;
  return sql`select round(${px})::int as x, round(${py})::int as y, c.id::int as id, c.serial, c.status,
               c.category_code as category, c.overdue, c.urgent
             from grid_case c
             where ${where}
             order by c.urgent desc, c.overdue desc, c.reported_at desc, c.id desc
             limit ${casePointsPerTile + 1}`;
}

interface ClusterRow {
  x: number;
  y: number;
  count: number;
  overdue: number;
  urgent: number;
}

interface CaseRow {
  x: number;
  y: number;
  id: number;
  serial: string;
  status: string;
  category: string;
  overdue: boolean;
  urgent: boolean;
}

/** Validates the address or throws VALIDATION_FAILED (the same rules as the grid tiles). */
export function checkTileAddress(address: TileAddress): void {
  const problems = tileAddressProblems(address);
  if (problems.length > 0)
    throw new DomainError(
      'VALIDATION_FAILED',
      problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      problems,
    );
}

/** Encodes the rows of `caseTileQuery` (both databases: PGlite has no ST_AsMVT, and points are cheap to write). */
export async function encodeCaseTile(
  db: Executor,
  address: TileAddress,
  conditions: SQL[],
): Promise<CaseTile> {
  const list = await rows<ClusterRow | CaseRow>(db, caseTileQuery(address, conditions));
  if (address.z < casePointsMinZoom) {
    const clusters = list as ClusterRow[];
    const tile = encodeTile([
      {
        name: 'case-clusters',
        extent: tileExtent,
        features: clusters.map((c) => ({
          properties: { count: c.count, overdue: c.overdue, urgent: c.urgent },
          points: [[c.x, c.y]],
        })),
      },
    ]);
    return { tile, features: clusters.length, truncated: false };
  }
  const cases = (list as CaseRow[]).slice(0, casePointsPerTile);
  const tile = encodeTile([
    {
      name: 'cases',
      extent: tileExtent,
      features: cases.map((c) => ({
        id: c.id,
        properties: {
          id: c.id,
          serial: c.serial,
          status: c.status,
          categoryCode: c.category,
          overdue: c.overdue,
          urgent: c.urgent,
        },
        points: [[c.x, c.y]],
      })),
    },
  ]);
  return { tile, features: cases.length, truncated: list.length > casePointsPerTile };
}

/** GET /tiles/cases/{z}/{x}/{y}.mvt: one tile of the cases the actor may see, filtered like the case list. */
export async function caseTile(options: {
  db: Database;
  actor: Actor;
  address: TileAddress;
  query: CaseFilterQuery;
}): Promise<CaseTile> {
  checkTileAddress(options.address);
  const conditions = await caseListConditions({ db: options.db, actor: options.actor, query: options.query });
  return encodeCaseTile(options.db.orm, options.address, conditions);
}
