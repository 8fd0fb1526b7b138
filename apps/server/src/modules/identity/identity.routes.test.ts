import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { hashPassword, insertUser } from './index.ts';

let db: Database;
let server: Wangge;
const clock = fixedClock('2026-11-20T02:00:00Z');

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db, { clock });
  const passwordHash = await hashPassword('demo12345');
  await db.orm.transaction(async (tx) => {
    await insertUser(
      tx,
      {
        username: 'alice',
        displayName: '爱丽丝',
        password: '',
        passwordHash,
        grants: [{ role: 'grid_worker', regionCode: territory.gridA1 }],
      },
      clock.now(),
    );
    await insertUser(
      tx,
      {
        username: 'bob',
        displayName: 'Bob',
        password: '',
        passwordHash,
        grants: [{ role: 'centre_operator', regionCode: territory.street }],
      },
      clock.now(),
    );
  });
});

const login = (username: string, password: string) =>
  server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });

describe('login, sessions and /api/me', () => {
  it('signs in with a bearer token and a httpOnly cookie, and /api/me describes the user', async () => {
    const response = await login('alice', 'demo12345');
    expect(response.statusCode).toBe(200);
    const { token } = response.json<{ token: string }>();
    expect(token.length).toBeGreaterThan(20);
    const cookie = response.cookies.find((c) => c.name === 'wangge_session');
    expect(cookie?.httpOnly).toBe(true);

    const me = await server.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.statusCode).toBe(200);
    const body = me.json<{
      user: { username: string };
      roles: { role: string }[];
      scope: { regionCode: string }[];
      permissions: string[];
    }>();
    expect(body.user.username).toBe('alice');
    expect(body.roles.map((r) => r.role)).toEqual(['grid_worker']);
    expect(body.scope.map((s) => s.regionCode)).toEqual([territory.gridA1]);
    expect(body.permissions).toContain('region.read');
    expect(body.permissions).not.toContain('user.write');

    const viaCookie = await server.app.inject({
      method: 'GET',
      url: '/api/me',
      cookies: { wangge_session: token },
    });
    expect(viaCookie.statusCode).toBe(200);
  });

  it('logout revokes the session', async () => {
    const { token } = (await login('bob', 'demo12345')).json<{ token: string }>();
    const headers = { authorization: `Bearer ${token}` };
    expect((await server.app.inject({ method: 'POST', url: '/api/auth/logout', headers })).statusCode).toBe(
      204,
    );
    const me = await server.app.inject({ method: 'GET', url: '/api/me', headers });
    expect(me.statusCode).toBe(401);
    expect(me.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers 401 without a session and 400 with field messages for a bad body', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    const bad = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: '' },
    });
    expect(bad.statusCode).toBe(400);
    const body = bad.json<{ code: string; fields: { field: string }[] }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.fields.map((f) => f.field).sort()).toEqual(['body.password', 'body.username']);
  });

  it('locks an account for 15 minutes after 5 failures, the same way for a name that does not exist', async () => {
    for (const name of ['alice', 'nobody-here']) {
      const answers: string[] = [];
      for (let i = 0; i < 5; i++)
        answers.push((await login(name, 'wrong-password')).json<{ code: string }>().code);
      expect(answers.slice(0, 4)).toEqual(Array(4).fill('AUTH_INVALID_CREDENTIALS'));
      expect(answers[4]).toBe('AUTH_LOCKED');
      // Even the right password is refused while locked.
      const locked = await login(name, 'demo12345');
      expect(locked.statusCode).toBe(429);
      expect(locked.json()).toMatchObject({ code: 'AUTH_LOCKED' });
    }
    clock.advance(16 * 60_000);
    expect((await login('alice', 'demo12345')).statusCode).toBe(200);
  });

  it('an unknown user and a wrong password get the very same answer', async () => {
    const unknown = await login('ghost', 'x');
    const wrong = await login('bob', 'x');
    expect(unknown.statusCode).toBe(wrong.statusCode);
    expect(unknown.json()).toEqual(wrong.json());
  });

  it('users in another grid are not found; users in my scope are listed', async () => {
    const workerA = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
    const workerB = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridB1 }]);
    const other = await server.app.inject({
      method: 'GET',
      url: `/api/users/${workerB.id}`,
      headers: auth(workerA),
    });
    expect(other.statusCode).toBe(404);
    const operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
    const seen = await server.app.inject({
      method: 'GET',
      url: `/api/users/${workerB.id}`,
      headers: auth(operator),
    });
    expect(seen.statusCode).toBe(200);
    const list = await server.app.inject({
      method: 'GET',
      url: `/api/users?region=${territory.gridA1}`,
      headers: auth(workerA),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: { id: number }[] }>().items.map((u) => u.id)).toContain(workerA.id);
    const outside = await server.app.inject({
      method: 'GET',
      url: `/api/users?region=${territory.gridB1}`,
      headers: auth(workerA),
    });
    expect(outside.statusCode).toBe(404);
  });
});
