import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Department } from '@wangge/contracts';
import { isInside } from '../../platform/access.ts';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import {
  auth,
  buildTerritory,
  countRows,
  makeUser,
  territory as t,
  type TestUser,
} from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { findRegion } from '../region/index.ts';
import { insertRegion } from '../region/region.store.ts';
import { resolveDepartment } from '../taxonomy/index.ts';

/**
 * Departments at every level: the city's police, the district's urban management, the street office, community
 * B's committee, and the office of a second street (230803002) a street-1 operator must not see.
 */
const otherStreet = '230803002';

let db: Database;
let server: Wangge;
let admin: TestUser;
let streetAdmin: TestUser;
let streetOperator: TestUser;
let communityOperator: TestUser;
const ids = new Map<string, number>();

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await db.orm.transaction(async (tx) => {
    await insertRegion(tx, {
      code: otherStreet,
      level: 'street',
      name: '长安街道',
      parentCode: t.district,
      validFrom: new Date('2026-01-01T00:00:00Z'),
    });
    for (const [code, name, region] of [
      ['police', '公安派出所', t.city],
      ['urban-management', '城市管理综合执法', t.district],
      ['street-office', '西林街道办', t.street],
      ['community-b', '东林社区居委会', t.communityB],
      ['other-street-office', '长安街道办', otherStreet],
    ] as const) {
      const row = await one<{ id: number }>(
        tx,
        sql`insert into department (code, name, region_code, region_path)
            select ${code}, ${name}, code, path from region where code = ${region} returning id::int as id`,
      );
      ids.set(code, row!.id);
    }
    // The default department of 0401 (garbage) is urban management, by its key.
    await tx.execute(sql`insert into case_category (code, parent_code, name_zh, name_en, department_key) values
      ('04', null, '市容环境', 'City appearance', null), ('0401', '04', '垃圾堆放与清运', 'Garbage', 'urban-management')`);
  });
  server = await testServer(db, { clock: fixedClock('2026-11-20T02:00:00Z') });
  admin = await makeUser(db, [{ role: 'admin' }]);
  streetAdmin = await makeUser(db, [{ role: 'admin', regionCode: t.street }]);
  streetOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.street }]);
  communityOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.communityA }]);
  // Two active police handlers and a disabled one; a police grant of another role does not count.
  for (let i = 0; i < 3; i++)
    await makeUser(db, [
      { role: 'department_handler', regionCode: t.city, departmentId: ids.get('police')! },
    ]);
  const disabled = await makeUser(db, [
    { role: 'department_handler', regionCode: t.city, departmentId: ids.get('police')! },
  ]);
  await db.orm.execute(sql`update app_user set status = 'disabled' where id = ${disabled.id}`);
  await makeUser(db, [{ role: 'leader', regionCode: t.city, departmentId: ids.get('police')! }]);
});

afterAll(async () => {
  await server?.app.close();
});

const list = async (user: TestUser, query = '') => {
  const response = await server.app.inject({
    method: 'GET',
    url: `/api/departments${query}`,
    headers: auth(user),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ items: Department[] }>().items;
};
const codes = (items: Department[]) => items.map((d) => d.code);

describe('GET /api/departments', () => {
  it('shows a street operator the departments in the street and above it, not a neighbour street’s', async () => {
    const items = await list(streetOperator);
    expect(codes(items)).toEqual(['police', 'urban-management', 'street-office', 'community-b']);
    expect(items[0]).toEqual({
      id: ids.get('police'),
      code: 'police',
      name: '公安派出所',
      nameEn: null,
      regionCode: t.city,
      regionName: '佳木斯市',
      handlers: 3,
    });
    expect(items.find((d) => d.code === 'community-b')?.handlers).toBe(0);
  });

  it('lists every department a case in the caller’s grids may be dispatched to, the default one included', async () => {
    // The dispatch action accepts a department whose region is the case's place or above it.
    const all = await rows<{ code: string; region_path: string }>(
      db.orm,
      sql`select code, region_path from department`,
    );
    const listed = new Set(codes(await list(communityOperator)));
    for (const grid of [t.gridA1, t.gridA2]) {
      const gridPath = (await findRegion(db.orm, grid))!.path;
      for (const d of all.filter((d) => isInside(d.region_path, gridPath)))
        expect(listed, `${d.code} takes cases of ${grid}`).toContain(d.code);
      const fallback = await resolveDepartment(db.orm, '0401', gridPath);
      expect(listed).toContain(fallback!.code);
    }
    // community A's operator does not see community B's committee or the other street's office
    expect([...listed]).toEqual(['police', 'urban-management', 'street-office']);
  });

  it('filters by a region in scope: the departments serving it', async () => {
    expect(codes(await list(streetOperator, `?region=${t.communityB}`))).toEqual([
      'police',
      'urban-management',
      'street-office',
      'community-b',
    ]);
    expect(codes(await list(streetOperator, `?region=${t.gridA1}`))).toEqual([
      'police',
      'urban-management',
      'street-office',
    ]);
    expect(codes(await list(admin, `?region=${otherStreet}`))).toEqual([
      'police',
      'urban-management',
      'other-street-office',
    ]);
    expect(await list(admin)).toHaveLength(5);
  });

  it('answers 404 for a region outside the scope or unknown, 403 without department.read, 401, 400', async () => {
    for (const region of [t.district, otherStreet, '230899'])
      expect(
        (
          await server.app.inject({
            method: 'GET',
            url: `/api/departments?region=${region}`,
            headers: auth(streetOperator),
          })
        ).statusCode,
        region,
      ).toBe(404);
    const worker = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/departments', headers: auth(worker) })).statusCode,
    ).toBe(403);
    expect((await server.app.inject({ method: 'GET', url: '/api/departments' })).statusCode).toBe(401);
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/departments?region=abc', headers: auth(admin) }))
        .statusCode,
    ).toBe(400);
  });
});

