import crypto from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { buildTerritory, territory } from '../../test/factories.ts';
import { resetDatabase, testDatabase } from '../../test/harness.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';
import { scanDeadlines } from './case.scanner.ts';

let db: Database;
const regions = new Map<string, { path: string; level: string }>();
let serial = 0;

/** A case straight into the table, with the timeline row that put it in its status. */
async function insertCase(input: {
  status: string;
  owner?: string;
  filedAt?: string;
  dispatchedAt?: string;
  acceptedAt?: string;
  acceptDueAt?: string;
  dueAt?: string;
  supervision?: string;
}): Promise<number> {
  const grid = regions.get(territory.gridA1)!;
  const ownerCode = input.owner ?? territory.communityA;
  const owner = regions.get(ownerCode)!;
  serial += 1;
  const at = input.dispatchedAt ?? input.filedAt ?? '2026-11-02T01:00:00Z';
  return db.orm.transaction(async (tx) => {
    const row = await one<{ id: number }>(
      tx,
      sql`insert into grid_case (client_id, serial, title, category_code, channel, status, grid_code, region_path,
            owner_region_code, owner_region_path, owner_level, reported_at, filed_at, dispatched_at, accepted_at,
            accept_due_at, due_at, supervision)
          values (${crypto.randomUUID()}, ${`2026-${territory.street}-${serial}`}, 'test', '0401', 'grid_worker',
            ${input.status}, ${territory.gridA1}, ${grid.path}, ${ownerCode}, ${owner.path}, ${owner.level},
            '2026-11-02T00:00:00Z', ${input.filedAt ?? '2026-11-02T01:00:00Z'}, ${input.dispatchedAt ?? null},
            ${input.acceptedAt ?? null}, ${input.acceptDueAt ?? null}, ${input.dueAt ?? null},
            ${input.supervision ?? 'none'})
          returning id::int as id`,
    );
    await tx.execute(sql`insert into case_timeline (case_id, at, actor_role, action, from_status, to_status)
      values (${row!.id}, ${at}, 'centre_operator', 'test', null, ${input.status})`);
    return row!.id;
  });
}

interface CaseState {
  status: string;
  overdue: boolean;
  overdue_since: string | null;
  owner_region_code: string;
  owner_level: string;
  supervision: string;
  version: number;
}

async function state(id: number): Promise<CaseState> {
  const row = await one<CaseState>(
    db.orm,
    sql`select status, overdue, overdue_since::text, owner_region_code, owner_level, supervision, version
        from grid_case where id = ${id}`,
  );
  return row!;
}

async function timeline(id: number) {
  return rows<{
    action: string;
    from_status: string | null;
    to_status: string;
    actor_id: number | null;
    actor_role: string;
    data: Record<string, unknown>;
  }>(
    db.orm,
    sql`select action, from_status, to_status, actor_id::int as actor_id, actor_role, data
        from case_timeline where case_id = ${id} order by id`,
  );
}

async function topics(): Promise<string[]> {
  const list = await rows<{ topic: string }>(db.orm, sql`select topic from outbox order by id`);
  return list.map((r) => r.topic);
}

/** The invariant the workflow relies on: the latest timeline row's to_status is the case's status. */
async function timelineMatchesStatus(): Promise<void> {
  const broken = await rows<{ id: number }>(
    db.orm,
    sql`select c.id::int as id from grid_case c
        where c.status is distinct from (select t.to_status from case_timeline t where t.case_id = c.id
                                         order by t.id desc limit 1)`,
  );
  expect(broken).toEqual([]);
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  const list = await rows<{ code: string; path: string; level: string }>(
    db.orm,
    sql`select code, path, level from region`,
  );
  for (const r of list) regions.set(r.code, { path: r.path, level: r.level });
});

beforeEach(async () => {
  await db.orm.execute(sql`delete from outbox`);
  await db.orm.execute(sql`delete from grid_case`);
});

