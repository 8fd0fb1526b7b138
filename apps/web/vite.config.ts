import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * The console (index.html) is served by the Wangge server at `/`. Map (MapLibre) and charts (ECharts) are loaded
 * lazily with their pages, so the first load stays small (issue 4: ≤ 400 KB gzip of initial JavaScript).
 */
export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: { input: { console: path.join(root, 'index.html') } },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/tiles': 'http://127.0.0.1:3000' } },
});
