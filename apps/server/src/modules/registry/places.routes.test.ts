import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Address,
  AddressList,
  Building,
  BuildingDetail,
  Component,
  ComponentList,
  Household,
  Inspection,
  InspectionList,
  Organisation,
  OrganisationList,
} from '@wangge/contracts';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { addressLabel } from './places.service.ts';

/** Grid A1 is the square 130.3–130.4 E, 46.8–46.9 N; grid B1 lies east of it (130.4–130.5 E). */
const insideA1 = { lng: 130.35, lat: 46.85 };
const insideB1 = { lng: 130.45, lat: 46.85 };
const safetyPhone = '13912345678';

const clock = fixedClock('2026-11-20T02:00:00Z');
let db: Database;
let server: Wangge;
let admin: TestUser;
let workerA1: TestUser;
let workerB1: TestUser;
let operator: TestUser;
let leader: TestUser;
let hotline: TestUser;
let buildingA1: Building;
let buildingB1: Building;
let water: number;
let urban: number;

const post = (user: TestUser, url: string, payload: object) =>
  server.app.inject({ method: 'POST', url, headers: auth(user), payload });
const patch = (user: TestUser, url: string, payload: object) =>
  server.app.inject({ method: 'PATCH', url, headers: auth(user), payload });
const get = (user: TestUser, url: string) => server.app.inject({ method: 'GET', url, headers: auth(user) });

async function createBuilding(user: TestUser, gridCode: string, name: string, location: object) {
  const res = await post(user, '/api/buildings', {
    gridCode,
    name,
    kind: 'residential',
    floors: 6,
    location,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Building>();
}

async function addHousehold(buildingId: number, unit: string | null, people: number, status = 'active') {
  const res = await post(workerA1, '/api/households', {
    buildingId,
    kind: 'registered',
    ...(unit ? { unit } : {}),
    room: '101',
  });
  expect(res.statusCode, res.body).toBe(201);
  const household = res.json<Household>();
  for (let i = 0; i < people; i++) {
    const person = await post(workerA1, '/api/persons', {
      name: `住户${household.id}${i}`,
      gender: 'female',
      idType: 'passport',
      idNumber: `E${household.id}${i}000${people}`,
      gridCode: t.gridA1,
      householdId: household.id,
      relationToHead: i === 0 ? 'head' : 'child',
    });
    expect(person.statusCode, person.body).toBe(201);
  }
  if (status !== 'active')
    await db.orm.execute(sql`update household set status = ${status} where id = ${household.id}`);
  return household;
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db, { clock });
  admin = await makeUser(db, [{ role: 'admin' }]);
  workerA1 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
  workerB1 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridB1 }]);
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.street }]);
  leader = await makeUser(db, [{ role: 'leader', regionCode: t.street }]);
  hotline = await makeUser(db, [{ role: 'hotline_operator', regionCode: t.street }]);
  buildingA1 = await createBuilding(workerA1, t.gridA1, '3号楼', insideA1);
  buildingB1 = await createBuilding(workerB1, t.gridB1, '8号楼', insideB1);
  const departments = await rows<{ id: number; code: string }>(
    db.orm,
    sql`insert into department (code, name, region_code, region_path)
        select d.code, d.name, r.code, r.path from region r,
          (values ('water', '供水'), ('urban-management', '城市管理综合执法')) as d(code, name)
        where r.code = ${t.city}
        returning id::int as id, code`,
  );
  water = departments.find((d) => d.code === 'water')!.id;
  urban = departments.find((d) => d.code === 'urban-management')!.id;
});

afterAll(async () => {
  await server.app.close();
});

