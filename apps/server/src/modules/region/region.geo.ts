import { one, rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { toWgs84, type InputCrs, type LngLat } from './gcj02.ts';
import type { GridRouter } from './grid-router.ts';
import { encodeTile, type TileLayer, type TilePolygonFeature } from './mvt-encoder.ts';

export interface GridLocation {
  code: string;
  name: string;
  level: 'grid';
  crs: 'wgs84';
  /** The point in the stored datum (WGS-84), after converting from the input CRS. */
  point: LngLat;
}

const gridNotFound = () =>
  new DomainError('GRID_NOT_FOUND', '该位置不在任何网格内 (the point is outside every grid)');

/**
 * Which grid contains a point. Now: the in-process router (no database round trip). At a past date: PostGIS,
 * over the boundary rows valid then (re-gridding closes old rows instead of deleting them).
 */
export async function locateGrid(options: {
  db: Executor;
  router: GridRouter;
  lng: number;
  lat: number;
  crs: InputCrs;
  at?: Date | undefined;
}): Promise<GridLocation> {
  const point = toWgs84(options.crs, options.lng, options.lat);
  const found = options.at
    ? await gridAt(options.db, point, options.at)
    : options.router.locateEntry(point[0], point[1]);
  if (!found) throw gridNotFound();
  return { code: found.code, name: found.name, level: 'grid', crs: 'wgs84', point };
}

async function gridAt(
  db: Executor,
  point: LngLat,
  at: Date,
): Promise<{ code: string; name: string } | undefined> {
  const when = at.toISOString();
  return one<{ code: string; name: string }>(
    db,
    sql`select r.code, r.name
        from region_boundary b
        join region r on r.code = b.region_code
        where r.level = 'grid'
          and b.valid_from <= ${when}::timestamptz
          and (b.valid_to is null or b.valid_to > ${when}::timestamptz)
          and ST_Contains(b.geom, ST_SetSRID(ST_MakePoint(${point[0]}::float8, ${point[1]}::float8), 4326))
        order by r.code
        limit 1`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Vector tiles (see docs/adr/0003-vector-tiles.md)

export const tileExtent = 4096;
export const tileBuffer = 64;
export const maxTileZoom = 22;
/**
 * Below this zoom a tile spans hundreds of kilometres: streets, communities, grids and micro-grids would
 * be thousands of features that collapse to specks, so tiles carry only city and district borders.
 */
export const fineLevelsMinZoom = 8;

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/** Field errors for an impossible tile address (z 0–22, x and y 0 … 2^z − 1), or an empty list. */
export function tileAddressProblems({ z, x, y }: TileAddress): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (!Number.isInteger(z) || z < 0 || z > maxTileZoom)
    problems.push({
      field: 'params.z',
      message: `缩放级别应为 0–${maxTileZoom} (zoom must be 0–${maxTileZoom})`,
    });
  const size = Number.isInteger(z) && z >= 0 && z <= maxTileZoom ? 2 ** z : 1;
  for (const [field, value] of [
    ['x', x],
    ['y', y],
  ] as const)
    if (!Number.isInteger(value) || value < 0 || value >= size)
      problems.push({
        field: `params.${field}`,
        message: `应为 0–${size - 1} (must be 0–${size - 1} at this zoom)`,
      });
  return problems;
}

/** One tile: layer `grids` (grid, micro-grid) and layer `regions` (community … city), current boundaries only. */
export async function gridTile(db: Database, address: TileAddress): Promise<Uint8Array> {
  const problems = tileAddressProblems(address);
  if (problems.length > 0)
    throw new DomainError(
      'VALIDATION_FAILED',
      problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      problems,
    );
  // PGlite's PostGIS has no protobuf-c, so ST_AsMVT fails there: PostGIS still clips and snaps, we encode.
  return db.kind === 'postgres' ? gridTileWithAsMvt(db.orm, address) : gridTileWithEncoder(db.orm, address);
}

/** Levels visible at zoom z in each layer, as a SQL condition on `r.level`. */
function levelsShown(z: number, layer: 'grids' | 'regions') {
  const fine = z >= fineLevelsMinZoom;
  if (layer === 'grids') return fine ? sql`r.level in ('grid', 'microgrid')` : sql`false`;
  return fine
    ? sql`r.level in ('city', 'district', 'street', 'community')`
    : sql`r.level in ('city', 'district')`;
}

/** From this zoom on, a tile's boundaries are few: each looks its region up by key (see `regionOf`). */
const regionLookupMinZoom = 10;

/**
 * Joins `region r` to the boundary `b` (its code, name, level), keeping the levels shown. At street scale a tile
 * holds a few hundred boundaries, and PostgreSQL would still hash-join them against all ~46,000 regions (a full
 * scan, ~100 ms on a loaded 2-core machine, the p99 of W5): a lateral lookup by primary key per boundary is ~5×
 * faster. Zoomed out, a tile holds most boundaries and the hash join is the right plan.
 */
function regionOf(z: number, levels: SQL): SQL {
  return z >= regionLookupMinZoom
    ? sql`cross join lateral (select r.code, r.name, r.level from region r
            where r.code = b.region_code and ${levels} limit 1) r`
    : sql`join region r on r.code = b.region_code and ${levels}`;
}

/** PostgreSQL: PostGIS clips, snaps and encodes (ST_AsMVTGeom + ST_AsMVT); two layers concatenated. */
export async function gridTileWithAsMvt(db: Executor, { z, x, y }: TileAddress): Promise<Uint8Array> {
  const layer = (name: 'grids' | 'regions') => sql`
    (select coalesce(ST_AsMVT(features, ${name}, ${tileExtent}, 'geom'), ''::bytea)
     from (
       select ST_AsMVTGeom(ST_Transform(b.geom, 3857), bounds.tile, ${tileExtent}, ${tileBuffer}, true) as geom,
              r.code, r.name, r.level
       from bounds, region_boundary b
       ${regionOf(z, levelsShown(z, name))}
       where b.valid_to is null and b.geom && bounds.area
       order by r.code
     ) features
     where features.geom is not null)`;
  const row = await one<{ tile: Uint8Array | null }>(
    db,
    sql`with bounds as (
          select ST_TileEnvelope(${z}::int, ${x}::int, ${y}::int) as tile,
                 ST_Transform(ST_TileEnvelope(${z}::int, ${x}::int, ${y}::int, margin => ${tileBuffer / tileExtent}::float8), 4326) as area
        )
        select ${layer('grids')} || ${layer('regions')} as tile`,
  );
  return row?.tile
    ? new Uint8Array(row.tile.buffer, row.tile.byteOffset, row.tile.byteLength)
    : new Uint8Array(0);
}

interface TileGeometryRow {
  code: string;
  name: string;
  level: string;
  layer: 'grids' | 'regions';
  geojson: string;
}

type TileGeometry =
  | { type: 'Polygon'; coordinates: number[][][] }
  | { type: 'MultiPolygon'; coordinates: number[][][][] }
  | { type: 'GeometryCollection'; geometries: TileGeometry[] }
  | { type: 'Point' | 'LineString' | 'MultiPoint' | 'MultiLineString'; coordinates: unknown };

function polygonsOf(geometry: TileGeometry): number[][][][] {
  switch (geometry.type) {
    case 'Polygon':
      return geometry.coordinates.length > 0 ? [geometry.coordinates] : [];
    case 'MultiPolygon':
      return geometry.coordinates;
    case 'GeometryCollection':
      return geometry.geometries.flatMap(polygonsOf);
    case 'Point':
    case 'LineString':
    case 'MultiPoint':
    case 'MultiLineString':
      return []; // left over from clipping a sliver: not part of an area
  }
}

/**
 * PGlite: PostGIS moves the geometry into tile space (ST_Transform to 3857, translate and scale so the tile
 * is 0…4096 with y down, clip to the tile plus its buffer, snap to integers) and the protobuf is written here.
 */
export async function gridTileWithEncoder(db: Executor, { z, x, y }: TileAddress): Promise<Uint8Array> {
  const low = -tileBuffer;
  const high = tileExtent + tileBuffer;
  const list = await rows<TileGeometryRow>(
    db,
    sql`with envelope as (select ST_TileEnvelope(${z}::int, ${x}::int, ${y}::int) as tile),
        bounds as (
          select ST_XMin(tile) as xmin, ST_YMax(tile) as ymax,
                 ${tileExtent}::float8 / (ST_XMax(tile) - ST_XMin(tile)) as scale,
                 ST_Transform(ST_TileEnvelope(${z}::int, ${x}::int, ${y}::int, margin => ${tileBuffer / tileExtent}::float8), 4326) as area
          from envelope
        )
        select r.code, r.name, r.level,
               case when r.level in ('grid', 'microgrid') then 'grids' else 'regions' end as layer,
               ST_AsGeoJSON(
                 ST_SnapToGrid(
                   ST_ClipByBox2D(
                     ST_Scale(ST_Translate(ST_Transform(b.geom, 3857), -bounds.xmin, -bounds.ymax), bounds.scale, -bounds.scale),
                     ST_MakeEnvelope(${low}::float8, ${low}::float8, ${high}::float8, ${high}::float8)::box2d),
                   1),
                 0) as geojson
        from bounds, region_boundary b
        ${regionOf(z, sql`(${levelsShown(z, 'grids')} or ${levelsShown(z, 'regions')})`)}
        where b.valid_to is null and b.geom && bounds.area
        order by r.code`,
  );
  const layers: Record<'grids' | 'regions', TilePolygonFeature[]> = { grids: [], regions: [] };
  for (const row of list) {
    const polygons = polygonsOf(JSON.parse(row.geojson) as TileGeometry);
    if (polygons.length > 0)
      layers[row.layer].push({ properties: { code: row.code, name: row.name, level: row.level }, polygons });
  }
  const tile: TileLayer[] = [
    { name: 'grids', extent: tileExtent, features: layers.grids },
    { name: 'regions', extent: tileExtent, features: layers.regions },
  ];
  return encodeTile(tile);
}
