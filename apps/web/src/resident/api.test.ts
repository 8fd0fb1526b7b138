import { readdirSync, readFileSync } from 'node:fs';
import { caseStatusValues, endpoints, noticeLimits } from '@wangge/contracts';
import { describe, expect, it } from 'vitest';
import { buildPath, rawRoutes, routes } from './api.ts';
import { parseRoute, pathOf } from './App.tsx';
import { hasEnglish, serverText, statusKeys } from './i18n.ts';
import { resendSeconds } from './Verify.tsx';

describe('resident pages api table', () => {
  it('has the method and path of the contract for every route it uses', () => {
    for (const [name, route] of Object.entries(routes)) {
      const e = endpoints[name as keyof typeof endpoints];
      expect(e, `${name} is an endpoint of @wangge/contracts`).toBeDefined();
      expect({ name, method: route.method, path: route.path }).toEqual({
        name,
        method: e.method,
        path: e.path,
      });
    }
  });

  it('uses raw routes (photo upload, event stream) that the resident routes register', () => {
    const source = readFileSync(
      new URL('../../../server/src/modules/resident/resident.routes.ts', import.meta.url),
      'utf8',
    );
    for (const route of Object.values(rawRoutes)) {
      const fastifyPath = route.path.replace(/\{(\w+)\}/g, ':$1');
      expect(source, route.path).toContain(`'${fastifyPath}'`);
      expect(source).toMatch(new RegExp(`\\.${route.method.toLowerCase()}\\(\\s*'${fastifyPath}'`));
    }
  });

  it('knows the limits and statuses of the contracts', () => {
    expect(resendSeconds).toBe(noticeLimits.codeResendSeconds);
    expect([...statusKeys].sort()).toEqual([...caseStatusValues].sort());
  });

  it('builds paths and reads routes under /r/', () => {
    expect(buildPath(routes.residentRate.path, { id: 42 })).toBe('/api/resident/reports/42/rate');
    expect(() => buildPath(routes.publicGridPage.path)).toThrow(/code/);
    expect(parseRoute('/r/230803001001001', '')).toEqual({
      gridCode: '230803001001001',
      screen: 'home',
      next: null,
    });
    expect(parseRoute('/r/230803001001001/verify', '?next=report')).toEqual({
      gridCode: '230803001001001',
      screen: 'verify',
      next: 'report',
    });
    expect(parseRoute('/r/', '').gridCode).toBeNull();
    expect(parseRoute('/r/<script>/mine', '')).toEqual({ gridCode: null, screen: 'home', next: null });
    expect(pathOf('230803001001001', 'verify', 'wish')).toBe('/r/230803001001001/verify?next=wish');
  });

  it('shows the half of a server message in the chosen language', () => {
    expect(serverText('未找到事件 (case not found)')).toBe('未找到事件');
    expect(serverText('plain')).toBe('plain');
  });

  it('has an English text for every Chinese text of the screens', () => {
    const folder = new URL('.', import.meta.url);
    const missing: string[] = [];
    let texts = 0;
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.tsx'))) {
      const source = readFileSync(new URL(file, folder), 'utf8');
      const found = [...source.matchAll(/\bt\('([^']+)'\)/g), ...source.matchAll(/zh: '([^']+)'/g)];
      texts += found.length;
      for (const [, zh] of found) if (!hasEnglish(zh!)) missing.push(`${file}: ${zh}`);
    }
    expect(texts).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });
});
