import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import {
  auth,
  buildTerritory,
  countRows,
  makeUser,
  territory as t,
  type TestUser,
} from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';

interface PublicUser {
  id: number;
  username: string;
  displayName: string;
  status: string;
  grants: { role: string; regionCode: string | null; departmentId: number | null }[];
}

let db: Database;
let server: Wangge;
let admin: TestUser;
let streetAdmin: TestUser;
let departmentId: number;
const clock = fixedClock('2026-11-20T02:00:00Z');

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db, { clock });
  admin = await makeUser(db, [{ role: 'admin' }]);
  streetAdmin = await makeUser(db, [{ role: 'admin', regionCode: t.street }]);
  const department = await one<{ id: number }>(
    db.orm,
    sql`insert into department (code, name, region_code, region_path)
        select 'police', '公安派出所', code, path from region where code = ${t.city} returning id::int as id`,
  );
  departmentId = department!.id;
});

afterAll(async () => {
  await server?.app.close();
});

const patch = (actor: TestUser | null, id: number, payload: object) =>
  server.app.inject({ method: 'PATCH', url: `/api/users/${id}`, headers: actor ? auth(actor) : {}, payload });
const me = (user: TestUser) => server.app.inject({ method: 'GET', url: '/api/me', headers: auth(user) });
const login = (username: string, password: string) =>
  server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
const lastAudit = () =>
  one<{ action: string; object_id: string; actor_id: number; detail: Record<string, unknown> }>(
    db.orm,
    sql`select action, object_id, actor_id::int as actor_id, detail from audit_log order by id desc limit 1`,
  );
const liveSessions = async (userId: number) =>
  (
    await rows<{ id: number }>(
      db.orm,
      sql`select id from user_session where user_id = ${userId} and revoked_at is null`,
    )
  ).length;

