import { endpoints } from '@wangge/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';

let server: Wangge;

beforeAll(async () => {
  const db = await testDatabase();
  await resetDatabase(db);
  server = await testServer(db);
});

interface OpenApiDocument {
  openapi: string;
  info: { title: string };
  paths: Record<
    string,
    Record<string, { requestBody?: unknown; parameters?: { name: string; in: string }[] }>
  >;
}

describe('OpenAPI description', () => {
  it('describes every API route, generated from the zod contracts, without an account', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/docs/json' })).json()).toEqual(response.json());
    const document = response.json<OpenApiDocument>();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toContain('Wangge');
    const described = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const apiRoutes = server.routes.filter((r) => r.url.startsWith('/api/') || r.url.startsWith('/tiles/'));
    expect(apiRoutes.length).toBeGreaterThan(30);
    for (const route of apiRoutes) {
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(described, `${route.method} ${route.url}`).toContain(`${route.method} ${path}`);
    }
    // Request schemas come through: the login body and the case-creation body are described.
    expect(document.paths['/api/auth/login']?.post?.requestBody).toBeDefined();
    expect(document.paths['/api/cases']?.post?.requestBody).toBeDefined();
    expect(document.paths['/api/grids/locate']?.get?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['lat', 'lng', 'crs']),
    );
  });

  it('has a route for every endpoint of the typed client the web apps use (packages/contracts client.ts)', async () => {
    const document = (
      await server.app.inject({ method: 'GET', url: '/docs/openapi.json' })
    ).json<OpenApiDocument>();
    for (const [name, endpoint] of Object.entries(endpoints)) {
      const operations = document.paths[endpoint.path];
      expect(operations, `${name}: ${endpoint.method} ${endpoint.path}`).toBeDefined();
      expect(Object.keys(operations ?? {}), `${name}: ${endpoint.method} ${endpoint.path}`).toContain(
        endpoint.method.toLowerCase(),
      );
    }
  });

  it('serves the viewer at /docs', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
  });
});
