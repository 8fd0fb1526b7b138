import { randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  personExcelColumns,
  registryExcelColumns,
  registryExcelErrorHeader,
  registryExcelInstructionsSheet,
  registryExcelSheetNames,
  type Building,
  type ImportList,
  type ImportResult,
  type RegistryExcelKind,
} from '@wangge/contracts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { checkCharOf } from './person-id.ts';
import { defuseCell, xlsxContentType } from './registry.excel.ts';
import { runRetention } from './registry.retention.ts';
import { fixedClock } from '../../platform/clock.ts';

function residentId(area: string, birth: string, sequence: string): string {
  const first17 = `${area}${birth}${sequence}`;
  return `${first17}${checkCharOf(first17)}`;
}

/** A resident ID with a wrong check character. */
function badCheckDigit(id: string): string {
  const wrong = id[17] === '1' ? '2' : '1';
  return `${id.slice(0, 17)}${wrong}`;
}

let db: Database;
let server: Wangge;
let admin: TestUser;
let workerA1: TestUser;
let workerB1: TestUser;
let operator: TestUser;
const plainValues: string[] = [];

type Row = Record<string, string>;

/** A workbook like a filled template: the kind's headers in row 1, then the rows (by header). */
async function workbookOf(kind: RegistryExcelKind, list: Row[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(registryExcelSheetNames[kind]);
  const headers = registryExcelColumns[kind].map((c) => c.header);
  sheet.addRow(headers);
  for (const row of list) sheet.addRow(headers.map((h) => row[h] ?? null));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

let sequence = 100;
/** A valid person row in grid A1, 3号楼 2-301; a fresh ID number and phone each time (remembered as plain). */
function person(overrides: Row = {}): Row {
  sequence += 2;
  const id = residentId('230803', '19800101', String(sequence).padStart(3, '0'));
  const phone = `139${String(10_000_000 + sequence).slice(-8)}`;
  plainValues.push(id, phone);
  return {
    姓名: `居民${sequence}`,
    性别: '男',
    证件类型: '居民身份证',
    证件号码: id,
    联系电话: phone,
    网格编码: t.gridA1,
    楼栋: '3号楼',
    单元: '2',
    房号: '301',
    户类型: '户籍',
    与户主关系: '子女',
    ...overrides,
  };
}

function upload(
  user: TestUser,
  bytes: Buffer,
  query: { kind?: string; mode?: string; clientId?: string } = {},
  contentType = xlsxContentType,
) {
  const params = new URLSearchParams({
    kind: query.kind ?? 'persons',
    mode: query.mode ?? 'all_or_nothing',
    clientId: query.clientId ?? randomUUID(),
  });
  return server.app.inject({
    method: 'POST',
    url: `/api/registry/imports?${params.toString()}`,
    headers: { ...auth(user), 'content-type': contentType },
    payload: bytes,
  });
}

const get = (user: TestUser, url: string) => server.app.inject({ method: 'GET', url, headers: auth(user) });

async function loadXlsx(body: Buffer): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(body as unknown as ArrayBuffer);
  return workbook;
}

const count = async (table: 'person' | 'household' | 'person_tag' | 'organisation') =>
  (await one<{ n: number }>(db.orm, sql`select count(*)::int as n from ${sql.identifier(table)}`))!.n;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  server = await testServer(db);
  admin = await makeUser(db, [{ role: 'admin' }]);
  workerA1 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridA1 }]);
  workerB1 = await makeUser(db, [{ role: 'grid_worker', regionCode: t.gridB1 }]);
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.street }]);
  for (const [user, gridCode, name] of [
    [workerA1, t.gridA1, '3号楼'],
    [workerB1, t.gridB1, '5号楼'],
  ] as const) {
    const b = await server.app.inject({
      method: 'POST',
      url: '/api/buildings',
      headers: auth(user),
      payload: { gridCode, name, kind: 'residential', floors: 6 },
    });
    expect(b.statusCode, b.body).toBe(201);
    b.json<Building>();
  }
});

afterAll(async () => {
  await server?.app.close();
});

