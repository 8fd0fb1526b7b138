import crypto from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { auth, countRows, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { insertRegion } from '../region/region.store.ts';
import { buildWorkflowWorld, type WorkflowWorld } from '../case/case.workflow.fixtures.ts';
import {
  classificationWalk,
  defaultHotlineClassifications,
  hotlineClientId,
  mapClassification,
  parseCsv,
} from './hotline.service.ts';

const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const headers = [
  '工单编号',
  '来电时间',
  '来电人',
  '来电号码',
  '诉求分类编码',
  '诉求标题',
  '诉求内容',
  '事发地址',
  '经度',
  '纬度',
  '紧急程度',
  '办理时限',
];

/** Four orders in grids A1, A2, B1; the last one's classification (990101) exists nowhere. */
function orders(prefix: string): string[][] {
  return [
    [
      `${prefix}-001`,
      '2026-11-20 08:10:00',
      '王女士',
      '13800001234',
      '010202',
      '井盖缺失',
      '西林路井盖缺失',
      '西林路 3号',
      '130.35',
      '46.85',
      '紧急',
      '2026-11-25 17:00:00',
    ],
    [
      `${prefix}-002`,
      '2026-11-20 08:20:00',
      '赵先生',
      '13800005678',
      '010203',
      '路灯不亮',
      '路灯连续三晚不亮',
      '',
      '130.35',
      '46.95',
      '一般',
      '',
    ],
    [
      `${prefix}-003`,
      '2026-11-20 08:30:00',
      '钱女士',
      '0454-8234567',
      '020100',
      '夜间施工噪声',
      '工地夜间施工',
      '',
      '130.45',
      '46.85',
      '',
      '',
    ],
    [
      `${prefix}-004`,
      '2026-11-20 08:40:00',
      '孙先生',
      '13912345678',
      '990101',
      '无法归类的诉求',
      '新类别',
      '',
      '130.35',
      '46.85',
      '',
      '',
    ],
  ];
}

async function xlsxOf(table: string[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('热线工单');
  sheet.addRow(headers);
  for (const row of table) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const csvCell = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
const csvOf = (table: string[][], bom = true): Buffer =>
  Buffer.from(
    `${bom ? '\uFEFF' : ''}${[headers, ...table].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`,
  );

/** 工单编号,…,纬度 and one order (GB-0001, 路灯不亮 in grid B1) encoded in GB18030, as Excel on Windows saves it. */
const gb18030Csv = Buffer.from(
  'b9a4b5a5b1e0bac52cc0b4b5e7cab1bce42cc0b4b5e7c8cb2cc0b4b5e7bac5c2eb2ccbdfc7f3b7d6c0e0b1e0c2eb2ccbdfc7f3b1eacce22ccbdfc7f3c4dac8dd2ccac2b7a2b5d8d6b72cbeadb6c82cceb3b6c80d0a47422d303030312c323032362d31312d32302030383a30302cc0eecfc8c9fa2c31333930303030313131312c3031303230332cc2b7b5c6b2bbc1c12cb6abc1d6c2b7c2b7b5c6b2bbc1c12cb6abc1d6c2b72c3133302e34352c34362e38350d0a',
  'hex',
);

interface ImportAnswer {
  id: number;
  total: number;
  created: number;
  duplicates: number;
  triaged: { row: number; workOrderNumber: string | null; reason: string; message: string }[];
}

let db: Database;
let server: Wangge;
let world: WorkflowWorld;
let admin: TestUser;
let otherHotline: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  // Another district of the city, with a hotline operator of its own.
  await insertRegion(db.orm, {
    code: '230805',
    level: 'district',
    name: '前进区',
    parentCode: territory.city,
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [130.0, 46.6],
          [130.15, 46.6],
          [130.15, 46.65],
          [130.0, 46.65],
          [130.0, 46.6],
        ],
      ],
    },
    validFrom: new Date('2026-01-01T00:00:00Z'),
  });
  admin = await makeUser(db, [{ role: 'admin', regionCode: null }]);
  otherHotline = await makeUser(db, [{ role: 'hotline_operator', regionCode: '230805' }]);
  server = await testServer(db);
});

