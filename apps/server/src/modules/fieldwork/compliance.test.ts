import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Building, ComplianceReport, ComplianceRow, Household } from '@wangge/contracts';
import { sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { ensureDefaultCalendar } from '../calendar/index.ts';
import { checkCharOf } from '../registry/person-id.ts';

/**
 * The compliance fixture: grid B2 (the square 130.4–130.5 E, 46.9–47.0 N), worker W (grids B1 and B2), worker W2
 * (grid B2, no patrols), October 2026: National Day holidays 1–7 October, Saturday 10 October a make-up workday.
 * Every expected figure below is computed by hand from the sessions and visits, in China time (UTC+8).
 */

function residentId(area: string, birth: string, sequence: string): string {
  const first17 = `${area}${birth}${sequence}`;
  return `${first17}${checkCharOf(first17)}`;
}

let db: Database;
let server: Wangge;
let w: TestUser;
let w2: TestUser;
let operatorB: TestUser;
let resident: TestUser;

const post = (user: TestUser, url: string, payload: object) =>
  server.app.inject({ method: 'POST', url, headers: auth(user), payload });
const get = (user: TestUser, url: string) => server.app.inject({ method: 'GET', url, headers: auth(user) });

/** China local time → ISO instant. */
const cn = (local: string) => new Date(`${local}+08:00`).toISOString();

async function patrol(
  user: TestUser,
  grid: string,
  from: string,
  to: string | null,
  points: { at: string; lng: number; lat: number }[] = [],
): Promise<void> {
  const id = crypto.randomUUID();
  const started = await post(user, '/api/patrols', { id, gridCode: grid, startedAt: cn(from) });
  expect(started.statusCode, started.body).toBe(201);
  if (points.length > 0) {
    const sent = await post(user, `/api/patrols/${id}/points`, {
      batchId: crypto.randomUUID(),
      points: points.map((p) => ({ ...p, at: cn(p.at) })),
    });
    expect(sent.statusCode, sent.body).toBe(200);
  }
  if (to !== null)
    expect((await post(user, `/api/patrols/${id}/actions/stop`, { endedAt: cn(to) })).statusCode).toBe(200);
}

async function visit(user: TestUser, householdId: number, local: string): Promise<void> {
  const response = await post(user, '/api/visits', {
    clientId: crypto.randomUUID(),
    householdId,
    kind: 'routine',
    visitedAt: cn(local),
  });
  expect(response.statusCode, response.body).toBe(201);
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultCalendar(db.orm);
  server = await testServer(db);
  w = await makeUser(db, [
    { role: 'grid_worker', regionCode: t.gridB1 },
    { role: 'grid_worker', regionCode: t.gridB2 },
  ]);
  w2 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridB2 }]);
  operatorB = await makeUser(db, [{ role: 'centre_operator', regionCode: t.communityB }]);
  resident = await makeUser(db, [{ role: 'resident', regionCode: t.gridB2 }]);

  // Households of B2: H1 and H2 monthly (a tagged member), H3, H4, H6 plain (H6's tagged member moved out), H5
  // moved out itself (not counted).
  const building = (
    await post(w, '/api/buildings', { gridCode: t.gridB2, name: '8号楼', kind: 'residential' })
  ).json<Building>();
  const households: Household[] = [];
  for (const room of ['101', '102', '103', '104', '105', '106']) {
    const response = await post(w, '/api/households', { buildingId: building.id, kind: 'registered', room });
    expect(response.statusCode, response.body).toBe(201);
    households.push(response.json<Household>());
  }
  const [h1, h2, h3, h4, h5, h6] = households.map((h) => h.id) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const person = async (householdId: number, sequence: string, tags: object[]) => {
    const response = await post(w, '/api/persons', {
      name: `居民${sequence}`,
      gender: 'female',
      idNumber: residentId('230803', '19400101', sequence),
      gridCode: t.gridB2,
      householdId,
      relationToHead: 'head',
      tags,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: number }>().id;
  };
  await person(h1, '101', [{ kind: 'elderly_alone', fields: {} }]);
  await person(h2, '102', [{ kind: 'disabled', fields: { grade: 1 } }]);
  await person(h3, '103', []);
  const gone = await person(h6, '106', [{ kind: 'low_income', fields: {} }]);

  // Patrol sessions of W in B2 (China time):
  // S0  9-30 22:00 → 10-01 02:00   (a point outside the grid on 9-30: before the period)
  await patrol(w, t.gridB2, '2026-09-30T22:00:00', '2026-10-01T02:00:00', [
    { at: '2026-09-30T23:00:00', lng: 130.5132, lat: 46.95 },
  ]);
  // S1  10-07 22:00 → 10-08 03:00
  await patrol(w, t.gridB2, '2026-10-07T22:00:00', '2026-10-08T03:00:00');
  // S2  10-08 09:00 → 10:00
  await patrol(w, t.gridB2, '2026-10-08T09:00:00', '2026-10-08T10:00:00');
  // S3  10-09 08:00 → 11:30, one point 1 km east of the grid
  await patrol(w, t.gridB2, '2026-10-09T08:00:00', '2026-10-09T11:30:00', [
    { at: '2026-10-09T08:10:00', lng: 130.45, lat: 46.95 },
    { at: '2026-10-09T08:20:00', lng: 130.5132, lat: 46.95 },
    { at: '2026-10-09T08:30:00', lng: 130.451, lat: 46.95 },
  ]);
  // S4  10-10 (make-up workday) 13:00 → 17:00
  await patrol(w, t.gridB2, '2026-10-10T13:00:00', '2026-10-10T17:00:00');
  // S5  10-11 (Sunday) 09:00 → 14:00, with a 1 km jump in 10 s
  await patrol(w, t.gridB2, '2026-10-11T09:00:00', '2026-10-11T14:00:00', [
    { at: '2026-10-11T09:10:00', lng: 130.45, lat: 46.95 },
    { at: '2026-10-11T09:10:10', lng: 130.4632, lat: 46.95 },
    { at: '2026-10-11T09:20:00', lng: 130.451, lat: 46.95 },
  ]);
  // S6  10-12 23:00 → 10-13 01:00
  await patrol(w, t.gridB2, '2026-10-12T23:00:00', '2026-10-13T01:00:00');
  // S7  10-12 08:00, never stopped: counted for 12 hours at most, to 20:00
  await patrol(w, t.gridB2, '2026-10-12T08:00:00', null);
  // S8  W in the other grid, B1: 10-09 12:00 → 13:00
  await patrol(w, t.gridB1, '2026-10-09T12:00:00', '2026-10-09T13:00:00');

  // Visits (anyone's count for the grid's coverage):
  await visit(w, h1, '2026-10-03T10:00:00');
  await visit(w, h1, '2026-10-09T15:00:00');
  await visit(w, h2, '2026-09-28T10:00:00'); // previous quarter
  await visit(w, h2, '2026-10-13T10:00:00'); // after `on`
  await visit(w, h3, '2026-10-02T10:00:00');
  await visit(w2, h3, '2026-10-11T16:00:00');
  await visit(w, h4, '2026-10-05T10:00:00');
  await visit(w, h5, '2026-10-05T11:00:00');
  await visit(w, h5, '2026-10-06T11:00:00');
  await visit(w, h6, '2026-10-01T00:10:00'); // first minutes of the quarter (9-30 16:10 UTC)
  await visit(w, h6, '2026-10-12T23:30:00'); // last minutes of `on` (10-12 15:30 UTC)
  await db.orm.execute(sql`update household set status = 'moved_out' where id = ${h5}`);
  await db.orm.execute(sql`update person set status = 'moved_out' where id = ${gone}`);
});

