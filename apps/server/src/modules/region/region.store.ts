import { one, sql, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import type { RegionLevel } from './region.queries.ts';

export interface GeoJsonPolygon {
  type: 'Polygon';
  coordinates: number[][][];
}
export interface GeoJsonMultiPolygon {
  type: 'MultiPolygon';
  coordinates: number[][][][];
}
export type AreaGeometry = GeoJsonPolygon | GeoJsonMultiPolygon;

export interface RegionInsert {
  code: string;
  level: RegionLevel;
  name: string;
  parentCode: string | null;
  geometry?: AreaGeometry | null;
  validFrom: Date;
}

/** The path segment a region adds: 6-digit admin codes for city and district, the last 3 digits below. */
export function pathSegment(level: RegionLevel, code: string): string {
  return level === 'city' || level === 'district' ? code : code.slice(-3);
}

/**
 * Stores a region and its current boundary (no integrity checks: callers validate first, or are the
 * trusted generators). The centroid is a point on the surface, so it always lies inside the polygon.
 */
export async function insertRegion(ex: Executor, input: RegionInsert): Promise<{ path: string }> {
  let path = pathSegment(input.level, input.code);
  if (input.parentCode) {
    const parent = await one<{ path: string }>(
      ex,
      sql`select path from region where code = ${input.parentCode}`,
    );
    if (!parent)
      throw new DomainError(
        'VALIDATION_FAILED',
        `parent: 上级区域不存在 (unknown parent ${input.parentCode})`,
        [{ field: 'parent', message: 'unknown region' }],
      );
    path = `${parent.path}.${path}`;
  }
  const geojson = input.geometry ? JSON.stringify(input.geometry) : null;
  await ex.execute(sql`insert into region (code, level, name, parent_code, path, centroid)
    values (${input.code}, ${input.level}, ${input.name}, ${input.parentCode}, ${path},
      case when ${geojson}::text is null then null
           else ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(${geojson}::text), 4326)) end)`);
  if (geojson)
    await ex.execute(sql`insert into region_boundary (region_code, geom, valid_from)
      values (${input.code}, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${geojson}::text), 4326)), ${input.validFrom.toISOString()})`);
  return { path };
}
