import { ApiError, createClient, type Client } from '@wangge/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCity } from '../seed/demo-city.ts';
import { resetDatabase, testConfig, testDatabase, testServer } from '../test/harness.ts';
import { loadSecretBox } from './crypto.ts';
import type { Wangge } from '../server.ts';
import { createLogger } from './logger.ts';

/**
 * The typed client the web apps use (packages/contracts client.ts) against the real server and the demo city, with
 * response validation on: every response must parse with the contract's schema, so client and server cannot drift.
 */
let server: Wangge;
const now = new Date('2026-11-20T02:00:00Z');

function clientFor(token: string | null): Client {
  return createClient({
    validate: true,
    token: () => token,
    fetch: async (input, init) => {
      const url = new URL(
        typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
        'http://wangge.test',
      );
      const response = await server.app.inject({
        method: (init?.method ?? 'GET') as 'GET',
        url: url.pathname + url.search,
        headers: init?.headers as Record<string, string>,
        payload: (init?.body as string | undefined) ?? undefined,
      });
      return new Response(response.statusCode === 204 ? null : response.rawPayload, {
        status: response.statusCode,
        headers: response.headers as Record<string, string>,
      });
    },
  });
}

async function signIn(username: string): Promise<Client> {
  const { token } = await clientFor(null).login({ body: { username, password: 'demo12345' } });
  return clientFor(token);
}

beforeAll(async () => {
  const db = await testDatabase();
  await resetDatabase(db);
  await seedDemoCity(db, {
    now,
    logger: createLogger('silent'),
    secrets: loadSecretBox({ dataDir: testConfig().dataDir }),
  });
  server = await testServer(db);
});
afterAll(async () => {
  await server.app.close();
});

describe('typed client against the server', () => {
  it('parses the read models the console uses, as the street operator', async () => {
    const api = await signIn('demo-street');
    const me = await api.me({});
    const street = me.scope[0]!.regionCode;
    const region = await api.region({ params: { code: street } });
    expect(region.level).toBe('street');
    const children = await api.regionChildren({ params: { code: street } });
    expect(children.items.length).toBeGreaterThan(0);
    const childStats = await api.regionChildStats({ params: { code: street } });
    expect(childStats.items.map((c) => c.code).sort()).toEqual(children.items.map((c) => c.code).sort());
    await api.regionStats({ params: { code: street } });
    const queue = await api.queue({ query: {} });
    expect(queue.buckets.length).toBeGreaterThan(0);
    const cases = await api.cases({ query: { region: street, state: 'all', limit: 50 } });
    expect(cases.items.length).toBeGreaterThan(0);
    const first = cases.items[0]!;
    const detail = await api.case({ params: { id: first.id } });
    expect(detail.serial).toBe(first.serial);
    await api.caseTimeline({ params: { id: first.id } });
    await api.taxonomy({ query: {} });
    await api.calendar({});
    await api.departments({ query: {} });
    await api.notifications({ query: {} });
    const found = await api.regionSearch({ query: { q: region.name.slice(0, 2) } });
    expect(found.items.some((r) => r.code === street)).toBe(true);
  });

  it('parses the cockpit figures, as the district leader', async () => {
    const api = await signIn('demo-leader');
    const district = (await api.me({})).scope[0]!.regionCode;
    const query = { region: district, from: '2026-09-01', to: '2026-11-21' };
    const report = await api.kpis({ query: { ...query, by: 'department' } });
    expect(report.counts.accepted).toBeGreaterThan(0);
    const trend = await api.kpiTrend({ query: { ...query, interval: 'week' } });
    expect(trend.points.reduce((n, p) => n + p.reported, 0)).toBeGreaterThanOrEqual(report.counts.accepted);
    await api.gridHeat({ query });
  });

  it('turns errors into ApiError with the code and the per-field messages', async () => {
    const anonymous = clientFor(null);
    await expect(anonymous.me({})).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    const api = await signIn('demo-street');
    const error = await api
      .createCase({ body: { clientId: 'not-a-uuid' } as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).fields?.some((f) => f.field === 'body.clientId')).toBe(true);
    const police = await signIn('demo-dept-police');
    const urbanOnly = await api.cases({ query: { state: 'all', limit: 200 } });
    const hidden = urbanOnly.items.find(
      (c) => c.leadDepartment !== null && !/公安|派出所/.test(c.leadDepartment),
    );
    expect(hidden).toBeDefined();
    await expect(police.case({ params: { id: hidden!.id } })).rejects.toMatchObject({ status: 404 });
  });
});
