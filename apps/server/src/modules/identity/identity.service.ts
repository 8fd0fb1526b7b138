import crypto from 'node:crypto';
import { appendAudit } from '../../platform/audit.ts';
import {
  insideAny,
  isInside,
  permissionsOf,
  requireAccess,
  scopePaths,
  type Actor,
  type Permission,
  type Role,
  type RoleGrant,
} from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion } from '../region/region.queries.ts';
import { findSessionActor, findUserById, findUserByUsername, grantsOf } from './identity.repository.ts';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password.ts';

export const lockout = { maxFailures: 5, lockMinutes: 15 } as const;

export interface RequestMeta {
  requestId: string;
  userAgent?: string | undefined;
}

function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

const invalidCredentials = () =>
  new DomainError('AUTH_INVALID_CREDENTIALS', '用户名或密码错误 (wrong user name or password)');
const locked = () =>
  new DomainError(
    'AUTH_LOCKED',
    `登录失败次数过多,请 ${lockout.lockMinutes} 分钟后再试 (too many failed sign-ins; try again later)`,
  );

/**
 * Signs a user in. Failures are counted per name typed, existing or not, so neither the error nor the lockout
 * reveals whether the account exists; an unknown name costs the same hashing time as a wrong password.
 */
export async function login(options: {
  db: Database;
  clock: Clock;
  username: string;
  password: string;
  meta: RequestMeta;
  sessionSeconds: number;
}): Promise<{ token: string; userId: number; expiresAt: Date }> {
  const { db, clock, meta } = options;
  const username = normaliseUsername(options.username);
  const now = clock.now();
  const throttle = await one<{ locked_until: Date | null }>(
    db.orm,
    sql`select locked_until from login_throttle where username = ${username}`,
  );
  if (throttle?.locked_until && new Date(throttle.locked_until) > now) {
    await db.orm.transaction((tx) =>
      appendAudit(
        tx,
        {
          actorId: null,
          actorRole: null,
          action: 'auth.login',
          objectType: 'account',
          objectId: username,
          result: 'denied',
          requestId: meta.requestId,
          detail: { reason: 'locked' },
        },
        now,
      ),
    );
    throw locked();
  }
  const user = await findUserByUsername(db.orm, username);
  let ok = false;
  if (user && user.status === 'active') ok = await verifyPassword(user.password_hash, options.password);
  else await verifyAgainstDummy(options.password);

  if (!ok) {
    const windowStart = new Date(now.getTime() - lockout.lockMinutes * 60_000).toISOString();
    const lockUntil = new Date(now.getTime() + lockout.lockMinutes * 60_000).toISOString();
    const nowIso = now.toISOString();
    const lockedNow = await db.orm.transaction(async (tx) => {
      const row = await one<{ failures: number }>(
        tx,
        sql`insert into login_throttle as t (username, failures, first_failure_at)
            values (${username}, 1, ${nowIso})
            on conflict (username) do update set
              failures = case when t.first_failure_at < ${windowStart} then 1 else t.failures + 1 end,
              first_failure_at = case when t.first_failure_at < ${windowStart} then ${nowIso}::timestamptz else t.first_failure_at end
            returning failures::int as failures`,
      );
      const failures = row?.failures ?? 1;
      const lockNow = failures >= lockout.maxFailures;
      if (lockNow)
        await tx.execute(sql`update login_throttle set locked_until = ${lockUntil}, failures = 0, first_failure_at = ${nowIso}
                             where username = ${username}`);
      await appendAudit(
        tx,
        {
          actorId: user?.id ?? null,
          actorRole: null,
          action: 'auth.login',
          objectType: 'account',
          objectId: username,
          result: 'failure',
          requestId: meta.requestId,
          detail: { locked: lockNow },
        },
        now,
      );
      return lockNow;
    });
    throw lockedNow ? locked() : invalidCredentials();
  }
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + options.sessionSeconds * 1000);
  const userId = user!.id;
  await db.orm.transaction(async (tx) => {
    await tx.execute(sql`delete from login_throttle where username = ${username}`);
    await tx.execute(sql`insert into user_session (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent)
      values (${hashToken(token)}, ${userId}, ${now.toISOString()}, ${now.toISOString()}, ${expiresAt.toISOString()}, ${meta.userAgent?.slice(0, 200) ?? null})`);
    await appendAudit(
      tx,
      {
        actorId: userId,
        actorRole: null,
        action: 'auth.login',
        objectType: 'user',
        objectId: String(userId),
        result: 'success',
        requestId: meta.requestId,
      },
      now,
    );
  });
  return { token, userId, expiresAt };
}