afterAll(async () => {
  await server.app.close();
});

const rowOf = (report: ComplianceReport, user: TestUser, grid: string): ComplianceRow => {
  const row = report.rows.find((r) => r.userId === user.id && r.gridCode === grid);
  expect(row, `${user.username} ${grid}`).toBeDefined();
  return row!;
};

/**
 * Visits up to 10-12 in Q4 (from 10-01): H1 2 (10-03, 10-09) ✓; H2 0 (9-28 is last quarter, 10-13 after `on`) ✗;
 * H3 2 (10-02, 10-11 by W2) ✓; H4 1 ✗; H6 2 (10-01 00:10, 10-12 23:30) ✓; H5 moved out, not counted.
 * households 5, covered 3 → 3/5 = 0.6.
 * Monthly households (active member with a monthly tag): H1, H2 (H6's tagged member moved out) → 2; visited in
 * October up to 10-12: H1 only → 1/2 = 0.5.
 */
const visitsB2 = { households: 5, covered: 3, ratio: 0.6 };
const vulnerableB2 = { households: 2, covered: 1, ratio: 0.5 };

describe('compliance against hand-computed figures', () => {
  it('month of 2026-10-12 for W in B2', async () => {
    const response = await get(w, '/api/compliance?period=month&on=2026-10-12');
    expect(response.statusCode, response.body).toBe(200);
    const report = response.json<ComplianceReport>();
    expect(report).toMatchObject({ period: 'month', from: '2026-10-01', to: '2026-10-12', on: '2026-10-12' });
    // A plain worker sees their own rows only (not W2's): B1 and B2.
    expect(report.rows.map((r) => [r.userId, r.gridCode])).toEqual([
      [w.id, t.gridB1],
      [w.id, t.gridB2],
    ]);
    /*
     * Patrol seconds per China day in October up to 10-12 (B2):
     *   10-01  S0 00:00–02:00                      2 h     holiday
     *   10-07  S1 22:00–24:00                      2 h     holiday
     *   10-08  S1 00:00–03:00 3 h + S2 1 h         4 h     working  ✓ (≥ 4 h)
     *   10-09  S3 08:00–11:30                      3.5 h   working  ✗
     *   10-10  S4 13:00–17:00                      4 h     working (make-up day)  ✓
     *   10-11  S5 09:00–14:00                      5 h     Sunday, not a working day
     *   10-12  S6 23:00–24:00 1 h + S7 08:00–20:00 12 h (capped)   13 h   working  ✓
     *   (S6's hour on 10-13 is after `on`; S0's 2 h on 9-30 are before the month; S8 is in B1)
     * seconds = (2 + 2 + 4 + 3.5 + 4 + 5 + 13) × 3600 = 33.5 × 3600 = 120600
     * working days 10-01…10-12: 10-08, 10-09, 10-10 (make-up), 10-12 → 4; met: 10-08, 10-10, 10-12 → 3; 3/4 = 0.75
     * flags in October: S3's point 1 km east (outside_grid) and S5's 1 km jump in 10 s (impossible_speed); S0's
     * outside point is on 9-30 (not in the period).
     */
    expect(rowOf(report, w, t.gridB2)).toEqual({
      userId: w.id,
      userName: w.username,
      gridCode: t.gridB2,
      gridName: '东林二网格',
      patrol: { seconds: 120600, workingDays: 4, daysMet: 3, ratio: 0.75 },
      visits: visitsB2,
      vulnerable: vulnerableB2,
      flags: { outsideGrid: 1, impossibleSpeed: 1, repeatedCoordinates: 0 },
    });
    // B1: S8 1 h on 10-09 → 3600 s, no day met → 0/4 = 0; B1 has no households → ratios 1.
    expect(rowOf(report, w, t.gridB1)).toMatchObject({
      patrol: { seconds: 3600, workingDays: 4, daysMet: 0, ratio: 0 },
      visits: { households: 0, covered: 0, ratio: 1 },
      vulnerable: { households: 0, covered: 0, ratio: 1 },
      flags: { outsideGrid: 0, impossibleSpeed: 0, repeatedCoordinates: 0 },
    });
  });

  it('quarter, day (a holiday and a working day) and the previous month', async () => {
    // Q4 starts 10-01, so up to 10-12 the quarter equals the month.
    const quarter = (await get(w, '/api/compliance?period=quarter&on=2026-10-12')).json<ComplianceReport>();
    expect(quarter.from).toBe('2026-10-01');
    expect(rowOf(quarter, w, t.gridB2).patrol).toEqual({
      seconds: 120600,
      workingDays: 4,
      daysMet: 3,
      ratio: 0.75,
    });
    // 10-07, a holiday: S1's 2 h before midnight; no working day → ratio 1.
    const holiday = (await get(w, '/api/compliance?period=day&on=2026-10-07')).json<ComplianceReport>();
    expect(rowOf(holiday, w, t.gridB2).patrol).toEqual({
      seconds: 7200,
      workingDays: 0,
      daysMet: 0,
      ratio: 1,
    });
    // 10-09: 3.5 h = 12600 s on a working day, not met → 0; S3's outside point is on this day.
    const day = (await get(w, '/api/compliance?period=day&on=2026-10-09')).json<ComplianceReport>();
    expect(rowOf(day, w, t.gridB2)).toMatchObject({
      patrol: { seconds: 12600, workingDays: 1, daysMet: 0, ratio: 0 },
      flags: { outsideGrid: 1, impossibleSpeed: 0, repeatedCoordinates: 0 },
      // visits keep to the quarter / month containing `on`, up to `on` (10-09): H1 2 ✓, H3 1, H6 1 → 1/5;
      // vulnerable: H1 visited → 1/2.
      visits: { households: 5, covered: 1, ratio: 0.2 },
      vulnerable: { households: 2, covered: 1, ratio: 0.5 },
    });
    // September up to 9-30: S0's 2 h on 9-30 (22:00–24:00), 9-30 is a working day but not met. September 2026 has
    // 22 weekdays and the make-up Sunday 9-20, minus the Mid-Autumn Friday 9-25 → 22 working days; 0/22 = 0.
    const september = (await get(w, '/api/compliance?period=month&on=2026-09-30')).json<ComplianceReport>();
    expect(rowOf(september, w, t.gridB2)).toMatchObject({
      patrol: { seconds: 7200, workingDays: 22, daysMet: 0, ratio: 0 },
      flags: { outsideGrid: 1, impossibleSpeed: 0, repeatedCoordinates: 0 },
    });
  });

  it('a monitor sees every worker of the region; out of scope is 404, no permission 403', async () => {
    const response = await get(
      operatorB,
      `/api/compliance?region=${t.communityB}&period=month&on=2026-10-12`,
    );
    expect(response.statusCode, response.body).toBe(200);
    const report = response.json<ComplianceReport>();
    expect(report.rows.map((r) => [r.userId, r.gridCode])).toEqual([
      [w.id, t.gridB1],
      [w.id, t.gridB2],
      [w2.id, t.gridB2],
    ]);
    // W2 never patrolled: 0 of 4 working days; the grid's visit figures are the same for both workers.
    expect(rowOf(report, w2, t.gridB2)).toMatchObject({
      patrol: { seconds: 0, workingDays: 4, daysMet: 0, ratio: 0 },
      visits: visitsB2,
      vulnerable: vulnerableB2,
      flags: { outsideGrid: 0, impossibleSpeed: 0, repeatedCoordinates: 0 },
    });
    expect(rowOf(report, w, t.gridB2)).toEqual(
      rowOf((await get(w, '/api/compliance?on=2026-10-12')).json<ComplianceReport>(), w, t.gridB2),
    );
    expect((await get(operatorB, `/api/compliance?region=${t.gridA1}`)).statusCode).toBe(404);
    expect((await get(w, `/api/compliance?region=${t.communityB}`)).statusCode).toBe(404);
    expect(
      (await get(w, `/api/compliance?region=${t.gridB2}&on=2026-10-12`)).json<ComplianceReport>().rows,
    ).toHaveLength(1);
    expect((await get(resident, '/api/compliance')).statusCode).toBe(403);
    const bad = await get(w, '/api/compliance?period=week');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe('querystring.period');
  });
});
