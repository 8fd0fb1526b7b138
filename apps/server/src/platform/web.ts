import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { App } from './http.ts';

/** Paths that belong to the API side: an unknown one answers the JSON 404, never the console's HTML. */
const apiPrefixes = ['/api/', '/tiles/', '/docs', '/open311/'];

/**
 * Serves the console at `/`: hashed assets with a year's cache, `index.html` for every other GET that accepts HTML
 * (client-side routes such as `/cases/42`), never cached so a new build is picked up at once.
 */
export async function registerWebApp(app: App, distDir: string): Promise<boolean> {
  if (!existsSync(path.join(distDir, 'index.html'))) return false;
  await app.register(fastifyStatic, { root: distDir, serve: false });
  app.get('/*', { config: { access: { public: true } }, schema: { hide: true } }, async (request, reply) => {
    const url = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (apiPrefixes.some((p) => url === p.replace(/\/$/, '') || url.startsWith(p)))
      return reply.status(404).send({ code: 'NOT_FOUND', message: `没有这个接口 (no such route): ${url}` });
    const file = path.normalize(url).replace(/^(\.\.[/\\])+/, '');
    if (file !== '/' && /\.[a-z0-9]+$/i.test(file)) {
      if (!existsSync(path.join(distDir, file)))
        return reply.status(404).send({ code: 'NOT_FOUND', message: 'not found' });
      const immutable = file.startsWith('/assets/');
      return reply.sendFile(file.slice(1), {
        maxAge: immutable ? 365 * 86_400_000 : 3_600_000,
        immutable,
      });
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
  return true;
}