describe('standard addresses (标准地址)', () => {
  let address: Address;

  it('registers an address on a building of the grid, with a one-line label', async () => {
    const res = await post(workerA1, '/api/addresses', {
      gridCode: t.gridA1,
      road: '胜利路',
      roadNumber: '12',
      buildingId: buildingA1.id,
      unit: '2',
      floor: '5',
      room: '501',
      location: insideA1,
    });
    expect(res.statusCode, res.body).toBe(201);
    address = res.json<Address>();
    expect(address).toMatchObject({
      gridCode: t.gridA1,
      buildingId: buildingA1.id,
      buildingName: '3号楼',
      label: '胜利路 12号 3号楼 2单元 501室',
      location: insideA1,
    });
    expect((await get(workerA1, `/api/addresses/${address.id}`)).json<Address>()).toEqual(address);
  });

  it('labels parts that carry their suffix once, and a floor only without a room', () => {
    expect(
      addressLabel({
        road: '胜利路',
        roadNumber: '12号',
        buildingName: '3号楼',
        unit: '2单元',
        floor: '1',
        room: null,
      }),
    ).toBe('胜利路 12号 3号楼 2单元 1层');
    expect(
      addressLabel({
        road: '长安街',
        roadNumber: null,
        buildingName: null,
        unit: null,
        floor: null,
        room: null,
      }),
    ).toBe('长安街');
  });

  it('refuses the same standard address twice in a grid (409), allows it in another grid', async () => {
    const again = await post(workerA1, '/api/addresses', {
      gridCode: t.gridA1,
      road: '胜利路',
      roadNumber: '12',
      buildingName: '3号楼',
      unit: '2',
      floor: '5',
      room: '501',
    });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().fields[0].field).toBe('body.road');
    const elsewhere = await post(workerB1, '/api/addresses', {
      gridCode: t.gridB1,
      road: '胜利路',
      roadNumber: '12',
      buildingName: '3号楼',
      unit: '2',
      floor: '5',
      room: '501',
    });
    expect(elsewhere.statusCode, elsewhere.body).toBe(201);
    const count = await one<{ n: number }>(db.orm, sql`select count(*)::int as n from address`);
    expect(count!.n).toBe(2);
  });

  it('checks the address is in the right grid: the building and the point', async () => {
    const otherBuilding = await post(admin, '/api/addresses', {
      gridCode: t.gridA1,
      road: '胜利路',
      roadNumber: '14',
      buildingId: buildingB1.id,
    });
    expect(otherBuilding.statusCode).toBe(400);
    expect(otherBuilding.json().fields[0].field).toBe('body.buildingId');
    const outside = await post(workerA1, '/api/addresses', {
      gridCode: t.gridA1,
      road: '胜利路',
      roadNumber: '16',
      location: insideB1,
    });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().fields[0].field).toBe('body.location');
    // A grid worker naming a building of another grid gets nothing about it: 404.
    const foreign = await post(workerA1, '/api/addresses', {
      gridCode: t.gridA1,
      road: '胜利路',
      buildingId: buildingB1.id,
    });
    expect(foreign.statusCode).toBe(404);
  });

  it('searches by text within scope; another grid answers 404', async () => {
    const mine = (await get(workerA1, `/api/addresses?q=${encodeURIComponent('3号楼')}`)).json<AddressList>();
    expect(mine.items.map((a) => a.id)).toEqual([address.id]);
    const byRoom = (await get(operator, '/api/addresses?q=501')).json<AddressList>();
    expect(byRoom.items).toHaveLength(2);
    const none = (
      await get(operator, `/api/addresses?q=${encodeURIComponent('人民路')}`)
    ).json<AddressList>();
    expect(none.items).toEqual([]);
    expect((await get(workerB1, `/api/addresses/${address.id}`)).statusCode).toBe(404);
    expect((await get(workerB1, `/api/addresses?grid=${t.gridA1}`)).statusCode).toBe(404);
    const paged = (await get(operator, '/api/addresses?limit=1')).json<AddressList>();
    expect(paged.items).toHaveLength(1);
    const next = (
      await get(operator, `/api/addresses?limit=1&cursor=${paged.nextCursor}`)
    ).json<AddressList>();
    expect(next.items[0]!.id).toBeGreaterThan(paged.items[0]!.id);
    expect(next.nextCursor).toBeNull();
  });
});

describe('building → units → households → people', () => {
  it('groups the active households of a building by unit, with their active people', async () => {
    const building = await createBuilding(workerA1, t.gridA1, '5号楼', { lng: 130.36, lat: 46.86 });
    await addHousehold(building.id, '2单元', 2);
    await addHousehold(building.id, '10单元', 1);
    await addHousehold(building.id, '2单元', 3);
    await addHousehold(building.id, '2单元', 2, 'moved_out');
    await addHousehold(building.id, null, 1);
    const res = await get(workerA1, `/api/buildings/${building.id}`);
    expect(res.statusCode, res.body).toBe(200);
    const detail = res.json<BuildingDetail>();
    expect(detail).toMatchObject({
      id: building.id,
      name: '5号楼',
      gridName: '西林一网格',
      households: 4,
      people: 7,
    });
    expect(detail.units).toEqual([
      { unit: null, households: 1, people: 1 },
      { unit: '2单元', households: 2, people: 5 },
      { unit: '10单元', households: 1, people: 1 },
    ]);
    expect((await get(workerB1, `/api/buildings/${building.id}`)).statusCode).toBe(404);
  });
});

