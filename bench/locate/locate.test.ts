import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridRouter } from '../../apps/server/src/modules/region/grid-router.ts';
import { loadSecretBox } from '../../apps/server/src/platform/crypto.ts';
import { one, sql, type Database } from '../../apps/server/src/platform/db.ts';
import { seedDemoCity } from '../../apps/server/src/seed/demo-city.ts';
import { resetDatabase, testConfig, testDatabase } from '../../apps/server/src/test/harness.ts';
import {
  batchLocator,
  checkAgreement,
  gridBoxes,
  makePoints,
  preparedLocator,
  routerLocator,
  slicePoints,
  timeLocator,
  type Locator,
} from './locate.ts';

// The raw side is a pg client (prepared statements, arrays): PostgreSQL only.
describe.skipIf(!process.env.DATABASE_URL)('W2 point → grid workload (demo city)', () => {
  let db: Database;
  let client: pg.Client;
  let router: GridRouter;

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    await seedDemoCity(db, {
      now: new Date('2026-11-20T02:00:00Z'),
      logger: pino({ level: 'silent' }),
      secrets: loadSecretBox({ dataDir: testConfig().dataDir }),
    });
    const name = await one<{ name: string }>(db.orm, sql`select current_database() as name`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name!.name}`;
    client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    router = await GridRouter.create({ db: db.orm });
  });

  afterAll(async () => {
    await client?.end();
  });

  it('agrees with PostGIS on every point of a deterministic mix inside and outside the grids', async () => {
    const points = makePoints(await gridBoxes(client), 5000, 1);
    expect(Array.from(makePoints(await gridBoxes(client), 5000, 1).lngs)).toEqual(Array.from(points.lngs));
    const agreement = await checkAgreement(client, points, routerLocator(router), batchLocator(client));
    expect(agreement.points).toBe(5000);
    expect(agreement.inGrid).toBeGreaterThan(3000); // most fall in a grid …
    expect(agreement.outside).toBeGreaterThan(200); // … some in gaps or outside
    // The prepared statement and the batch answer the same; both sides do the same work (every point, one answer).
    const part = slicePoints(points, 0, 300);
    expect(await preparedLocator(client)(part)).toEqual(await batchLocator(client, 64)(part));
    expect(await routerLocator(router)(part)).toEqual(await preparedLocator(client)(part));
  });

  it('throws when the router answers a wrong grid', async () => {
    const points = makePoints(await gridBoxes(client), 2000, 2);
    const codes = await batchLocator(client)(points);
    const other = codes.find((c) => c !== null)!;
    let calls = 0;
    const wrong: Locator = async (p) =>
      (await routerLocator(router)(p)).map((code) =>
        code !== null && code !== other && calls++ % 50 === 0 ? other : code,
      );
    await expect(checkAgreement(client, points, wrong, batchLocator(client))).rejects.toThrow(/disagree/);
    const missing: Locator = async (p) => (await routerLocator(router)(p)).map(() => null);
    await expect(checkAgreement(client, points, missing, batchLocator(client))).rejects.toThrow(/disagree/);
  });

  it('throws when the raw side answers nothing or too little', async () => {
    const points = makePoints(await gridBoxes(client), 500, 3);
    const none: Locator = (p) => Promise.resolve(Array.from(p.lngs, () => null));
    await expect(timeLocator(none, points)).rejects.toThrow(/0 in a grid/);
    await expect(checkAgreement(client, points, routerLocator(router), none)).rejects.toThrow(/disagree/);
    const short: Locator = async (p) => (await batchLocator(client)(p)).slice(1);
    await expect(checkAgreement(client, points, routerLocator(router), short)).rejects.toThrow(/answers/);
    const timed = await timeLocator(routerLocator(router), points);
    expect(timed.hits).toBeGreaterThan(0);
  });
});
