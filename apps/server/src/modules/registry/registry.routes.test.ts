import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuditReads,
  Building,
  GridSizing,
  Household,
  Person,
  PersonHousehold,
  PersonList,
  RegistryStats,
} from '@wangge/contracts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { checkCharOf } from './person-id.ts';
import { gridSizingFlag, mayTouchTag } from './registry.service.ts';

function residentId(area: string, birth: string, sequence: string): string {
  const first17 = `${area}${birth}${sequence}`;
  return `${first17}${checkCharOf(first17)}`;
}

/** Three residents: two in grid A1 (one with tags of two specialties), one in grid B1. */
const alice = { id: residentId('230803', '19450312', '042'), phone: '13912345678' };
const bob = { id: residentId('230803', '19800101', '013'), phone: '13687654321' };
const carol = { id: residentId('230804', '19921120', '026'), phone: '15011112222' };
const plainValues = [alice.id, alice.phone, bob.id, bob.phone, carol.id, carol.phone];

let db: Database;
let server: Wangge;
let admin: TestUser;
let workerA1: TestUser;
let workerB1: TestUser;
let civil: TestUser;
let judicial: TestUser;
let operator: TestUser;
let leader: TestUser;
let auditor: TestUser;
let building: Building;
let household: Household;
let aliceId: number;
let bobId: number;
let carolId: number;

const post = (user: TestUser, url: string, payload: object) =>
  server.app.inject({ method: 'POST', url, headers: auth(user), payload });
const get = (user: TestUser, url: string) => server.app.inject({ method: 'GET', url, headers: auth(user) });

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db);
  admin = await makeUser(db, [{ role: 'admin' }]);
  workerA1 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
  workerB1 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridB1 }]);
  civil = await makeUser(db, [
    { role: 'professional_worker', regionCode: t.street, specialty: 'civil_affairs' },
  ]);
  judicial = await makeUser(db, [
    { role: 'professional_worker', regionCode: t.street, specialty: 'judicial' },
  ]);
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.street }]);
  leader = await makeUser(db, [{ role: 'leader', regionCode: t.street }]);
  auditor = await makeUser(db, [{ role: 'auditor' }]);

  const b = await post(workerA1, '/api/buildings', {
    gridCode: t.gridA1,
    name: '3号楼',
    kind: 'residential',
    floors: 6,
    location: { lng: 130.35, lat: 46.85 },
  });
  expect(b.statusCode, b.body).toBe(201);
  building = b.json<Building>();
  const h = await post(workerA1, '/api/households', {
    buildingId: building.id,
    kind: 'registered',
    unit: '2',
    room: '301',
  });
  expect(h.statusCode, h.body).toBe(201);
  household = h.json<Household>();

  const a = await post(workerA1, '/api/persons', {
    name: '王秀英',
    gender: 'female',
    idNumber: alice.id,
    phone: alice.phone,
    gridCode: t.gridA1,
    householdId: household.id,
    relationToHead: 'head',
    tags: [
      { kind: 'elderly_alone', fields: { careNeeds: '每周探访' } },
      { kind: 'corrections', fields: { periodFrom: '2026-01-01', periodTo: '2027-01-01' } },
    ],
  });
  expect(a.statusCode, a.body).toBe(201);
  aliceId = a.json<Person>().id;
  const bo = await post(workerA1, '/api/persons', {
    name: '王建国',
    gender: 'male',
    birthDate: '1980-01-01',
    idNumber: bob.id,
    phone: bob.phone,
    gridCode: t.gridA1,
    householdId: household.id,
    relationToHead: 'child',
  });
  expect(bo.statusCode, bo.body).toBe(201);
  bobId = bo.json<Person>().id;
  const c = await post(workerB1, '/api/persons', {
    name: '李娜',
    gender: 'female',
    idNumber: carol.id,
    phone: carol.phone,
    gridCode: t.gridB1,
    tags: [{ kind: 'disabled', fields: { grade: 2 } }],
  });
  expect(c.statusCode, c.body).toBe(201);
  carolId = c.json<Person>().id;
});

afterAll(async () => {
  await server.app.close();
});