export async function logout(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  meta: RequestMeta;
}): Promise<void> {
  const now = options.clock.now();
  await options.db.orm.transaction(async (tx) => {
    await tx.execute(
      sql`update user_session set revoked_at = ${now.toISOString()} where id = ${options.actor.sessionId}`,
    );
    await appendAudit(
      tx,
      {
        actorId: options.actor.userId,
        actorRole: null,
        action: 'auth.logout',
        objectType: 'session',
        objectId: String(options.actor.sessionId),
        result: 'success',
        requestId: options.meta.requestId,
      },
      now,
    );
  });
}

/** Resolves a session token to its actor; slides the session's expiry at most once a minute. */
export async function authenticate(options: {
  db: Database;
  clock: Clock;
  token: string;
  sessionSeconds: number;
}): Promise<Actor | null> {
  const now = options.clock.now();
  // One round trip for session, user and grants: this runs before every signed-in request.
  const session = await findSessionActor(options.db.orm, hashToken(options.token), now);
  if (!session) return null;
  if (now.getTime() - new Date(session.last_seen_at).getTime() > 60_000) {
    const expires = new Date(now.getTime() + options.sessionSeconds * 1000);
    await options.db.orm.execute(
      sql`update user_session set last_seen_at = ${now.toISOString()}, expires_at = ${expires.toISOString()} where id = ${session.session_id}`,
    );
  }
  return {
    userId: session.user_id,
    username: session.username,
    displayName: session.display_name,
    sessionId: session.session_id,
    grants: session.grants.map((g) => ({
      role: g.role,
      regionCode: g.region_code,
      regionPath: g.region_path,
      departmentId: g.department_id,
      specialty: g.specialty,
    })),
  };
}

export async function changePassword(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  currentPassword: string;
  newPassword: string;
  meta: RequestMeta;
}): Promise<void> {
  const user = await findUserById(options.db.orm, options.actor.userId);
  if (!user || !(await verifyPassword(user.password_hash, options.currentPassword)))
    throw new DomainError('VALIDATION_FAILED', '当前密码不正确 (current password is wrong)', [
      { field: 'currentPassword', message: '当前密码不正确 (wrong password)' },
    ]);
  const passwordHash = await hashPassword(options.newPassword);
  const now = options.clock.now();
  await options.db.orm.transaction(async (tx) => {
    await tx.execute(sql`update app_user set password_hash = ${passwordHash}, must_change_password = false, updated_at = ${now.toISOString()}
                         where id = ${user.id}`);
    // Other sessions of this user end: a changed password must lock out whoever knew the old one.
    await tx.execute(sql`update user_session set revoked_at = ${now.toISOString()}
                         where user_id = ${user.id} and id <> ${options.actor.sessionId} and revoked_at is null`);
    await appendAudit(
      tx,
      {
        actorId: user.id,
        actorRole: null,
        action: 'user.password_changed',
        objectType: 'user',
        objectId: String(user.id),
        result: 'success',
        requestId: options.meta.requestId,
      },
      now,
    );
  });
}

export interface GrantInput {
  role: Role;
  regionCode?: string | null | undefined;
  departmentId?: number | null | undefined;
  specialty?: string | null | undefined;
}

export interface CreateUserInput {
  username: string;
  displayName: string;
  password: string;
  mustChangePassword?: boolean;
  grants: GrantInput[];
}

const systemWideRoles: readonly Role[] = ['admin', 'auditor'];

