// Builds the web apps (apps/web/dist: the console; the field app in dist/field; the resident pages in dist/r) when a
// build is missing or older than its sources, so that `npm install && npm start` shows them without a separate build
// step. Quiet when nothing changed (`--force` builds anyway). After building, text assets get `.br` and `.gz` copies
// that the server sends to clients that accept them.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'apps/web');
// the apps beside the console: the field app (/field/) and the resident pages (/r/), each with its own Vite config
const subApps = [
  { name: 'field', config: 'vite.field.config.ts' },
  { name: 'r', config: 'vite.resident.config.ts' },
].filter((app) => existsSync(path.join(web, app.config)));
const builtPages = [
  path.join(web, 'dist/index.html'),
  ...subApps.map((app) => path.join(web, 'dist', app.name, 'index.html')),
];
const sources = [
  path.join(web, 'src'),
  path.join(web, 'index.html'),
  path.join(web, 'public'),
  path.join(web, 'field'),
  path.join(web, 'resident'),
  path.join(web, 'vite.config.ts'),
  path.join(web, 'vite.field.config.ts'),
  path.join(web, 'vite.resident.config.ts'),
  path.join(root, 'packages/contracts/src'),
];

function newest(p) {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(p).reduce((m, name) => Math.max(m, newest(path.join(p, name))), s.mtimeMs);
}

/**
 * Writes `<file>.gz` beside every text asset worth compressing, and `<file>.br` (brotli at its best, slow to make)
 * for the phone apps (field app, resident pages), where every kilobyte counts on a slow network; the console, used on
 * office networks, gets gzip only, which keeps the first `npm start` quick.
 */
function precompress(dir, phone = false) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) {
      precompress(file, phone || subApps.some((app) => file === path.join(dir, app.name)));
      continue;
    }
    if (!/\.(js|mjs|css|html|svg|json|webmanifest|txt)$/.test(name)) continue;
    const bytes = readFileSync(file);
    if (bytes.length < 1024) continue;
    if (phone)
      writeFileSync(
        `${file}.br`,
        brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
      );
    writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
  }
}

const builtAt = Math.min(...builtPages.map((p) => (existsSync(p) ? statSync(p).mtimeMs : 0)));
const force = process.argv.includes('--force');
if (force || builtAt === 0 || Math.max(...sources.map(newest)) > builtAt) {
  console.log('Building the web apps (apps/web: console, field app, resident pages) …');
  // Build beside the live directory and swap it in, so a server serving the old build never sees it half-written.
  const dist = path.join(web, 'dist');
  const next = path.join(web, `dist.next-${process.pid}`);
  const old = path.join(web, `dist.old-${process.pid}`);
  const vite = path.join(root, 'node_modules/vite/bin/vite.js');
  const build = (...args) =>
    execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn', ...args], {
      cwd: web,
      stdio: 'inherit',
    });
  try {
    build('--outDir', next, '--emptyOutDir');
    for (const app of subApps)
      build('--config', app.config, '--outDir', path.join(next, app.name), '--emptyOutDir');
    precompress(next);
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(next, dist);
  } finally {
    rmSync(next, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}