describe('registering persons', () => {
  it('answers masked, with the birth date from the ID number', async () => {
    const res = await get(workerA1, `/api/persons/${aliceId}`);
    expect(res.statusCode).toBe(200);
    const person = res.json<Person>();
    expect(person.idNumberMasked).toBe(`230803********${alice.id.slice(-4)}`);
    expect(person.phoneMasked).toBe('139****5678');
    expect(person.birthDate).toBe('1945-03-12');
    expect(res.body).not.toContain(alice.id);
    expect(res.body).not.toContain(alice.phone);
  });

  it('refuses a wrong check digit, a birth date that does not match, and a bad phone', async () => {
    const base = { name: '赵六', gender: 'male', gridCode: t.gridA1 };
    const wrong = `${alice.id.slice(0, 17)}${alice.id[17] === '0' ? '1' : '0'}`;
    const r1 = await post(workerA1, '/api/persons', { ...base, idNumber: wrong });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().fields[0].field).toBe('body.idNumber');
    const id = residentId('230803', '19700101', '111');
    const r2 = await post(workerA1, '/api/persons', { ...base, idNumber: id, birthDate: '1970-01-02' });
    expect(r2.statusCode).toBe(400);
    expect(r2.json().fields[0].field).toBe('body.birthDate');
    const r3 = await post(workerA1, '/api/persons', { ...base, idNumber: id, phone: '12345678901' });
    expect(r3.statusCode).toBe(400);
    expect(r3.json().fields[0].field).toBe('body.phone');
  });

  it("checks each tag's own fields against its definition, field by field", async () => {
    const id = residentId('230803', '19600101', '222');
    const base = { name: '钱七', gender: 'male', gridCode: t.gridA1, idNumber: id };
    const res = await post(workerA1, '/api/persons', {
      ...base,
      tags: [
        { kind: 'elderly_alone', fields: { careNeeds: '每周探访' } },
        { kind: 'disabled', fields: { grade: 7, colour: 'red', certificate: '有' } },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json<{ fields: { field: string }[] }>()
        .fields.map((f) => f.field)
        .sort(),
    ).toEqual(['body.tags.1.fields.certificate', 'body.tags.1.fields.colour', 'body.tags.1.fields.grade']);
    const changed = await server.app.inject({
      method: 'PATCH',
      url: `/api/persons/${aliceId}`,
      headers: auth(workerA1),
      payload: { tags: { add: [{ kind: 'corrections', fields: { periodFrom: '2026-13-01' } }] } },
    });
    expect(changed.statusCode).toBe(400);
    expect(changed.json<{ fields: { field: string }[] }>().fields[0]!.field).toBe(
      'body.tags.add.0.fields.periodFrom',
    );
  });

  it('de-duplicates by the keyed hash of the ID number: 409 on body.idNumber, even from another grid', async () => {
    const res = await post(operator, '/api/persons', {
      name: '王秀英',
      gender: 'female',
      idNumber: alice.id.toLowerCase(),
      gridCode: t.gridB2,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().fields).toEqual([{ field: 'body.idNumber', message: expect.any(String) }]);
    const count = await rows<{ n: number }>(db.orm, sql`select count(*)::int as n from person`);
    expect(count[0]!.n).toBe(3);
  });

  it('keeps a grid worker to their grid: 404 for a person, a building or a grid elsewhere', async () => {
    expect((await get(workerB1, `/api/persons/${aliceId}`)).statusCode).toBe(404);
    expect((await get(workerB1, `/api/persons/${aliceId}/household`)).statusCode).toBe(404);
    expect((await get(workerB1, `/api/buildings/${building.id}/households`)).statusCode).toBe(404);
    expect((await get(workerB1, `/api/grids/${t.gridA1}/buildings`)).statusCode).toBe(404);
    expect((await get(workerA1, `/api/persons/${carolId}`)).statusCode).toBe(404);
    const create = await post(workerB1, '/api/persons', {
      name: '钱七',
      gender: 'male',
      idNumber: residentId('230803', '19600101', '333'),
      gridCode: t.gridA1,
    });
    expect(create.statusCode).toBe(404);
  });
});

describe('key-population tags', () => {
  it('shows a professional worker only the tags of their specialty', async () => {
    const asCivil = (await get(civil, `/api/persons/${aliceId}`)).json<Person>();
    expect(asCivil.tags?.map((tag) => tag.kind)).toEqual(['elderly_alone']);
    const asJudicial = (await get(judicial, `/api/persons/${aliceId}`)).json<Person>();
    expect(asJudicial.tags?.map((tag) => tag.kind)).toEqual(['corrections']);
    expect(asJudicial.tags?.[0]?.fields).toEqual({ periodFrom: '2026-01-01', periodTo: '2027-01-01' });
    const asWorker = (await get(workerA1, `/api/persons/${aliceId}`)).json<Person>();
    expect(asWorker.tags?.map((tag) => tag.kind).sort()).toEqual(['corrections', 'elderly_alone']);
  });

  it('filters by tag only within what the caller may see', async () => {
    const byJudicial = (await get(civil, '/api/persons?tag=corrections')).json<PersonList>();
    expect(byJudicial.items).toEqual([]);
    const byCivil = (await get(civil, '/api/persons?tag=elderly_alone')).json<PersonList>();
    expect(byCivil.items.map((p) => p.id)).toEqual([aliceId]);
  });

  it('counts tags for those who may read them, and leaves them out for the others', async () => {
    const asAdmin = (await get(admin, `/api/regions/${t.street}/registry-stats`)).json<RegistryStats>();
    expect(asAdmin).toEqual({
      regionCode: t.street,
      households: 1,
      people: 3,
      byTag: [
        { kind: 'corrections', count: 1 },
        { kind: 'disabled', count: 1 },
        { kind: 'elderly_alone', count: 1 },
      ],
    });
    const asLeader = (await get(leader, `/api/regions/${t.street}/registry-stats`)).json<RegistryStats>();
    expect(asLeader.byTag).toBeNull();
    expect(asLeader.people).toBe(3);
    const asCivil = (await get(civil, `/api/regions/${t.communityA}/registry-stats`)).json<RegistryStats>();
    expect(asCivil).toEqual({
      regionCode: t.communityA,
      households: 1,
      people: 2,
      byTag: [{ kind: 'elderly_alone', count: 1 }],
    });
    expect((await get(workerB1, `/api/regions/${t.gridA1}/registry-stats`)).statusCode).toBe(404);
  });
});

describe('search and navigation', () => {
  it('finds by exact ID number or phone through the keyed hash, and by name prefix', async () => {
    const byId = (await get(operator, `/api/persons?q=${alice.id}`)).json<PersonList>();
    expect(byId.items.map((p) => p.id)).toEqual([aliceId]);
    const byPhone = (await get(operator, `/api/persons?q=${bob.phone}`)).json<PersonList>();
    expect(byPhone.items.map((p) => p.id)).toEqual([bobId]);
    const byName = (await get(operator, `/api/persons?q=${encodeURIComponent('王')}`)).json<PersonList>();
    expect(byName.items.map((p) => p.id)).toEqual([aliceId, bobId]);
    const outside = (await get(workerA1, `/api/persons?q=${carol.id}`)).json<PersonList>();
    expect(outside.items).toEqual([]);
    const page = (await get(operator, '/api/persons?limit=2')).json<PersonList>();
    expect(page.items).toHaveLength(2);
    const next = (await get(operator, `/api/persons?limit=2&cursor=${page.nextCursor}`)).json<PersonList>();
    expect(next.items.map((p) => p.id)).toEqual([carolId]);
    expect(next.nextCursor).toBeNull();
  });

  it('goes building → households → people and person → household → building', async () => {
    const buildings = (await get(workerA1, `/api/grids/${t.gridA1}/buildings`)).json<{ items: Building[] }>();
    expect(buildings.items).toEqual([
      expect.objectContaining({
        id: building.id,
        name: '3号楼',
        households: 1,
        location: { lng: 130.35, lat: 46.85 },
      }),
    ]);
    const households = await get(workerA1, `/api/buildings/${building.id}/households`);
    expect(households.statusCode).toBe(200);
    const [first] = households.json<{ items: Household[] }>().items;
    expect(first?.members.map((m) => [m.id, m.relationToHead])).toEqual([
      [aliceId, 'head'],
      [bobId, 'child'],
    ]);
    expect(households.body).not.toContain(alice.id);
    const mine = (await get(workerA1, `/api/persons/${bobId}/household`)).json<PersonHousehold>();
    expect(mine.household?.id).toBe(household.id);
    expect(mine.building?.id).toBe(building.id);
  });
});

describe('reveal and the read log', () => {
  it('reveals with person.reveal and a reason, and leaves an audit row with the reason but not the value', async () => {
    expect(
      (await post(workerA1, `/api/persons/${aliceId}/reveal`, { field: 'idNumber', reason: '核实身份信息' }))
        .statusCode,
    ).toBe(403);
    expect(
      (await post(operator, `/api/persons/${aliceId}/reveal`, { field: 'idNumber', reason: 'x' })).statusCode,
    ).toBe(400);
    const id = await post(operator, `/api/persons/${aliceId}/reveal`, {
      field: 'idNumber',
      reason: '核实身份信息',
    });
    expect(id.statusCode).toBe(200);
    expect(id.json()).toEqual({ field: 'idNumber', value: alice.id });
    const phone = await post(operator, `/api/persons/${bobId}/reveal`, {
      field: 'phone',
      reason: '联系家属走访',
    });
    expect(phone.json()).toEqual({ field: 'phone', value: bob.phone });
    const audit = await rows<{ object_id: string; detail: Record<string, unknown>; actor_id: number }>(
      db.orm,
      sql`select object_id, detail, actor_id::int as actor_id from audit_log where action = 'person.revealed'
          order by id`,
    );
    expect(audit).toEqual([
      {
        object_id: String(aliceId),
        actor_id: operator.id,
        detail: { field: 'idNumber', reason: '核实身份信息' },
      },
      { object_id: String(bobId), actor_id: operator.id, detail: { field: 'phone', reason: '联系家属走访' } },
    ]);
  });

  it('answers which records an account read between two times', async () => {
    const reader = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    await get(reader, `/api/persons/${aliceId}`);
    await get(reader, `/api/persons/${bobId}`);
    const url = (from: string, to: string) => `/api/audit/reads?actor=${reader.id}&from=${from}&to=${to}`;
    const res = await get(auditor, url('2026-11-20T01:00:00Z', '2026-11-20T03:00:00Z'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<AuditReads>().items.map((r) => [r.action, r.objectId])).toEqual([
      ['person.read', String(aliceId)],
      ['person.read', String(bobId)],
    ]);
    // the operator's reveals, with their reasons (never the values)
    const reveals = await get(
      auditor,
      `/api/audit/reads?actor=${operator.id}&from=2026-11-20T01:00:00Z&to=2026-11-20T03:00:00Z`,
    );
    expect(
      reveals
        .json<AuditReads>()
        .items.filter((r) => r.action === 'person.revealed')
        .map((r) => [r.objectId, r.reason]),
    ).toEqual([
      [String(aliceId), '核实身份信息'],
      [String(bobId), '联系家属走访'],
    ]);
    expect(reveals.body).not.toContain(alice.id);
    const later = await get(auditor, url('2026-11-20T03:00:00Z', '2026-11-21T00:00:00Z'));
    expect(later.json<AuditReads>().items).toEqual([]);
    expect((await get(reader, url('2026-11-20T01:00:00Z', '2026-11-20T03:00:00Z'))).statusCode).toBe(403);
  });
});

const patch = (user: TestUser, url: string, payload: object) =>
  server.app.inject({ method: 'PATCH', url, headers: auth(user), payload });

describe('changing a person', () => {
  const newPhone = '13700001111';

  it('changes name, phone (re-sealed and re-hashed), address and work; audits the field names only', async () => {
    plainValues.push(newPhone);
    const before = (await get(workerA1, `/api/persons/${bobId}`)).json<Person>();
    const res = await patch(workerA1, `/api/persons/${bobId}`, {
      expectedVersion: before.version,
      name: '王建军',
      phone: newPhone,
      currentAddress: '光复路 12 号',
      work: '个体',
    });
    expect(res.statusCode, res.body).toBe(200);
    const person = res.json<Person>();
    expect(person).toMatchObject({
      name: '王建军',
      phoneMasked: '137****1111',
      currentAddress: '光复路 12 号',
      work: '个体',
      version: before.version + 1,
    });
    expect(res.body).not.toContain(newPhone);
    const byNew = (await get(workerA1, `/api/persons?q=${newPhone}`)).json<PersonList>();
    expect(byNew.items.map((p) => p.id)).toEqual([bobId]);
    const byOld = (await get(workerA1, `/api/persons?q=${bob.phone}`)).json<PersonList>();
    expect(byOld.items).toEqual([]);
    const audit = await rows<{ detail: Record<string, unknown>; actor_id: number }>(
      db.orm,
      sql`select detail, actor_id::int as actor_id from audit_log where action = 'person.updated'
          and object_id = ${String(bobId)} order by id`,
    );
    expect(audit).toEqual([{ actor_id: workerA1.id, detail: { fields: 'name,phone,currentAddress,work' } }]);
  });

  it('answers 409 on a stale expectedVersion and changes nothing', async () => {
    const current = (await get(workerA1, `/api/persons/${bobId}`)).json<Person>();
    const res = await patch(workerA1, `/api/persons/${bobId}`, {
      expectedVersion: current.version - 1,
      name: '别人',
    });
    expect(res.statusCode).toBe(409);
    expect((await get(workerA1, `/api/persons/${bobId}`)).json<Person>().name).toBe('王建军');
  });

  it('refuses a bad phone (400), a person out of scope (404) and a household out of scope (404)', async () => {
    expect((await patch(workerA1, `/api/persons/${bobId}`, { phone: '12' })).statusCode).toBe(400);
    expect((await patch(workerA1, `/api/persons/${bobId}`, { phone: 'abcdefg' })).statusCode).toBe(400);
    expect((await patch(workerB1, `/api/persons/${bobId}`, { name: '某' })).statusCode).toBe(404);
    const b = await post(workerB1, '/api/buildings', {
      gridCode: t.gridB1,
      name: '1号楼',
      kind: 'residential',
    });
    const h = await post(workerB1, '/api/households', { buildingId: b.json<Building>().id, kind: 'rental' });
    expect(h.statusCode, h.body).toBe(201);
    const res = await patch(workerA1, `/api/persons/${bobId}`, {
      householdId: h.json<Household>().id,
      relationToHead: 'tenant',
    });
    expect(res.statusCode).toBe(404);
    expect((await patch(leader, `/api/persons/${bobId}`, { name: '某' })).statusCode).toBe(403);
  });

  it('moves a person to another household in scope, with its grid and relation', async () => {
    const b = await post(operator, '/api/buildings', {
      gridCode: t.gridA2,
      name: '7号楼',
      kind: 'residential',
    });
    const h = await post(operator, '/api/households', {
      buildingId: b.json<Building>().id,
      kind: 'registered',
    });
    const target = h.json<Household>();
    const res = await patch(operator, `/api/persons/${bobId}`, {
      householdId: target.id,
      relationToHead: 'head',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<Person>()).toMatchObject({
      householdId: target.id,
      relationToHead: 'head',
      gridCode: t.gridA2,
    });
    // Now outside grid A1.
    expect((await get(workerA1, `/api/persons/${bobId}`)).statusCode).toBe(404);
  });

  it('moved out stamps moved_out_at; back to active clears it', async () => {
    const out = await patch(operator, `/api/persons/${bobId}`, { status: 'moved_out' });
    expect(out.statusCode, out.body).toBe(200);
    expect(out.json<Person>()).toMatchObject({ status: 'moved_out', movedOutAt: '2026-11-20T02:00:00.000Z' });
    const back = await patch(operator, `/api/persons/${bobId}`, { status: 'active' });
    expect(back.json<Person>()).toMatchObject({ status: 'active', movedOutAt: null });
  });

  it('adds and removes tags with their fields; needs person.tags.read and the specialty', async () => {
    const res = await patch(workerA1, `/api/persons/${aliceId}`, {
      tags: {
        add: [{ kind: 'empty_nest', fields: { visitFrequency: 'weekly' } }],
        remove: ['elderly_alone'],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<Person>().tags?.map((tag) => tag.kind)).toEqual(['corrections', 'empty_nest']);
    const update = await patch(workerA1, `/api/persons/${aliceId}`, {
      tags: { add: [{ kind: 'empty_nest', fields: { visitFrequency: 'monthly' } }] },
    });
    expect(update.json<Person>().tags?.find((tag) => tag.kind === 'empty_nest')?.fields).toEqual({
      visitFrequency: 'monthly',
    });
    const audit = await rows<{ detail: Record<string, unknown> }>(
      db.orm,
      sql`select detail from audit_log where action = 'person.updated' and object_id = ${String(aliceId)}
          order by id desc limit 1`,
    );
    expect(audit).toEqual([{ detail: { fields: 'tags' } }]);
  });

  it('lets a professional worker touch only the tags of their specialty', () => {
    const actor = (role: 'professional_worker' | 'grid_worker', specialty: string | null) => ({
      userId: 1,
      username: 'x',
      displayName: 'x',
      sessionId: 1,
      grants: [{ role, regionCode: t.street, regionPath: '230800.230803.230803001', specialty } as never],
    });
    const path = '230800.230803.230803001.230803001001.230803001001001';
    expect(mayTouchTag(actor('professional_worker', 'judicial'), 'judicial', path)).toBe(true);
    expect(mayTouchTag(actor('professional_worker', 'judicial'), 'civil_affairs', path)).toBe(false);
    expect(mayTouchTag(actor('professional_worker', 'judicial'), 'judicial', '230800.230804')).toBe(false);
    expect(mayTouchTag(actor('grid_worker', null), 'civil_affairs', path)).toBe(true);
  });
});

describe('grid counts and the sizing check', () => {
  it('counts per grid with ?by=grid', async () => {
    const res = await get(admin, `/api/regions/${t.street}/registry-stats?by=grid`);
    expect(res.statusCode, res.body).toBe(200);
    const stats = res.json<RegistryStats>();
    expect(stats.grids?.map((g) => g.gridCode)).toEqual([t.gridA1, t.gridA2, t.gridB1, t.gridB2]);
    expect(stats.grids?.find((g) => g.gridCode === t.gridA1)).toMatchObject({ households: 1, people: 1 });
    expect(stats.grids?.find((g) => g.gridCode === t.gridA2)).toMatchObject({ households: 1, people: 1 });
    expect(
      (await get(admin, `/api/regions/${t.street}/registry-stats`)).json<RegistryStats>().grids,
    ).toBeUndefined();
  });

  it('flags grids when both measures are outside the guidance, flagged first', async () => {
    const res = await get(leader, `/api/regions/${t.street}/grid-sizing`);
    expect(res.statusCode, res.body).toBe(200);
    const sizing = res.json<GridSizing>();
    expect(sizing.guidance).toEqual({
      householdsMin: 300,
      householdsMax: 500,
      peopleMin: 1000,
      peopleMax: 1500,
    });
    expect(sizing.items.map((g) => [g.gridCode, g.flag])).toEqual([
      [t.gridA1, 'under'],
      [t.gridA2, 'under'],
      [t.gridB1, 'under'],
      [t.gridB2, 'under'],
    ]);
    // A configured guidance of exactly 0 households or 0 people: the empty grid fits, the others are over.
    const strict = await testServer(db, {
      config: { gridSizing: { householdsMin: 0, householdsMax: 0, peopleMin: 0, peopleMax: 0 } },
    });
    try {
      const flagged = await strict.app.inject({
        method: 'GET',
        url: `/api/regions/${t.street}/grid-sizing`,
        headers: auth(leader),
      });
      expect(flagged.json<GridSizing>().items.map((g) => [g.gridCode, g.flag])).toEqual([
        [t.gridA1, 'over'],
        [t.gridA2, 'over'],
        [t.gridB1, 'over'],
        [t.gridB2, 'ok'],
      ]);
    } finally {
      await strict.app.close();
    }
    expect((await get(workerB1, `/api/regions/${t.gridA1}/grid-sizing`)).statusCode).toBe(404);
    expect((await get(workerB1, `/api/regions/${t.gridB1}/grid-sizing`)).statusCode).toBe(200);
  });

  it('gridSizingFlag: ok when either measure fits', () => {
    const g = { householdsMin: 300, householdsMax: 500, peopleMin: 1000, peopleMax: 1500 };
    expect(gridSizingFlag({ households: 400, people: 0 }, g)).toBe('ok');
    expect(gridSizingFlag({ households: 50, people: 1200 }, g)).toBe('ok');
    expect(gridSizingFlag({ households: 299, people: 999 }, g)).toBe('under');
    expect(gridSizingFlag({ households: 501, people: 1501 }, g)).toBe('over');
    expect(gridSizingFlag({ households: 600, people: 900 }, g)).toBe('over');
    expect(gridSizingFlag({ households: 200, people: 1600 }, g)).toBe('under');
    expect(gridSizingFlag({ households: 300, people: 1500 }, g)).toBe('ok');
  });
});

describe('no plaintext at rest or in the logs', () => {
  it('a raw dump of the registry tables and the audit log holds no ID number or phone', async () => {
    for (const table of [
      'person',
      'person_tag',
      'household',
      'building',
      'address',
      'organisation',
      'audit_log',
    ]) {
      const dump = await rows<{ row: string }>(
        db.orm,
        sql`select row_to_json(x)::text as row from ${sql.identifier(table)} x`,
      );
      const text = dump.map((r) => r.row).join('\n');
      if (table === 'person') expect(dump).toHaveLength(3);
      for (const value of plainValues) expect(text, `${table} holds ${value}`).not.toContain(value);
    }
  });

  it('the server logs hold none either', () => {
    const logs = capturedLogs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const value of plainValues) expect(logs).not.toContain(value);
  });
});
