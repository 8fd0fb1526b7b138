import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import type { App } from './http.ts';

/** Paths that belong to the API side: an unknown one answers the JSON 404, never the console's HTML. */
const apiPrefixes = ['/api/', '/tiles/', '/docs', '/open311/'];

/** Files that must be looked at again on every load: the page itself, the service worker and the manifest. */
const neverCached = /(\.html|\/sw\.js|\.webmanifest|\/registerSW\.js)$/;

/**
 * Serves the web apps from `distDir`: the console at `/`, the field app (网格通 PWA) at `/field/` from
 * `distDir/field` and the resident pages (居民端 H5) at `/r/` from `distDir/r`. Hashed assets get a year's cache; pages, the service worker and the manifest are never cached so a
 * new build is picked up at once; every other GET that accepts HTML gets the app's `index.html` (client-side routes
 * such as `/cases/42`). Where the build left a `.br` or `.gz` beside a file, the compressed one is sent to clients
 * that accept it (a phone on a slow network loads a third of the bytes).
 */
export async function registerWebApp(app: App, distDir: string): Promise<boolean> {
  if (!existsSync(path.join(distDir, 'index.html'))) return false;
  await app.register(fastifyStatic, { root: distDir, serve: false, preCompressed: true });
  // the apps beside the console, each in its own directory of the build with its own fallback page
  const apps = ['field', 'r'].filter((name) => existsSync(path.join(distDir, name, 'index.html')));

  const sendFile = (reply: FastifyReply, file: string) => {
    if (neverCached.test(file))
      return reply.header('cache-control', 'no-cache').sendFile(file.slice(1), { cacheControl: false });
    const immutable = /^\/([a-z]+\/)?assets\//.test(file);
    return reply.sendFile(file.slice(1), { maxAge: immutable ? 365 * 86_400_000 : 3_600_000, immutable });
  };

  app.get('/*', { config: { access: { public: true } }, schema: { hide: true } }, async (request, reply) => {
    const url = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (apiPrefixes.some((p) => url === p.replace(/\/$/, '') || url.startsWith(p)))
      return reply.status(404).send({ code: 'NOT_FOUND', message: `没有这个接口 (no such route): ${url}` });
    const file = path.posix.normalize(url).replace(/^(\.\.[/\\])+/, '');
    const sub = apps.find((name) => file === `/${name}` || file.startsWith(`/${name}/`));
    if (sub && file === `/${sub}`) return reply.redirect(`/${sub}/`, 301);
    if (file !== '/' && /\.[a-z0-9]+$/i.test(file)) {
      if (!existsSync(path.join(distDir, file)))
        return reply.status(404).send({ code: 'NOT_FOUND', message: 'not found' });
      return sendFile(reply, file);
    }
    return sendFile(reply, sub ? `/${sub}/index.html` : '/index.html');
  });
  return true;
}
