import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';

/** A built web directory as scripts/ensure-web.mjs leaves it: the console at the root, the field app in field/. */
function fakeDist(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-web-'));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  write('index.html', '<title>console</title>');
  write('assets/console-abc.js', 'console.log("console");'.repeat(100));
  write('field/index.html', '<title>field</title>');
  write('r/index.html', '<title>resident</title>');
  write('field/sw.js', 'self.addEventListener("fetch", () => {});');
  write('field/manifest.webmanifest', '{"name":"网格通"}');
  const fieldJs = 'console.log("field");'.repeat(100);
  write('field/assets/field-abc.js', fieldJs);
  writeFileSync(path.join(dir, 'field/assets/field-abc.js.br'), brotliCompressSync(fieldJs));
  writeFileSync(path.join(dir, 'field/assets/field-abc.js.gz'), gzipSync(fieldJs));
  return dir;
}

describe('web apps served by the server', () => {
  let server: Wangge;
  beforeAll(async () => {
    server = await testServer(await testDatabase(), { config: { webDir: fakeDist() } });
  });
  afterAll(async () => server.app.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'GET', url, headers: { accept: 'text/html', ...headers } });

  it('serves the console at / and for its client-side routes, never cached', async () => {
    for (const url of ['/', '/cases/42', '/registry/persons/7']) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toContain('console');
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves the field app under /field/ with its own fallback page', async () => {
    expect((await get('/field')).statusCode).toBe(301);
    expect((await get('/field')).headers.location).toBe('/field/');
    for (const url of ['/field/', '/field/tasks', '/field/visits/12']) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.body, url).toContain('field');
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves the resident pages under /r/ (a QR code links /r/<grid code>)', async () => {
    expect((await get('/r')).headers.location).toBe('/r/');
    const response = await get('/r/230803001001001');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('resident');
  });

  it('never caches the service worker or the manifest, and caches hashed assets for a year', async () => {
    for (const url of ['/field/sw.js', '/field/manifest.webmanifest', '/field/index.html'])
      expect((await get(url)).headers['cache-control'], url).toBe('no-cache');
    for (const url of ['/assets/console-abc.js', '/field/assets/field-abc.js'])
      expect((await get(url)).headers['cache-control'], url).toMatch(/max-age=31536000.*immutable/);
  });

  it('sends the precompressed file to a client that accepts it, the plain one otherwise', async () => {
    const br = await get('/field/assets/field-abc.js', { 'accept-encoding': 'br, gzip' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toContain('console.log("field")');
    const gz = await get('/field/assets/field-abc.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await get('/field/assets/field-abc.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toContain('console.log("field")');
    // no compressed copy: the plain file
    const console_ = await get('/assets/console-abc.js', { 'accept-encoding': 'br, gzip' });
    expect(console_.statusCode).toBe(200);
    expect(console_.headers['content-encoding']).toBeUndefined();
  });

  it('answers unknown API paths and missing files with a JSON 404, and stays inside the directory', async () => {
    expect((await get('/api/nothing')).json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await get('/field/assets/missing.js')).statusCode).toBe(404);
    expect((await get('/../../etc/passwd')).body).not.toContain('root:');
    expect((await get('/field/../../etc/hostname.txt')).statusCode).toBe(404);
  });
});