/** Creates a user with their grants in the caller's transaction. Used by the admin API and by seeding. */
export async function insertUser(
  tx: Executor,
  input: CreateUserInput & { passwordHash?: string },
  now: Date,
): Promise<number> {
  const username = normaliseUsername(input.username);
  if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(username))
    throw new DomainError('VALIDATION_FAILED', 'username: 3–64 个小写字母、数字或 . _ -', [
      { field: 'username', message: '3–64 lower-case letters, digits, . _ -' },
    ]);
  const passwordHash = input.passwordHash ?? (await hashPassword(input.password));
  let row: { id: number } | undefined;
  try {
    row = await one<{ id: number }>(
      tx,
      sql`insert into app_user (username, display_name, password_hash, must_change_password, created_at, updated_at)
          values (${username}, ${input.displayName}, ${passwordHash}, ${input.mustChangePassword ?? false}, ${now.toISOString()}, ${now.toISOString()})
          returning id::int as id`,
    );
  } catch (error) {
    if (pgErrorCode(error) === '23505')
      throw new DomainError('CONFLICT', '用户名已存在 (user name taken)', [
        { field: 'username', message: 'taken' },
      ]);
    throw error;
  }
  const id = row!.id;
  await insertGrants(tx, id, input.grants);
  return id;
}

/**
 * Stores a user's grants (in the caller's transaction), checked the same way for a new user and for a grant
 * replacement: a place-bound role needs a region that exists, a department must exist; admin and auditor may be
 * system-wide (no region).
 */
export async function insertGrants(tx: Executor, userId: number, grants: GrantInput[]): Promise<void> {
  for (const [index, grant] of grants.entries()) {
    let regionPath: string | null = null;
    let regionCode: string | null = null;
    if (systemWideRoles.includes(grant.role) && !grant.regionCode) {
      regionPath = null;
    } else {
      const region = grant.regionCode ? await findRegion(tx, grant.regionCode) : undefined;
      if (!region)
        throw new DomainError(
          'VALIDATION_FAILED',
          `grants.${index}.regionCode: 区域不存在 (unknown region)`,
          [{ field: `grants.${index}.regionCode`, message: 'unknown region' }],
        );
      regionPath = region.path;
      regionCode = region.code;
    }
    if (
      grant.departmentId !== null &&
      grant.departmentId !== undefined &&
      !(await one(tx, sql`select 1 from department where id = ${grant.departmentId}`))
    )
      throw new DomainError(
        'VALIDATION_FAILED',
        `grants.${index}.departmentId: 部门不存在 (unknown department)`,
        [{ field: `grants.${index}.departmentId`, message: 'unknown department' }],
      );
    await tx.execute(sql`insert into user_role (user_id, role, region_code, region_path, department_id, specialty)
      values (${userId}, ${grant.role}, ${regionCode}, ${regionPath}, ${grant.departmentId ?? null}, ${grant.specialty ?? null})`);
  }
}

/**
 * May the actor give (or take away) a grant at this place? A grant at a region needs `user.write` over it (404
 * outside every grant of the actor, 403 when visible); a system-wide grant (admin, auditor without a region)
 * needs a system-wide `user.write`, so an administrator bounded to a region cannot mint a global one.
 */
function requireGrantAccess(actor: Actor, regionPath: string | null): void {
  if (regionPath !== null) return requireAccess(actor, 'user.write', { regionPath });
  if (scopePaths(actor, 'user.write') !== 'all')
    throw new DomainError(
      'FORBIDDEN',
      '只有全局管理员可以授予全局角色 (only a system-wide administrator may grant a system-wide role)',
    );
}

export async function createUser(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  input: CreateUserInput;
  meta: RequestMeta;
}): Promise<PublicUser> {
  const { actor, input } = options;
  requireAccess(actor, 'user.write');
  const now = options.clock.now();
  const id = await options.db.orm.transaction(async (tx) => {
    const newId = await insertUser(tx, input, now);
    // An admin bounded to a region may only grant inside it.
    const created = (await grantsOf(tx, [newId])).get(newId) ?? [];
    for (const grant of created) requireGrantAccess(actor, grant.regionPath);
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: 'admin',
        action: 'user.created',
        objectType: 'user',
        objectId: String(newId),
        result: 'success',
        requestId: options.meta.requestId,
      },
      now,
    );
    return newId;
  });
  return getUser({ db: options.db, actor, userId: id });
}

export interface UpdateUserInput {
  displayName?: string | undefined;
  status?: 'active' | 'disabled' | undefined;
  /** replaces every grant the user has */
  grants?: GrantInput[] | undefined;
  /** a new password the user must change at the next sign-in */
  resetPassword?: string | undefined;
}

/**
 * Administers a user: rename, disable or enable, replace the grants, reset the password. The caller needs
 * `user.write` over every grant the user has and every grant given (a user out of sight answers 404). Disabling
 * and a password reset end the user's sessions. One transaction; one audit row per kind of change.
 */
