import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './db.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../test/harness.ts';
import { isInside, roles, rolePermissions, type Role } from './access.ts';
import { findRegion } from '../modules/region/index.ts';
import type { Wangge } from '../server.ts';
import { open311PublicRoutes } from '../modules/interop/index.ts';

/**
 * The only routes that may be reached without signing in. Adding one here is a reviewed decision.
 * (Besides these, the API description and its viewer under /docs are public: they hold no data.)
 */
const publicRoutes = new Set([
  ...open311PublicRoutes,
  'GET /api/health',
  'POST /api/auth/login',
  'GET /api/grids/locate',
  'GET /tiles/grids/:z/:x/:y.mvt',
  // the web console's static build (HTML, JS, CSS): it holds no data, the API behind it is guarded
  'GET /*',
  // the residents' pages (issue 7): no account; the routes under /api/resident check a resident token themselves
  'GET /api/public/grids/:code',
  'GET /api/public/grids/:code/stream',
  'GET /api/public/alerts/:id/photo',
  'GET /api/public/notices/:id/attachments/:attachmentId',
  'GET /api/public/polls/:id',
  'POST /api/resident/codes',
  'POST /api/resident/verify',
  'POST /api/resident/reports',
  'POST /api/resident/wishes',
  'GET /api/resident/reports',
  'POST /api/resident/reports/:id/rate',
  'POST /api/resident/reports/:id/photos',
  'POST /api/resident/polls/:id/votes',
]);

let db: Database;
let server: Wangge;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db);
});

describe('every route is guarded', () => {
  it('declares its access, and only the listed routes are public', () => {
    expect(server.routes.length).toBeGreaterThan(5);
    for (const route of server.routes) {
      expect(route.access, `${route.method} ${route.url}`).toBeDefined();
      if (route.access && 'public' in route.access && !route.url.startsWith('/docs'))
        expect(publicRoutes, `${route.method} ${route.url} is public`).toContain(
          `${route.method} ${route.url}`,
        );
    }
  });

  it('answers 401 on every non-public route without a session', async () => {
    for (const route of server.routes) {
      if (route.access && 'public' in route.access) continue;
      const url = route.url
        .replace(/:code/g, territory.gridA1)
        .replace(/:id/g, '1')
        .replace(/:[a-z]+/gi, '1');
      const response = await server.app.inject({
        method: route.method as 'GET',
        url,
        payload: route.method === 'GET' ? undefined : {},
      });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(response.json<{ code: string }>().code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('every route with a permission answers 403 to a signed-in account that holds it nowhere', () => {
  it.each(roles.filter((r) => r !== 'admin'))('as %s', async (role) => {
    const user = await makeUser(db, [{ role, regionCode: role === 'auditor' ? null : territory.gridA1 }]);
    let checked = 0;
    for (const route of server.routes) {
      if (!route.access || !('permission' in route.access)) continue;
      if (rolePermissions[role].includes(route.access.permission)) continue;
      const url = route.url
        .replace(/:code/g, territory.gridA1)
        .replace(/:id/g, '1')
        .replace(/:[a-z]+/gi, '1');
      const response = await server.app.inject({
        method: route.method as 'GET',
        url,
        headers: auth(user),
        payload: route.method === 'GET' ? undefined : {},
      });
      expect(response.statusCode, `${role}: ${route.method} ${route.url}`).toBe(403);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('scope over HTTP, for random actors and regions', () => {
  const codes = Object.values(territory);
  const paths = new Map<string, string>();
  const users = new Map<string, TestUser>();
  const scopedRoles = roles.filter((r) => r !== 'admin' && r !== 'auditor');

  beforeAll(async () => {
    for (const code of codes) paths.set(code, (await findRegion(db.orm, code))!.path);
  });

  async function userFor(role: Role, regionCode: string): Promise<TestUser> {
    const key = `${role}@${regionCode}`;
    let user = users.get(key);
    if (!user) {
      user = await makeUser(db, [{ role, regionCode }]);
      users.set(key, user);
    }
    return user;
  }

  it('region detail and stats answer 200 exactly when the plain definition allows, else 404 (403 without the permission)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...scopedRoles),
        fc.constantFrom(...codes),
        fc.constantFrom(...codes),
        async (role, home, target) => {
          const user = await userFor(role, home);
          const inside = isInside(paths.get(home)!, paths.get(target)!);
          const detail = await server.app.inject({
            method: 'GET',
            url: `/api/regions/${target}`,
            headers: auth(user),
          });
          expect(detail.statusCode).toBe(inside && rolePermissions[role].includes('region.read') ? 200 : 404);
          const stats = await server.app.inject({
            method: 'GET',
            url: `/api/regions/${target}/stats`,
            headers: auth(user),
          });
          // A role without region.stats anywhere: 403 for any region (it learns nothing of the target); with it,
          // a region outside the grant: 404.
          const mayStats = rolePermissions[role].includes('region.stats');
          expect(stats.statusCode).toBe(!mayStats ? 403 : inside ? 200 : 404);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('a grid worker of grid A gets 404 for grid B: detail, children, stats, users', async () => {
    const worker = await userFor('grid_worker', territory.gridA1);
    for (const url of [
      `/api/regions/${territory.gridB1}`,
      `/api/regions/${territory.gridB1}/children`,
      `/api/regions/${territory.gridB1}/stats`,
      `/api/users?region=${territory.gridB1}`,
      `/api/regions/${territory.communityB}`,
    ]) {
      const response = await server.app.inject({ method: 'GET', url, headers: auth(worker) });
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toEqual({ code: 'NOT_FOUND', message: '未找到 (not found)' });
    }
    const own = await server.app.inject({
      method: 'GET',
      url: `/api/regions/${territory.gridA1}`,
      headers: auth(worker),
    });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ code: territory.gridA1, level: 'grid', parent: territory.communityA });
    expect(own.json<{ centroid: number[] }>().centroid).toHaveLength(2);
  });

  it('stats count the subtree', async () => {
    const admin = await makeUser(db, [{ role: 'admin' }]);
    const stats = await server.app.inject({
      method: 'GET',
      url: `/api/regions/${territory.street}/stats`,
      headers: auth(admin),
    });
    expect(stats.statusCode).toBe(200);
    const body = stats.json<{
      counts: { grids: number; children: number; users: number; openCases: number };
    }>();
    expect(body.counts.grids).toBe(4);
    expect(body.counts.openCases).toBe(0);
    expect(body.counts.children).toBe(2);
    const children = await server.app.inject({
      method: 'GET',
      url: `/api/regions/${territory.street}/children`,
      headers: auth(admin),
    });
    expect(children.json<{ items: { code: string }[] }>().items.map((c) => c.code)).toEqual([
      territory.communityA,
      territory.communityB,
    ]);
  });
});
