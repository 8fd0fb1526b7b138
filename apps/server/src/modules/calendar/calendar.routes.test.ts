import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, countRows, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';
import { ensureDefaultCalendar, getWorkCalendar, stageDue } from './index.ts';

let db: Database;
let server: Wangge;
let admin: TestUser;
let operator: TestUser;
const clock = fixedClock('2026-11-20T02:00:00Z');

const notice2027 = {
  source: '国办发明电〔2026〕test',
  holidays: [
    { name: '元旦', days: ['2027-01-01'] },
    {
      name: '春节',
      days: ['2027-02-06', '2027-02-07', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11'],
    },
  ],
  makeUpWorkdays: [{ name: '春节调休', day: '2027-02-13' }, '2027-02-14'],
};

const put = (user: TestUser | null, year: string, body: unknown) =>
  server.app.inject({
    method: 'PUT',
    url: `/api/calendar/${year}`,
    headers: user ? auth(user) : {},
    payload: body as object,
  });
const get = (user: TestUser | null, url: string) =>
  server.app.inject({ method: 'GET', url, headers: user ? auth(user) : {} });

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  expect(await ensureDefaultCalendar(db.orm)).toEqual([2025, 2026]);
  await ensureDefaultTaxonomy(db.orm);
  server = await testServer(db, { clock });
  admin = await makeUser(db, [{ role: 'admin', regionCode: null }]);
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.city }]);
});