describe('PATCH /api/users/{id}', () => {
  it('renames a user (audited)', async () => {
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    const response = await patch(admin, worker.id, { displayName: '  王网格  ' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<PublicUser>()).toMatchObject({
      id: worker.id,
      displayName: '王网格',
      status: 'active',
    });
    expect(await lastAudit()).toMatchObject({
      action: 'user.renamed',
      object_id: String(worker.id),
      actor_id: admin.id,
    });
  });

  it('disabling signs the user out everywhere; enabling lets them sign in again', async () => {
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    expect((await me(worker)).statusCode).toBe(200);
    const disabled = await patch(streetAdmin, worker.id, { status: 'disabled' });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json<PublicUser>().status).toBe('disabled');
    expect(await liveSessions(worker.id)).toBe(0);
    expect((await me(worker)).statusCode).toBe(401);
    expect(await lastAudit()).toMatchObject({ action: 'user.disabled', detail: { sessionsRevoked: 1 } });
    expect((await login(worker.username, 'test-password')).statusCode).toBe(401);

    const enabled = await patch(streetAdmin, worker.id, { status: 'active' });
    expect(enabled.json<PublicUser>().status).toBe('active');
    expect(await lastAudit()).toMatchObject({ action: 'user.enabled', detail: { sessionsRevoked: 0 } });
    expect((await login(worker.username, 'test-password')).statusCode).toBe(200);
  });

  it('resets the password: argon2 hash, must change at next sign-in, sessions revoked', async () => {
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    const response = await patch(admin, worker.id, { resetPassword: 'new-secret-123' });
    expect(response.statusCode, response.body).toBe(200);
    expect((await me(worker)).statusCode).toBe(401);
    const row = await one<{ password_hash: string; must_change_password: boolean }>(
      db.orm,
      sql`select password_hash, must_change_password from app_user where id = ${worker.id}`,
    );
    expect(row?.password_hash.startsWith('$argon2id$')).toBe(true);
    expect(row?.must_change_password).toBe(true);
    expect(await lastAudit()).toMatchObject({
      action: 'user.password_reset',
      detail: { sessionsRevoked: 1 },
    });
    expect((await login(worker.username, 'test-password')).statusCode).toBe(401);
    const fresh = await login(worker.username, 'new-secret-123');
    expect(fresh.statusCode).toBe(200);
    const after = await server.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: `Bearer ${fresh.json<{ token: string }>().token}` },
    });
    expect(after.json<{ user: { mustChangePassword: boolean } }>().user.mustChangePassword).toBe(true);
    // the password never reaches the audit log
    const audit = await rows<{ detail: unknown }>(db.orm, sql`select detail from audit_log`);
    expect(JSON.stringify(audit)).not.toContain('new-secret-123');
  });

  it('replaces the grants, validated like a new user’s; the new grants apply at once', async () => {
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    const response = await patch(streetAdmin, worker.id, {
      grants: [
        { role: 'grid_leader', regionCode: t.communityB },
        { role: 'department_handler', regionCode: t.street, departmentId },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<PublicUser>().grants.map((g) => [g.role, g.regionCode, g.departmentId])).toEqual([
      ['grid_leader', t.communityB, null],
      ['department_handler', t.street, departmentId],
    ]);
    const mine = (await me(worker)).json<{ roles: { role: string }[] }>();
    expect(mine.roles.map((r) => r.role)).toEqual(['grid_leader', 'department_handler']);
    expect(await lastAudit()).toMatchObject({
      action: 'user.grants_replaced',
      detail: { before: 1, after: 2, roles: 'department_handler,grid_leader' },
    });
  });

  it('is all or nothing: a bad grant leaves the name and the grants as they were', async () => {
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    const audit = await countRows(db, 'audit_log');
    for (const [grant, field] of [
      [{ role: 'grid_worker', regionCode: '230803009009009' }, 'grants.0.regionCode'],
      [{ role: 'grid_worker' }, 'grants.0.regionCode'],
      [{ role: 'department_handler', regionCode: t.city, departmentId: 999_999 }, 'grants.0.departmentId'],
    ] as const) {
      const response = await patch(admin, worker.id, { displayName: '改名', grants: [grant] });
      expect(response.statusCode, JSON.stringify(grant)).toBe(400);
      expect(response.json<{ fields: { field: string }[] }>().fields[0]?.field).toBe(field);
    }
    const user = (await patch(admin, worker.id, {})).json<PublicUser>();
    expect(user.displayName).toBe(worker.username);
    expect(user.grants.map((g) => [g.role, g.regionCode])).toEqual([['grid_worker', t.gridA1]]);
    expect(await countRows(db, 'audit_log')).toBe(audit);
  });

  it('needs user.write over every grant the user has and every grant given (out of scope → 404)', async () => {
    const before = await countRows(db, 'audit_log');
    // a user with a grant above the street admin's region is out of scope, even with one inside it
    const wide = await makeUser(db, [
      { role: 'grid_worker', regionCode: t.gridA1 },
      { role: 'leader', regionCode: t.district },
    ]);
    expect((await patch(streetAdmin, wide.id, { displayName: 'X' })).statusCode).toBe(404);
    const district = await makeUser(db, [{ role: 'centre_operator', regionCode: t.district }]);
    expect((await patch(streetAdmin, district.id, { status: 'disabled' })).statusCode).toBe(404);
    // granting above the region: 404; granting a system-wide role: 403
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    expect(
      (await patch(streetAdmin, worker.id, { grants: [{ role: 'centre_operator', regionCode: t.district }] }))
        .statusCode,
    ).toBe(404);
    expect((await patch(streetAdmin, worker.id, { grants: [{ role: 'admin' }] })).statusCode).toBe(403);
    // the global admin may do both
    expect((await patch(admin, wide.id, { displayName: 'Wide' })).statusCode).toBe(200);
    expect((await patch(admin, worker.id, { grants: [{ role: 'auditor' }] })).statusCode).toBe(200);
    expect(await countRows(db, 'audit_log')).toBe(before + 2);
    const names = await rows<{ display_name: string }>(
      db.orm,
      sql`select display_name from app_user where id = ${district.id} and status = 'active'`,
    );
    expect(names).toHaveLength(1);
  });

  it('answers 403 without user.write, 404 for an unknown user, 401 without a session, 400 for a bad body', async () => {
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    const operator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.street }]);
    expect((await patch(operator, worker.id, { displayName: 'X' })).statusCode).toBe(403);
    const auditor = await makeUser(db, [{ role: 'auditor' }]);
    expect((await patch(auditor, worker.id, { resetPassword: 'whatever-123' })).statusCode).toBe(403);
    // nobody may edit themselves into more than their role allows either
    expect((await patch(worker, worker.id, { displayName: 'Me' })).statusCode).toBe(403);
    expect((await patch(admin, 999_999, { displayName: 'X' })).statusCode).toBe(404);
    expect((await patch(null, worker.id, { displayName: 'X' })).statusCode).toBe(401);
    for (const body of [{ status: 'gone' }, { resetPassword: 'short' }, { grants: [] }, { displayName: '' }])
      expect((await patch(admin, worker.id, body)).statusCode, JSON.stringify(body)).toBe(400);
  });

  it('refuses to disable the caller’s own account', async () => {
    const response = await patch(admin, admin.id, { status: 'disabled' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ fields: [{ field: 'body.status' }] });
    expect((await me(admin)).statusCode).toBe(200);
  });
});

describe('POST /api/users by a regional administrator', () => {
  it('may not create a system-wide administrator', async () => {
    const users = await countRows(db, 'app_user');
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: auth(streetAdmin),
      payload: {
        username: 'sneaky-admin',
        displayName: 'Sneaky',
        password: 'password-123',
        grants: [{ role: 'admin' }],
      },
    });
    expect(response.statusCode).toBe(403);
    expect(await countRows(db, 'app_user')).toBe(users);
    const inside = await server.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: auth(streetAdmin),
      payload: {
        username: 'street-worker',
        displayName: 'Worker',
        password: 'password-123',
        grants: [{ role: 'grid_worker', regionCode: t.gridB1 }],
      },
    });
    expect(inside.statusCode, inside.body).toBe(201);
  });
});