export async function updateUser(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  userId: number;
  input: UpdateUserInput;
  meta: RequestMeta;
}): Promise<PublicUser> {
  const { actor, input, userId } = options;
  requireAccess(actor, 'user.write');
  const now = options.clock.now();
  const nowIso = now.toISOString();
  if (input.status === 'disabled' && userId === actor.userId)
    throw new DomainError(
      'VALIDATION_FAILED',
      'body.status: 不能停用自己的账号 (you cannot disable yourself)',
      [{ field: 'body.status', message: '不能停用自己的账号 (you cannot disable yourself)' }],
    );
  // Hashing is slow: before the transaction, so no row stays locked meanwhile.
  const passwordHash =
    input.resetPassword === undefined ? undefined : await hashPassword(input.resetPassword);
  await options.db.orm.transaction(async (tx) => {
    const user = await one<{ id: number; display_name: string; status: 'active' | 'disabled' }>(
      tx,
      sql`select id::int as id, display_name, status from app_user where id = ${userId} for update`,
    );
    const grants = user ? ((await grantsOf(tx, [user.id])).get(user.id) ?? []) : [];
    if (!user || (user.id !== actor.userId && !userVisible(actor, grants)))
      throw new DomainError('NOT_FOUND', '未找到 (not found)');
    for (const grant of grants) requireGrantAccess(actor, grant.regionPath);
    const audit = (action: string, detail?: Record<string, string | number | boolean | null>) =>
      appendAudit(
        tx,
        {
          actorId: actor.userId,
          actorRole: null,
          action,
          objectType: 'user',
          objectId: String(userId),
          result: 'success',
          requestId: options.meta.requestId,
          ...(detail ? { detail } : {}),
        },
        now,
      );
    const revokeSessions = async (): Promise<number> =>
      (
        await rows<{ id: number }>(
          tx,
          sql`update user_session set revoked_at = ${nowIso} where user_id = ${userId} and revoked_at is null
              returning id::int as id`,
        )
      ).length;

    if (input.grants !== undefined) {
      await tx.execute(sql`delete from user_role where user_id = ${userId}`);
      await insertGrants(tx, userId, input.grants);
      const given = (await grantsOf(tx, [userId])).get(userId) ?? [];
      for (const grant of given) requireGrantAccess(actor, grant.regionPath);
      await audit('user.grants_replaced', {
        before: grants.length,
        after: given.length,
        roles: [...new Set(given.map((g) => g.role))].sort().join(','),
      });
    }
    if (input.displayName !== undefined && input.displayName !== user.display_name) {
      await tx.execute(
        sql`update app_user set display_name = ${input.displayName}, updated_at = ${nowIso} where id = ${userId}`,
      );
      await audit('user.renamed');
    }
    if (input.status !== undefined && input.status !== user.status) {
      await tx.execute(
        sql`update app_user set status = ${input.status}, updated_at = ${nowIso} where id = ${userId}`,
      );
      // A disabled user is signed out everywhere at once (authentication also refuses disabled users).
      const sessionsRevoked = input.status === 'disabled' ? await revokeSessions() : 0;
      await audit(input.status === 'disabled' ? 'user.disabled' : 'user.enabled', { sessionsRevoked });
    }
    if (passwordHash !== undefined) {
      await tx.execute(sql`update app_user set password_hash = ${passwordHash}, must_change_password = true,
                             updated_at = ${nowIso} where id = ${userId}`);
      // Whoever knew the old password (or holds a session) is out.
      const sessionsRevoked = await revokeSessions();
      await audit('user.password_reset', { sessionsRevoked });
    }
  });
  return getUser({ db: options.db, actor, userId });
}

export interface PublicGrant {
  role: Role;
  regionCode: string | null;
  regionName: string | null;
  regionLevel: string | null;
  departmentId: number | null;
  specialty: string | null;
}

export interface PublicUser {
  id: number;
  username: string;
  displayName: string;
  status: string;
  grants: PublicGrant[];
}

