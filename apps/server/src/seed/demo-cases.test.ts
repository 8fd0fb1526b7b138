import crypto from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiReport } from '@wangge/contracts';
import { caseChannelValues, caseStatusValues } from '@wangge/contracts';
import { fixedClock } from '../platform/clock.ts';
import { one, rows, sql, type Database } from '../platform/db.ts';
import { getWorkCalendar } from '../modules/calendar/index.ts';
import { loadSecretBox } from '../platform/crypto.ts';
import { resetDatabase, testConfig, testDatabase, testServer } from '../test/harness.ts';
import { auth, makeUser } from '../test/factories.ts';
import type { Wangge } from '../server.ts';
import { categoryItems, generateDemoCases } from './demo-cases.ts';
import { generateDemoCity, seedDemoCity } from './demo-city.ts';
import { demoDepartments } from './departments.ts';

const logger = pino({ level: 'silent' });
const now = new Date('2026-11-24T02:00:00Z');

let db: Database;
let server: Wangge;
let seeded: Record<string, number>;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  seeded = await seedDemoCity(db, { now, logger, secrets: loadSecretBox({ dataDir: testConfig().dataDir }) });
  server = await testServer(db, { clock: fixedClock(now) });
});

afterAll(async () => {
  await server?.app.close();
});

describe('demo cases', () => {
  it('are generated deterministically', async () => {
    const calendar = await getWorkCalendar(db.orm);
    const items = await categoryItems(db.orm);
    const options = {
      regions: generateDemoCity(),
      items,
      departmentKeys: demoDepartments.map((d) => d.code),
      calendar,
      now,
    };
    const hash = (value: unknown) => crypto.createHash('sha256').update(JSON.stringify(value)).digest('hex');
    const first = generateDemoCases(options);
    expect(hash(generateDemoCases(options))).toBe(hash(first));
    // and the seed stored exactly these
    const stored = await one<{ n: number; serials: string }>(
      db.orm,
      sql`select count(*)::int as n, md5(string_agg(serial || ':' || client_id::text || ':' || status, ',' order by serial)) as serials
          from grid_case`,
    );
    const expected = crypto
      .createHash('md5')
      .update(
        first
          .map((c) => `${c.serial}:${c.clientId}:${c.status}`)
          .sort()
          .join(','),
      )
      .digest('hex');
    expect(stored).toEqual({ n: first.length, serials: expected });
  });

  it('cover about 90 days, every status and every channel, with 3,000–6,000 cases', async () => {
    expect(seeded.cases).toBeGreaterThanOrEqual(3000);
    expect(seeded.cases).toBeLessThanOrEqual(6000);
    const statuses = await rows<{ status: string }>(
      db.orm,
      sql`select distinct status from grid_case order by 1`,
    );
    expect(statuses.map((s) => s.status).sort()).toEqual([...caseStatusValues].sort());
    const channels = await rows<{ channel: string }>(db.orm, sql`select distinct channel from grid_case`);
    expect(channels.map((c) => c.channel).sort()).toEqual([...caseChannelValues].sort());
    const span = await one<{ first: string; last: string }>(
      db.orm,
      sql`select min(reported_at) as first, max(reported_at) as last from grid_case`,
    );
    const days = (now.getTime() - new Date(span!.first).getTime()) / 86_400_000;
    expect(days).toBeGreaterThan(88);
    expect(days).toBeLessThanOrEqual(90);
    expect(new Date(span!.last).getTime()).toBeLessThan(now.getTime());
    // overlays and hard cases are there
    const overlays = await one<Record<string, number>>(
      db.orm,
      sql`select count(*) filter (where overdue)::int as overdue,
                 count(*) filter (where rework_count > 0)::int as reworked,
                 count(*) filter (where evaluation = 'dissatisfied')::int as dissatisfied,
                 count(*) filter (where urgent)::int as urgent,
                 count(*) filter (where supervision = 'yellow')::int as yellow,
                 count(*) filter (where supervision = 'red')::int as red,
                 count(*) filter (where supervision = 'normal')::int as normal,
                 count(*) filter (where instructed)::int as instructed,
                 count(*) filter (where parent_case_id is not null)::int as duplicates
          from grid_case`,
    );
    for (const [key, value] of Object.entries(overlays!)) expect(value, key).toBeGreaterThan(0);
  });

  it('have timelines that replay to each case’s status, in time order', async () => {
    const broken = await one<{ bad_chain: number; bad_last: number; bad_time: number; without: number }>(
      db.orm,
      sql`with ordered as (
            select case_id, at, from_status, to_status,
                   row_number() over (partition by case_id order by id) as n,
                   lag(to_status) over (partition by case_id order by id) as previous,
                   lag(at) over (partition by case_id order by id) as previous_at,
                   row_number() over (partition by case_id order by id desc) as from_end
            from case_timeline)
          select
            count(*) filter (where (n = 1 and (from_status is not null or to_status <> 'reported'))
                               or (n > 1 and from_status is distinct from previous))::int as bad_chain,
            (select count(*)::int from grid_case c join ordered o on o.case_id = c.id and o.from_end = 1
              where o.to_status <> c.status) as bad_last,
            count(*) filter (where at < previous_at)::int as bad_time,
            (select count(*)::int from grid_case c where not exists (select 1 from case_timeline t where t.case_id = c.id))
              as without
          from ordered`,
    );
    expect(broken).toEqual({ bad_chain: 0, bad_last: 0, bad_time: 0, without: 0 });
  });

  it('are consistent rows: serials, counters, points in their grid, reporters, departments', async () => {
    const checks = await one<Record<string, number>>(
      db.orm,
      sql`select
            (select count(*)::int from grid_case where serial !~ ('^2026-' || split_part(region_path, '.', 2) || '-\\d{6}$'))
              as bad_serial,
            (select count(*)::int from case_serial_counter k
              where k.last_value <> (select count(*) from grid_case c
                where split_part(c.serial, '-', 1)::int = k.year and split_part(c.serial, '-', 2) = k.region_code))
              as bad_counter,
            (select count(*)::int from grid_case c join region_boundary b on b.region_code = c.grid_code and b.valid_to is null
              where not ST_Contains(b.geom, c.location)) as outside_grid,
            (select count(*)::int from grid_case c left join app_user u on u.id = c.reporter_user_id
              where c.channel = 'grid_worker' and u.username is distinct from 'gw-' || c.grid_code) as bad_worker,
            (select count(*)::int from grid_case where channel in ('resident', 'wish', 'hotline')
              and reporter_contact_masked !~ '^1\\d{2}\\*{4}\\d{4}$') as bad_contact,
            (select count(*)::int from grid_case where channel = 'hotline'
              and (hotline ->> 'workOrderNo' is null or hotline ->> 'callerName' is null or hotline ->> 'callTime' is null))
              as bad_hotline,
            (select count(*)::int from grid_case where channel <> 'hotline' and hotline is not null) as stray_hotline,
            (select count(*)::int from grid_case c where c.dispatched_at is not null and not exists
              (select 1 from case_department d where d.case_id = c.id and d.role = 'lead'
                 and d.department_id = c.lead_department_id)) as missing_lead,
            (select count(*)::int from grid_case c join case_category k on k.code = c.category_code
              join department d on d.id = c.lead_department_id where d.code <> k.department_key) as wrong_department,
            (select count(*)::int from grid_case where status in ('closed', 'evaluated') and closed_at is null) as no_closed_at,
            (select count(*)::int from grid_case where status not in ('closed', 'evaluated', 'not_filed', 'duplicate')
              and overdue and (due_at is null or due_at >= ${now.toISOString()}::timestamptz)) as bad_overdue,
            -- the due time a transition would write for the status (case.transition.ts currentDue): a suspended
            -- case has none, so that the scanner cannot mark it overdue while its clock is stopped
            (select count(*)::int from grid_case where status not in ('reported', 'verifying') and due_at is distinct from
              case when status in ('filed', 'in_progress') then handle_due_at when status = 'dispatched' then accept_due_at
                   when status in ('responded', 'inspecting') then inspect_due_at end) as stage_due_mismatch`,
    );
    expect(checks).toEqual({
      bad_serial: 0,
      bad_counter: 0,
      outside_grid: 0,
      bad_worker: 0,
      bad_contact: 0,
      bad_hotline: 0,
      stray_hotline: 0,
      missing_lead: 0,
      wrong_department: 0,
      no_closed_at: 0,
      bad_overdue: 0,
      stage_due_mismatch: 0,
    });
  });

  it('give plausible KPIs for the city', async () => {
    const admin = await makeUser(db, [{ role: 'admin', regionCode: null }]);
    // The two months before the last fortnight: most of those cases have run their course.
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/kpis?region=230800&from=2026-09-01&to=2026-11-10&by=department',
      headers: auth(admin),
    });
    expect(response.statusCode, response.body).toBe(200);
    const kpis = response.json<KpiReport>();
    const { rates, counts } = kpis;
    expect(counts.accepted).toBeGreaterThan(2000);
    expect(rates.filingRate.value).toBeGreaterThan(0.93);
    expect(rates.resolutionRate.value).toBeGreaterThan(0.85);
    expect(rates.resolutionRate.value).toBeLessThan(0.99);
    expect(rates.satisfactionRate.value).toBeGreaterThan(0.8);
    expect(rates.satisfactionRate.value).toBeLessThan(0.97);
    expect(rates.onTimeClosureRate.value).toBeGreaterThan(0.7);
    expect(rates.reworkRate.value).toBeGreaterThan(0.01);
    expect(rates.reworkRate.value).toBeLessThan(0.15);
    expect(counts.overdueNow).toBeGreaterThan(0);
    const scored = kpis.groups.filter((g) => g.score !== null && g.key !== null);
    expect(scored.length).toBeGreaterThan(5);
    for (const g of scored) expect(g.score).toBeGreaterThan(40);
  });
});