describe('scanDeadlines', () => {
  // Frozen at Friday 2026-11-20 10:00 China time.
  const clock = fixedClock('2026-11-20T02:00:00Z');

  it('marks overdue cases once, with a timeline row and an outbox message', async () => {
    const late = await insertCase({
      status: 'in_progress',
      acceptedAt: '2026-11-10T01:00:00Z',
      dueAt: '2026-11-19T15:59:59.999Z',
    });
    const onTime = await insertCase({ status: 'in_progress', dueAt: '2026-11-20T15:59:59.999Z' });
    const closed = await insertCase({ status: 'closed', dueAt: '2026-11-01T15:59:59.999Z' });
    const noDeadline = await insertCase({ status: 'reported' });

    const first = await scanDeadlines({ db, clock, batchSize: 1 });
    expect(first.overdue).toBe(1);
    expect(await state(late)).toMatchObject({
      overdue: true,
      status: 'in_progress',
      version: 2, // overdue, then the yellow card
      supervision: 'yellow',
    });
    expect(new Date((await state(late)).overdue_since!).toISOString()).toBe('2026-11-19T15:59:59.999Z');
    const rowsOfLate = await timeline(late);
    expect(rowsOfLate.map((r) => r.action)).toEqual(['test', 'overdue', 'supervised']);
    expect(rowsOfLate[1]).toMatchObject({
      from_status: 'in_progress',
      to_status: 'in_progress',
      actor_id: null,
      actor_role: 'system',
    });
    expect(rowsOfLate[2]?.data).toEqual({ level: 'yellow', by: 'system' });
    for (const id of [onTime, closed, noDeadline])
      expect(await state(id)).toMatchObject({ overdue: false, version: 0 });
    expect(await topics()).toEqual(['case.overdue', 'case.supervised']);

    // Run twice, act once.
    expect(await scanDeadlines({ db, clock, batchSize: 1 })).toEqual({
      overdue: 0,
      escalated: 0,
      supervised: 0,
    });
    expect((await timeline(late)).length).toBe(3);
    expect((await state(late)).version).toBe(2);
    expect(await topics()).toHaveLength(2);
    await timelineMatchesStatus();
  });

  it('escalates an unaccepted dispatch one level up, once per dispatch, and stops at the city', async () => {
    const fromCommunity = await insertCase({
      status: 'dispatched',
      owner: territory.communityA,
      dispatchedAt: '2026-11-20T00:00:00Z',
      acceptDueAt: '2026-11-20T01:00:00Z',
      dueAt: '2026-11-25T15:59:59.999Z',
    });
    const fromStreet = await insertCase({
      status: 'dispatched',
      owner: territory.street,
      dispatchedAt: '2026-11-20T00:00:00Z',
      acceptDueAt: '2026-11-20T01:59:59Z',
    });
    const atCity = await insertCase({
      status: 'dispatched',
      owner: territory.city,
      dispatchedAt: '2026-11-20T00:00:00Z',
      acceptDueAt: '2026-11-20T01:00:00Z',
    });
    const notYet = await insertCase({
      status: 'dispatched',
      owner: territory.street,
      dispatchedAt: '2026-11-20T00:00:00Z',
      acceptDueAt: '2026-11-20T04:00:00Z',
    });
    const accepted = await insertCase({
      status: 'in_progress',
      owner: territory.street,
      dispatchedAt: '2026-11-20T00:00:00Z',
      acceptDueAt: '2026-11-20T01:00:00Z',
    });

    const first = await scanDeadlines({ db, clock });
    expect(first).toEqual({ overdue: 0, escalated: 2, supervised: 0 });
    expect(await state(fromCommunity)).toMatchObject({
      status: 'dispatched',
      owner_region_code: territory.street,
      owner_level: 'street',
      version: 1,
    });
    expect(await state(fromStreet)).toMatchObject({
      owner_region_code: territory.district,
      owner_level: 'district',
    });
    for (const id of [atCity, notYet, accepted]) expect((await state(id)).version).toBe(0);
    const [, escalation] = await timeline(fromCommunity);
    expect(escalation).toMatchObject({
      action: 'auto_escalated',
      from_status: 'dispatched',
      to_status: 'dispatched',
      actor_role: 'system',
      data: { fromRegion: territory.communityA, toRegion: territory.street, toLevel: 'street' },
    });
    expect(await topics()).toEqual(['case.escalated', 'case.escalated']);

    // Twice: nothing more, even though the accept deadline is still past.
    const later = fixedClock('2026-11-20T03:00:00Z');
    expect(await scanDeadlines({ db, clock: later })).toEqual({ overdue: 0, escalated: 0, supervised: 0 });
    expect((await state(fromCommunity)).owner_region_code).toBe(territory.street);

    // A new dispatch (a rework, say) that is again not accepted in time escalates again.
    await db.orm.execute(sql`update grid_case set dispatched_at = '2026-11-20T03:30:00Z',
      accept_due_at = '2026-11-20T04:30:00Z' where id = ${fromCommunity}`);
    await db.orm
      .execute(sql`insert into case_timeline (case_id, at, actor_role, action, from_status, to_status)
      values (${fromCommunity}, '2026-11-20T03:30:00Z', 'centre_operator', 'dispatch', 'dispatched', 'dispatched')`);
    expect((await scanDeadlines({ db, clock: fixedClock('2026-11-20T05:00:00Z') })).escalated).toBe(2);
    expect((await state(fromCommunity)).owner_region_code).toBe(territory.district);
    await timelineMatchesStatus();
  });

  it('raises supervision: yellow when overdue, red at twice the limit, never lowered; policy is configurable', async () => {
    // Stage start 11-10 01:00Z, due 11-15 01:00Z (a 5-day limit): at 11-20 02:00Z more than twice the limit is used.
    const red = await insertCase({
      status: 'in_progress',
      acceptedAt: '2026-11-10T01:00:00Z',
      dueAt: '2026-11-15T01:00:00Z',
    });
    // Start 11-10 01:00Z, due 11-18 01:00Z (8 days): 10 days used → yellow only.
    const yellow = await insertCase({
      status: 'in_progress',
      acceptedAt: '2026-11-10T01:00:00Z',
      dueAt: '2026-11-18T01:00:00Z',
    });
    // Already red by a person: stays red (the overdue mark still comes).
    const alreadyRed = await insertCase({
      status: 'inspecting',
      dueAt: '2026-11-19T01:00:00Z',
      supervision: 'red',
    });
    // Filed, not due yet: nothing.
    const fine = await insertCase({ status: 'filed', dueAt: '2026-11-30T01:00:00Z', supervision: 'normal' });

    const first = await scanDeadlines({ db, clock });
    expect(first).toEqual({ overdue: 3, escalated: 0, supervised: 2 });
    expect((await state(red)).supervision).toBe('red');
    expect((await state(yellow)).supervision).toBe('yellow');
    expect((await state(alreadyRed)).supervision).toBe('red');
    expect((await state(fine)).supervision).toBe('normal');
    expect((await timeline(red)).at(-1)).toMatchObject({
      action: 'supervised',
      data: { level: 'red', by: 'system' },
    });
    expect(await scanDeadlines({ db, clock })).toEqual({ overdue: 0, escalated: 0, supervised: 0 });

    // Two days later the 8-day case has used 12 of 8 days: still yellow at factor 2, red at factor 1.5.
    const later = fixedClock('2026-11-22T02:00:00Z');
    expect((await scanDeadlines({ db, clock: later })).supervised).toBe(0);
    expect(await scanDeadlines({ db, clock: later, policy: { redAtFactor: 1.5 } })).toMatchObject({
      supervised: 1,
    });
    expect((await state(yellow)).supervision).toBe('red');
    expect(await topics()).toEqual([
      'case.overdue',
      'case.overdue',
      'case.overdue',
      'case.supervised',
      'case.supervised',
      'case.supervised',
    ]);
    await timelineMatchesStatus();
  });
});
