import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webRoot = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(webRoot, 'resident');

/**
 * The residents' pages (居民端 H5, issue 7), served by Wangge at `/r/` (a QR code links `/r/<grid code>`). Its own
 * entry (resident/index.html → src/resident/main.tsx): React and our code only — no antd, router, i18next or zod —
 * so it opens fast in WeChat's browser on a cheap phone (≤ 150 KB gzip of initial JavaScript).
 */
export default defineConfig({
  root,
  base: '/r/',
  publicDir: path.join(root, 'public'),
  plugins: [react()],
  build: {
    outDir: path.join(webRoot, 'dist/r'),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2019',
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