describe('templates', () => {
  it('offers a persons template with Chinese headers, lists, notes and examples on a second sheet; filled, it imports', async () => {
    const response = await get(workerA1, '/api/registry/templates/persons.xlsx');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toContain(xlsxContentType);
    const workbook = await loadXlsx(response.rawPayload);
    const sheet = workbook.getWorksheet(registryExcelSheetNames.persons)!;
    expect(workbook.worksheets.map((s) => s.name)).toEqual([
      registryExcelSheetNames.persons,
      registryExcelInstructionsSheet,
    ]);
    const header = sheet.getRow(1);
    expect(personExcelColumns.map((c, i) => header.getCell(i + 1).value)).toEqual(
      personExcelColumns.map((c) => c.header),
    );
    expect(header.getCell(1).font?.bold).toBe(true);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.getColumn(4).width).toBeGreaterThan(15);
    for (let i = 1; i <= personExcelColumns.length; i++) expect(header.getCell(i).note).toBeTruthy();
    const validations = Object.values(
      (sheet as unknown as { dataValidations: { model: Record<string, { formulae: string[] }> } })
        .dataValidations.model,
    );
    const lists = validations.map((v) => v.formulae[0]);
    for (const expected of ['男', '居民身份证', '户籍', '户主']) expect(lists.join()).toContain(expected);
    // Headers only on the data sheet; the examples live on the instructions sheet.
    expect(sheet.actualRowCount).toBe(1);
    const help = workbook.getWorksheet(registryExcelInstructionsSheet)!;
    const helpText: string[] = [];
    help.eachRow((row) => helpText.push(row.getCell(1).text));
    expect(helpText).toContain('张三');
    expect(helpText).toContain('李四');

    // Fill two rows into the downloaded template and send it back.
    const first = person({ 重点人群: '独居老人、残疾人', 与户主关系: '户主' });
    const second = person({ 性别: '女', 与户主关系: '配偶' });
    for (const [index, values] of [first, second].entries()) {
      const row = sheet.getRow(index + 2);
      personExcelColumns.forEach((c, i) => {
        if (values[c.header] !== undefined) row.getCell(i + 1).value = values[c.header]!;
      });
      row.commit();
    }
    const filled = Buffer.from(await workbook.xlsx.writeBuffer());
    const before = await count('person');
    const imported = await upload(workerA1, filled);
    expect(imported.statusCode, imported.body).toBe(201);
    expect(imported.json<ImportResult>()).toMatchObject({
      kind: 'persons',
      status: 'imported',
      totalRows: 2,
      importedRows: 2,
      rejectedRows: 0,
      errors: [],
      errorWorkbookUrl: null,
    });
    expect(await count('person')).toBe(before + 2);
    // Both joined one household at 3号楼 2-301 (created as 户籍); the first has two tags.
    const stored = await rows<{ household_id: number; relation_to_head: string; kind: string; tags: number }>(
      db.orm,
      sql`select p.household_id::int as household_id, p.relation_to_head, h.kind,
            (select count(*)::int from person_tag t where t.person_id = p.id) as tags
          from person p join household h on h.id = p.household_id order by p.id`,
    );
    expect(stored).toHaveLength(2);
    expect(stored[0]!.household_id).toBe(stored[1]!.household_id);
    expect(stored.map((s) => [s.relation_to_head, s.kind, s.tags])).toEqual([
      ['head', 'registered', 2],
      ['spouse', 'registered', 0],
    ]);
  });

  it('offers household and organisation templates too', async () => {
    for (const kind of ['households', 'organisations'] as const) {
      const response = await get(workerA1, `/api/registry/templates/${kind}.xlsx`);
      expect(response.statusCode, response.body).toBe(200);
      const workbook = await loadXlsx(response.rawPayload);
      expect(workbook.worksheets[0]!.name).toBe(registryExcelSheetNames[kind]);
      expect(workbook.worksheets[1]!.name).toBe(registryExcelInstructionsSheet);
    }
    expect((await get(workerA1, '/api/registry/templates/cars.xlsx')).statusCode).toBe(400);
  });
});

