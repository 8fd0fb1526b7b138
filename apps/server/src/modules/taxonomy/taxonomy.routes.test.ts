import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, countRows, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import {
  ensureDefaultTaxonomy,
  getItem,
  limitsFor,
  resolveDepartment,
  validateExtraFields,
  type CategoryItem,
} from './index.ts';

let db: Database;
let server: Wangge;
let admin: TestUser;
let operator: TestUser;
const departments: Record<string, number> = {};
const paths: Record<string, string> = {};
const clock = fixedClock('2026-11-20T02:00:00Z');

async function addDepartment(code: string, name: string, regionCode: string): Promise<number> {
  const row = await one<{ id: number }>(
    db.orm,
    sql`insert into department (code, name, region_code, region_path)
        select ${code}, ${name}, code, path from region where code = ${regionCode} returning id::int as id`,
  );
  return row!.id;
}

const send = (method: 'POST' | 'PATCH' | 'PUT' | 'GET', url: string, user: TestUser | null, body?: unknown) =>
  server.app.inject({
    method,
    url,
    headers: user ? auth(user) : {},
    ...(body === undefined ? {} : { payload: body as object }),
  });

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  expect(await ensureDefaultTaxonomy(db.orm)).toBe(41);
  for (const code of Object.values(territory)) {
    const row = await one<{ path: string }>(db.orm, sql`select path from region where code = ${code}`);
    paths[code] = row!.path;
  }
  departments.urban = await addDepartment('urban-management', '城市管理综合执法', territory.city);
  departments.community = await addDepartment('community', '社区(村)居委会', territory.city);
  departments.streetCrew = await addDepartment('street-crew', '西林街道城管中队', territory.street);
  server = await testServer(db, { clock });
  admin = await makeUser(db, [{ role: 'admin', regionCode: null }]);
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.city }]);
});

