import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComplianceReport, VisitPlan } from '@wangge/contracts';
import { loadSecretBox } from '../platform/crypto.ts';
import { one, rows, sql, type Database } from '../platform/db.ts';
import { resetDatabase, testConfig, testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';
import { recomputePatrol } from '../modules/fieldwork/patrol.service.ts';
import { demoPassword } from './demo-accounts.ts';
import { demoPlaces, generateDemoCity, seedDemoCity } from './demo-city.ts';

const logger = pino({ level: 'silent' });
const now = new Date('2026-11-20T02:00:00Z');

describe('demo field work', () => {
  let db: Database;
  let server: Wangge;
  let counts: Record<string, number>;
  const places = demoPlaces(generateDemoCity());

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    counts = await seedDemoCity(db, {
      now,
      logger,
      secrets: loadSecretBox({ dataDir: testConfig().dataDir }),
    });
    console.info(
      `seedDemoFieldwork (${db.kind}): ${counts.fieldworkMilliseconds} ms for ${counts.patrols} patrols, ` +
        `${counts.patrolPoints} points, ${counts.visits} visits (whole demo seed ${counts.milliseconds} ms)`,
      Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('fieldwork'))),
    );
    server = await testServer(db, { clock: { now: () => now } });
  }, 300_000);
  afterAll(async () => {
    await server?.app.close();
  });

  async function signIn(username: string): Promise<Record<string, string>> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password: demoPassword },
    });
    expect(response.statusCode, response.body).toBe(200);
    const token = response.json<{ token: string }>().token;
    return { authorization: `Bearer ${token}` };
  }

  it('seeds two weeks of patrols for every grid worker and this quarter’s visits, within the time budget', async () => {
    const workers = await one<{ n: number }>(
      db.orm,
      sql`select count(distinct user_id)::int as n from user_role where role = 'grid_worker'`,
    );
    const patrolling = await one<{ n: number; first: string; last: string }>(
      db.orm,
      sql`select count(distinct user_id)::int as n, to_char(min(started_at) at time zone 'UTC', 'YYYY-MM-DD') as first,
            to_char(max(ended_at) at time zone 'UTC', 'YYYY-MM-DD') as last from patrol`,
    );
    expect(patrolling!.n).toBe(workers!.n);
    expect(patrolling!.first >= '2026-11-05').toBe(true);
    expect(patrolling!.last <= '2026-11-19').toBe(true);
    expect(counts.patrolPoints).toBeGreaterThan(counts.patrols! * 10);
    expect(counts.visits).toBeGreaterThan(1000);
    // About 2 s on an idle machine. Not a benchmark: this only catches a pathological slowdown (a per-row loop),
    // with room for a CI runner shared with other work (5.35 s was seen on a loaded 2-core machine).
    expect(counts.fieldworkMilliseconds).toBeLessThan(20_000);
  });

  it('keeps regular points inside their grid, flags a handful of spoofed sessions as the server would', async () => {
    const outside = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from patrol_point pp join patrol p on p.id = pp.patrol_id
          join region_boundary b on b.region_code = p.grid_code and b.valid_to is null
          where not pp.outside_grid and not ST_Covers(b.geom, pp.geom)`,
    );
    expect(outside!.n).toBe(0);
    const spoofed = await rows<{ id: string; point_count: number; distance_m: number; flags: string }>(
      db.orm,
      sql`select id::text as id, point_count, distance_m::float8 as distance_m,
            outside_grid || '/' || impossible_speed || '/' || repeated_coordinates as flags
          from patrol where outside_grid + impossible_speed + repeated_coordinates > 0 order by id`,
    );
    expect(spoofed.length).toBeGreaterThanOrEqual(3);
    expect(spoofed.length).toBeLessThan(counts.patrols! / 20);
    // Recomputing with the server's own code changes nothing (flags and distance agree).
    for (const patrol of spoofed.slice(0, 3)) {
      await db.orm
        .transaction(async (tx) => {
          await recomputePatrol(tx, patrol.id, now);
          const after = await one<{ point_count: number; distance_m: number; flags: string }>(
            tx,
            sql`select point_count, distance_m::float8 as distance_m,
                outside_grid || '/' || impossible_speed || '/' || repeated_coordinates as flags
              from patrol where id = ${patrol.id}`,
          );
          expect(after!.point_count).toBe(patrol.point_count);
          expect(after!.flags).toBe(patrol.flags);
          expect(after!.distance_m).toBeCloseTo(patrol.distance_m, 3);
          tx.rollback();
        })
        .catch((error: unknown) => {
          if (!String(error).includes('Rollback')) throw error;
        });
    }
  });

  it('gives the demo worker a believable compliance report and visit plan', async () => {
    const headers = await signIn('demo-worker');
    const report = await server.app.inject({
      method: 'GET',
      url: '/api/compliance?period=month&on=2026-11-19',
      headers,
    });
    expect(report.statusCode, report.body).toBe(200);
    const [row] = report.json<ComplianceReport>().rows;
    expect(row!.gridCode).toBe(places.grid.code);
    expect(row!.patrol.daysMet).toBeGreaterThan(0);
    expect(row!.patrol.seconds).toBeGreaterThan(row!.patrol.daysMet * 4 * 3600);
    expect(row!.visits.households).toBeGreaterThan(20);
    const plan = await server.app.inject({
      method: 'GET',
      url: `/api/grids/${places.grid.code}/visit-plan?on=2026-11-20`,
      headers,
    });
    const counts = plan.json<VisitPlan>().counts;
    expect(counts.done).toBeGreaterThan(0);
    expect(counts.due + counts.overdue).toBeGreaterThan(0);
    const monthly = plan.json<VisitPlan>().items.filter((i) => i.monthly);
    if (monthly.length > 0)
      expect(monthly.filter((i) => i.visitsThisMonth > 0).length).toBeGreaterThan(monthly.length / 2);
  });

  it('lists the seeded patrols, tracks and visits through the API (their ids are uuids the schemas accept)', async () => {
    const headers = await signIn('demo-worker');
    const patrols = await server.app.inject({
      method: 'GET',
      url: '/api/patrols?from=2026-11-06&to=2026-11-20&limit=200',
      headers,
    });
    expect(patrols.statusCode, patrols.body).toBe(200);
    const items = patrols.json<{ items: { id: string }[] }>().items;
    expect(items.length).toBeGreaterThan(5);
    const track = await server.app.inject({
      method: 'GET',
      url: `/api/patrols/${items[0]!.id}/track`,
      headers,
    });
    expect(track.statusCode, track.body).toBe(200);
    const visits = await server.app.inject({
      method: 'GET',
      url: `/api/visits?grid=${places.grid.code}&limit=200`,
      headers,
    });
    expect(visits.statusCode, visits.body).toBe(200);
    expect(visits.json<{ items: unknown[] }>().items.length).toBeGreaterThan(10);
  });
});