describe('imports', () => {
  /** Five rows: rows 2 and 4 good; row 3 a bad check digit, row 5 a bad phone, row 6 a building of another grid. */
  function fileWithThreeBadRows(): Row[] {
    const good1 = person({ 房号: '401' });
    const bad1 = person();
    bad1.证件号码 = badCheckDigit(bad1.证件号码!);
    const good2 = person({ 房号: '401' });
    const bad2 = person({ 联系电话: '12345' });
    const bad3 = person({ 楼栋: '5号楼' });
    return [good1, bad1, good2, bad2, bad3];
  }

  let rejected: ImportResult;
  let rejectedFile: Buffer;

  it('stores nothing in all-or-nothing mode when 3 rows are bad, and marks exactly those rows', async () => {
    rejectedFile = await workbookOf('persons', fileWithThreeBadRows());
    const before = { person: await count('person'), household: await count('household') };
    const response = await upload(workerA1, rejectedFile, { mode: 'all_or_nothing' });
    expect(response.statusCode, response.body).toBe(201);
    rejected = response.json<ImportResult>();
    expect(rejected).toMatchObject({ status: 'rejected', totalRows: 5, importedRows: 0, rejectedRows: 3 });
    expect(rejected.errors.map((e) => [e.row, e.column])).toEqual([
      [3, '证件号码'],
      [5, '联系电话'],
      [6, '楼栋'],
    ]);
    expect(rejected.errors[0]!.message).toContain('校验位');
    expect(rejected.errorWorkbookUrl).toBe(`/api/registry/imports/${rejected.id}/errors.xlsx`);
    expect({ person: await count('person'), household: await count('household') }).toEqual(before);
    const audit = await one<{ detail: Record<string, unknown> }>(
      db.orm,
      sql`select detail from audit_log where action = 'registry.imported' and object_id = ${String(rejected.id)}`,
    );
    expect(audit!.detail).toMatchObject({ status: 'rejected', importedRows: 0, rejectedRows: 3 });
  });

  it('answers the error workbook: the same rows, a 错误说明 column, the bad cells in red', async () => {
    const response = await get(workerA1, rejected.errorWorkbookUrl!);
    expect(response.statusCode, response.body).toBe(200);
    const workbook = await loadXlsx(response.rawPayload);
    const sheet = workbook.getWorksheet(registryExcelSheetNames.persons)!;
    const headers = personExcelColumns.map((c) => c.header);
    const errorColumn = headers.length + 1;
    expect(sheet.getRow(1).getCell(errorColumn).value).toBe(registryExcelErrorHeader);
    const col = (header: string) => headers.indexOf(header) + 1;
    const isRed = (row: number, column: number) => {
      const fill = sheet.getRow(row).getCell(column).fill as ExcelJS.FillPattern | undefined;
      return fill?.type === 'pattern' && fill.fgColor?.argb === 'FFFFC7CE';
    };
    expect(isRed(3, col('证件号码'))).toBe(true);
    expect(isRed(5, col('联系电话'))).toBe(true);
    expect(isRed(6, col('楼栋'))).toBe(true);
    expect(isRed(3, col('姓名'))).toBe(false);
    for (const good of [2, 4]) {
      expect(sheet.getRow(good).getCell(errorColumn).value ?? null).toBeNull();
      for (let c = 1; c <= headers.length; c++) expect(isRed(good, c)).toBe(false);
    }
    expect(sheet.getRow(5).getCell(errorColumn).text).toContain('联系电话');
    // The uploaded values are still there.
    expect(sheet.getRow(2).getCell(col('姓名')).value).toBeTruthy();
    // Another user cannot read it; an admin can.
    expect((await get(workerB1, rejected.errorWorkbookUrl!)).statusCode).toBe(404);
    expect((await get(admin, rejected.errorWorkbookUrl!)).statusCode).toBe(200);
  });

  it('drops the kept upload after 30 days (the retention job); the report then says it has expired', async () => {
    expect(
      (await runRetention({ db, clock: fixedClock('2026-12-10T02:00:00Z'), days: 730 })).importFilesDropped,
    ).toBe(0);
    const result = await runRetention({ db, clock: fixedClock('2027-01-10T02:00:00Z'), days: 730 });
    expect(result.importFilesDropped).toBeGreaterThanOrEqual(1);
    const kept = await one<{ file: string | null }>(
      db.orm,
      sql`select file from registry_import where id = ${rejected.id}`,
    );
    expect(kept!.file).toBeNull();
    const response = await get(workerA1, rejected.errorWorkbookUrl!);
    expect(response.statusCode).toBe(404);
    expect(response.json<{ message: string }>().message).toContain('超过保存期限');
  });

  it('stores the good rows in valid-rows mode; a replay of the same client id imports nothing more', async () => {
    const clientId = randomUUID();
    const before = await count('person');
    const response = await upload(workerA1, rejectedFile, { mode: 'valid_rows', clientId });
    expect(response.statusCode, response.body).toBe(201);
    const result = response.json<ImportResult>();
    expect(result).toMatchObject({ status: 'partially_imported', importedRows: 2, rejectedRows: 3 });
    expect(result.errors.map((e) => e.row)).toEqual([3, 5, 6]);
    expect(await count('person')).toBe(before + 2);

    const replay = await upload(workerA1, rejectedFile, { mode: 'valid_rows', clientId });
    expect(replay.statusCode, replay.body).toBe(200);
    expect(replay.json<ImportResult>()).toEqual(result);
    expect(await count('person')).toBe(before + 2);

    // The import record: own, admin any, others 404; the list is newest first.
    expect((await get(workerA1, `/api/registry/imports/${result.id}`)).json<ImportResult>()).toEqual(result);
    expect((await get(admin, `/api/registry/imports/${result.id}`)).statusCode).toBe(200);
    expect((await get(workerB1, `/api/registry/imports/${result.id}`)).statusCode).toBe(404);
    const list = (await get(workerA1, '/api/registry/imports?limit=20')).json<ImportList>();
    expect(list.items[0]!.id).toBe(result.id);
    expect(list.items.every((i) => i.createdBy.id === workerA1.id)).toBe(true);
    expect((await get(workerB1, '/api/registry/imports')).json<ImportList>().items).toEqual([]);
  });

  it('finds duplicate ID numbers in the file (naming the first row) and in the database', async () => {
    const existing = (await one<{ n: number }>(db.orm, sql`select count(*)::int as n from person`))!.n;
    expect(existing).toBeGreaterThan(0);
    const registeredRow = person();
    const ok = await upload(workerA1, await workbookOf('persons', [registeredRow]));
    expect(ok.json<ImportResult>().status).toBe('imported');
    const fresh = person();
    const file = await workbookOf('persons', [
      fresh,
      { ...person(), 证件号码: fresh.证件号码!.toLowerCase() },
      { ...person(), 证件号码: registeredRow.证件号码! },
    ]);
    const response = await upload(workerA1, file, { mode: 'valid_rows' });
    const result = response.json<ImportResult>();
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [3, 'idNumber'],
      [4, 'idNumber'],
    ]);
    expect(result.errors[0]!.message).toContain('第 2 行');
    expect(result.errors[1]!.message).toContain('已登记');
    expect(result.importedRows).toBe(1);
  });

  it('treats a grid outside the importer’s scope as a row error', async () => {
    const response = await upload(
      workerA1,
      await workbookOf('persons', [person({ 网格编码: t.gridB1, 楼栋: '5号楼' })]),
    );
    const result = response.json<ImportResult>();
    expect(result.status).toBe('rejected');
    expect(result.errors).toEqual([
      expect.objectContaining({ row: 2, column: '网格编码', field: 'gridCode' }),
    ]);
  });

  it('checks required fields, enumerations and unknown tags', async () => {
    const response = await upload(
      workerA1,
      await workbookOf('persons', [person({ 姓名: '', 性别: '男的', 重点人群: '独居老人、外星人' })]),
    );
    const fields = response.json<ImportResult>().errors.map((e) => e.field);
    expect(fields).toEqual(['name', 'gender', 'tags']);
  });

  it('imports households and organisations, refusing an address already registered', async () => {
    const households = await workbookOf('households', [
      { 网格编码: t.gridA1, 楼栋: '3号楼', 单元: '1', 房号: '101', 户类型: '出租' },
      { 网格编码: t.gridA1, 楼栋: '3号楼', 单元: '1', 房号: '101', 户类型: '户籍' },
      { 网格编码: t.gridA1, 楼栋: '3号楼', 单元: '2', 房号: '301', 户类型: '户籍' },
    ]);
    const result = (
      await upload(workerA1, households, { kind: 'households', mode: 'valid_rows' })
    ).json<ImportResult>();
    expect(result.importedRows).toBe(1);
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [3, 'room'],
      [4, 'room'],
    ]);
    const phone = '13712345670';
    plainValues.push(phone);
    const organisations = await workbookOf('organisations', [
      {
        单位名称: '西林便利店',
        单位类型: '商铺',
        网格编码: t.gridA1,
        楼栋: '3号楼',
        安全负责人: '王五',
        安全负责人电话: phone,
      },
      { 单位名称: '向阳网咖', 单位类型: '网吧', 网格编码: t.gridA1 },
    ]);
    const before = await count('organisation');
    const org = (await upload(workerA1, organisations, { kind: 'organisations' })).json<ImportResult>();
    expect(org).toMatchObject({ status: 'imported', importedRows: 2 });
    expect(await count('organisation')).toBe(before + 2);
  });

  it('refuses other content types (415) and files that are not xlsx (400)', async () => {
    const csv = await upload(workerA1, Buffer.from('姓名,性别\n张三,男\n'), {}, 'text/csv');
    expect(csv.statusCode).toBe(415);
    expect(csv.json<{ message: string }>().message).toContain(xlsxContentType);
    const json = await server.app.inject({
      method: 'POST',
      url: `/api/registry/imports?kind=persons&mode=all_or_nothing&clientId=${randomUUID()}`,
      headers: auth(workerA1),
      payload: { rows: [] },
    });
    expect(json.statusCode).toBe(415);
    const junk = await upload(workerA1, Buffer.from('this is not a workbook'));
    expect(junk.statusCode).toBe(400);
    expect(junk.json()).toMatchObject({
      fields: [{ field: 'file', message: '不是有效的 Excel 文件 (not a valid xlsx workbook)' }],
    });
    const badQuery = await upload(workerA1, await workbookOf('persons', []), { clientId: 'not-a-uuid' });
    expect(badQuery.statusCode).toBe(400);
  });
});

