import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from '@wangge/contracts';
import { fixedClock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { checkCharOf } from './person-id.ts';
import {
  anonymisedName,
  birthYearOnly,
  isDueForRetention,
  retentionCutoff,
  runRetention,
} from './registry.retention.ts';

const day = 86_400_000;

describe('retention rules (pure)', () => {
  const now = new Date('2026-11-20T02:00:00Z');
  it('cuts off the configured number of days before now', () => {
    expect(retentionCutoff(now, 730).toISOString()).toBe('2024-11-20T02:00:00.000Z');
  });
  it('is due only when moved out before the cutoff and not yet anonymised', () => {
    const old = new Date(now.getTime() - 731 * day);
    const recent = new Date(now.getTime() - 700 * day);
    expect(isDueForRetention({ status: 'moved_out', movedOutAt: old, anonymisedAt: null }, now, 730)).toBe(
      true,
    );
    expect(isDueForRetention({ status: 'moved_out', movedOutAt: recent, anonymisedAt: null }, now, 730)).toBe(
      false,
    );
    expect(isDueForRetention({ status: 'moved_out', movedOutAt: old, anonymisedAt: now }, now, 730)).toBe(
      false,
    );
    expect(isDueForRetention({ status: 'active', movedOutAt: old, anonymisedAt: null }, now, 730)).toBe(
      false,
    );
  });
  it('keeps only the year of a birth date', () => {
    expect(birthYearOnly('1945-03-12')).toBe('1945-01-01');
    expect(birthYearOnly(null)).toBeNull();
  });
});

function residentId(area: string, birth: string, sequence: string): string {
  const first17 = `${area}${birth}${sequence}`;
  return `${first17}${checkCharOf(first17)}`;
}

let db: Database;
let server: Wangge;
let worker: TestUser;
const clock = fixedClock('2024-01-10T00:00:00Z');
const oldLeaver = { id: residentId('230803', '19500607', '031'), phone: '13811112222' };
const recentLeaver = { id: residentId('230803', '19600708', '052'), phone: '13833334444' };
const stayer = { id: residentId('230803', '19700809', '073'), phone: '13855556666' };
const ids: Record<string, number> = {};

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db, { clock });
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
  const register = async (key: string, name: string, who: { id: string; phone: string }) => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/persons',
      headers: auth(worker),
      payload: {
        name,
        gender: 'male',
        idNumber: who.id,
        phone: who.phone,
        gridCode: t.gridA1,
        currentAddress: '光复路 1 号',
        tags: [{ kind: 'elderly_alone', fields: { careNeeds: '探访' } }],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    ids[key] = res.json<Person>().id;
  };
  const moveOut = async (key: string) => {
    const res = await server.app.inject({
      method: 'PATCH',
      url: `/api/persons/${ids[key]}`,
      headers: auth(worker),
      payload: { status: 'moved_out' },
    });
    expect(res.statusCode, res.body).toBe(200);
  };
  await register('old', '张老汉', oldLeaver);
  await register('recent', '李大爷', recentLeaver);
  await register('stay', '赵师傅', stayer);
  await moveOut('old'); // 2024-01-10
  clock.set('2025-06-01T00:00:00Z');
  await moveOut('recent');
});

afterAll(async () => {
  await server.app.close();
});

describe('runRetention', () => {
  it('anonymises persons moved out longer than the period, once, with one audit row per batch', async () => {
    const now = fixedClock('2026-11-20T02:00:00Z'); // 730 days after 2024-11-20: only the 2024-01-10 leaver
    expect(await runRetention({ db, clock: now, days: 730 })).toMatchObject({ anonymised: 1 });
    expect(await runRetention({ db, clock: now, days: 730 })).toMatchObject({ anonymised: 0 });

    const people = await rows<Record<string, unknown>>(
      db.orm,
      sql`select id::int as id, name, to_char(birth_date, 'YYYY-MM-DD') as birth_date, id_cipher, id_hash,
            id_masked, phone_cipher, phone_hash, phone_masked, current_address, anonymised_at is not null as anon,
            (select count(*)::int from person_tag t where t.person_id = person.id) as tags
          from person order by id`,
    );
    const old = people.find((p) => p.id === ids.old)!;
    expect(old).toMatchObject({
      name: anonymisedName,
      birth_date: '1950-01-01',
      id_cipher: '',
      id_masked: '******',
      phone_cipher: null,
      phone_hash: null,
      phone_masked: null,
      current_address: null,
      anon: true,
      tags: 0,
    });
    expect(String(old.id_hash)).toMatch(/^anonymised:/);
    for (const key of ['recent', 'stay'])
      expect(people.find((p) => p.id === ids[key])).toMatchObject({ anon: false, tags: 1 });

    const dump = JSON.stringify(people.filter((p) => p.id === ids.old));
    expect(dump).not.toContain(oldLeaver.id.slice(0, 14));
    expect(dump).not.toContain(oldLeaver.phone);

    const audit = await rows<{ actor_id: number | null; detail: Record<string, unknown> }>(
      db.orm,
      sql`select actor_id, detail from audit_log where action = 'registry.retention' order by id`,
    );
    expect(audit).toEqual([{ actor_id: null, detail: { count: 1, days: 730 } }]);
  });

  it('a shorter period reaches the recent leaver too; the stayer is never touched; edits are refused', async () => {
    const now = fixedClock('2026-11-20T02:00:00Z');
    expect(await runRetention({ db, clock: now, days: 30 })).toMatchObject({ anonymised: 1 });
    const left = await rows<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from person where anonymised_at is null`,
    );
    expect(left).toEqual([{ n: 1 }]);
    const res = await server.app.inject({
      method: 'PATCH',
      url: `/api/persons/${ids.old}`,
      headers: auth(worker),
      payload: { name: '复原' },
    });
    expect(res.statusCode).toBe(409);
  });
});
