import { one, sql, type Executor } from '../../platform/db.ts';

export type RegionLevel = 'city' | 'district' | 'street' | 'community' | 'grid' | 'microgrid';

export interface RegionRow {
  code: string;
  level: RegionLevel;
  name: string;
  parent_code: string | null;
  path: string;
}

export async function findRegion(ex: Executor, code: string): Promise<RegionRow | undefined> {
  return one<RegionRow>(
    ex,
    sql`select code, level, name, parent_code, path from region where code = ${code}`,
  );
}

/**
 * A grid with a current boundary (not closed by re-gridding) and its representative point (ST_PointOnSurface: always
 * inside the boundary, unlike a centroid), for a place known only as "somewhere in this grid".
 */
export async function currentGridPoint(
  ex: Executor,
  code: string,
): Promise<(RegionRow & { lng: number; lat: number }) | undefined> {
  return one<RegionRow & { lng: number; lat: number }>(
    ex,
    sql`select r.code, r.level, r.name, r.parent_code, r.path,
          ST_X(ST_PointOnSurface(b.geom))::float8 as lng, ST_Y(ST_PointOnSurface(b.geom))::float8 as lat
        from region r join region_boundary b on b.region_code = r.code and b.valid_to is null
        where r.code = ${code} and r.level = 'grid'`,
  );
}