async function presentGrants(ex: Executor, grants: RoleGrant[]): Promise<PublicGrant[]> {
  const codes = [...new Set(grants.map((g) => g.regionCode).filter((c): c is string => c !== null))];
  const names = new Map<string, { name: string; level: string }>();
  if (codes.length > 0)
    for (const r of await rows<{ code: string; name: string; level: string }>(
      ex,
      sql`select code, name, level from region where code in ${codes}`,
    ))
      names.set(r.code, r);
  return grants.map((g) => ({
    role: g.role,
    regionCode: g.regionCode,
    regionName: g.regionCode ? (names.get(g.regionCode)?.name ?? null) : null,
    regionLevel: g.regionCode ? (names.get(g.regionCode)?.level ?? null) : null,
    departmentId: g.departmentId,
    specialty: g.specialty,
  }));
}

/** A user is visible when one of their grants lies inside the reader's user.read scope. */
function userVisible(actor: Actor, grants: RoleGrant[]): boolean {
  if (actor.userId === undefined) return false;
  const scope = scopePaths(actor, 'user.read');
  if (scope === 'all') return true;
  return grants.some((g) => g.regionPath !== null && scope.some((p) => isInside(p, g.regionPath!)));
}

export async function getUser(options: { db: Database; actor: Actor; userId: number }): Promise<PublicUser> {
  const user = await findUserById(options.db.orm, options.userId);
  const grants = user ? ((await grantsOf(options.db.orm, [user.id])).get(user.id) ?? []) : [];
  if (!user || (user.id !== options.actor.userId && !userVisible(options.actor, grants)))
    throw new DomainError('NOT_FOUND', '未找到 (not found)');
  return {
    id: user.id,
    username: user.username,
    displayName: user.display_name,
    status: user.status,
    grants: await presentGrants(options.db.orm, grants),
  };
}

export async function listUsers(options: {
  db: Database;
  actor: Actor;
  regionPath?: string | undefined;
  role?: Role | undefined;
  limit: number;
  after?: number | undefined;
}): Promise<{ items: PublicUser[]; nextCursor: string | null }> {
  const scope = scopePaths(options.actor, 'user.read');
  const within = options.regionPath ? insideAny(sql`r.region_path`, [options.regionPath]) : sql`true`;
  const ids = await rows<{ id: number }>(
    options.db.orm,
    sql`select distinct u.id::int as id from app_user u join user_role r on r.user_id = u.id
        where ${insideAny(sql`r.region_path`, scope)} and ${within}
          ${options.role ? sql`and r.role = ${options.role}` : sql``}
          ${options.after ? sql`and u.id > ${options.after}` : sql``}
        order by 1 limit ${options.limit + 1}`,
  );
  const page = ids.slice(0, options.limit).map((r) => r.id);
  const users = page.length
    ? await rows<{ id: number; username: string; display_name: string; status: string }>(
        options.db.orm,
        sql`select id::int as id, username, display_name, status from app_user where id in ${page} order by id`,
      )
    : [];
  const grants = await grantsOf(options.db.orm, page);
  const items: PublicUser[] = [];
  for (const u of users)
    items.push({
      id: u.id,
      username: u.username,
      displayName: u.display_name,
      status: u.status,
      grants: await presentGrants(options.db.orm, grants.get(u.id) ?? []),
    });
  return { items, nextCursor: ids.length > options.limit ? String(page.at(-1)) : null };
}

export interface Me {
  user: { id: number; username: string; displayName: string; mustChangePassword: boolean };
  roles: PublicGrant[];
  scope: { regionCode: string; regionPath: string; name: string; level: string }[];
  permissions: Permission[];
}

export async function describeMe(options: { db: Database; actor: Actor }): Promise<Me> {
  const { actor } = options;
  const user = await findUserById(options.db.orm, actor.userId);
  if (!user) throw new DomainError('UNAUTHENTICATED', '请先登录 (sign in first)');
  const roles = await presentGrants(options.db.orm, actor.grants);
  const scope = roles
    .map((g, i) => ({ grant: actor.grants[i]!, view: g }))
    .filter(({ grant }) => grant.regionPath !== null)
    .map(({ grant, view }) => ({
      regionCode: grant.regionCode!,
      regionPath: grant.regionPath!,
      name: view.regionName ?? '',
      level: view.regionLevel ?? '',
    }));
  return {
    user: {
      id: user.id,
      username: user.username,
      displayName: user.display_name,
      mustChangePassword: user.must_change_password,
    },
    roles,
    scope,
    permissions: permissionsOf(actor),
  };
}