describe('exports', () => {
  const hyperlink = '=HYPERLINK("http://x","点我")';

  it('defuses formula-like text', () => {
    expect(defuseCell(hyperlink)).toBe(`'${hyperlink}`);
    expect(defuseCell(`   ${hyperlink}`)).toBe(`'   ${hyperlink}`);
    for (const start of ['+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(defuseCell(start)).toBe(`'${start}`);
    expect(defuseCell('3号楼')).toBe('3号楼');
  });

  it('writes formula-like text as text, masked by default, and audits the export', async () => {
    const row = person({ 工作单位: hyperlink, 房号: '501' });
    const imported = await upload(workerA1, await workbookOf('persons', [row]));
    expect(imported.json<ImportResult>().status).toBe('imported');
    // An import trims its cells: the address with spaces before the formula is set directly.
    await db.orm.execute(
      sql`update person set current_address = ${`  ${hyperlink}`} where name = ${row.姓名!}`,
    );
    const response = await get(workerA1, `/api/registry/exports/persons.xlsx?region=${t.gridA1}`);
    expect(response.statusCode, response.body).toBe(200);
    const workbook = await loadXlsx(response.rawPayload);
    const sheet = workbook.worksheets[0]!;
    const headers = (sheet.getRow(1).values as ExcelJS.CellValue[]).slice(1);
    const col = (h: string) => headers.indexOf(h) + 1;
    let found: ExcelJS.Row | undefined;
    sheet.eachRow((r) => {
      if (r.getCell(col('姓名')).value === row.姓名) found = r;
    });
    expect(found).toBeDefined();
    const work = found!.getCell(col('工作单位'));
    expect(work.value).toBe(`'${hyperlink}`);
    expect(work.type).toBe(ExcelJS.ValueType.String);
    expect(work.formula).toBeUndefined();
    const address = found!.getCell(col('现住址'));
    expect(address.value).toBe(`'  ${hyperlink}`);
    expect(address.type).toBe(ExcelJS.ValueType.String);
    // Masked by default: no full ID number or phone anywhere in the file.
    expect(found!.getCell(col('证件号码')).value).toBe(
      `${row.证件号码!.slice(0, 6)}********${row.证件号码!.slice(-4)}`,
    );
    expect(found!.getCell(col('联系电话')).value).toBe(
      `${row.联系电话!.slice(0, 3)}****${row.联系电话!.slice(-4)}`,
    );
    const cells: string[] = [];
    sheet.eachRow((r) => r.eachCell((c) => cells.push(c.text)));
    for (const value of plainValues) expect(cells).not.toContain(value);
    const audit = await one<{ detail: Record<string, unknown> }>(
      db.orm,
      sql`select detail from audit_log where action = 'registry.exported' order by id desc limit 1`,
    );
    expect(audit!.detail).toMatchObject({
      kind: 'persons',
      region: t.gridA1,
      reveal: false,
      rows: sheet.actualRowCount - 1,
    });
    // Out of scope: 404.
    expect((await get(workerB1, `/api/registry/exports/persons.xlsx?region=${t.gridA1}`)).statusCode).toBe(
      404,
    );
  });

  it('reveals only with person.reveal (403) and a reason (400); a reveal is audited with its reason', async () => {
    const base = `/api/registry/exports/persons.xlsx?region=${t.gridA1}&reveal=1`;
    expect((await get(workerA1, `${base}&reason=${encodeURIComponent('入户走访核查')}`)).statusCode).toBe(
      403,
    );
    expect((await get(operator, base)).statusCode).toBe(400);
    expect((await get(operator, `${base}&reason=ab`)).statusCode).toBe(400);
    const reason = '疫情密接排查需要';
    const response = await get(operator, `${base}&reason=${encodeURIComponent(reason)}`);
    expect(response.statusCode, response.body).toBe(200);
    const sheet = (await loadXlsx(response.rawPayload)).worksheets[0]!;
    const cells: string[] = [];
    sheet.eachRow((r) => r.eachCell((c) => cells.push(c.text)));
    const stored = await rows<{ masked: string }>(db.orm, sql`select id_masked as masked from person`);
    expect(stored.length).toBeGreaterThan(0);
    expect(plainValues.filter((v) => cells.includes(v)).length).toBeGreaterThan(0);
    const audit = await one<{ actor_id: number; detail: Record<string, unknown> }>(
      db.orm,
      sql`select actor_id::int as actor_id, detail from audit_log where action = 'registry.exported'
          order by id desc limit 1`,
    );
    expect(audit).toMatchObject({ actor_id: operator.id, detail: { reveal: true, reason, kind: 'persons' } });
  });

  it('streams a few thousand rows in batches', async () => {
    const n = 3500;
    await db.orm
      .execute(sql`insert into person (name, gender, id_type, id_cipher, id_key_id, id_hash, id_masked,
        grid_code, region_path)
      select '批量' || g, 'female', 'passport', 'sealed', 'k', 'bulk-' || g, '****' || g, r.code, r.path
      from generate_series(1, ${n}) g, region r where r.code = ${t.gridA2}`);
    const response = await get(operator, `/api/registry/exports/persons.xlsx?region=${t.gridA2}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['transfer-encoding']).toBe('chunked');
    const sheet = (await loadXlsx(response.rawPayload)).worksheets[0]!;
    expect(sheet.actualRowCount).toBe(n + 1);
    expect(sheet.getRow(n + 1).getCell(2).value).toBe(`批量${n}`);
    const households = await get(operator, `/api/registry/exports/households.xlsx?region=${t.street}`);
    expect(households.statusCode).toBe(200);
    const organisations = await get(operator, `/api/registry/exports/organisations.xlsx?region=${t.street}`);
    expect(organisations.statusCode).toBe(200);
    const orgSheet = (await loadXlsx(organisations.rawPayload)).worksheets[0]!;
    expect(orgSheet.actualRowCount).toBe(3);
  });
});

describe('privacy', () => {
  it('leaves no plaintext ID number or phone in the database or the logs', async () => {
    expect(plainValues.length).toBeGreaterThan(10);
    const dump: string[] = [];
    for (const table of [
      'person',
      'household',
      'person_tag',
      'organisation',
      'registry_import',
      'audit_log',
    ]) {
      const list = await rows<{ row: string }>(
        db.orm,
        sql`select row_to_json(x)::text as row from ${sql.identifier(table)} x`,
      );
      dump.push(...list.map((r) => r.row));
    }
    // The stored uploads (kept for the error workbooks) are sealed.
    const files = await rows<{ file: string }>(
      db.orm,
      sql`select convert_from(file, 'UTF8') as file from registry_import where file is not null`,
    );
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f.file).toMatch(/^v1:/);
    const text = dump.join('\n');
    for (const value of plainValues) expect(text).not.toContain(value);
    const logs = capturedLogs.join('');
    for (const value of plainValues) expect(logs).not.toContain(value);
  });
});