afterAll(async () => {
  await server?.app.close();
});

async function importFile(
  user: TestUser,
  body: Buffer | string,
  contentType: string,
  options: { clientId?: string; source?: string } = {},
) {
  const clientId = options.clientId ?? crypto.randomUUID();
  const response = await server.app.inject({
    method: 'POST',
    url: `/api/hotline/imports?clientId=${clientId}${options.source ? `&source=${options.source}` : ''}`,
    headers: { ...auth(user), 'content-type': contentType },
    payload: body,
  });
  return { response, clientId, body: response.json<ImportAnswer>() };
}

async function hotlineCases(prefix: string) {
  return rows<{
    id: number;
    channel: string;
    number: string;
    hotline: string;
    category_code: string;
    grid_code: string;
  }>(
    db.orm,
    sql`select id::int as id, channel, hotline->>'workOrderNumber' as number, hotline::text as hotline,
          category_code, grid_code
        from grid_case where hotline->>'workOrderNumber' like ${`${prefix}-%`} order by number`,
  );
}

async function triageRows(prefix: string) {
  return rows<{ id: number; reason: string; status: string; order: string; case_id: number | null }>(
    db.orm,
    sql`select id::int as id, reason, status, "order"::text as order, case_id::int as case_id
        from hotline_triage where work_order_number like ${`${prefix}-%`} order by id`,
  );
}

