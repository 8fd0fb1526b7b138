import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';

let server: Wangge;

beforeAll(async () => {
  const dist = mkdtempSync(path.join(os.tmpdir(), 'wangge-web-'));
  mkdirSync(path.join(dist, 'assets'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>网格</title><div id="root"></div>');
  writeFileSync(path.join(dist, 'assets', 'console-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(dist, 'favicon.svg'), '<svg/>');
  const db = await testDatabase();
  await resetDatabase(db);
  server = await testServer(db, { config: { webDir: dist } });
});

describe('the console served at /', () => {
  it('answers client-side routes with index.html, never cached', async () => {
    for (const url of ['/', '/workbench', '/cases/42', '/admin/regions?x=1']) {
      const response = await server.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toContain('text/html');
      expect(response.headers['cache-control'], url).toContain('no-cache');
      expect(response.body).toContain('<div id="root">');
    }
  });

  it('serves hashed assets with a long, immutable cache', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/assets/console-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('javascript');
    expect(response.headers['cache-control']).toContain('immutable');
  });

  it('keeps the API side JSON: unknown API paths and missing files answer 404, not the page', async () => {
    for (const url of [
      '/api/nope',
      '/api/cases/1/nope',
      '/tiles/nope',
      '/open311/v2/x',
      '/assets/missing.js',
    ]) {
      const response = await server.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json<{ code: string }>().code).toBe('NOT_FOUND');
    }
  });

  it('never serves files outside the build', async () => {
    for (const url of ['/../package.json', '/%2e%2e/%2e%2e/package.json', '/assets/../../secret.key']) {
      const response = await server.app.inject({ method: 'GET', url });
      expect(response.body, url).not.toContain('"name"');
      expect(
        response.statusCode === 404 || String(response.headers['content-type']).includes('text/html'),
        url,
      ).toBe(true);
    }
  });

  it('stays out of the API description', async () => {
    const document = (await server.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    expect(Object.keys(document.paths)).not.toContain('/*');
  });
});
