// Builds the web apps (apps/web/dist) when the build is missing or older than its sources, so that
// `npm install && npm start` shows the console without a separate build step. Quiet when nothing changed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'apps/web');
const built = path.join(web, 'dist/index.html');
const sources = [
  path.join(web, 'src'),
  path.join(web, 'index.html'),
  path.join(web, 'public'),
  path.join(web, 'vite.config.ts'),
  path.join(root, 'packages/contracts/src'),
];

function newest(p) {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(p).reduce((m, name) => Math.max(m, newest(path.join(p, name))), s.mtimeMs);
}

const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
if (builtAt === 0 || Math.max(...sources.map(newest)) > builtAt) {
  console.log('Building the web console (apps/web) …');
  // Build beside the live directory and swap it in, so a server serving the old build never sees it half-written.
  const dist = path.join(web, 'dist');
  const next = path.join(web, `dist.next-${process.pid}`);
  const old = path.join(web, `dist.old-${process.pid}`);
  const vite = path.join(root, 'node_modules/vite/bin/vite.js');
  try {
    execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', next, '--emptyOutDir'], {
      cwd: web,
      stdio: 'inherit',
    });
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(next, dist);
  } finally {
    rmSync(next, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}
