import { defuseCell } from '../../platform/spreadsheet.ts';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import {
  genderLabels,
  householdKindLabels,
  idTypeLabels,
  organisationKindLabels,
  personStatusLabels,
  personTagLabels,
  personTagSpecialty,
  registryExcelColumns,
  registryExcelErrorHeader,
  registryExcelInstructionsSheet,
  registryExcelSheetNames,
  relationToHeadLabels,
  type ImportMode,
  type ImportResult,
  type ImportRowError,
  type ImportStatus,
  type PersonTagKind,
  type RegistryExcelColumn,
  type RegistryExcelKind,
} from '@wangge/contracts';
import ExcelJS from 'exceljs';
import { can, insideAny, requireAccess, type Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import type { SecretBox } from '../../platform/crypto.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion } from '../region/index.ts';
import {
  birthDateOf,
  idProblemMessages,
  normaliseIdNumber,
  normalisePhone,
  residentIdProblem,
} from './person-id.ts';
import { sealIdNumber, sealPhone, idPurpose } from './registry.seal.ts';
import { mayTouchTag } from './registry.service.ts';
import { openXlsx, type XlsxSheet } from './xlsx-reader.ts';

/**
 * The registry's Excel in and out (Excel 导入导出):
 * - templates: one data sheet with Chinese headers (bold, frozen, widths, drop-down lists, a note per header) and a
 *   second sheet 填写说明 with the instructions and two example rows;
 * - imports (up to 100,000 rows): the sheet read as text by a scan of its XML (xlsx-reader.ts), every row checked
 *   in memory (GB 11643 check digit and birth date, phone, enumerations, grid in the importer's `person.write`
 *   scope, building in that grid, duplicates by keyed ID hash in the file and in the database), sealed in memory,
 *   then written set-based in one transaction (households, persons, tags: multi-row inserts of 1000 rows, the next
 *   chunk sealed while the database writes one); all-or-nothing or valid rows only; idempotent by client id; one
 *   audit row per import;
 * - the error workbook: the upload with an added column 错误说明 and the bad cells in red;
 * - exports: streamed (keyset batches into exceljs's streaming writer), masked unless revealed with a reason
 *   (`person.reveal`, audited), every text cell defused against formula injection.
 */

export const xlsxContentType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const batchSize = 1000;
const maxRows = 100_000;
const maxStoredErrors = 100_000;
const shownErrors = 1000;

const invalidFile = (message = '不是有效的 Excel 文件 (not a valid xlsx workbook)') =>
  new DomainError('VALIDATION_FAILED', `file: ${message}`, [{ field: 'file', message }]);

export { defuseCell };

/* ---------------------------------------------------------------- labels */

/** Label (or English value) → value, for the enumerated columns. */
function reverse<T extends string>(labels: Record<T, string>): Map<string, T> {
  const map = new Map<string, T>();
  for (const [value, label] of Object.entries(labels) as [T, string][]) {
    map.set(label, value);
    map.set(value.toLowerCase(), value);
  }
  return map;
}

const genderOf = reverse(genderLabels);
genderOf.set('男性', 'male');
genderOf.set('女性', 'female');
const idTypeOf = reverse(idTypeLabels);
idTypeOf.set('身份证', 'resident_id');
const householdKindOf = reverse(householdKindLabels);
householdKindOf.set('户籍户', 'registered');
householdKindOf.set('流动户', 'floating');
householdKindOf.set('出租户', 'rental');
const relationOf = reverse(relationToHeadLabels);
relationOf.set('本人', 'head');
const tagOf = reverse(personTagLabels);
tagOf.set('低保户', 'low_income');
tagOf.set('困难家庭', 'low_income');
const organisationKindOf = reverse(organisationKindLabels);

function lookup<T extends string>(map: Map<string, T>, text: string): T | undefined {
  return map.get(text) ?? map.get(text.toLowerCase());
}

/* ---------------------------------------------------------------- templates */

function headerNote(column: RegistryExcelColumn): string {
  return `${column.required ? '必填 (required)' : '选填 (optional)'}\n${column.format}`;
}

const exampleRows: Record<RegistryExcelKind, string[][]> = {
  persons: [
    [
      '张三',
      '男',
      '居民身份证',
      '11010519491231002X',
      '1949-12-31',
      '13812345678',
      '汉族',
      '黑龙江省佳木斯市向阳区',
      '向阳区西林路 12 号 3号楼 2 单元 301',
      '佳木斯市第一中学',
      '230803001001001',
      '3号楼',
      '2',
      '301',
      '户籍',
      '户主',
      '独居老人',
    ],
    [
      '李四',
      '女',
      '居民身份证',
      '230803199203150028',
      '',
      '0454-8234567',
      '满族',
      '',
      '',
      '',
      '230803001001001',
      '3号楼',
      '2',
      '301',
      '',
      '配偶',
      '孕产妇、残疾人',
    ],
  ],
  households: [
    ['230803001001001', '3号楼', '2', '301', '户籍'],
    ['230803001001001', '3号楼', '2', '302', '出租'],
  ],
  organisations: [
    ['西林便利店', '商铺', '230803001001001', '3号楼', '92230803MA1234567X', '王五', '13912345678'],
    ['向阳网咖', '网吧', '230803001001001', '', '230803-WB-0012', '赵六', '0454-8234567'],
  ],
};

interface RangeValidations {
  dataValidations: { add(range: string, validation: ExcelJS.DataValidation): void };
}

/** Row errors as stored (jsonb comes back parsed from PostgreSQL, as text from some drivers). */
function errorsOf(stored: StoredRowError[] | string): StoredRowError[] {
  return (typeof stored === 'string' ? JSON.parse(stored) : stored) as StoredRowError[];
}

/** The import template of a kind: data sheet (headers only) and the instructions sheet with two examples. */
export async function registryTemplate(kind: RegistryExcelKind): Promise<Buffer> {
  const columns = registryExcelColumns[kind];
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Wangge 网格';
  const sheet = workbook.addWorksheet(registryExcelSheetNames[kind], {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  sheet.columns = columns.map((c) => ({
    header: c.header,
    key: c.field,
    width: c.width,
    style: { numFmt: '@' },
  }));
  const header = sheet.getRow(1);
  header.font = { bold: true };
  columns.forEach((column, index) => {
    const cell = header.getCell(index + 1);
    cell.note = headerNote(column);
    cell.font = { bold: true, color: { argb: column.required ? 'FFC00000' : 'FF000000' } };
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEFEFEF' } };
    if (column.options) {
      const letter = sheet.getColumn(index + 1).letter;
      // Range validations exist in exceljs 4.4 (one rule for the whole column) but are missing from its types.
      (sheet as unknown as RangeValidations).dataValidations.add(`${letter}2:${letter}${maxRows + 1}`, {
        type: 'list',
        allowBlank: !column.required,
        formulae: [`"${column.options.join(',')}"`],
        showErrorMessage: true,
        errorStyle: 'warning',
        errorTitle: column.header,
        error: `请从列表中选择 (choose from the list): ${column.options.join(' / ')}`,
      });
    }
  });

  const help = workbook.addWorksheet(registryExcelInstructionsSheet);
  help.columns = [{ width: 16 }, { width: 10 }, { width: 90 }];
  const title = help.addRow([`${registryExcelSheetNames[kind]} 导入模板 填写说明 (how to fill in)`]);
  title.font = { bold: true, size: 14 };
  for (const line of [
    `1. 在工作表「${registryExcelSheetNames[kind]}」第 2 行起每行填写一条记录,不要改动第 1 行表头 (one record per row from row 2; keep the header).`,
    '2. 红色表头为必填列;下拉列表列请从列表中选择 (red headers are required; pick enumerated values from the list).',
    '3. 证件号码、电话请以文本格式填写,避免被 Excel 改成科学计数法 (type ID numbers and phones as text).',
    '4. 导入时可选择"全部成功才导入"或"仅导入正确行";有错误时可下载带"错误说明"列的原表修改后重新导入.',
    '   (all-or-nothing or valid rows only; on errors download the workbook with the error column, fix it, re-import)',
  ])
    help.addRow([line]);
  help.addRow([]);
  const tableHeader = help.addRow(['列名 (column)', '是否必填', '格式说明 (format)']);
  tableHeader.font = { bold: true };
  for (const column of columns)
    help.addRow([column.header, column.required ? '必填' : '选填', column.format]);
  help.addRow([]);
  const examplesTitle = help.addRow(['示例 (examples)']);
  examplesTitle.font = { bold: true };
  const exampleHeader = help.addRow(columns.map((c) => c.header));
  exampleHeader.font = { bold: true };
  for (const example of exampleRows[kind]) help.addRow(example.map(defuseCell));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/* ---------------------------------------------------------------- reading an upload */

function headerKey(text: string): string {
  return text.replace(/[\s*＊]/g, '').replace(/[(（].*$/, '');
}

interface ParsedSheet {
  sheetName: string;
  /** field → 1-based column index */
  columnOf: Map<string, number>;
  rows: { row: number; values: Map<string, string> }[];
}

function dataSheet(workbook: ExcelJS.Workbook, kind: RegistryExcelKind): ExcelJS.Worksheet {
  return (
    workbook.getWorksheet(registryExcelSheetNames[kind]) ??
    workbook.worksheets.find((s) => s.name !== registryExcelInstructionsSheet) ??
    workbook.worksheets[0]!
  );
}

/** The data sheet of an upload: the one named for its kind, else the first that is not the instructions. */
function dataSheetName(names: string[], kind: RegistryExcelKind): string {
  return (
    names.find((n) => n === registryExcelSheetNames[kind]) ??
    names.find((n) => n !== registryExcelInstructionsSheet) ??
    names[0]!
  );
}

/**
 * Reads the data sheet of an upload as text (see xlsx-reader.ts: a streaming scan of the sheet's XML, several
 * times faster than loading exceljs's whole workbook model, which the import does not need).
 */
function parseSheet(bytes: Buffer, kind: RegistryExcelKind): ParsedSheet {
  let sheet: XlsxSheet;
  try {
    const workbook = openXlsx(bytes);
    sheet = workbook.sheet(dataSheetName(workbook.sheetNames, kind));
  } catch {
    throw invalidFile();
  }
  const byHeader = new Map(registryExcelColumns[kind].map((c) => [c.header, c.field]));
  const columnOf = new Map<string, number>();
  const header = [...(sheet.rows.get(1) ?? new Map<number, string>())].sort((a, b) => a[0] - b[0]);
  for (const [index, text] of header) {
    const field = byHeader.get(headerKey(text));
    if (field && !columnOf.has(field)) columnOf.set(field, index);
  }
  const missing = registryExcelColumns[kind].filter((c) => c.required && !columnOf.has(c.field));
  if (missing.length > 0)
    throw invalidFile(
      `缺少必填列 ${missing.map((c) => c.header).join('、')} (missing required columns; use the template)`,
    );
  const parsed: ParsedSheet['rows'] = [];
  for (const [rowNumber, cells] of sheet.rows) {
    if (rowNumber === 1) continue;
    const values = new Map<string, string>();
    let blank = true;
    for (const [field, index] of columnOf) {
      const text = cells.get(index) ?? '';
      if (text !== '') blank = false;
      values.set(field, text);
    }
    if (!blank) parsed.push({ row: rowNumber, values });
  }
  // Rows are in the file's order, which is ascending in every workbook Excel, WPS or exceljs writes.
  for (let i = 1; i < parsed.length; i++)
    if (parsed[i]!.row < parsed[i - 1]!.row) {
      parsed.sort((a, b) => a.row - b.row);
      break;
    }
  if (parsed.length > maxRows)
    throw invalidFile(`一次最多导入 ${maxRows} 行 (at most ${maxRows} rows per file)`);
  return { sheetName: sheet.name, columnOf, rows: parsed };
}

/* ---------------------------------------------------------------- row checks */

interface StoredRowError extends ImportRowError {
  /** 1-based column of the cell in error; 0 for the whole row. */
  columnIndex: number;
}

class RowProblems {
  readonly list: StoredRowError[] = [];
  readonly badRows = new Set<number>();
  private readonly headerOf: Map<string, string>;

  constructor(
    kind: RegistryExcelKind,
    private readonly columnOf: Map<string, number>,
  ) {
    this.headerOf = new Map(registryExcelColumns[kind].map((c) => [c.field, c.header]));
  }

  add(row: number, field: string, message: string): void {
    this.badRows.add(row);
    if (this.list.length >= maxStoredErrors) return;
    this.list.push({
      row,
      column: this.headerOf.get(field) ?? '',
      columnIndex: this.columnOf.get(field) ?? 0,
      field,
      message,
    });
  }
}

/** Reads one row's fields, recording problems against it. */
class RowReader {
  constructor(
    private readonly row: number,
    private readonly values: Map<string, string>,
    private readonly problems: RowProblems,
  ) {}

  text(field: string, options: { required?: boolean; max: number }): string | null {
    const value = this.values.get(field) ?? '';
    if (value === '') {
      if (options.required) this.problems.add(this.row, field, '必填 (required)');
      return null;
    }
    if (value.length > options.max) {
      this.problems.add(this.row, field, `最多 ${options.max} 字 (at most ${options.max} characters)`);
      return null;
    }
    return value;
  }

  choice<T extends string>(field: string, map: Map<string, T>, required: boolean): T | null {
    const value = this.values.get(field) ?? '';
    if (value === '') {
      if (required) this.problems.add(this.row, field, '必填 (required)');
      return null;
    }
    const found = lookup(map, value);
    if (!found) {
      const allowed = [...new Set([...map.keys()].filter((k) => /[^\p{ASCII}]/u.test(k)))].join(' / ');
      this.problems.add(this.row, field, `无效的值,可选:${allowed} (not one of the allowed values)`);
      return null;
    }
    return found;
  }

  phone(field: string): string | null {
    const value = this.values.get(field) ?? '';
    if (value === '') return null;
    const phone = normalisePhone(value);
    if (!phone)
      this.problems.add(this.row, field, '手机号或带区号的固定电话 (a mobile or a landline with area code)');
    return phone;
  }

  fail(field: string, message: string): void {
    this.problems.add(this.row, field, message);
  }
}

/** Today in China (UTC+8), `YYYY-MM-DD`: the latest birth date an ID number may carry. */
function chinaToday(now: Date): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

interface GridInfo {
  code: string;
  path: string;
}

/** The grids named in the file that exist (level grid); the caller checks scope per grid. */
async function loadGrids(ex: Executor, codes: string[]): Promise<Map<string, GridInfo>> {
  if (codes.length === 0) return new Map();
  const list = await rows<GridInfo>(
    ex,
    sql`select code, path from region
        where level = 'grid' and code in (select jsonb_array_elements_text(${JSON.stringify(codes)}::jsonb))`,
  );
  return new Map(list.map((g) => [g.code, g]));
}

/** Buildings by (grid, name). */
async function loadBuildings(
  ex: Executor,
  pairs: { grid: string; name: string }[],
): Promise<Map<string, number>> {
  if (pairs.length === 0) return new Map();
  const list = await rows<{ id: number; grid_code: string; name: string }>(
    ex,
    sql`select b.id::int as id, b.grid_code, b.name from building b
        join json_to_recordset(${JSON.stringify(pairs)}::json) as k(grid text, name text)
          on b.grid_code = k.grid and b.name = k.name`,
  );
  return new Map(list.map((b) => [`${b.grid_code}\u0000${b.name}`, b.id]));
}

const householdKey = (buildingId: number, unit: string | null, room: string | null) =>
  `${buildingId}\u0000${unit ?? ''}\u0000${room ?? ''}`;

/**
 * Active households at (building, unit, room): the oldest one per address. Read per building (the index on
 * building_id), all the buildings' active households at once, then matched here.
 */
async function loadHouseholds(
  ex: Executor,
  keys: { building_id: number; unit: string; room: string }[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (keys.length === 0) return found;
  const wanted = new Set(keys.map((k) => householdKey(k.building_id, k.unit || null, k.room || null)));
  const buildingIds = [...new Set(keys.map((k) => k.building_id))];
  const list = await rows<{ id: number; building_id: number; unit: string | null; room: string | null }>(
    ex,
    sql`select h.id::int as id, h.building_id::int as building_id, h.unit, h.room
        from household h
        where h.building_id in (select jsonb_array_elements_text(${JSON.stringify(buildingIds)}::jsonb)::bigint)
          and h.status = 'active'
        order by h.id`,
  );
  for (const h of list) {
    const key = householdKey(h.building_id, h.unit || null, h.room || null);
    if (wanted.has(key) && !found.has(key)) found.set(key, h.id);
  }
  return found;
}

const gridProblem = '网格不存在或不在您的管辖范围 (no such grid in your scope)';
const buildingProblem = '该网格内没有此楼栋 (no building of this name in that grid)';

/** Grid and building of a row: the grid must be in the importer's `person.write` scope. */
function placeOf(
  reader: RowReader,
  actor: Actor,
  grids: Map<string, GridInfo>,
  buildings: Map<string, number>,
  gridCode: string | null,
  building: string | null,
): { grid: GridInfo | null; buildingId: number | null } {
  if (!gridCode) return { grid: null, buildingId: null };
  const grid = grids.get(gridCode);
  if (!grid || !can(actor, 'person.write', { regionPath: grid.path })) {
    reader.fail('gridCode', gridProblem);
    return { grid: null, buildingId: null };
  }
  if (!building) return { grid, buildingId: null };
  const buildingId = buildings.get(`${grid.code}\u0000${building}`);
  if (buildingId === undefined) {
    reader.fail('building', buildingProblem);
    return { grid, buildingId: null };
  }
  return { grid, buildingId };
}

/* ---------------------------------------------------------------- import */

interface ImportContext {
  tx: Executor;
  actor: Actor;
  now: Date;
  secrets: SecretBox;
  sheet: ParsedSheet;
  problems: RowProblems;
  mode: ImportMode;
}

/** Rows that will be written: all valid rows, or none in all-or-nothing mode when any row is bad. */
function writable<T extends { row: number }>(context: ImportContext, list: T[]): T[] {
  if (context.mode === 'all_or_nothing' && context.problems.badRows.size > 0) return [];
  return list.filter((r) => !context.problems.badRows.has(r.row));
}

/**
 * Writes `list` in statements of 1000 rows (a JSON payload each). Each chunk is made (`rowOf`: e.g. sealed) and
 * serialised while the database writes the chunk before it, so the import's own work overlaps the database's.
 */
async function insertChunks<T>(
  list: T[],
  write: (payload: string) => PromiseLike<unknown>,
  rowOf: (item: T) => unknown = (item) => item,
): Promise<void> {
  let pending: PromiseLike<unknown> | undefined;
  for (let i = 0; i < list.length; i += batchSize) {
    const payload = JSON.stringify(list.slice(i, i + batchSize).map(rowOf));
    if (pending) await pending;
    // `then` starts the statement now (a drizzle query runs when first awaited)
    pending = write(payload).then((result) => result);
    // its failure is thrown where it is awaited; never left unhandled if making the next chunk throws first
    pending.then(undefined, () => undefined);
  }
  if (pending) await pending;
}

function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))];
}

interface PersonDraft {
  row: number;
  name: string;
  gender: string;
  idType: string;
  idNumber: string;
  birthDate: string | null;
  phone: string | null;
  ethnicity: string | null;
  registeredResidence: string | null;
  currentAddress: string | null;
  work: string | null;
  gridCode: string | null;
  building: string | null;
  unit: string | null;
  room: string | null;
  householdKind: string;
  relation: string | null;
  tags: PersonTagKind[];
  idHash: string | null;
}

async function importPersons(context: ImportContext): Promise<number> {
  const { tx, actor, secrets, problems } = context;
  const today = chinaToday(context.now);
  const drafts: PersonDraft[] = [];
  const firstRowOfId = new Map<string, number>();
  for (const { row, values } of context.sheet.rows) {
    const r = new RowReader(row, values, problems);
    const idType = r.choice('idType', idTypeOf, false) ?? 'resident_id';
    const rawId = r.text('idNumber', { required: true, max: 40 });
    let birthDate = r.text('birthDate', { max: 10 });
    if (birthDate && !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) {
      r.fail('birthDate', '日期格式 YYYY-MM-DD (date YYYY-MM-DD)');
      birthDate = null;
    }
    let idNumber = '';
    let idHash: string | null = null;
    if (rawId) {
      if (idType === 'resident_id') {
        const normalised = normaliseIdNumber(rawId);
        const problem = residentIdProblem(normalised, { today, birthDate });
        if (problem === 'birth_date_mismatch') r.fail('birthDate', idProblemMessages[problem]);
        else if (problem) r.fail('idNumber', idProblemMessages[problem]);
        else {
          idNumber = normalised;
          birthDate = birthDateOf(idNumber);
        }
      } else if (rawId.length < 4) r.fail('idNumber', '证件号码过短 (too short)');
      else idNumber = rawId;
      if (idNumber) {
        idHash = secrets.lookupHash(idPurpose, idNumber);
        const key = `${idType}\u0000${idHash}`;
        const first = firstRowOfId.get(key);
        if (first !== undefined)
          r.fail('idNumber', `与第 ${first} 行证件号码重复 (same ID number as row ${first})`);
        else firstRowOfId.set(key, row);
      }
    }
    const building = r.text('building', { max: 60 });
    const unit = r.text('unit', { max: 20 });
    const room = r.text('room', { max: 20 });
    if (!building && (unit || room))
      r.fail('building', '填写单元或房号时须填写楼栋 (a unit or room needs its building)');
    const relation = r.choice('relationToHead', relationOf, false);
    if (relation && !building)
      r.fail('relationToHead', '未填写楼栋,无法入户 (no building, so no household to join)');
    const tags: PersonTagKind[] = [];
    const tagText = values.get('tags') ?? '';
    for (const label of tagText.split(/[、,，;；/\s]+/).filter(Boolean)) {
      const kind = lookup(tagOf, label);
      if (!kind) {
        r.fail('tags', `未知的重点人群标签,可选:${Object.values(personTagLabels).join('、')} (unknown tag)`);
        continue;
      }
      if (!tags.includes(kind)) tags.push(kind);
    }
    drafts.push({
      row,
      name: r.text('name', { required: true, max: 50 }) ?? '',
      gender: r.choice('gender', genderOf, true) ?? 'unknown',
      idType,
      idNumber,
      birthDate,
      phone: r.phone('phone'),
      ethnicity: r.text('ethnicity', { max: 20 }),
      registeredResidence: r.text('registeredResidence', { max: 200 }),
      currentAddress: r.text('currentAddress', { max: 200 }),
      work: r.text('work', { max: 200 }),
      gridCode: r.text('gridCode', { required: true, max: 18 }),
      building,
      unit,
      room,
      householdKind: r.choice('householdKind', householdKindOf, false) ?? 'registered',
      relation,
      tags,
      idHash,
    });
  }

  // Set-based checks against the database: grids (and scope), buildings, ID numbers already registered.
  const grids = await loadGrids(tx, distinct(drafts.map((d) => d.gridCode)));
  const buildings = await loadBuildings(
    tx,
    [
      ...new Set(
        drafts.filter((d) => d.gridCode && d.building).map((d) => `${d.gridCode}\u0000${d.building}`),
      ),
    ].map((key) => {
      const [grid, name] = key.split('\u0000') as [string, string];
      return { grid, name };
    }),
  );
  const registered = new Set<string>();
  const hashes = drafts.filter((d) => d.idHash).map((d) => ({ t: d.idType, h: d.idHash }));
  for (let i = 0; i < hashes.length; i += batchSize) {
    const found = await rows<{ id_type: string; id_hash: string }>(
      tx,
      sql`select p.id_type, p.id_hash from person p
          join json_to_recordset(${JSON.stringify(hashes.slice(i, i + batchSize))}::json) as k(t text, h text)
            on p.id_type = k.t and p.id_hash = k.h`,
    );
    for (const f of found) registered.add(`${f.id_type}\u0000${f.id_hash}`);
  }
  const placed: (PersonDraft & { grid: GridInfo | null; buildingId: number | null })[] = [];
  for (const draft of drafts) {
    const r = new RowReader(draft.row, new Map(), problems);
    if (draft.idHash && registered.has(`${draft.idType}\u0000${draft.idHash}`))
      r.fail('idNumber', '此证件号码已登记 (this ID number is already registered)');
    const { grid, buildingId } = placeOf(r, actor, grids, buildings, draft.gridCode, draft.building);
    if (grid)
      for (const tag of draft.tags)
        if (!mayTouchTag(actor, personTagSpecialty[tag], grid.path)) {
          r.fail('tags', `「${personTagLabels[tag]}」不属于您的条线 (not of your specialty)`);
          break;
        }
    placed.push({ ...draft, grid, buildingId });
  }

  const valid = writable(context, placed);
  if (valid.length === 0) return 0;
  const nowIso = context.now.toISOString();

  // Households: join the active household at building + unit + room, or create it (kind from the row).
  const wanted = new Map<string, (typeof valid)[number]>();
  for (const p of valid)
    if (p.buildingId !== null) {
      const key = householdKey(p.buildingId, p.unit, p.room);
      if (!wanted.has(key)) wanted.set(key, p);
    }
  const households = await loadHouseholds(
    tx,
    [...wanted.values()].map((p) => ({ building_id: p.buildingId!, unit: p.unit ?? '', room: p.room ?? '' })),
  );
  const missing = [...wanted.entries()].filter(([key]) => !households.has(key)).map(([, p]) => p);
  await insertChunks(
    missing.map((p) => ({
      kind: p.householdKind,
      building_id: p.buildingId,
      unit: p.unit,
      room: p.room,
      grid_code: p.grid!.code,
      region_path: p.grid!.path,
    })),
    async (payload) => {
      const created = await rows<{
        id: number;
        building_id: number;
        unit: string | null;
        room: string | null;
      }>(
        tx,
        sql`insert into household (kind, building_id, unit, room, grid_code, region_path, created_at)
            select r.kind, r.building_id, r.unit, r.room, r.grid_code, r.region_path, ${nowIso}::timestamptz
            from json_to_recordset(${payload}::json)
              as r(kind text, building_id bigint, unit text, room text, grid_code text, region_path text)
            returning id::int as id, building_id::int as building_id, unit, room`,
      );
      for (const h of created) households.set(householdKey(h.building_id, h.unit, h.room), h.id);
    },
  );

  // Persons: sealed in memory chunk by chunk (the next while the database writes one), 1000 rows per statement.
  const personRow = (p: (typeof valid)[number]) => {
    const id = sealIdNumber(secrets, p.idNumber, p.idHash ?? undefined);
    const phone = p.phone === null ? null : sealPhone(secrets, p.phone);
    return {
      name: p.name,
      gender: p.gender,
      birth_date: p.birthDate,
      id_type: p.idType,
      id_cipher: id.cipher,
      id_key_id: id.keyId,
      id_hash: id.hash,
      id_masked: id.masked,
      phone_cipher: phone?.cipher ?? null,
      phone_key_id: phone?.keyId ?? null,
      phone_hash: phone?.hash ?? null,
      phone_masked: phone?.masked ?? null,
      ethnicity: p.ethnicity,
      registered_residence: p.registeredResidence,
      current_address: p.currentAddress,
      work: p.work,
      household_id: p.buildingId === null ? null : households.get(householdKey(p.buildingId, p.unit, p.room)),
      relation_to_head: p.buildingId === null ? null : p.relation,
      grid_code: p.grid!.code,
      region_path: p.grid!.path,
    };
  };
  await insertChunks(
    valid,
    (payload) =>
      tx.execute(sql`insert into person (name, gender, birth_date, id_type, id_cipher, id_key_id, id_hash, id_masked,
        phone_cipher, phone_key_id, phone_hash, phone_masked, ethnicity, registered_residence, current_address, work,
        household_id, relation_to_head, grid_code, region_path, created_at, updated_at)
      select r.name, r.gender, r.birth_date, r.id_type, r.id_cipher, r.id_key_id, r.id_hash, r.id_masked,
             r.phone_cipher, r.phone_key_id, r.phone_hash, r.phone_masked, r.ethnicity, r.registered_residence,
             r.current_address, r.work, r.household_id, r.relation_to_head, r.grid_code, r.region_path,
             ${nowIso}::timestamptz, ${nowIso}::timestamptz
      from json_to_recordset(${payload}::json)
        as r(name text, gender text, birth_date date, id_type text, id_cipher text, id_key_id text, id_hash text,
             id_masked text, phone_cipher text, phone_key_id text, phone_hash text, phone_masked text,
             ethnicity text, registered_residence text, current_address text, work text, household_id bigint,
             relation_to_head text, grid_code text, region_path text)`),
    personRow,
  );

  // Tags: found by the person's (ID type, ID hash), which is unique.
  const tagRows = valid.flatMap((p) =>
    p.tags.map((kind) => ({
      id_type: p.idType,
      id_hash: p.idHash,
      kind,
      specialty: personTagSpecialty[kind],
      region_path: p.grid!.path,
    })),
  );
  await insertChunks(tagRows, (payload) =>
    tx.execute(sql`insert into person_tag (person_id, kind, specialty, fields, region_path, created_at)
      select p.id, r.kind, r.specialty, '{}'::jsonb, r.region_path, ${nowIso}::timestamptz
      from json_to_recordset(${payload}::json)
        as r(id_type text, id_hash text, kind text, specialty text, region_path text)
      join person p on p.id_type = r.id_type and p.id_hash = r.id_hash
      on conflict (person_id, kind) do nothing`),
  );
  return valid.length;
}

async function importHouseholds(context: ImportContext): Promise<number> {
  const { tx, actor, problems } = context;
  const drafts = context.sheet.rows.map(({ row, values }) => {
    const r = new RowReader(row, values, problems);
    return {
      row,
      reader: r,
      gridCode: r.text('gridCode', { required: true, max: 18 }),
      building: r.text('building', { required: true, max: 60 }),
      unit: r.text('unit', { max: 20 }),
      room: r.text('room', { max: 20 }),
      kind: r.choice('householdKind', householdKindOf, true) ?? 'registered',
    };
  });
  const grids = await loadGrids(tx, distinct(drafts.map((d) => d.gridCode)));
  const buildings = await loadBuildings(
    tx,
    drafts.filter((d) => d.gridCode && d.building).map((d) => ({ grid: d.gridCode!, name: d.building! })),
  );
  const placed = drafts.map((d) => ({
    ...d,
    ...placeOf(d.reader, actor, grids, buildings, d.gridCode, d.building),
  }));
  const existing = await loadHouseholds(
    tx,
    placed
      .filter((p) => p.buildingId !== null)
      .map((p) => ({ building_id: p.buildingId!, unit: p.unit ?? '', room: p.room ?? '' })),
  );
  const firstRowAt = new Map<string, number>();
  for (const p of placed) {
    if (p.buildingId === null) continue;
    const key = householdKey(p.buildingId, p.unit, p.room);
    const first = firstRowAt.get(key);
    if (existing.has(key))
      p.reader.fail('room', '该房屋已有在册户 (an active household is already registered here)');
    else if (first !== undefined)
      p.reader.fail('room', `与第 ${first} 行为同一房屋 (same address as row ${first})`);
    else firstRowAt.set(key, p.row);
  }
  const valid = writable(context, placed);
  const nowIso = context.now.toISOString();
  await insertChunks(
    valid.map((p) => ({
      kind: p.kind,
      building_id: p.buildingId,
      unit: p.unit,
      room: p.room,
      grid_code: p.grid!.code,
      region_path: p.grid!.path,
    })),
    (payload) =>
      tx.execute(sql`insert into household (kind, building_id, unit, room, grid_code, region_path, created_at)
        select r.kind, r.building_id, r.unit, r.room, r.grid_code, r.region_path, ${nowIso}::timestamptz
        from json_to_recordset(${payload}::json)
          as r(kind text, building_id bigint, unit text, room text, grid_code text, region_path text)`),
  );
  return valid.length;
}

async function importOrganisations(context: ImportContext): Promise<number> {
  const { tx, actor, problems, secrets } = context;
  const drafts = context.sheet.rows.map(({ row, values }) => {
    const r = new RowReader(row, values, problems);
    return {
      row,
      reader: r,
      name: r.text('name', { required: true, max: 100 }),
      kind: r.choice('organisationKind', organisationKindOf, true) ?? 'other',
      gridCode: r.text('gridCode', { required: true, max: 18 }),
      building: r.text('building', { max: 60 }),
      licenceNo: r.text('licenceNo', { max: 50 }),
      safetyName: r.text('safetyName', { max: 50 }),
      safetyPhone: r.phone('safetyPhone'),
    };
  });
  const grids = await loadGrids(tx, distinct(drafts.map((d) => d.gridCode)));
  const buildings = await loadBuildings(
    tx,
    drafts.filter((d) => d.gridCode && d.building).map((d) => ({ grid: d.gridCode!, name: d.building! })),
  );
  const placed = drafts.map((d) => ({
    ...d,
    ...placeOf(d.reader, actor, grids, buildings, d.gridCode, d.building),
  }));
  // One active organisation of a name per grid, in the file and in the database.
  const named = placed.filter((p) => p.grid && p.name).map((p) => ({ grid: p.grid!.code, name: p.name! }));
  const taken = new Set<string>();
  for (let i = 0; i < named.length; i += batchSize) {
    const found = await rows<{ grid_code: string; name: string }>(
      tx,
      sql`select o.grid_code, o.name from organisation o
          join json_to_recordset(${JSON.stringify(named.slice(i, i + batchSize))}::json) as k(grid text, name text)
            on o.grid_code = k.grid and o.name = k.name
          where o.status = 'active'`,
    );
    for (const f of found) taken.add(`${f.grid_code}\u0000${f.name}`);
  }
  const firstRowOf = new Map<string, number>();
  for (const p of placed) {
    if (!p.grid || !p.name) continue;
    const key = `${p.grid.code}\u0000${p.name}`;
    const first = firstRowOf.get(key);
    if (taken.has(key))
      p.reader.fail('name', '该网格已有同名单位 (an organisation of this name exists in the grid)');
    else if (first !== undefined)
      p.reader.fail('name', `与第 ${first} 行重复 (same organisation as row ${first})`);
    else firstRowOf.set(key, p.row);
  }
  const valid = writable(context, placed);
  const nowIso = context.now.toISOString();
  await insertChunks(
    valid.map((p) => {
      const phone = p.safetyPhone === null ? null : sealPhone(secrets, p.safetyPhone);
      return {
        name: p.name,
        kind: p.kind,
        licence_no: p.licenceNo,
        safety_name: p.safetyName,
        safety_phone_cipher: phone?.cipher ?? null,
        safety_phone_key_id: phone?.keyId ?? null,
        safety_phone_hash: phone?.hash ?? null,
        safety_phone_masked: phone?.masked ?? null,
        building_id: p.buildingId,
        grid_code: p.grid!.code,
        region_path: p.grid!.path,
      };
    }),
    (payload) =>
      tx.execute(sql`insert into organisation (name, kind, licence_no, safety_name, safety_phone_cipher,
          safety_phone_key_id, safety_phone_hash, safety_phone_masked, building_id, grid_code, region_path, created_at)
        select r.name, r.kind, r.licence_no, r.safety_name, r.safety_phone_cipher, r.safety_phone_key_id,
               r.safety_phone_hash, r.safety_phone_masked, r.building_id, r.grid_code, r.region_path,
               ${nowIso}::timestamptz
        from json_to_recordset(${payload}::json)
          as r(name text, kind text, licence_no text, safety_name text, safety_phone_cipher text,
               safety_phone_key_id text, safety_phone_hash text, safety_phone_masked text, building_id bigint,
               grid_code text, region_path text)`),
  );
  return valid.length;
}

/** The uploaded file holds ID numbers and phones: sealed at rest like them (AES-256-GCM of its base64). */
function sealFile(secrets: SecretBox, bytes: Buffer): string {
  return secrets.encrypt(bytes.toString('base64'));
}

function openFile(secrets: SecretBox, sealed: string): Buffer {
  return Buffer.from(secrets.decrypt(sealed), 'base64');
}

const importers: Record<RegistryExcelKind, (context: ImportContext) => Promise<number>> = {
  persons: importPersons,
  households: importHouseholds,
  organisations: importOrganisations,
};

interface ImportRow {
  id: number;
  kind: RegistryExcelKind;
  mode: ImportMode;
  status: ImportStatus;
  total_rows: number;
  imported_rows: number;
  rejected_rows: number;
  errors: StoredRowError[] | string;
  error_count: number;
  created_at: Date | string;
  created_by: number;
  display_name: string;
}

/** The columns of an import as answered: the first 1000 errors only, never the file. */
const importColumns = sql`i.id::int as id, i.kind, i.mode, i.status, i.total_rows, i.imported_rows,
  i.rejected_rows, jsonb_path_query_array(i.errors, ${`$[0 to ${shownErrors - 1}]`}) as errors, i.error_count,
  i.created_at, i.created_by::int as created_by, u.display_name`;

function presentImport(row: ImportRow): ImportResult {
  const errors = (typeof row.errors === 'string' ? JSON.parse(row.errors) : row.errors) as StoredRowError[];
  return {
    id: row.id,
    kind: row.kind,
    mode: row.mode,
    status: row.status,
    totalRows: row.total_rows,
    importedRows: row.imported_rows,
    rejectedRows: row.rejected_rows,
    errors: errors.slice(0, shownErrors).map((e) => ({
      row: e.row,
      column: e.column,
      field: e.field,
      message: e.message,
    })),
    errorCount: row.error_count,
    errorWorkbookUrl: row.error_count > 0 ? `/api/registry/imports/${row.id}/errors.xlsx` : null,
    createdAt: new Date(row.created_at).toISOString(),
    createdBy: { id: row.created_by, displayName: row.display_name },
  };
}

async function loadImportByClient(
  ex: Executor,
  userId: number,
  clientId: string,
): Promise<ImportResult | undefined> {
  const row = await one<ImportRow>(
    ex,
    sql`select ${importColumns} from registry_import i join app_user u on u.id = i.created_by
        where i.created_by = ${userId} and i.client_id = ${clientId}`,
  );
  return row ? presentImport(row) : undefined;
}

/**
 * Imports a workbook of persons, households or organisations in one transaction. Answers `replayed` (nothing
 * done) when the same user already sent this client id. In all-or-nothing mode a single bad row stores nothing
 * but the import record; in valid-rows mode the good rows are stored. One `registry.imported` audit row (counts).
 */
export async function importRegistryWorkbook(options: {
  db: Database;
  actor: Actor;
  clock: Clock;
  secrets: SecretBox;
  kind: RegistryExcelKind;
  mode: ImportMode;
  clientId: string;
  bytes: Buffer;
  requestId: string;
}): Promise<{ result: ImportResult; replayed: boolean }> {
  const { db, actor, kind, mode } = options;
  requireAccess(actor, 'person.write');
  const earlier = await loadImportByClient(db.orm, actor.userId, options.clientId);
  if (earlier) return { result: earlier, replayed: true };
  const sheet = parseSheet(options.bytes, kind);
  const now = options.clock.now();
  try {
    const id = await db.orm.transaction(async (tx) => {
      const problems = new RowProblems(kind, sheet.columnOf);
      const imported = await importers[kind]({
        tx,
        actor,
        now,
        secrets: options.secrets,
        sheet,
        problems,
        mode,
      });
      const total = sheet.rows.length;
      const rejected = problems.badRows.size;
      const status: ImportStatus =
        imported === 0 && total > 0 ? 'rejected' : rejected > 0 ? 'partially_imported' : 'imported';
      problems.list.sort((a, b) => a.row - b.row || a.columnIndex - b.columnIndex);
      const withErrors = problems.list.length > 0;
      const created = await one<{ id: number }>(
        tx,
        sql`insert into registry_import (kind, mode, client_id, created_by, status, total_rows, imported_rows,
              rejected_rows, errors, error_count, sheet_name, file, file_key_id, created_at)
            values (${kind}, ${mode}, ${options.clientId}, ${actor.userId}, ${status}, ${total}, ${imported},
              ${rejected}, ${JSON.stringify(problems.list)}::jsonb, ${problems.list.length}, ${sheet.sheetName},
              ${withErrors ? sql`convert_to(${sealFile(options.secrets, options.bytes)}, 'UTF8')` : sql`null`},
              ${withErrors ? options.secrets.keyId : null},
              ${now.toISOString()})
            returning id::int as id`,
      );
      await appendAudit(
        tx,
        {
          actorId: actor.userId,
          actorRole: null,
          action: 'registry.imported',
          objectType: 'registry_import',
          objectId: String(created!.id),
          result: 'success',
          requestId: options.requestId,
          detail: { kind, mode, status, totalRows: total, importedRows: imported, rejectedRows: rejected },
        },
        now,
      );
      return created!.id;
    });
    const row = await one<ImportRow>(
      db.orm,
      sql`select ${importColumns} from registry_import i join app_user u on u.id = i.created_by
          where i.id = ${id}`,
    );
    return { result: presentImport(row!), replayed: false };
  } catch (error) {
    // The same client id sent twice at once: the unique index decides, the second answers the first's result.
    if (pgErrorCode(error) === '23505') {
      const first = await loadImportByClient(db.orm, actor.userId, options.clientId);
      if (first) return { result: first, replayed: true };
      throw new DomainError('CONFLICT', '数据已被同时修改,请重试 (changed at the same time; retry)');
    }
    throw error;
  }
}

function isAdmin(actor: Actor): boolean {
  return actor.grants.some((g) => g.role === 'admin' && g.regionPath === null);
}

/** One import: the caller's own (an admin any); else 404. */
export async function getImport(options: {
  db: Database;
  actor: Actor;
  importId: number;
}): Promise<ImportResult> {
  const { db, actor } = options;
  const row = await one<ImportRow>(
    db.orm,
    sql`select ${importColumns} from registry_import i join app_user u on u.id = i.created_by
        where i.id = ${options.importId}`,
  );
  if (!row || (row.created_by !== actor.userId && !isAdmin(actor)))
    throw new DomainError('NOT_FOUND', '未找到 (not found)');
  return presentImport(row);
}

/** The caller's imports (an admin's: everyone's), newest first. */
export async function listImports(options: {
  db: Database;
  actor: Actor;
  limit: number;
}): Promise<ImportResult[]> {
  const { db, actor } = options;
  const mine = isAdmin(actor) ? sql`true` : sql`i.created_by = ${actor.userId}`;
  const list = await rows<ImportRow>(
    db.orm,
    sql`select ${importColumns} from registry_import i join app_user u on u.id = i.created_by
        where ${mine} order by i.created_at desc, i.id desc limit ${options.limit}`,
  );
  return list.map(presentImport);
}

const redFill: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFC7CE' } };

/**
 * The uploaded workbook with the column 错误说明 after the last column: each bad row's problems, its bad cells
 * filled red. Rows without errors are left as they were.
 */
export async function importErrorWorkbook(options: {
  db: Database;
  actor: Actor;
  secrets: SecretBox;
  importId: number;
}): Promise<{ bytes: Buffer; filename: string }> {
  const { db, actor } = options;
  const row = await one<{
    created_by: number;
    kind: RegistryExcelKind;
    sheet_name: string | null;
    errors: StoredRowError[] | string;
    file: string | null;
  }>(
    db.orm,
    sql`select created_by::int as created_by, kind, sheet_name, errors, convert_from(file, 'UTF8') as file
        from registry_import where id = ${options.importId}`,
  );
  if (!row || (row.created_by !== actor.userId && !isAdmin(actor)))
    throw new DomainError('NOT_FOUND', '未找到 (not found)');
  if (!row.file)
    throw new DomainError(
      'NOT_FOUND',
      errorsOf(row.errors).length > 0
        ? '错误报告已超过保存期限,请重新导入以获取 (the error report has expired: import again to get one)'
        : '该导入没有错误 (this import had no errors)',
    );
  const errors = errorsOf(row.errors);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(openFile(options.secrets, row.file) as unknown as ArrayBuffer);
  const sheet =
    (row.sheet_name ? workbook.getWorksheet(row.sheet_name) : undefined) ?? dataSheet(workbook, row.kind);
  const lastColumn = Math.max(sheet.columnCount, sheet.getRow(1).cellCount);
  const errorColumn = lastColumn + 1;
  const header = sheet.getRow(1).getCell(errorColumn);
  header.value = registryExcelErrorHeader;
  header.font = { bold: true, color: { argb: 'FFC00000' } };
  sheet.getColumn(errorColumn).width = 60;
  const byRow = new Map<number, StoredRowError[]>();
  for (const e of errors) byRow.set(e.row, [...(byRow.get(e.row) ?? []), e]);
  for (const [rowNumber, list] of byRow) {
    const excelRow = sheet.getRow(rowNumber);
    const cell = excelRow.getCell(errorColumn);
    cell.value = defuseCell(list.map((e) => (e.column ? `${e.column}:${e.message}` : e.message)).join(';\n'));
    cell.alignment = { wrapText: true, vertical: 'top' };
    cell.font = { color: { argb: 'FFC00000' } };
    for (const e of list) if (e.columnIndex > 0) excelRow.getCell(e.columnIndex).fill = redFill;
  }
  return {
    bytes: Buffer.from(await workbook.xlsx.writeBuffer()),
    filename: `import-${options.importId}-errors.xlsx`,
  };
}

/* ---------------------------------------------------------------- export */

type ExportValue = string | number | null;

interface ExportSpec {
  columns: { header: string; width: number }[];
  /** One batch after the keyset cursor (ids ≤ upTo), as cells; the last id of the batch. */
  batch(
    ex: Executor,
    path: string,
    after: number,
    upTo: number,
  ): Promise<{ id: number; cells: ExportValue[] }[]>;
  table: 'person' | 'household' | 'organisation';
}

function personExport(secrets: SecretBox, reveal: boolean): ExportSpec {
  return {
    table: 'person',
    columns: [
      { header: '编号', width: 10 },
      { header: '姓名', width: 10 },
      { header: '性别', width: 6 },
      { header: '证件类型', width: 14 },
      { header: '证件号码', width: 22 },
      { header: '出生日期', width: 12 },
      { header: '联系电话', width: 14 },
      { header: '民族', width: 8 },
      { header: '户籍地', width: 24 },
      { header: '现住址', width: 24 },
      { header: '工作单位', width: 18 },
      { header: '网格编码', width: 18 },
      { header: '楼栋', width: 12 },
      { header: '单元', width: 8 },
      { header: '房号', width: 8 },
      { header: '户类型', width: 8 },
      { header: '与户主关系', width: 10 },
      { header: '状态', width: 8 },
    ],
    async batch(ex, path, after, upTo) {
      const list = await rows<{
        id: number;
        name: string;
        gender: keyof typeof genderLabels;
        id_type: keyof typeof idTypeLabels;
        id_masked: string;
        id_cipher: string | null;
        birth_date: string | null;
        phone_masked: string | null;
        phone_cipher: string | null;
        ethnicity: string | null;
        registered_residence: string | null;
        current_address: string | null;
        work: string | null;
        grid_code: string;
        building: string | null;
        unit: string | null;
        room: string | null;
        household_kind: keyof typeof householdKindLabels | null;
        relation_to_head: keyof typeof relationToHeadLabels | null;
        status: keyof typeof personStatusLabels;
      }>(
        ex,
        sql`select p.id::int as id, p.name, p.gender, p.id_type, p.id_masked,
              ${reveal ? sql`p.id_cipher` : sql`null`} as id_cipher, to_char(p.birth_date, 'YYYY-MM-DD') as birth_date,
              p.phone_masked, ${reveal ? sql`p.phone_cipher` : sql`null`} as phone_cipher, p.ethnicity,
              p.registered_residence, p.current_address, p.work, p.grid_code, b.name as building, h.unit, h.room,
              h.kind as household_kind, p.relation_to_head, p.status
            from person p
            left join household h on h.id = p.household_id
            left join building b on b.id = h.building_id
            where ${insideAny(sql`p.region_path`, [path])} and p.id > ${after} and p.id <= ${upTo}
            order by p.id limit ${batchSize}`,
      );
      return list.map((p) => ({
        id: p.id,
        cells: [
          p.id,
          p.name,
          genderLabels[p.gender],
          idTypeLabels[p.id_type],
          reveal && p.id_cipher ? secrets.decrypt(p.id_cipher) : p.id_masked,
          p.birth_date,
          reveal && p.phone_cipher ? secrets.decrypt(p.phone_cipher) : p.phone_masked,
          p.ethnicity,
          p.registered_residence,
          p.current_address,
          p.work,
          p.grid_code,
          p.building,
          p.unit,
          p.room,
          p.household_kind ? householdKindLabels[p.household_kind] : null,
          p.relation_to_head ? relationToHeadLabels[p.relation_to_head] : null,
          personStatusLabels[p.status],
        ],
      }));
    },
  };
}

const householdStatusLabels: Record<string, string> = {
  active: '在册',
  moved_out: '迁出',
  dissolved: '注销',
};

const householdExport: ExportSpec = {
  table: 'household',
  columns: [
    { header: '编号', width: 10 },
    { header: '网格编码', width: 18 },
    { header: '楼栋', width: 12 },
    { header: '单元', width: 8 },
    { header: '房号', width: 8 },
    { header: '户类型', width: 8 },
    { header: '状态', width: 8 },
    { header: '在册人数', width: 10 },
  ],
  async batch(ex, path, after, upTo) {
    const list = await rows<{
      id: number;
      grid_code: string;
      building: string | null;
      unit: string | null;
      room: string | null;
      kind: keyof typeof householdKindLabels;
      status: string;
      members: number;
    }>(
      ex,
      sql`select h.id::int as id, h.grid_code, b.name as building, h.unit, h.room, h.kind, h.status,
            (select count(*)::int from person p where p.household_id = h.id and p.status = 'active') as members
          from household h left join building b on b.id = h.building_id
          where ${insideAny(sql`h.region_path`, [path])} and h.id > ${after} and h.id <= ${upTo}
          order by h.id limit ${batchSize}`,
    );
    return list.map((h) => ({
      id: h.id,
      cells: [
        h.id,
        h.grid_code,
        h.building,
        h.unit,
        h.room,
        householdKindLabels[h.kind],
        householdStatusLabels[h.status] ?? h.status,
        h.members,
      ],
    }));
  },
};

function organisationExport(secrets: SecretBox, reveal: boolean): ExportSpec {
  return {
    table: 'organisation',
    columns: [
      { header: '编号', width: 10 },
      { header: '单位名称', width: 24 },
      { header: '单位类型', width: 12 },
      { header: '网格编码', width: 18 },
      { header: '楼栋', width: 12 },
      { header: '证照编号', width: 20 },
      { header: '安全负责人', width: 10 },
      { header: '安全负责人电话', width: 16 },
      { header: '状态', width: 8 },
    ],
    async batch(ex, path, after, upTo) {
      const list = await rows<{
        id: number;
        name: string;
        kind: keyof typeof organisationKindLabels;
        grid_code: string;
        building: string | null;
        licence_no: string | null;
        safety_name: string | null;
        phone_masked: string | null;
        phone_cipher: string | null;
        status: string;
      }>(
        ex,
        sql`select o.id::int as id, o.name, o.kind, o.grid_code, b.name as building, o.licence_no, o.safety_name,
              o.safety_phone_masked as phone_masked,
              ${reveal ? sql`o.safety_phone_cipher` : sql`null`} as phone_cipher, o.status
            from organisation o left join building b on b.id = o.building_id
            where ${insideAny(sql`o.region_path`, [path])} and o.id > ${after} and o.id <= ${upTo}
            order by o.id limit ${batchSize}`,
      );
      return list.map((o) => ({
        id: o.id,
        cells: [
          o.id,
          o.name,
          organisationKindLabels[o.kind] ?? o.kind,
          o.grid_code,
          o.building,
          o.licence_no,
          o.safety_name,
          reveal && o.phone_cipher ? secrets.decrypt(o.phone_cipher) : o.phone_masked,
          o.status === 'closed' ? '已关闭' : '在营',
        ],
      }));
    },
  };
}

/** A cell as written: numbers as numbers, text defused (so it is stored as an inline string, never a formula). */
function exportCell(value: ExportValue): ExportValue {
  return typeof value === 'string' ? defuseCell(value) : value;
}

/**
 * Exports the persons, households or organisations of a region's subtree as a streamed workbook. `person.read` in
 * the region; `reveal` needs `person.reveal` there and a reason of at least 4 characters. The export is audited
 * (`registry.exported`: kind, region, row count, reveal, reason — never values) before the first byte is sent;
 * the rows are those that existed then (ids up to the largest one counted), read in keyset batches of 1000.
 */
export async function exportRegistry(options: {
  db: Database;
  actor: Actor;
  clock: Clock;
  secrets: SecretBox;
  kind: RegistryExcelKind;
  regionCode: string;
  reveal: boolean;
  reason: string | undefined;
  requestId: string;
}): Promise<{ stream: Readable; filename: string; rows: number }> {
  const { db, actor, kind, reveal } = options;
  const region = await findRegion(db.orm, options.regionCode);
  if (!region) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  requireAccess(actor, 'person.read', { regionPath: region.path });
  const reason = options.reason?.trim() ?? '';
  if (reveal) {
    requireAccess(actor, 'person.reveal', { regionPath: region.path });
    if (reason.length < 4)
      throw new DomainError(
        'VALIDATION_FAILED',
        'query.reason: 显示完整号码须填写事由,至少 4 个字 (a reason of at least 4 characters)',
        [{ field: 'query.reason', message: '至少 4 个字 (at least 4 characters)' }],
      );
  }
  const spec =
    kind === 'persons'
      ? personExport(options.secrets, reveal)
      : kind === 'households'
        ? householdExport
        : organisationExport(options.secrets, reveal);
  const table = sql.identifier(spec.table);
  const now = options.clock.now();
  const counted = await db.orm.transaction(async (tx) => {
    const found = await one<{ n: number; last: number | null }>(
      tx,
      sql`select count(*)::int as n, max(t.id)::int as last from ${table} t
          where ${insideAny(sql`t.region_path`, [region.path])}`,
    );
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'registry.exported',
        objectType: 'region',
        objectId: region.code,
        result: 'success',
        requestId: options.requestId,
        detail: { kind, region: region.code, rows: found!.n, reveal, reason: reveal ? reason : null },
      },
      now,
    );
    return { rows: found!.n, last: found!.last ?? 0 };
  });

  const stream = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream,
    useStyles: true,
    useSharedStrings: false,
  });
  workbook.creator = 'Wangge 网格';
  const sheet = workbook.addWorksheet(registryExcelSheetNames[kind], {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  sheet.columns = spec.columns.map((c) => ({ width: c.width }));
  const write = async () => {
    const header = sheet.addRow(spec.columns.map((c) => c.header));
    header.font = { bold: true };
    header.commit();
    let after = 0;
    for (;;) {
      const batch = await spec.batch(db.orm, region.path, after, counted.last);
      for (const item of batch) sheet.addRow(item.cells.map(exportCell)).commit();
      if (batch.length < batchSize) break;
      after = batch[batch.length - 1]!.id;
      // Let a slow reader catch up before reading the next batch.
      if (stream.writableNeedDrain) await once(stream, 'drain');
    }
    sheet.commit();
    await workbook.commit();
  };
  write().catch((error: unknown) => stream.destroy(error as Error));
  return { stream, filename: `${kind}-${region.code}.xlsx`, rows: counted.rows };
}
