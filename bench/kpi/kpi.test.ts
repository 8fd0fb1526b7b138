import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiReport } from '@wangge/contracts';
import { fixedClock } from '../../apps/server/src/platform/clock.ts';
import { one, sql, type Database } from '../../apps/server/src/platform/db.ts';
import { seedScaleCases } from '../../apps/server/src/seed/demo-cases.ts';
import { buildWorkflowWorld } from '../../apps/server/src/modules/case/case.workflow.fixtures.ts';
import { resetDatabase, testDatabase, testServer } from '../../apps/server/src/test/harness.ts';
import { makeUser, territory } from '../../apps/server/src/test/factories.ts';
import type { Wangge } from '../../apps/server/src/server.ts';
import {
  checkAgreement,
  cockpitCalls,
  getJson,
  headlineOf,
  rawHeadline,
  reportCalls,
  timeCockpit,
  timeRaw,
  type Period,
} from './kpi.ts';

const now = new Date('2026-11-24T04:00:00.000Z');
const period: Period = { region: territory.city, from: '2025-11-24', to: '2026-11-24' };

// The raw side is a pg client: PostgreSQL only.
describe.skipIf(!process.env.DATABASE_URL)('W6 cockpit KPI workload (small city)', () => {
  let db: Database;
  let client: pg.Client;
  let wangge: Wangge;
  let baseUrl: string;
  let token: string;
  let cityPath: string;
  let paths: Record<string, string>;

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    const world = await buildWorkflowWorld(db);
    cityPath = world.paths.city;
    paths = world.paths;
    await seedScaleCases(db, { count: 400, now, days: 400 });
    token = (await makeUser(db, [{ role: 'leader', regionCode: territory.city }])).token;
    wangge = await testServer(db, { clock: fixedClock(now) });
    await wangge.app.listen({ port: 0, host: '127.0.0.1' });
    const address = wangge.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    baseUrl = `http://127.0.0.1:${address.port}`;
    const name = await one<{ name: string }>(db.orm, sql`select current_database() as name`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name!.name}`;
    client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await wangge?.app.close();
  });

  it('gets the same headline counts from the API and from the raw GROUP BY', async () => {
    const raw = await rawHeadline(client, cityPath, period);
    const report = await getJson<KpiReport>(baseUrl, token, cockpitCalls(period)[0]!.path);
    expect(headlineOf(report)).toEqual(raw);
    expect(raw.accepted).toBeGreaterThan(50);
    expect(raw.closed).toBeGreaterThan(10);
    expect(() => checkAgreement(headlineOf(report), raw)).not.toThrow();
  });

  it('throws when one figure differs by one, or when there is nothing to count', async () => {
    const raw = await rawHeadline(client, cityPath, period);
    for (const key of Object.keys(raw) as (keyof typeof raw)[])
      expect(() => checkAgreement({ ...raw, [key]: raw[key] + 1 }, raw)).toThrow(/disagree/);
    const empty = { accepted: 0, duplicates: 0, dueToClose: 0, closed: 0, overdueNow: 0 };
    expect(() => checkAgreement(empty, empty)).toThrow(/nothing to count/);
  });

  it('catches a broken Wangge side: a wrong figure from the rollup, a failed request', async () => {
    const raw = await rawHeadline(client, cityPath, period);
    await db.orm.execute(sql`update case_kpi_overdue set cases = cases + 1
      where ctid = (select ctid from case_kpi_overdue where dim = '' and cases > 0 limit 1)`);
    try {
      await expect(timeCockpit(baseUrl, token, period, 1, raw)).rejects.toThrow(/overdueNow/);
    } finally {
      await db.orm.execute(sql`update case_kpi_overdue set cases = cases - 1
        where ctid = (select ctid from case_kpi_overdue where dim = '' and cases > 0 limit 1)`);
    }
    await expect(timeCockpit(baseUrl, 'not-a-token', period, 1, raw)).rejects.toThrow(/answered 401/);
    await expect(timeCockpit(baseUrl, token, { ...period, region: '999999' }, 1, raw)).rejects.toThrow(
      /answered 404/,
    );
  });

  it('catches a broken raw side: the wrong region counts other cases', async () => {
    const raw = await rawHeadline(client, cityPath, period);
    const district = await rawHeadline(client, paths.district!, period);
    // The test territory has one district (the same cases); one grid's cases differ.
    const street = await rawHeadline(client, paths.gridA1!, period);
    expect(district).toEqual(raw);
    await expect(timeRaw(client, cityPath, { ...period, from: '2026-11-01' }, 1, raw)).rejects.toThrow(
      /disagree/,
    );
    expect(() => checkAgreement(raw, street)).toThrow(/disagree/);
  });

  it('does the same work on both sides: every cockpit call and as many raw statements as report calls', async () => {
    const raw = await rawHeadline(client, cityPath, period);
    const times = await timeCockpit(baseUrl, token, period, 2, raw);
    expect([...times.keys()]).toEqual(['report', 'byCategory', 'byDepartment', 'trend', 'gridHeat']);
    for (const list of times.values()) expect(list).toHaveLength(2);
    const rawTimes = await timeRaw(client, cityPath, period, 2 * reportCalls.size, raw);
    expect(rawTimes).toHaveLength(6);
    expect(rawTimes.every((ms) => ms > 0)).toBe(true);
  });
});
