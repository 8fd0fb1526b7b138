import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const webRoot = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(webRoot, 'field');

/**
 * The field app (网格通, issue 6): an offline-first PWA served by Wangge at `/field/`. Its own entry
 * (field/index.html → src/field/main.tsx) without antd, react-router or i18next, so the first load on a cheap phone
 * stays small (≤ 250 KB gzip of initial JavaScript). The service worker (generateSW) precaches this build only and
 * answers every navigation under `/field/` with the app's index.html, so a reload offline still shows the app.
 */
export default defineConfig({
  root,
  base: '/field/',
  publicDir: path.join(root, 'public'),
  plugins: [
    react(),
    VitePWA({
      strategies: 'generateSW',
      registerType: 'autoUpdate',
      injectRegister: null,
      scope: '/field/',
      base: '/field/',
      filename: 'sw.js',
      manifestFilename: 'manifest.webmanifest',
      includeAssets: ['icon-192.png', 'icon-512.png'],
      manifest: {
        id: '/field/',
        name: '网格通',
        short_name: '网格通',
        description: '网格员外勤：上报、巡查、走访、日志 (field app for grid workers)',
        lang: 'zh-CN',
        start_url: '/field/',
        scope: '/field/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#ffffff',
        theme_color: '#0b5cad',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        navigateFallback: '/field/index.html',
        navigateFallbackAllowlist: [/^\/field(\/|$)/],
        navigateFallbackDenylist: [/^\/api\//],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
  build: {
    outDir: path.join(webRoot, 'dist/field'),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2020',
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