describe('taxonomy service', () => {
  it('seeds 10 categories and 31 items once', async () => {
    expect(await ensureDefaultTaxonomy(db.orm)).toBe(0);
    const counts = await one<{ categories: number; items: number }>(
      db.orm,
      sql`select count(*) filter (where parent_code is null)::int as categories,
            count(*) filter (where parent_code is not null)::int as items from case_category`,
    );
    expect(counts).toEqual({ categories: 10, items: 31 });
  });

  it('reads items with limits, and level overrides win', async () => {
    const item = await getItem(db.orm, '0101');
    expect(item).toMatchObject({
      code: '0101',
      parentCode: '01',
      nameZh: '邻里纠纷',
      departmentKey: 'community',
      fixOnSpot: true,
      limits: { acceptHours: 4, handleWorkingDays: 5, inspectWorkingDays: 1 },
      active: true,
    });
    expect((await getItem(db.orm, '0901'))?.limits.acceptHours).toBe(0.5);
    expect(await getItem(db.orm, '01')).toBeUndefined();
    expect(await getItem(db.orm, '9999')).toBeUndefined();
    const withOverride = { ...item!, limitsByLevel: { district: { handleWorkingDays: 2 } } };
    expect(limitsFor(withOverride, 'district')).toEqual({
      acceptHours: 4,
      handleWorkingDays: 2,
      inspectWorkingDays: 1,
    });
    expect(limitsFor(withOverride, 'street')).toEqual(item!.limits);
  });

  const form: CategoryItem = {
    code: '9901',
    parentCode: '99',
    nameZh: '测试',
    nameEn: 'Test',
    departmentKey: null,
    fixOnSpot: false,
    limits: { acceptHours: 1, handleWorkingDays: 1, inspectWorkingDays: 1 },
    limitsByLevel: {},
    active: true,
    fields: [
      { code: 'note', type: 'string', zh: '备注' },
      { code: 'people', type: 'number', zh: '人数', required: true },
      { code: 'since', type: 'date', zh: '开始日期' },
      {
        code: 'kind',
        type: 'single',
        zh: '类型',
        options: [
          { value: 'a', zh: '甲' },
          { value: 'b', zh: '乙' },
        ],
      },
      {
        code: 'tags',
        type: 'multi',
        zh: '标签',
        options: [
          { value: 'x', zh: 'X' },
          { value: 'y', zh: 'Y' },
        ],
      },
    ],
  };

  it.each([
    [{ people: 3 }, []],
    [{ people: 3, note: '楼道', since: '2026-02-28', kind: 'a', tags: ['x', 'y'] }, []],
    [{}, ['extra.people']],
    [{ people: '3' }, ['extra.people']],
    [{ people: 1, since: '2026-02-30' }, ['extra.since']],
    [{ people: 1, kind: 'c' }, ['extra.kind']],
    [{ people: 1, tags: ['x', 'z'] }, ['extra.tags']],
    [{ people: 1, tags: ['x', 'x'] }, ['extra.tags']],
    [{ people: 1, note: 5 }, ['extra.note']],
    [{ people: 1, colour: 'red' }, ['extra.colour']],
  ])('validateExtraFields(%j) → %j', (values, fields) => {
    const errors = validateExtraFields(form, values);
    expect(errors.map((e) => e.field)).toEqual(fields);
    for (const error of errors) expect(error.message).toMatch(/^[^(]+ \([a-z].*\)$/);
  });

  it('resolves the handling department: most specific rule, else the item department key', async () => {
    const gridA1 = paths[territory.gridA1]!;
    expect(await resolveDepartment(db.orm, '0401', gridA1)).toEqual({
      id: departments.urban,
      code: 'urban-management',
      name: '城市管理综合执法',
    });
    await db.orm
      .execute(sql`insert into category_department_rule (item_code, region_code, region_path, department_id)
      values ('0401', ${territory.street}, ${paths[territory.street]}, ${departments.streetCrew}),
             ('0401', ${territory.communityA}, ${paths[territory.communityA]}, ${departments.community})`);
    expect((await resolveDepartment(db.orm, '0401', gridA1))?.id).toBe(departments.community);
    expect((await resolveDepartment(db.orm, '0401', paths[territory.gridB1]!))?.id).toBe(
      departments.streetCrew,
    );
    expect((await resolveDepartment(db.orm, '0401', paths[territory.district]!))?.id).toBe(departments.urban);
    // No department with the key in this city: none.
    expect(await resolveDepartment(db.orm, '0201', gridA1)).toBeUndefined();
    await db.orm.execute(sql`delete from category_department_rule`);
  });
});

describe('taxonomy routes', () => {
  it('GET /api/taxonomy: 401; the active tree; ?all=1 shows inactive items and rules to admins only', async () => {
    expect((await send('GET', '/api/taxonomy', null)).statusCode).toBe(401);
    const response = await send('GET', '/api/taxonomy', operator);
    expect(response.statusCode).toBe(200);
    type Tree = { categories: { code: string; items: { code: string; rules?: unknown[] }[] }[] };
    const tree = response.json<Tree>();
    expect(tree.categories).toHaveLength(10);
    expect(tree.categories.flatMap((c) => c.items)).toHaveLength(31);
    expect(tree.categories[0]).toMatchObject({ code: '01', nameZh: '矛盾纠纷', nameEn: 'Disputes' });

    await db.orm.execute(sql`update case_category set active = false where code = '0104'`);
    const items = (user: TestUser, query = '') =>
      send('GET', `/api/taxonomy${query}`, user).then((r) =>
        r.json<Tree>().categories.flatMap((c) => c.items),
      );
    expect((await items(operator)).map((i) => i.code)).not.toContain('0104');
    expect((await items(operator, '?all=1')).map((i) => i.code)).not.toContain('0104');
    const all = await items(admin, '?all=1');
    expect(all.map((i) => i.code)).toContain('0104');
    expect(all[0]?.rules).toEqual([]);
    expect((await send('GET', '/api/taxonomy?all=yes', admin)).statusCode).toBe(400);
    await db.orm.execute(sql`update case_category set active = true where code = '0104'`);
  });

  const newItem = {
    code: '0405',
    parentCode: '04',
    nameZh: '共享单车乱停放',
    nameEn: 'Badly parked shared bikes',
    departmentKey: 'urban-management',
    fixOnSpot: true,
    limits: { acceptHours: 4, handleWorkingDays: 2, inspectWorkingDays: 1 },
    limitsByLevel: { district: { handleWorkingDays: 1 } },
    fields: [
      { code: 'count', type: 'number', zh: '车辆数', en: 'Bikes', required: true },
      {
        code: 'brand',
        type: 'multi',
        zh: '品牌',
        options: [
          { value: 'meituan', zh: '美团' },
          { value: 'hello', zh: '哈啰' },
        ],
      },
    ],
  };

  it('POST /api/taxonomy/items: 401, 403, 400, 201, 409', async () => {
    expect((await send('POST', '/api/taxonomy/items', null, newItem)).statusCode).toBe(401);
    expect((await send('POST', '/api/taxonomy/items', operator, newItem)).statusCode).toBe(403);
    expect((await send('POST', '/api/taxonomy/items', admin, { ...newItem, code: '05' })).statusCode).toBe(
      400,
    );
    const wrongParent = await send('POST', '/api/taxonomy/items', admin, { ...newItem, code: '0505' });
    expect(wrongParent.statusCode).toBe(400);
    expect(wrongParent.json<{ fields: { field: string }[] }>().fields[0]?.field).toBe('body.code');
    const noCategory = await send('POST', '/api/taxonomy/items', admin, {
      ...newItem,
      code: '9901',
      parentCode: '99',
    });
    expect(noCategory.statusCode).toBe(400);
    const badField = await send('POST', '/api/taxonomy/items', admin, {
      ...newItem,
      fields: [{ code: 'brand', type: 'single', zh: '品牌' }],
    });
    expect(badField.statusCode).toBe(400);
    expect(await getItem(db.orm, '0405')).toBeUndefined();

    const audit = await countRows(db, 'audit_log');
    const created = await send('POST', '/api/taxonomy/items', admin, newItem);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      code: '0405',
      limitsByLevel: { district: { handleWorkingDays: 1 } },
    });
    expect(await countRows(db, 'audit_log')).toBe(audit + 1);
    const item = await getItem(db.orm, '0405');
    expect(limitsFor(item!, 'district').handleWorkingDays).toBe(1);
    expect(validateExtraFields(item!, { count: 3, brand: ['hello'] })).toEqual([]);
    expect((await send('POST', '/api/taxonomy/items', admin, newItem)).statusCode).toBe(409);
  });

  it('PATCH /api/taxonomy/items/:code: 401, 403, 404, 400, 200', async () => {
    const url = '/api/taxonomy/items/0405';
    expect((await send('PATCH', url, null, { active: false })).statusCode).toBe(401);
    expect((await send('PATCH', url, operator, { active: false })).statusCode).toBe(403);
    expect((await send('PATCH', '/api/taxonomy/items/0499', admin, { active: false })).statusCode).toBe(404);
    expect((await send('PATCH', url, admin, { limits: { handleWorkingDays: -1 } })).statusCode).toBe(400);
    const patched = await send('PATCH', url, admin, {
      nameEn: 'Shared bikes',
      limits: { handleWorkingDays: 3 },
      active: false,
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      nameEn: 'Shared bikes',
      nameZh: '共享单车乱停放',
      limits: { acceptHours: 4, handleWorkingDays: 3, inspectWorkingDays: 1 },
      active: false,
    });
    expect((await getItem(db.orm, '0405'))?.active).toBe(false);
  });

  it('PUT /api/taxonomy/items/:code/rules: 401, 403, 404, 400, 200', async () => {
    const url = '/api/taxonomy/items/0401/rules';
    const body = {
      rules: [
        { regionCode: territory.street, departmentId: departments.streetCrew },
        { regionCode: territory.communityA, departmentId: departments.community },
      ],
    };
    expect((await send('PUT', url, null, body)).statusCode).toBe(401);
    expect((await send('PUT', url, operator, body)).statusCode).toBe(403);
    expect((await send('PUT', '/api/taxonomy/items/0499/rules', admin, body)).statusCode).toBe(404);
    expect(
      (await send('PUT', url, admin, { rules: [{ regionCode: '230899', departmentId: departments.urban }] }))
        .statusCode,
    ).toBe(400);
    expect(
      (await send('PUT', url, admin, { rules: [{ regionCode: territory.street, departmentId: 999_999 }] }))
        .statusCode,
    ).toBe(400);
    const response = await send('PUT', url, admin, body);
    expect(response.statusCode).toBe(200);
    expect(response.json<{ rules: { regionCode: string }[] }>().rules.map((r) => r.regionCode)).toEqual([
      territory.street,
      territory.communityA,
    ]);
    expect((await resolveDepartment(db.orm, '0401', paths[territory.gridA2]!))?.id).toBe(
      departments.community,
    );
    // Replacing with fewer rules removes the others.
    const replaced = await send('PUT', url, admin, { rules: [body.rules[0]] });
    expect(replaced.json<{ rules: unknown[] }>().rules).toHaveLength(1);
    expect((await resolveDepartment(db.orm, '0401', paths[territory.gridA2]!))?.id).toBe(
      departments.streetCrew,
    );
  });
});
