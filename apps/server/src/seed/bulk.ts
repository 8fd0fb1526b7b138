import type { Role } from '../platform/access.ts';
import { rows, sql, type Executor } from '../platform/db.ts';
import { toWkt } from './geometry.ts';
import type { TerritoryRegion } from './territory.ts';

/**
 * Bulk writers for generated data. Each chunk is one statement whose rows arrive as a single JSON parameter
 * (`json_to_recordset`): one round trip per chunk on either driver, and no limit on the number of parameters.
 * They trust their input (generated, not user-supplied) and skip the per-row checks of the module services.
 */

const chunkSize = 1000;

function chunks<T>(items: readonly T[], size = chunkSize): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** Regions and their current boundaries, parents before children (insert level by level). */
export async function insertRegions(
  ex: Executor,
  regions: readonly TerritoryRegion[],
  options: { now: Date; validFrom: Date },
): Promise<number> {
  const now = options.now.toISOString();
  const validFrom = options.validFrom.toISOString();
  const levels = ['city', 'district', 'street', 'community', 'grid'] as const;
  for (const level of levels) {
    for (const chunk of chunks(regions.filter((r) => r.level === level))) {
      const payload = JSON.stringify(
        chunk.map((r) => ({
          code: r.code,
          level: r.level,
          name: r.name,
          parent_code: r.parentCode,
          path: r.path,
          lng: r.centroid[0],
          lat: r.centroid[1],
          wkt: toWkt(r.ring),
        })),
      );
      await ex.execute(sql`insert into region (code, level, name, parent_code, path, centroid, created_at, updated_at)
        select r.code, r.level, r.name, r.parent_code, r.path, ST_SetSRID(ST_MakePoint(r.lng, r.lat), 4326),
               ${now}::timestamptz, ${now}::timestamptz
        from json_to_recordset(${payload}::json)
          as r(code text, level text, name text, parent_code text, path text, lng float8, lat float8)`);
      await ex.execute(sql`insert into region_boundary (region_code, geom, valid_from, created_at)
        select r.code, ST_GeomFromText(r.wkt, 4326), ${validFrom}::timestamptz, ${now}::timestamptz
        from json_to_recordset(${payload}::json) as r(code text, wkt text)`);
    }
  }
  return regions.length;
}

export interface DepartmentSeed {
  code: string;
  name: string;
  nameEn: string;
  regionCode: string;
}

/** Departments at a region; returns their ids by code. */
export async function insertDepartments(
  ex: Executor,
  departments: readonly DepartmentSeed[],
  now: Date,
): Promise<Map<string, number>> {
  const payload = JSON.stringify(
    departments.map((d) => ({ code: d.code, name: d.name, name_en: d.nameEn, region_code: d.regionCode })),
  );
  const inserted = await rows<{ id: number; code: string }>(
    ex,
    sql`insert into department (code, name, name_en, region_code, region_path, created_at)
        select r.code, r.name, r.name_en, r.region_code, g.path, ${now.toISOString()}::timestamptz
        from json_to_recordset(${payload}::json) as r(code text, name text, name_en text, region_code text)
        join region g on g.code = r.region_code
        returning id::int as id, code`,
  );
  if (inserted.length !== departments.length) throw new Error('department seed: unknown region');
  return new Map(inserted.map((d) => [d.code, d.id]));
}

export interface UserSeed {
  username: string;
  displayName: string;
  grants: {
    role: Role;
    regionCode: string | null;
    departmentId?: number | null;
    specialty?: string | null;
  }[];
}

/**
 * Users with their grants, all with the same password hash (hashed once by the caller: argon2 is slow on
 * purpose). Region paths come from the region table, as `insertUser` does. Usernames must be lower case.
 */
export async function insertUsers(
  ex: Executor,
  users: readonly UserSeed[],
  options: { passwordHash: string; now: Date },
): Promise<{ users: number; grants: number }> {
  const now = options.now.toISOString();
  let grants = 0;
  for (const chunk of chunks(users)) {
    const userPayload = JSON.stringify(
      chunk.map((u) => ({ username: u.username, display_name: u.displayName })),
    );
    await ex.execute(sql`insert into app_user (username, display_name, password_hash, must_change_password, created_at, updated_at)
      select r.username, r.display_name, ${options.passwordHash}, false, ${now}::timestamptz, ${now}::timestamptz
      from json_to_recordset(${userPayload}::json) as r(username text, display_name text)`);
    const grantRows = chunk.flatMap((u) =>
      u.grants.map((g) => ({
        username: u.username,
        role: g.role,
        region_code: g.regionCode,
        department_id: g.departmentId ?? null,
        specialty: g.specialty ?? null,
      })),
    );
    for (const grantChunk of chunks(grantRows, 2000)) {
      const grantPayload = JSON.stringify(grantChunk);
      await ex.execute(sql`insert into user_role (user_id, role, region_code, region_path, department_id, specialty, created_at)
        select u.id, r.role, r.region_code, g.path, r.department_id, r.specialty, ${now}::timestamptz
        from json_to_recordset(${grantPayload}::json)
          as r(username text, role text, region_code text, department_id bigint, specialty text)
        join app_user u on u.username = r.username
        left join region g on g.code = r.region_code`);
      grants += grantChunk.length;
    }
  }
  return { users: users.length, grants };
}