describe('organisations and places (实有单位)', () => {
  let shop: Organisation;

  it('registers an organisation with its safety phone masked in answers and only sealed at rest', async () => {
    const res = await post(workerA1, '/api/organisations', {
      gridCode: t.gridA1,
      name: '胜利超市',
      kind: 'shop',
      licenceNo: '92230803MA1ABCDE12',
      safetyName: '张三',
      safetyPhone,
      buildingId: buildingA1.id,
    });
    expect(res.statusCode, res.body).toBe(201);
    shop = res.json<Organisation>();
    expect(shop).toMatchObject({
      kind: 'shop',
      safetyName: '张三',
      safetyPhoneMasked: '139****5678',
      buildingId: buildingA1.id,
      location: insideA1,
      status: 'active',
      version: 1,
      lastInspection: null,
      inspectionIntervalMonths: 12,
    });
    expect(res.body).not.toContain(safetyPhone);
    expect((await get(leader, `/api/organisations/${shop.id}`)).body).not.toContain(safetyPhone);
    const [raw] = await rows<{ row: string; cipher: string; hash: string; key_id: string }>(
      db.orm,
      sql`select row_to_json(o)::text as row, safety_phone_cipher as cipher, safety_phone_hash as hash,
            safety_phone_key_id as key_id from organisation o where id = ${shop.id}`,
    );
    expect(raw!.row).not.toContain(safetyPhone);
    expect(raw!.cipher).toMatch(/^v1:/);
    expect(raw!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(raw!.key_id).toBeTruthy();
  });

  it('checks fields: a bad phone, a point outside the grid, a building or an address of another grid', async () => {
    const base = { gridCode: t.gridA1, name: '某网吧', kind: 'internet_cafe' };
    const phone = await post(workerA1, '/api/organisations', { ...base, safetyPhone: '12345' });
    expect(phone.statusCode).toBe(400);
    expect(phone.json().fields[0].field).toBe('body.safetyPhone');
    const outside = await post(workerA1, '/api/organisations', { ...base, location: insideB1 });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().fields[0].field).toBe('body.location');
    const building = await post(admin, '/api/organisations', { ...base, buildingId: buildingB1.id });
    expect(building.statusCode).toBe(400);
    expect(building.json().fields[0].field).toBe('body.buildingId');
    const kind = await post(workerA1, '/api/organisations', { ...base, kind: 'casino' });
    expect(kind.statusCode).toBe(400);
    expect(kind.json().fields[0].field).toBe('body.kind');
  });

  it('keeps a grid worker to their grid: 404 for an organisation elsewhere', async () => {
    expect((await get(workerB1, `/api/organisations/${shop.id}`)).statusCode).toBe(404);
    expect((await get(workerB1, `/api/organisations/${shop.id}/inspections`)).statusCode).toBe(404);
    expect(
      (await patch(workerB1, `/api/organisations/${shop.id}`, { expectedVersion: 1, name: 'x' })).statusCode,
    ).toBe(404);
    const list = (await get(workerB1, '/api/organisations')).json<OrganisationList>();
    expect(list.items.map((o) => o.id)).not.toContain(shop.id);
    expect((await get(hotline, '/api/organisations')).statusCode).toBe(403);
  });

  it('changes an organisation at the version read; a stale version is 409', async () => {
    const ok = await patch(workerA1, `/api/organisations/${shop.id}`, {
      expectedVersion: 1,
      name: '胜利便民超市',
      safetyPhone: '13600001111',
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<Organisation>()).toMatchObject({
      name: '胜利便民超市',
      safetyPhoneMasked: '136****1111',
      version: 2,
    });
    const stale = await patch(workerA1, `/api/organisations/${shop.id}`, {
      expectedVersion: 1,
      name: '旧名',
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().fields[0].field).toBe('body.expectedVersion');
    expect((await get(workerA1, `/api/organisations/${shop.id}`)).json<Organisation>().name).toBe(
      '胜利便民超市',
    );
    const [audit] = await rows<{ detail: Record<string, unknown> }>(
      db.orm,
      sql`select detail from audit_log where action = 'organisation.updated' and object_id = ${String(shop.id)}`,
    );
    expect(audit!.detail).toEqual({ fields: 'name,safetyPhone' });
  });

  it('reveals the safety phone with person.reveal and a reason, audited without the value', async () => {
    const url = `/api/organisations/${shop.id}/reveal`;
    expect((await post(workerA1, url, { field: 'safetyPhone', reason: '联系安全责任人' })).statusCode).toBe(
      403,
    );
    expect((await post(operator, url, { field: 'safetyPhone', reason: 'x' })).statusCode).toBe(400);
    const res = await post(operator, url, { field: 'safetyPhone', reason: '消防检查联系责任人' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ field: 'safetyPhone', value: '13600001111' });
    const audits = await rows<{ detail: Record<string, unknown>; actor_id: number; row: string }>(
      db.orm,
      sql`select detail, actor_id::int as actor_id, row_to_json(a)::text as row from audit_log a
          where action = 'organisation.revealed' and object_id = ${String(shop.id)}`,
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]!.detail).toEqual({ field: 'safetyPhone', reason: '消防检查联系责任人' });
    expect(audits[0]!.actor_id).toBe(operator.id);
    expect(audits[0]!.row).not.toContain('13600001111');
    expect(capturedLogs.join('')).not.toContain('13600001111');
    expect(capturedLogs.join('')).not.toContain(safetyPhone);
  });
});

describe('inspections (检查)', () => {
  const ids = {
    hazard: 0,
    restaurant: 0,
    neverInspected: 0,
    recentShop: 0,
    closed: 0,
  };

  const organisation = async (name: string, kind: string, extra: object = {}) => {
    const res = await post(workerA1, '/api/organisations', { gridCode: t.gridA1, name, kind, ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Organisation>().id;
  };
  const inspect = (id: number, body: object) => post(workerA1, `/api/organisations/${id}/inspections`, body);

  beforeAll(async () => {
    ids.hazard = await organisation('东风加油站', 'hazardous_goods', {
      location: { lng: 130.31, lat: 46.81 },
    });
    ids.restaurant = await organisation('王记饺子馆', 'restaurant');
    ids.neverInspected = await organisation('新开商店', 'shop');
    ids.recentShop = await organisation('老街商店', 'shop');
    ids.closed = await organisation('已关网吧', 'internet_cafe', { status: 'closed' });
  });

  it('needs a deadline for a rectify result, and refuses a future inspection', async () => {
    const res = await inspect(ids.hazard, {
      clientId: '5b0b8f0e-0b5c-4b0e-9b7a-1c2d3e4f5a60',
      inspectedAt: '2026-10-01T02:00:00Z',
      result: 'rectify',
      findings: '灭火器过期',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields[0].field).toBe('body.rectifyBy');
    const future = await inspect(ids.hazard, {
      clientId: '5b0b8f0e-0b5c-4b0e-9b7a-1c2d3e4f5a61',
      inspectedAt: '2026-12-01T02:00:00Z',
      result: 'passed',
    });
    expect(future.statusCode).toBe(400);
    expect(future.json().fields[0].field).toBe('body.inspectedAt');
  });

  it('is idempotent by clientId: the same request twice stores one row (201, then 200)', async () => {
    const body = {
      clientId: '0f0e7c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6',
      inspectedAt: '2026-10-01T02:00:00Z',
      result: 'rectify',
      findings: '灭火器过期；疏散通道堆放杂物',
      hazards: ['灭火器过期', '通道堵塞'],
      rectifyBy: '2026-10-15',
    };
    const first = await inspect(ids.hazard, body);
    expect(first.statusCode, first.body).toBe(201);
    const again = await inspect(ids.hazard, body);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json<Inspection>()).toEqual(first.json<Inspection>());
    expect(first.json<Inspection>()).toMatchObject({
      result: 'rectify',
      hazards: ['灭火器过期', '通道堵塞'],
      rectifyBy: '2026-10-15',
      inspectorId: workerA1.id,
    });
    const stored = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from organisation_inspection where client_id = ${body.clientId}::uuid`,
    );
    expect(stored!.n).toBe(1);
    // The same clientId on another organisation is a conflict, not a silent replay.
    expect((await inspect(ids.restaurant, body)).statusCode).toBe(409);
    const list = (await get(workerA1, `/api/organisations/${ids.hazard}/inspections`)).json<InspectionList>();
    expect(list.items).toHaveLength(1);
  });

  it('carries the last inspection and when the next is due, by kind', async () => {
    expect(
      (
        await inspect(ids.restaurant, {
          clientId: '1a1a1a1a-2b2b-4c3c-8d4d-5e5e5e5e5e5e',
          inspectedAt: '2026-10-01T02:00:00Z',
          result: 'passed',
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await inspect(ids.recentShop, {
          clientId: '2a1a1a1a-2b2b-4c3c-8d4d-5e5e5e5e5e5e',
          inspectedAt: '2026-11-19T02:00:00Z',
          result: 'passed',
        })
      ).statusCode,
    ).toBe(201);
    const hazard = (await get(workerA1, `/api/organisations/${ids.hazard}`)).json<Organisation>();
    expect(hazard.lastInspection?.result).toBe('rectify');
    expect(hazard.inspectionIntervalMonths).toBe(1);
    expect(hazard.nextInspectionDue).toBe('2026-11-01T02:00:00.000Z');
    const restaurant = (await get(workerA1, `/api/organisations/${ids.restaurant}`)).json<Organisation>();
    expect(restaurant.nextInspectionDue).toBe('2027-01-01T02:00:00.000Z');
    const closed = (await get(workerA1, `/api/organisations/${ids.closed}`)).json<Organisation>();
    expect(closed.nextInspectionDue).toBeNull();
    const never = (await get(workerA1, `/api/organisations/${ids.neverInspected}`)).json<Organisation>();
    expect(never.nextInspectionDue).toBe(never.createdAt);
  });

  it('lists the places overdue for inspection against the clock', async () => {
    const overdue = async () => {
      const res = await get(workerA1, `/api/organisations?grid=${t.gridA1}&inspection=overdue&limit=200`);
      expect(res.statusCode, res.body).toBe(200);
      return res
        .json<OrganisationList>()
        .items.map((o) => o.id)
        .filter((id) => Object.values(ids).includes(id));
    };
    // The clock moves on; the worker's session is kept alive across the jump (sessions expire when idle).
    const moveClock = async (at: string) => {
      clock.set(at);
      await db.orm.execute(
        sql`update user_session set last_seen_at = ${at}, expires_at = '2100-01-01T00:00:00Z'
            where user_id = ${workerA1.id}`,
      );
    };
    try {
      // Now (20 Nov): the filling station was due on 1 Nov; a shop registered now is due now, not yet overdue.
      expect(await overdue()).toEqual([ids.hazard]);
      // A day later the never-inspected shop is overdue too; the restaurant is due in January.
      await moveClock('2026-11-21T02:00:00Z');
      expect(await overdue()).toEqual([ids.hazard, ids.neverInspected]);
      // In January the restaurant joins; the shop inspected on 19 Nov is due only in a year; closed never.
      await moveClock('2027-01-02T00:00:00Z');
      expect(await overdue()).toEqual([ids.hazard, ids.restaurant, ids.neverInspected]);
      const byKind = (
        await get(workerA1, '/api/organisations?inspection=overdue&kind=restaurant')
      ).json<OrganisationList>();
      expect(byKind.items.map((o) => o.id)).toEqual([ids.restaurant]);
    } finally {
      await moveClock('2026-11-20T02:00:00Z');
    }
  });
});

describe('public components (部件)', () => {
  let cover: Component;

  it('registers a component with a code of community, minor class and serial', async () => {
    const res = await post(workerA1, '/api/components', {
      gridCode: t.gridA1,
      minorClass: '0101',
      ownerDepartmentId: water,
      maintainerDepartmentId: urban,
      location: insideA1,
    });
    expect(res.statusCode, res.body).toBe(201);
    cover = res.json<Component>();
    expect(cover).toMatchObject({
      code: '230803001001-0101-000001',
      majorClass: '01',
      majorClassName: '公用设施',
      minorClass: '0101',
      minorClassName: '上水井盖',
      name: '上水井盖',
      ownerDepartment: { id: water, name: '供水' },
      maintainerDepartment: { id: urban, name: '城市管理综合执法' },
      state: 'intact',
      location: insideA1,
      version: 1,
    });
    const second = await post(workerA1, '/api/components', {
      gridCode: t.gridA1,
      minorClass: '0101',
      location: { lng: 130.351, lat: 46.851 },
    });
    expect(second.json<Component>().code).toBe('230803001001-0101-000002');
    const light = await post(workerA1, '/api/components', {
      gridCode: t.gridA1,
      minorClass: '0201',
      name: '胜利路路灯 12',
      location: { lng: 130.352, lat: 46.852 },
    });
    expect(light.json<Component>()).toMatchObject({ code: '230803001001-0201-000001', majorClass: '02' });
  });

  it('checks fields: the class code, the point inside the grid, the departments, a given code', async () => {
    const base = { gridCode: t.gridA1, location: insideA1 };
    const klass = await post(workerA1, '/api/components', { ...base, minorClass: '0999' });
    expect(klass.statusCode).toBe(400);
    expect(klass.json().fields[0].field).toBe('body.minorClass');
    const outside = await post(workerA1, '/api/components', {
      ...base,
      minorClass: '0302',
      location: insideB1,
    });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().fields[0].field).toBe('body.location');
    const noPoint = await post(workerA1, '/api/components', { gridCode: t.gridA1, minorClass: '0302' });
    expect(noPoint.statusCode).toBe(400);
    expect(noPoint.json().fields[0].field).toBe('body.location');
    const department = await post(workerA1, '/api/components', {
      ...base,
      minorClass: '0302',
      maintainerDepartmentId: 999_999,
    });
    expect(department.statusCode).toBe(400);
    expect(department.json().fields[0].field).toBe('body.maintainerDepartmentId');
    const mismatch = await post(workerA1, '/api/components', {
      ...base,
      minorClass: '0302',
      code: '230803001001-0301-000009',
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().fields[0].field).toBe('body.code');
    const taken = await post(workerA1, '/api/components', { ...base, minorClass: '0101', code: cover.code });
    expect(taken.statusCode).toBe(409);
    const count = await one<{ n: number }>(db.orm, sql`select count(*)::int as n from public_component`);
    expect(count!.n).toBe(3);
  });

  it('changes state and maintainer at the version read; stale is 409; filters by class and state', async () => {
    const ok = await patch(workerA1, `/api/components/${cover.id}`, {
      expectedVersion: 1,
      state: 'damaged',
      maintainerDepartmentId: water,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<Component>()).toMatchObject({
      state: 'damaged',
      maintainerDepartment: { id: water, name: '供水' },
      version: 2,
    });
    const stale = await patch(workerA1, `/api/components/${cover.id}`, { expectedVersion: 1, state: 'lost' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().fields[0].field).toBe('body.expectedVersion');
    const damaged = (await get(leader, '/api/components?state=damaged')).json<ComponentList>();
    expect(damaged.items.map((c) => c.id)).toEqual([cover.id]);
    const utilities = (
      await get(workerA1, `/api/components?grid=${t.gridA1}&class=01`)
    ).json<ComponentList>();
    expect(utilities.items).toHaveLength(2);
    const lights = (
      await get(operator, `/api/components?region=${t.street}&class=0201`)
    ).json<ComponentList>();
    expect(lights.items.map((c) => c.minorClass)).toEqual(['0201']);
    expect((await get(workerA1, '/api/components?class=7')).statusCode).toBe(400);
  });

  it('keeps a grid worker to their grid: 404 for a component elsewhere', async () => {
    expect((await get(workerB1, `/api/components/${cover.id}`)).statusCode).toBe(404);
    expect(
      (await patch(workerB1, `/api/components/${cover.id}`, { expectedVersion: 2, state: 'lost' }))
        .statusCode,
    ).toBe(404);
    expect((await get(workerB1, '/api/components')).json<ComponentList>().items).toEqual([]);
    expect((await get(workerB1, `/api/components?grid=${t.gridA1}`)).statusCode).toBe(404);
    const create = await post(workerB1, '/api/components', {
      gridCode: t.gridA1,
      minorClass: '0302',
      location: insideA1,
    });
    expect(create.statusCode).toBe(404);
  });
});