describe('default calendar', () => {
  it('loads cn-holidays.json once', async () => {
    const days = await countRows(db, 'calendar_day');
    expect(days).toBeGreaterThan(60);
    expect(await ensureDefaultCalendar(db.orm)).toEqual([]);
    expect(await countRows(db, 'calendar_day')).toBe(days);
    expect(await countRows(db, 'calendar_year')).toBe(2);
  });

  it('stageDue: 3 working days from Wednesday 2026-09-30 fall due at the end of Saturday 2026-10-10', async () => {
    const frozen = fixedClock('2026-09-30T02:00:00Z');
    // 0201 (suspicious persons or places): handle in 3 working days, accept in 2 hours.
    const handle = await stageDue({
      ex: db.orm,
      categoryCode: '0201',
      level: 'street',
      stage: 'handle',
      from: frozen.now(),
    });
    expect(handle).toEqual({ dueAt: new Date('2026-10-10T23:59:59.999+08:00'), beyondCalendar: false });
    const accept = await stageDue({
      ex: db.orm,
      categoryCode: '0201',
      level: 'street',
      stage: 'accept',
      from: frozen.now(),
    });
    expect(accept.dueAt.toISOString()).toBe('2026-09-30T04:00:00.000Z');
    const inspect = await stageDue({
      ex: db.orm,
      categoryCode: '0201',
      level: 'street',
      stage: 'inspect',
      from: frozen.now(),
    });
    expect(inspect.dueAt).toEqual(new Date('2026-10-08T23:59:59.999+08:00'));
  });

  it('stageDue uses the per-level limits and refuses an unknown item', async () => {
    await db.orm
      .execute(sql`update case_category set limits_by_level = '{"district": {"handleWorkingDays": 1}}'::jsonb
      where code = '0201'`);
    const due = await stageDue({
      ex: db.orm,
      categoryCode: '0201',
      level: 'district',
      stage: 'handle',
      from: new Date('2026-09-30T02:00:00Z'),
    });
    expect(due.dueAt).toEqual(new Date('2026-10-08T23:59:59.999+08:00'));
    await db.orm.execute(sql`update case_category set limits_by_level = '{}'::jsonb where code = '0201'`);
    await expect(
      stageDue({ ex: db.orm, categoryCode: '9999', level: 'street', stage: 'handle', from: new Date() }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('calendar routes', () => {
  it('GET /api/calendar: 401 without a session; the years, and a warning once 2027 is due but missing', async () => {
    expect((await get(null, '/api/calendar')).statusCode).toBe(401);
    const response = await get(operator, '/api/calendar');
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      years: { year: number }[];
      lastKnownYear: number;
      warning: string | null;
    }>();
    expect(body.years.map((y) => y.year)).toEqual([2025, 2026]);
    expect(body.lastKnownYear).toBe(2026);
    expect(body.warning).toContain('2027');
  });

  it('GET /api/calendar/:year: the days; 404 for a missing year, 400 for nonsense', async () => {
    const response = await get(operator, '/api/calendar/2026');
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      holidays: { name: string; days: string[] }[];
      makeUpWorkdays: { day: string }[];
    }>();
    expect(body.holidays.find((h) => h.name === '国庆节')?.days).toHaveLength(7);
    expect(body.makeUpWorkdays.map((d) => d.day)).toContain('2026-10-10');
    expect((await get(operator, '/api/calendar/2030')).statusCode).toBe(404);
    expect((await get(operator, '/api/calendar/abc')).statusCode).toBe(400);
    expect((await get(null, '/api/calendar/2026')).statusCode).toBe(401);
  });

  it('PUT /api/calendar/:year: 401, 403, 400', async () => {
    expect((await put(null, '2027', notice2027)).statusCode).toBe(401);
    expect((await put(operator, '2027', notice2027)).statusCode).toBe(403);
    const outside = await put(admin, '2027', { ...notice2027, makeUpWorkdays: ['2026-12-27'] });
    expect(outside.statusCode).toBe(400);
    expect(outside.json<{ fields: { field: string }[] }>().fields[0]?.field).toBe('body.makeUpWorkdays.0');
    const twice = await put(admin, '2027', {
      holidays: [{ name: '元旦', days: ['2027-01-01'] }],
      makeUpWorkdays: ['2027-01-01'],
    });
    expect(twice.statusCode).toBe(400);
    expect(
      (await put(admin, '2027', { holidays: [{ name: '元旦', days: ['2027-13-01'] }] })).statusCode,
    ).toBe(400);
    expect(await countRows(db, 'calendar_year')).toBe(2);
  });

  it('PUT /api/calendar/:year loads a year atomically, audited, and deadlines see it at once', async () => {
    const before = await getWorkCalendar(db.orm);
    expect(before.addWorkingDays(new Date('2026-12-30T12:00:00+08:00'), 3).beyondCalendar).toBe(true);
    const audit = await countRows(db, 'audit_log');
    const response = await put(admin, '2027', notice2027);
    expect(response.statusCode).toBe(200);
    expect(response.json<{ makeUpWorkdays: { name: string; day: string }[] }>().makeUpWorkdays).toEqual([
      { name: '春节调休', day: '2027-02-13' },
      { name: '调休上班', day: '2027-02-14' },
    ]);
    expect(await countRows(db, 'audit_log')).toBe(audit + 1);
    const [entry] = await rows<{ action: string; object_id: string }>(
      db.orm,
      sql`select action, object_id from audit_log order by id desc limit 1`,
    );
    expect(entry).toEqual({ action: 'calendar.year_replaced', object_id: '2027' });

    const after = await getWorkCalendar(db.orm);
    expect(after.addWorkingDays(new Date('2026-12-30T12:00:00+08:00'), 3)).toEqual({
      dueAt: new Date('2027-01-05T23:59:59.999+08:00'),
      beyondCalendar: false,
    });
    const summary = (await get(operator, '/api/calendar')).json<{
      lastKnownYear: number;
      warning: unknown;
    }>();
    expect(summary).toMatchObject({ lastKnownYear: 2027, warning: null });

    // Replacing again swaps the whole year.
    const again = await put(admin, '2027', {
      holidays: [{ name: '元旦', days: ['2027-01-01'] }],
      makeUpWorkdays: [],
    });
    expect(again.statusCode).toBe(200);
    const days = await rows<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from calendar_day where year = 2027`,
    );
    expect(days[0]?.n).toBe(1);
    expect((await getWorkCalendar(db.orm)).isWorkingDay('2027-02-08')).toBe(true);
  });
});
