import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './server.ts';

/** Issue 4: the console's initial JavaScript is at most 400 KB gzip; map and charts load lazily. */
const budgetBytes = 400 * 1024;

describe('console bundle budget', () => {
  it('keeps the initial JavaScript (entry + modulepreloads) within 400 KB gzip, without MapLibre or ECharts', () => {
    const dist = path.join(repoRoot, 'apps/web/dist');
    const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
    const scripts = [
      ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
      ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
    ].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let total = 0;
    for (const src of new Set(scripts)) {
      const code = readFileSync(path.join(dist, src.replace(/^\//, '')));
      total += gzipSync(code, { level: 9 }).length;
      const text = code.toString('utf8');
      expect(text, `${src} must not carry MapLibre`).not.toContain('maplibre-gl');
      expect(text, `${src} must not carry ECharts`).not.toMatch(/echarts\/lib|ECharts is not Loaded/);
    }
    console.log(`initial JavaScript: ${(total / 1024).toFixed(1)} KB gzip (${scripts.length} files)`);
    expect(total).toBeLessThanOrEqual(budgetBytes);
  });
});
