import { one, rows, sql, type Executor } from '../../platform/db.ts';
import type { Role, RoleGrant } from '../../platform/access.ts';

export interface UserRow {
  id: number;
  username: string;
  display_name: string;
  password_hash: string;
  status: 'active' | 'disabled';
  must_change_password: boolean;
}

export async function findUserByUsername(ex: Executor, username: string): Promise<UserRow | undefined> {
  return one<UserRow>(
    ex,
    sql`select id::int as id, username, display_name, password_hash, status, must_change_password
        from app_user where username = ${username}`,
  );
}

export async function findUserById(ex: Executor, id: number): Promise<UserRow | undefined> {
  return one<UserRow>(
    ex,
    sql`select id::int as id, username, display_name, password_hash, status, must_change_password
        from app_user where id = ${id}`,
  );
}

interface GrantRow {
  user_id: number;
  role: Role;
  region_code: string | null;
  region_path: string | null;
  department_id: number | null;
  specialty: string | null;
}

export async function grantsOf(ex: Executor, userIds: number[]): Promise<Map<number, RoleGrant[]>> {
  const result = new Map<number, RoleGrant[]>();
  if (userIds.length === 0) return result;
  const list = await rows<GrantRow>(
    ex,
    sql`select user_id::int as user_id, role, region_code, region_path, department_id::int as department_id, specialty
        from user_role where user_id in ${userIds} order by id`,
  );
  for (const row of list) {
    const grants = result.get(row.user_id) ?? [];
    grants.push({
      role: row.role,
      regionCode: row.region_code,
      regionPath: row.region_path,
      departmentId: row.department_id,
      specialty: row.specialty,
    });
    result.set(row.user_id, grants);
  }
  return result;
}

export interface SessionActorRow {
  session_id: number;
  user_id: number;
  last_seen_at: Date;
  username: string;
  display_name: string;
  grants: GrantRow[];
}

/**
 * Every request's sign-in check in one round trip: the live session, its active user and the user's grants (in
 * grant order). Undefined when the token is unknown, revoked or expired, or the user is not active.
 */
export async function findSessionActor(
  ex: Executor,
  tokenHash: string,
  now: Date,
): Promise<SessionActorRow | undefined> {
  return one<SessionActorRow>(
    ex,
    sql`select s.id::int as session_id, s.user_id::int as user_id, s.last_seen_at, u.username, u.display_name,
               coalesce((select json_agg(json_build_object('user_id', r.user_id::int, 'role', r.role,
                                 'region_code', r.region_code, 'region_path', r.region_path,
                                 'department_id', r.department_id::int, 'specialty', r.specialty) order by r.id)
                         from user_role r where r.user_id = s.user_id), '[]'::json) as grants
        from user_session s join app_user u on u.id = s.user_id
        where s.token_hash = ${tokenHash} and s.revoked_at is null and s.expires_at > ${now.toISOString()}
          and u.status = 'active'`,
  );
}
