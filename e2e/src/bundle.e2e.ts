import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './server.ts';

/**
 * The initial JavaScript of a built web app: its page's entry script and modulepreloads, each gzip-compressed at
 * level 9, checked against what must not be in it. `base` is the app's URL prefix (`/`, `/field/`, `/r/`).
 */
function initialJavaScript(
  app: string,
  base: string,
  forbidden: Record<string, string | RegExp>,
): { bytes: number; files: number } {
  const dist = path.join(repoRoot, 'apps/web/dist', app);
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const scripts = [
    ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
  ].map((m) => m[1]!);
  expect(scripts.length).toBeGreaterThan(0);
  let bytes = 0;
  for (const src of new Set(scripts)) {
    expect(src.startsWith(base), `${src} is served under ${base}`).toBe(true);
    const code = readFileSync(path.join(dist, src.slice(base.length)));
    bytes += gzipSync(code, { level: 9 }).length;
    const text = code.toString('utf8');
    for (const [what, pattern] of Object.entries(forbidden))
      if (typeof pattern === 'string') expect(text, `${src} must not carry ${what}`).not.toContain(pattern);
      else expect(text, `${src} must not carry ${what}`).not.toMatch(pattern);
  }
  return { bytes, files: new Set(scripts).size };
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);

describe('initial JavaScript budgets', () => {
  /** Issue 4: the console's initial JavaScript is at most 400 KB gzip; map and charts load lazily. */
  it('keeps the console within 400 KB gzip, without MapLibre or ECharts', () => {
    const { bytes, files } = initialJavaScript('', '/', {
      MapLibre: 'maplibre-gl',
      ECharts: /echarts\/lib|ECharts is not Loaded/,
    });
    console.log(`initial JavaScript: ${kb(bytes)} KB gzip (${files} files)`);
    expect(bytes).toBeLessThanOrEqual(400 * 1024);
  });

  /** Issue 6: the field app (网格通) loads on a cheap phone: at most 250 KB gzip. */
  it('keeps the field app within 250 KB gzip, without antd or zod', () => {
    const { bytes, files } = initialJavaScript('field', '/field/', {
      antd: 'ant-design',
      zod: /ZodError|\$ZodType/,
    });
    console.log(`field app initial JavaScript: ${kb(bytes)} KB gzip (${files} files)`);
    expect(bytes).toBeLessThanOrEqual(250 * 1024);
  });

  /** Issue 7: the resident pages (居民端 H5) open fast in WeChat's browser: at most 150 KB gzip. */
  it('keeps the resident pages within 150 KB gzip: React and our code only', () => {
    const { bytes, files } = initialJavaScript('r', '/r/', {
      antd: 'ant-design',
      zod: /ZodError|\$ZodType/,
      i18next: 'i18next',
      'a router': 'react-router',
    });
    console.log(`resident pages initial JavaScript: ${kb(bytes)} KB gzip (${files} files)`);
    expect(bytes).toBeLessThanOrEqual(150 * 1024);
  });
});
