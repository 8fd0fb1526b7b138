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

/** Issue 6: the field app (网格通) loads on a cheap phone: initial JavaScript at most 250 KB gzip. */
const fieldBudgetBytes = 250 * 1024;

describe('field app bundle budget', () => {
  it('keeps the field app initial JavaScript (entry + modulepreloads) within 250 KB gzip', () => {
    const dist = path.join(repoRoot, 'apps/web/dist/field');
    const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
    const scripts = [
      ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
      ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
    ].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let total = 0;
    for (const src of new Set(scripts)) {
      const code = readFileSync(path.join(dist, src.replace(/^\/field\//, '')));
      total += gzipSync(code, { level: 9 }).length;
      const text = code.toString('utf8');
      expect(text, `${src} must not carry antd`).not.toContain('ant-design');
      expect(text, `${src} must not carry zod`).not.toMatch(/ZodError|\$ZodType/);
    }
    console.log(
      `field app initial JavaScript: ${(total / 1024).toFixed(1)} KB gzip (${scripts.length} files)`,
    );
    expect(total).toBeLessThanOrEqual(fieldBudgetBytes);
  });
});

/** Issue 7: the resident pages (居民端 H5) open fast in WeChat's browser: initial JavaScript at most 150 KB gzip. */
const residentBudgetBytes = 150 * 1024;

describe('resident pages bundle budget', () => {
  it('keeps the resident pages initial JavaScript (entry + modulepreloads) within 150 KB gzip, React and our code only', () => {
    const dist = path.join(repoRoot, 'apps/web/dist/r');
    const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
    const scripts = [
      ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
      ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
    ].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let total = 0;
    for (const src of new Set(scripts)) {
      const code = readFileSync(path.join(dist, src.replace(/^\/r\//, '')));
      total += gzipSync(code, { level: 9 }).length;
      const text = code.toString('utf8');
      expect(text, `${src} must not carry antd`).not.toContain('ant-design');
      expect(text, `${src} must not carry zod`).not.toMatch(/ZodError|\$ZodType/);
      expect(text, `${src} must not carry i18next`).not.toContain('i18next');
      expect(text, `${src} must not carry a router`).not.toContain('react-router');
    }
    console.log(
      `resident pages initial JavaScript: ${(total / 1024).toFixed(1)} KB gzip (${scripts.length} files)`,
    );
    expect(total).toBeLessThanOrEqual(residentBudgetBytes);
  });
});