const post = (user: TestUser | null, payload: object) =>
  server.app.inject({ method: 'POST', url: '/api/departments', headers: user ? auth(user) : {}, payload });
const patch = (user: TestUser | null, id: number, payload: object) =>
  server.app.inject({
    method: 'PATCH',
    url: `/api/departments/${id}`,
    headers: user ? auth(user) : {},
    payload,
  });

describe('POST /api/departments', () => {
  it('creates a department (audited) and answers it', async () => {
    const audit = await countRows(db, 'audit_log');
    const response = await post(admin, {
      code: 'water',
      name: ' 供水公司 ',
      nameEn: 'Water supply',
      regionCode: t.district,
    });
    expect(response.statusCode, response.body).toBe(201);
    const created = response.json<Department>();
    expect(created).toMatchObject({
      code: 'water',
      name: '供水公司',
      nameEn: 'Water supply',
      regionCode: t.district,
      regionName: '向阳区',
      handlers: 0,
    });
    expect(await countRows(db, 'audit_log')).toBe(audit + 1);
    const row = await one<{ action: string; object_id: string; actor_id: number }>(
      db.orm,
      sql`select action, object_id, actor_id::int as actor_id from audit_log order by id desc limit 1`,
    );
    expect(row).toEqual({ action: 'department.created', object_id: String(created.id), actor_id: admin.id });
    // the street operator, under the district, now sees it
    expect(codes(await list(streetOperator))).toContain('water');
  });

  it('answers 409 with a field message for a code taken, and writes nothing', async () => {
    const before = [await countRows(db, 'department'), await countRows(db, 'audit_log')];
    const response = await post(admin, { code: 'police', name: '另一个公安', regionCode: t.street });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      code: 'CONFLICT',
      fields: [{ field: 'body.code', message: '已存在 (already exists)' }],
    });
    expect([await countRows(db, 'department'), await countRows(db, 'audit_log')]).toEqual(before);
  });

  it('keeps a regional administrator inside the region, and others out', async () => {
    const inside = await post(streetAdmin, {
      code: 'street-clinic',
      name: '社区卫生服务中心',
      regionCode: t.communityA,
    });
    expect(inside.statusCode, inside.body).toBe(201);
    // the district is above the street admin's region; an unknown region looks the same
    for (const regionCode of [t.district, '230899'])
      expect(
        (await post(streetAdmin, { code: 'x-dept', name: 'X', regionCode })).statusCode,
        regionCode,
      ).toBe(404);
    // centre operators may read departments but not write them
    expect((await post(streetOperator, { code: 'x-dept', name: 'X', regionCode: t.street })).statusCode).toBe(
      403,
    );
    expect((await post(null, { code: 'x-dept', name: 'X', regionCode: t.street })).statusCode).toBe(401);
  });

  it('answers 400 with field messages for a bad body', async () => {
    const response = await post(admin, { code: 'Bad Code', name: '', regionCode: '12' });
    expect(response.statusCode).toBe(400);
    expect(
      response
        .json<{ fields: { field: string }[] }>()
        .fields.map((f) => f.field)
        .sort(),
    ).toEqual(['body.code', 'body.name', 'body.regionCode']);
  });
});

describe('PATCH /api/departments/{id}', () => {
  it('renames (audited), clears the English name with null, and writes nothing when nothing changes', async () => {
    const id = ids.get('street-office')!;
    const audit = await countRows(db, 'audit_log');
    const renamed = await patch(admin, id, { name: '西林街道办事处', nameEn: 'Xilin sub-district office' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ id, name: '西林街道办事处', nameEn: 'Xilin sub-district office' });
    const cleared = await patch(streetAdmin, id, { nameEn: null });
    expect(cleared.json()).toMatchObject({ name: '西林街道办事处', nameEn: null });
    expect(await countRows(db, 'audit_log')).toBe(audit + 2);
    const same = await patch(admin, id, { name: '西林街道办事处' });
    expect(same.statusCode).toBe(200);
    expect(await countRows(db, 'audit_log')).toBe(audit + 2);
    const last = await one<{ action: string; detail: Record<string, unknown> }>(
      db.orm,
      sql`select action, detail from audit_log order by id desc limit 1`,
    );
    expect(last).toEqual({ action: 'department.updated', detail: { name: false, nameEn: true } });
  });

  it('answers 404 outside the regional admin’s region and for an unknown id, 403 and 401', async () => {
    expect((await patch(streetAdmin, ids.get('police')!, { name: 'X' })).statusCode).toBe(404);
    expect((await patch(admin, 999_999, { name: 'X' })).statusCode).toBe(404);
    expect((await patch(streetOperator, ids.get('street-office')!, { name: 'X' })).statusCode).toBe(403);
    expect((await patch(null, ids.get('street-office')!, { name: 'X' })).statusCode).toBe(401);
    expect((await patch(admin, ids.get('street-office')!, { name: '' })).statusCode).toBe(400);
    const police = await one<{ name: string }>(
      db.orm,
      sql`select name from department where code = 'police'`,
    );
    expect(police?.name).toBe('公安派出所');
  });
});