/** The Done-when: N orders, one unknown classification → N−1 hotline cases, 1 triage row; phones sealed. */
async function doneWhen(prefix: string, body: Buffer, contentType: string, source?: string) {
  const first = await importFile(world.users.hotline, body, contentType, { source });
  expect(first.response.statusCode, first.response.body).toBe(201);
  expect(first.body).toMatchObject({ total: 4, created: 3, duplicates: 0 });
  expect(first.body.triaged).toEqual([
    {
      row: 5,
      workOrderNumber: `${prefix}-004`,
      reason: 'unmapped_classification',
      message: expect.stringContaining('990101'),
    },
  ]);

  const cases = await hotlineCases(prefix);
  expect(cases.map((c) => [c.number, c.channel, c.category_code])).toEqual([
    [`${prefix}-001`, 'hotline', '0501'],
    [`${prefix}-002`, 'hotline', '0502'],
    [`${prefix}-003`, 'hotline', '0404'],
  ]);
  expect(cases.map((c) => c.grid_code)).toEqual([territory.gridA1, territory.gridA2, territory.gridB1]);
  // Raw rows: the phone only sealed (v1:…) and masked, never in plain text.
  for (const c of cases) {
    expect(c.hotline).toContain('"callerPhoneCipher": "v1:');
    expect(c.hotline).not.toMatch(/13800001234|13800005678|0454-8234567/);
  }
  expect(cases[0]!.hotline).toContain('138****1234');
  const triage = await triageRows(prefix);
  expect(triage).toHaveLength(1);
  expect(triage[0]).toMatchObject({ reason: 'unmapped_classification', status: 'open', case_id: null });
  expect(triage[0]!.order).not.toContain('13912345678');
  expect(triage[0]!.order).toContain('139****5678');
  expect(triage[0]!.order).toMatch(/"callerPhoneCipher": "v1:/);

  // A replay of the request: the first answer, 200.
  const replay = await importFile(world.users.hotline, body, contentType, {
    clientId: first.clientId,
    source,
  });
  expect(replay.response.statusCode).toBe(200);
  expect(replay.body).toEqual(first.body);

  // The same file again (a new request): nothing created twice, no second triage row for the same order.
  const cases0 = await countRows(db, 'grid_case');
  const triage0 = await countRows(db, 'hotline_triage');
  const again = await importFile(world.users.hotline, body, contentType, { source });
  expect(again.response.statusCode).toBe(201);
  expect(again.body).toMatchObject({ total: 4, created: 0, duplicates: 3 });
  expect(again.body.triaged.map((t) => t.reason)).toEqual(['unmapped_classification']);
  expect(await countRows(db, 'grid_case')).toBe(cases0);
  expect(await countRows(db, 'hotline_triage')).toBe(triage0);
  return triage[0]!;
}

describe('hotline import', () => {
  it('an xlsx file with one unknown classification: the row lands in triage, the rest become cases', async () => {
    await doneWhen('XL', await xlsxOf(orders('XL')), xlsxType);
    const audit = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from audit_log where action = 'hotline.imported'`,
    );
    expect(audit!.n).toBeGreaterThanOrEqual(2);
  });

  it('the same with a CSV file (UTF-8 with BOM) from the 96118 line', async () => {
    await doneWhen('CS', csvOf(orders('CS')), 'text/csv', '96118');
    const order = await one<{ source: string; time_limit_at: Date | null }>(
      db.orm,
      sql`select o.source, o.time_limit_at from hotline_order o join grid_case c on c.id = o.case_id
          where o.work_order_number = 'CS-001'`,
    );
    expect(order!.source).toBe('96118');
    // 2026-11-25 17:00 China time
    expect(new Date(order!.time_limit_at!).toISOString()).toBe('2026-11-25T09:00:00.000Z');
  });

  it('reads CSV without BOM and GB18030-encoded CSV', async () => {
    const plain = await importFile(world.users.hotline, csvOf(orders('NB').slice(0, 1), false), 'text/csv');
    expect(plain.body).toMatchObject({ total: 1, created: 1 });
    const gb = await importFile(world.users.hotline, gb18030Csv, 'text/csv; charset=gb18030');
    expect(gb.response.statusCode, gb.response.body).toBe(201);
    expect(gb.body).toMatchObject({ total: 1, created: 1, triaged: [] });
    const created = await one<{ title: string; reporter_name: string; grid_code: string }>(
      db.orm,
      sql`select title, reporter_name, grid_code from grid_case where hotline->>'workOrderNumber' = 'GB-0001'`,
    );
    expect(created).toEqual({ title: '路灯不亮', reporter_name: '李先生', grid_code: territory.gridB1 });
  });

  it('reads Excel date cells as China time and numeric phone cells as text', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('热线工单');
    sheet.addRow(headers);
    // Excel keeps wall-clock time: 2026-11-20 08:10 in Beijing.
    sheet.addRow([
      'DT-001',
      new Date(Date.UTC(2026, 10, 20, 8, 10)),
      '郑女士',
      13800009999,
      '010203',
      '路灯不亮',
      '',
      '',
      130.35,
      46.85,
    ]);
    const { body } = await importFile(
      world.users.hotline,
      Buffer.from(await workbook.xlsx.writeBuffer()),
      xlsxType,
    );
    expect(body).toMatchObject({ total: 1, created: 1, triaged: [] });
    const created = await one<{ call_time: string; masked: string }>(
      db.orm,
      sql`select hotline->>'callTime' as call_time, hotline->>'callerPhoneMasked' as masked
          from grid_case where hotline->>'workOrderNumber' = 'DT-001'`,
    );
    expect(created).toEqual({ call_time: '2026-11-20T00:10:00.000Z', masked: '138****9999' });
  });

  it('CSV parsing keeps quoted commas, quotes and line breaks', () => {
    expect(parseCsv('a,"b,1","c ""x""\nd"\r\n1,2,3')).toEqual([
      ['a', 'b,1', 'c "x"\nd'],
      ['1', '2', '3'],
    ]);
  });

  it('deterministic clientIds per source and work order number', () => {
    const id = hotlineClientId('12345', 'XL-001');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(hotlineClientId('12345', 'XL-001')).toBe(id);
    expect(hotlineClientId('96118', 'XL-001')).not.toBe(id);
  });

  it('the JSON endpoint: valid orders become cases, invalid ones go to triage with the field messages', async () => {
    const { response, body } = await importFile(
      world.users.hotline,
      JSON.stringify({
        orders: [
          {
            workOrderNumber: 'JS-001',
            callTime: '2026-11-20T09:00:00+08:00',
            callerName: '周女士',
            callerPhone: '13700001111',
            classificationCode: '100200',
            title: '建议增设休息座椅',
            lng: 130.45,
            lat: 46.95,
          },
          {
            workOrderNumber: 'JS-002',
            callTime: '昨天上午',
            callerPhone: '12345',
            classificationCode: '010202',
            lng: 130.45,
            lat: 46.95,
          },
          { callTime: '2026-11-20 09:00', callerPhone: '13700002222', classificationCode: '010202' },
        ],
      }),
      'application/json',
    );
    expect(response.statusCode, response.body).toBe(201);
    expect(body).toMatchObject({ total: 3, created: 1, duplicates: 0 });
    expect(body.triaged.map((t) => [t.row, t.workOrderNumber, t.reason])).toEqual([
      [2, 'JS-002', 'invalid'],
      [3, null, 'invalid'],
    ]);
    expect(body.triaged[0]!.message).toContain('来电时间');
    expect(body.triaged[0]!.message).toContain('来电号码');
    expect(body.triaged[1]!.message).toBe('工单编号: 必填 (required)');
    const invalid = await one<{ order: string; fields: { field: string }[] }>(
      db.orm,
      sql`select "order"::text as order, fields from hotline_triage where work_order_number = 'JS-002'`,
    );
    expect(invalid!.order).not.toContain('"12345"');
    expect(invalid!.fields.map((f) => f.field).sort()).toEqual(['callTime', 'callerPhone']);
    const created = await hotlineCases('JS');
    expect(created.map((c) => [c.number, c.category_code, c.grid_code])).toEqual([
      ['JS-001', '1002', territory.gridB2],
    ]);
    // A body that is not { orders: [...] }: 400.
    const bad = await importFile(world.users.hotline, JSON.stringify({ orders: [] }), 'application/json');
    expect(bad.response.statusCode).toBe(400);
    const wrongType = await importFile(world.users.hotline, 'x', 'text/plain');
    expect(wrongType.response.statusCode).toBe(415);
  });

  it('without a point: a matching standard address locates the order, an unknown one goes to triage no_location', async () => {
    await db.orm.execute(sql`insert into address (grid_code, region_path, road, road_number)
      values (${territory.gridB1}, ${world.paths.gridB1}, '长安路', '12')`);
    const row = (number: string, address: string) => [
      number,
      '2026-11-20 10:00',
      '吴先生',
      '13600001111',
      '010201',
      '道路破损',
      '路面塌陷',
      address,
      '',
      '',
      '',
      '',
    ];
    const { body } = await importFile(
      world.users.hotline,
      csvOf([row('AD-001', '向阳区长安路12号门前'), row('AD-002', '向阳区不存在路 99号')]),
      'text/csv',
    );
    expect(body).toMatchObject({ total: 2, created: 1 });
    expect(body.triaged.map((t) => [t.workOrderNumber, t.reason])).toEqual([['AD-002', 'no_location']]);
    const cases = await hotlineCases('AD');
    expect(cases.map((c) => [c.number, c.grid_code])).toEqual([['AD-001', territory.gridB1]]);
    // Seen by the importer's district even though it has no grid.
    const list = await server.app.inject({
      method: 'GET',
      url: '/api/hotline/triage?status=open',
      headers: auth(world.users.hotline),
    });
    expect(
      list.json<{ items: { workOrderNumber: string }[] }>().items.map((i) => i.workOrderNumber),
    ).toContain('AD-002');
  });
});

describe('classification mapping', () => {
  it('walks minor → middle → major', async () => {
    expect(classificationWalk('010203')).toEqual(['010203', '010200', '010000']);
    expect(classificationWalk('010200')).toEqual(['010200', '010000']);
    expect(classificationWalk('010000')).toEqual(['010000']);
    // 010299 has no row: its middle 010200 maps (道路与井盖损坏).
    expect(await mapClassification(db.orm, '010299')).toBe('0501');
    // 020501 and 020500 have no rows: the major 020000 maps (噪声、油烟与污染).
    expect(await mapClassification(db.orm, '020501')).toBe('0404');
    // 010203 maps itself (路灯), not its middle.
    expect(await mapClassification(db.orm, '010203')).toBe('0502');
    // 040201 → 040200 (unmapped) → 040000 (unmapped): none.
    expect(await mapClassification(db.orm, '040201')).toBeNull();
    const list = await server.app.inject({
      method: 'GET',
      url: '/api/hotline/classifications',
      headers: auth(world.users.hotline),
    });
    expect(list.statusCode).toBe(200);
    const items = list.json<{
      items: { code: string; level: string; itemCode: string | null; effectiveItemCode: string | null }[];
    }>().items;
    expect(items).toHaveLength(defaultHotlineClassifications.length);
    expect(items.find((i) => i.code === '010101')).toMatchObject({ level: 'minor', itemCode: '0402' });
    expect(items.find((i) => i.code === '040200')).toMatchObject({
      level: 'middle',
      itemCode: null,
      effectiveItemCode: null,
    });
    expect(items.find((i) => i.code === '020100')).toMatchObject({
      level: 'middle',
      effectiveItemCode: '0404',
    });
    // Every mapped default points at an item of the default taxonomy.
    const items0 = await rows<{ code: string }>(
      db.orm,
      sql`select code from case_category where parent_code is not null`,
    );
    const known = new Set(items0.map((i) => i.code));
    for (const [, , item] of defaultHotlineClassifications)
      if (item) expect(known.has(item), item).toBe(true);
  });

  it('editing a mapping (admin, audited) then resolving the triage row creates the case', async () => {
    const put = (user: TestUser, payload: Record<string, unknown>) =>
      server.app.inject({
        method: 'PUT',
        url: '/api/hotline/classifications/990000',
        headers: auth(user),
        payload,
      });
    expect((await put(world.users.hotline, { name: '其他', itemCode: '1001' })).statusCode).toBe(403);
    expect((await put(admin, { name: '其他', itemCode: '9999' })).statusCode).toBe(400);
    const edited = await put(admin, { name: '其他诉求', itemCode: '1001' });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json<Record<string, unknown>>()).toMatchObject({
      code: '990000',
      level: 'major',
      itemCode: '1001',
    });
    expect(await mapClassification(db.orm, '990101')).toBe('1001');
    const audited = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from audit_log where action = 'hotline.classification.put' and object_id = '990000'`,
    );
    expect(audited!.n).toBe(1);

    const triage = (await triageRows('XL'))[0]!;
    // Another district's hotline operator does not see it: 404 on resolve, absent from the list.
    const foreign = await server.app.inject({
      method: 'POST',
      url: `/api/hotline/triage/${triage.id}/resolve`,
      headers: auth(otherHotline),
      payload: { categoryCode: '1001' },
    });
    expect(foreign.statusCode).toBe(404);
    const foreignList = await server.app.inject({
      method: 'GET',
      url: '/api/hotline/triage',
      headers: auth(otherHotline),
    });
    expect(foreignList.statusCode).toBe(200);
    expect(foreignList.json<{ items: unknown[] }>().items).toEqual([]);

    const list = await server.app.inject({
      method: 'GET',
      url: '/api/hotline/triage',
      headers: auth(world.users.hotline),
    });
    const item = list
      .json<{ items: { id: number; order: Record<string, unknown> }[] }>()
      .items.find((i) => i.id === triage.id)!;
    expect(item.order).toMatchObject({ callerPhoneMasked: '139****5678', classificationCode: '990101' });
    expect(JSON.stringify(item)).not.toContain('13912345678');
    expect(JSON.stringify(item)).not.toContain('v1:');

    // The centre operator of the community where it happened sees it too; the other community's does not.
    const seen = async (user: TestUser) =>
      (await server.app.inject({ method: 'GET', url: '/api/hotline/triage', headers: auth(user) }))
        .json<{ items: { id: number }[] }>()
        .items.map((i) => i.id);
    expect(await seen(world.users.operatorA)).toContain(triage.id);
    expect(await seen(world.users.operatorB)).not.toContain(triage.id);

    const resolved = await server.app.inject({
      method: 'POST',
      url: `/api/hotline/triage/${triage.id}/resolve`,
      headers: auth(world.users.hotline),
      payload: { categoryCode: '1001' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const answer = resolved.json<{ status: string; caseId: number; serial: string }>();
    expect(answer.status).toBe('resolved');
    const created = await one<{
      client_id: string;
      channel: string;
      category_code: string;
      grid_code: string;
    }>(
      db.orm,
      sql`select client_id::text as client_id, channel, category_code, grid_code from grid_case where id = ${answer.caseId}`,
    );
    expect(created).toEqual({
      client_id: hotlineClientId('12345', 'XL-004'),
      channel: 'hotline',
      category_code: '1001',
      grid_code: territory.gridA1,
    });
    expect((await triageRows('XL'))[0]).toMatchObject({ status: 'resolved', case_id: answer.caseId });
    // Handled once only.
    const twice = await server.app.inject({
      method: 'POST',
      url: `/api/hotline/triage/${triage.id}/resolve`,
      headers: auth(world.users.hotline),
      payload: { categoryCode: '1001' },
    });
    expect(twice.statusCode).toBe(409);
    // Importing the file again now: all four are duplicates.
    const again = await importFile(world.users.hotline, await xlsxOf(orders('XL')), xlsxType);
    expect(again.body).toMatchObject({ created: 0, duplicates: 4, triaged: [] });
  });

  it('a re-import after the mapping changed creates the case and closes the triage row', async () => {
    const before = (await triageRows('CS'))[0]!;
    expect(before.status).toBe('open');
    const again = await importFile(world.users.hotline, csvOf(orders('CS')), 'text/csv', { source: '96118' });
    expect(again.body).toMatchObject({ created: 1, duplicates: 3, triaged: [] });
    const after = (await triageRows('CS'))[0]!;
    expect(after.status).toBe('resolved');
    expect(after.case_id).not.toBeNull();
  });

  it('rejecting a triage row (audited)', async () => {
    const row = await one<{ id: number }>(
      db.orm,
      sql`select id::int as id from hotline_triage where work_order_number = 'AD-002'`,
    );
    const rejected = await server.app.inject({
      method: 'POST',
      url: `/api/hotline/triage/${row!.id}/reject`,
      headers: auth(world.users.hotline),
      payload: { reason: '测试来电' },
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json<Record<string, unknown>>()).toMatchObject({ status: 'rejected', caseId: null });
    const list = await server.app.inject({
      method: 'GET',
      url: '/api/hotline/triage?status=rejected',
      headers: auth(world.users.hotline),
    });
    expect(list.json<{ items: { id: number; rejectReason: string }[] }>().items).toEqual([
      expect.objectContaining({ id: row!.id, rejectReason: '测试来电' }),
    ]);
  });
});

describe('permissions', () => {
  it('a department handler gets 403 on every hotline route', async () => {
    const handler = world.users.handlerUrban;
    const imported = await importFile(handler, csvOf(orders('PH')), 'text/csv');
    expect(imported.response.statusCode).toBe(403);
    for (const url of ['/api/hotline/triage', '/api/hotline/classifications', '/api/hotline/template.xlsx'])
      expect((await server.app.inject({ method: 'GET', url, headers: auth(handler) })).statusCode, url).toBe(
        403,
      );
    // A grid worker reports cases but never through the hotline.
    const worker = await importFile(world.users.workerA1, csvOf(orders('PW')), 'text/csv');
    expect(worker.response.statusCode).toBe(403);
    expect(await hotlineCases('PH')).toEqual([]);
  });

  it('the template is an xlsx workbook with the Chinese headers', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/api/hotline/template.xlsx',
      headers: auth(world.users.hotline),
    });
    expect(response.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(response.rawPayload as unknown as ArrayBuffer);
    const header = workbook.worksheets[0]!.getRow(1).values as unknown[];
    expect(header.slice(1)).toEqual(headers);
  });
});

describe('privacy', () => {
  it('no caller phone reaches the logs', () => {
    const logs = capturedLogs.join('\n');
    for (const phone of ['13800001234', '13912345678', '13700002222', '13600001111'])
      expect(logs).not.toContain(phone);
  });
});

describe('results export', () => {
  it('carries the status, the department and the reply after dispatch, handling and closing', async () => {
    const [first] = await hotlineCases('XL');
    const caseId = first!.id;
    const act = async (user: TestUser, action: string, payload: Record<string, unknown> = {}) => {
      const response = await server.app.inject({
        method: 'POST',
        url: `/api/cases/${caseId}/actions/${action}`,
        headers: auth(user),
        payload,
      });
      expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
    };
    await act(world.users.operatorStreet, 'file');
    await act(world.users.operatorStreet, 'dispatch', { leadDepartmentId: world.departments.urban });
    await act(world.users.handlerUrban, 'accept');
    await act(world.users.handlerUrban, 'respond', { result: '=已更换井盖,现场恢复通行' });
    await act(world.users.operatorStreet, 'inspect', { result: 'pass' });

    const window = 'from=2026-11-19T00:00:00Z&to=2026-11-21T00:00:00Z';
    const csv = await server.app.inject({
      method: 'GET',
      url: `/api/hotline/results.csv?${window}`,
      headers: auth(world.users.hotline),
    });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const table = parseCsv(csv.body.replace(/^\uFEFF/, ''));
    expect(table[0]).toEqual([
      '工单编号',
      '办理状态',
      '承办部门',
      '答复内容',
      '受理时间',
      '办结时间',
      '满意度',
    ]);
    const line = table.find((r) => r[0] === 'XL-001')!;
    // The reply starts with '=': neutralised with an apostrophe.
    expect(line).toEqual([
      'XL-001',
      '已办结',
      '城管',
      "'=已更换井盖,现场恢复通行",
      '2026-11-20 10:00:00',
      '2026-11-20 10:00:00',
      '',
    ]);
    const open = table.find((r) => r[0] === 'XL-002')!;
    expect(open.slice(1, 4)).toEqual(['已受理', '', '']);

    const xlsx = await server.app.inject({
      method: 'GET',
      url: `/api/hotline/results.xlsx?${window}`,
      headers: auth(world.users.hotline),
    });
    expect(xlsx.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    const found: unknown[][] = [];
    sheet.eachRow((row) => found.push((row.values as unknown[]).slice(1)));
    expect(found[0]).toEqual(table[0]);
    expect(found.find((r) => r[0] === 'XL-001')!.slice(0, 4)).toEqual([
      'XL-001',
      '已办结',
      '城管',
      "'=已更换井盖,现场恢复通行",
    ]);

    // Outside the window: header only. Another district: header only. A department handler: 403.
    const empty = await server.app.inject({
      method: 'GET',
      url: '/api/hotline/results.csv?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z',
      headers: auth(world.users.hotline),
    });
    expect(parseCsv(empty.body.replace(/^\uFEFF/, ''))).toHaveLength(1);
    const foreign = await server.app.inject({
      method: 'GET',
      url: `/api/hotline/results.csv?${window}`,
      headers: auth(otherHotline),
    });
    expect(parseCsv(foreign.body.replace(/^\uFEFF/, ''))).toHaveLength(1);
    const handler = await server.app.inject({
      method: 'GET',
      url: `/api/hotline/results.csv?${window}`,
      headers: auth(world.users.handlerUrban),
    });
    expect(handler.statusCode).toBe(403);
  });
});
