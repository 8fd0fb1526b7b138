import { defuseCell } from '../../platform/spreadsheet.ts';
import crypto from 'node:crypto';
import {
  HotlineOrderRowSchema,
  HotlineOrderSchema,
  PhoneSchema,
  hotlineColumns,
  hotlineImportMaxRows,
  hotlineResultHeaders,
  type CreateCaseRequest,
  type HotlineClassification,
  type HotlineImportResult,
  type HotlineOrderRow,
  type HotlineResolved,
  type HotlineTriageItem,
  type PutHotlineClassificationRequest,
  type ResolveHotlineTriageRequest,
} from '@wangge/contracts';
import ExcelJS from 'exceljs';
import { insideAny, requireAccess, type Actor } from '../../platform/access.ts';
import { appendAudit, canonicalJson } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { maskPhone, type SecretBox } from '../../platform/crypto.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError, type FieldError } from '../../platform/errors.ts';
import { channelsByRole, createCase } from '../case/case.intake.ts';
import type { GridRouter } from '../region/index.ts';

/**
 * Hotline exchange (热线工单对接, issue 8): 12345 / 96118 work orders come in as files (xlsx, CSV) or JSON and
 * become cases through `createCase` (channel `hotline`, deterministic clientId per source + work order number, so
 * nothing is created twice); the hotline's 6-digit classification (诉求分类) maps to a taxonomy item through the
 * editable `hotline_classification` table; what cannot become a case lands in the triage queue (分拣) with the
 * caller's phone sealed. Results go back as xlsx or CSV in the hotline's header shape.
 */

export const xlsxContentType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/* ---------------------------------------------------------------- classification */

/**
 * The default classification table (GB/T 39666 manner: 大类 XX0000, 中类 XXYY00, 小类) on the default taxonomy
 * (db/data/taxonomy-default.json). null: deliberately unmapped, its orders go to triage unless a parent maps.
 */
export const defaultHotlineClassifications: readonly [code: string, name: string, itemCode: string | null][] =
  [
    ['010000', '城乡建设管理', null],
    ['010100', '市容市貌', '0402'],
    ['010101', '占道经营', '0402'],
    ['010102', '乱堆乱放', '0402'],
    ['010103', '违规停车', '0403'],
    ['010200', '市政设施', '0501'],
    ['010201', '道路破损', '0501'],
    ['010202', '井盖缺失或损坏', '0501'],
    ['010203', '路灯不亮', '0502'],
    ['010300', '园林绿化', '0504'],
    ['010400', '供水排水供暖', '0503'],
    ['010401', '停水', '0503'],
    ['010402', '供暖不热', '0503'],
    ['010403', '下水道堵塞', '0503'],
    ['020000', '生态环境', '0404'],
    ['020100', '噪声污染', '0404'],
    ['020200', '油烟污染', '0404'],
    ['020300', '垃圾清运', '0401'],
    ['030000', '住房保障与物业', null],
    ['030100', '物业服务', '0104'],
    ['030200', '房屋安全', '0304'],
    ['030300', '住房保障', '0603'],
    ['040000', '交通运输', null],
    ['040100', '道路交通秩序', '0403'],
    ['040200', '公共交通', null],
    ['050000', '公共安全', '0202'],
    ['050100', '治安隐患', '0201'],
    ['050200', '消防安全', '0301'],
    ['050300', '燃气安全', '0302'],
    ['050400', '安全生产', '0303'],
    ['060000', '社会保障与民生', '1001'],
    ['060100', '社会保险', '0601'],
    ['060200', '就业服务', '0602'],
    ['060300', '劳动工资', '0103'],
    ['060400', '困难救助', '0702'],
    ['060500', '养老服务', '0701'],
    ['070000', '矛盾纠纷', '0101'],
    ['070100', '邻里纠纷', '0101'],
    ['070200', '婚姻家庭', '0102'],
    ['080000', '卫生健康', '0902'],
    ['090000', '应急管理', '0901'],
    ['100000', '咨询建议', '1001'],
    ['100100', '政策咨询', '1001'],
    ['100200', '意见建议', '1002'],
    ['110000', '市场监管', null],
  ];

export type ClassificationLevel = 'major' | 'middle' | 'minor';

export function classificationLevel(code: string): ClassificationLevel {
  if (code.endsWith('0000')) return 'major';
  if (code.endsWith('00')) return 'middle';
  return 'minor';
}

/** The codes a lookup tries, most specific first: minor → its middle → its major. */
export function classificationWalk(code: string): string[] {
  const walk = [code, `${code.slice(0, 4)}00`, `${code.slice(0, 2)}0000`];
  return walk.filter((c, i) => walk.indexOf(c) === i);
}

/**
 * Seeds the default table when it is empty (idempotent; an edited table is never touched). Item codes missing
 * from the taxonomy are stored unmapped. Returns the rows written.
 */
export async function ensureDefaultHotlineClassifications(ex: Executor): Promise<number> {
  const present = await one<{ n: number }>(ex, sql`select count(*)::int as n from hotline_classification`);
  if ((present?.n ?? 0) > 0) return 0;
  const list = defaultHotlineClassifications.map(([code, name, item]) => ({ code, name, item }));
  const written = await one<{ n: number }>(
    ex,
    sql`with inserted as (
          insert into hotline_classification (code, name, item_code)
          select v.code, v.name, c.code
          from jsonb_to_recordset(${JSON.stringify(list)}::jsonb) as v (code text, name text, item text)
          left join case_category c on c.code = v.item and c.parent_code is not null
          on conflict (code) do nothing
          returning code
        )
        select count(*)::int as n from inserted`,
  );
  return written?.n ?? 0;
}

interface ClassificationRow {
  code: string;
  name: string;
  level: ClassificationLevel;
  item_code: string | null;
  updated_at: Date | string;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

/** The item a code maps to after the walk, or null. */
export async function mapClassification(ex: Executor, code: string): Promise<string | null> {
  const walk = classificationWalk(code);
  const found = await rows<{ code: string; item_code: string | null }>(
    ex,
    sql`select code, item_code from hotline_classification
        where code in (${sql.join(
          walk.map((c) => sql`${c}`),
          sql`, `,
        )})`,
  );
  for (const c of walk) {
    const hit = found.find((f) => f.code === c);
    if (hit?.item_code) return hit.item_code;
  }
  return null;
}

export async function listHotlineClassifications(options: {
  db: Database;
  actor: Actor;
}): Promise<{ items: HotlineClassification[] }> {
  requireAccess(options.actor, 'case.report');
  await ensureDefaultHotlineClassifications(options.db.orm);
  const found = await rows<ClassificationRow>(
    options.db.orm,
    sql`select code, name, level, item_code, updated_at from hotline_classification order by code`,
  );
  const byCode = new Map(found.map((r) => [r.code, r]));
  return {
    items: found.map((r) => ({
      code: r.code,
      name: r.name,
      level: r.level,
      itemCode: r.item_code,
      effectiveItemCode:
        classificationWalk(r.code)
          .map((c) => byCode.get(c)?.item_code)
          .find((item) => item !== null && item !== undefined) ?? null,
      updatedAt: iso(r.updated_at),
    })),
  };
}

/** Creates or edits the mapping of one code (administrators: taxonomy.write). Audited. */
export async function putHotlineClassification(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId?: string;
  code: string;
  input: PutHotlineClassificationRequest;
}): Promise<HotlineClassification> {
  const { db, clock, actor, code, input } = options;
  requireAccess(actor, 'taxonomy.write');
  const now = clock.now();
  await db.orm.transaction(async (tx) => {
    await ensureDefaultHotlineClassifications(tx);
    if (input.itemCode !== null) {
      const item = await one(
        tx,
        sql`select 1 from case_category where code = ${input.itemCode} and parent_code is not null and active`,
      );
      if (!item)
        throw new DomainError(
          'VALIDATION_FAILED',
          'itemCode: 事项不存在或已停用 (unknown or inactive item)',
          [{ field: 'itemCode', message: '事项不存在或已停用 (unknown or inactive item)' }],
        );
    }
    await tx.execute(sql`insert into hotline_classification (code, name, item_code, updated_by, updated_at)
      values (${code}, ${input.name}, ${input.itemCode}, ${actor.userId}, ${now.toISOString()})
      on conflict (code) do update set name = excluded.name, item_code = excluded.item_code,
        updated_by = excluded.updated_by, updated_at = excluded.updated_at`);
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'hotline.classification.put',
        objectType: 'hotline_classification',
        objectId: code,
        result: 'success',
        requestId: options.requestId ?? null,
        detail: { itemCode: input.itemCode },
      },
      now,
    );
  });
  const list = await listHotlineClassifications({ db, actor });
  return list.items.find((c) => c.code === code)!;
}

/* ---------------------------------------------------------------- who may work the hotline */

/** Grants that take hotline work orders: case.report through the hotline channel (hotline / centre operators). */
function hotlineGrants(actor: Actor) {
  return actor.grants.filter((g) => channelsByRole[g.role].includes('hotline'));
}

/** Where the actor works the hotline ('all' for administrators); 403 for roles that never do. */
export function hotlinePaths(actor: Actor): string[] | 'all' {
  requireAccess(actor, 'case.report');
  const grants = hotlineGrants(actor);
  if (grants.length === 0)
    throw new DomainError(
      'FORBIDDEN',
      '仅热线或指挥中心坐席可处理热线工单 (hotline or centre operators only)',
    );
  if (grants.some((g) => g.regionPath === null)) return 'all';
  return grants.map((g) => g.regionPath!);
}

/* ---------------------------------------------------------------- reading files */

type RawRow = { row: number; values: Partial<Record<keyof HotlineOrderRow, string>> };

const badFile = (message: string) =>
  new DomainError('VALIDATION_FAILED', `file: ${message}`, [{ field: 'file', message }]);

const headerField = new Map<string, keyof HotlineOrderRow>(hotlineColumns.map((c) => [c.header, c.field]));

function headerKey(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/[\s*＊]/g, '')
    .replace(/[(（].*$/, '');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Cell text; a date cell is Excel's wall-clock time, read as China time (`YYYY-MM-DD HH:mm:ss`). */
function cellString(value: ExcelJS.CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return '';
    return `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())} ${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())}`;
  }
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    if ('richText' in value)
      return value.richText
        .map((part) => part.text)
        .join('')
        .trim();
    if ('formula' in value || 'sharedFormula' in value)
      return cellString((value as { result?: ExcelJS.CellValue }).result);
    if ('text' in value) return cellString((value as { text: ExcelJS.CellValue }).text);
  }
  return '';
}

function rowsFromTable(table: string[][], firstRow: number): RawRow[] {
  const [header, ...body] = table;
  if (!header) throw badFile('文件为空 (the file is empty)');
  const columnOf = new Map<keyof HotlineOrderRow, number>();
  header.forEach((text, index) => {
    const field = headerField.get(headerKey(text));
    if (field && !columnOf.has(field)) columnOf.set(field, index);
  });
  const missing = hotlineColumns.filter((c) => c.required && !columnOf.has(c.field));
  if (missing.length > 0)
    throw badFile(
      `缺少必填列 ${missing.map((c) => c.header).join('、')} (missing required columns; use the template)`,
    );
  const out: RawRow[] = [];
  body.forEach((cells, i) => {
    if (cells.every((c) => c.trim() === '')) return;
    const values: RawRow['values'] = {};
    for (const [field, index] of columnOf) {
      const text = (cells[index] ?? '').trim();
      if (text !== '') values[field] = text;
    }
    out.push({ row: firstRow + i, values });
  });
  if (out.length > hotlineImportMaxRows)
    throw badFile(`一次最多导入 ${hotlineImportMaxRows} 条 (at most ${hotlineImportMaxRows} rows per file)`);
  return out;
}

async function readXlsx(bytes: Buffer): Promise<RawRow[]> {
  // An xlsx file is a zip archive: "PK\3\4".
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== 0x04034b50)
    throw badFile('不是有效的 Excel 文件 (not a valid xlsx workbook)');
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    throw badFile('不是有效的 Excel 文件 (not a valid xlsx workbook)');
  }
  const sheet = workbook.getWorksheet(hotlineSheetName) ?? workbook.worksheets[0];
  if (!sheet) throw badFile('不是有效的 Excel 文件 (not a valid xlsx workbook)');
  const table: string[][] = [];
  const width = Math.max(sheet.columnCount, hotlineColumns.length);
  for (let r = 1; r <= sheet.rowCount; r++) {
    const row = sheet.getRow(r);
    const cells: string[] = [];
    for (let c = 1; c <= width; c++) cells.push(cellString(row.getCell(c).value));
    table.push(cells);
  }
  return rowsFromTable(table, 1 + 1);
}

/** UTF-8 (with or without BOM), else GB18030 (Excel on Chinese Windows saves CSV that way). */
export function decodeCsv(bytes: Buffer): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return new TextDecoder('utf-8').decode(bytes.subarray(3));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

/** RFC 4180: quoted fields with doubled quotes, CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const table: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      table.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    table.push(row);
  }
  return table;
}

function readCsv(bytes: Buffer): RawRow[] {
  return rowsFromTable(parseCsv(decodeCsv(bytes)), 2);
}

function readJson(orders: Record<string, unknown>[]): RawRow[] {
  return orders.map((order, i) => {
    const values: RawRow['values'] = {};
    for (const column of hotlineColumns) {
      const value = order[column.field] ?? order[column.header];
      if (value === undefined || value === null) continue;
      const text = (typeof value === 'string' ? value : JSON.stringify(value)).trim();
      if (text !== '') values[column.field] = text;
    }
    return { row: i + 1, values };
  });
}

/* ---------------------------------------------------------------- one order */

/** `YYYY-MM-DD HH:mm[:ss]` (or with /) in China time, or ISO 8601 with an offset. */
export function parseChinaTime(text: string): Date | null {
  const local = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(
    text.trim(),
  );
  if (local) {
    const [, y, mo, d, h, mi, s] = local;
    const parts = [
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h ?? 0),
      Number(mi ?? 0),
      Number(s ?? 0),
    ] as const;
    const wall = new Date(Date.UTC(...parts));
    // No rolling over: 2026-02-30 or 25:00 is not a time.
    if (
      wall.getUTCMonth() !== parts[1] ||
      wall.getUTCDate() !== parts[2] ||
      wall.getUTCHours() !== parts[3] ||
      wall.getUTCMinutes() !== parts[4] ||
      wall.getUTCSeconds() !== parts[5]
    )
      return null;
    return new Date(wall.getTime() - 8 * 3600_000);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text.trim())) {
    const at = new Date(text.trim());
    return Number.isNaN(at.getTime()) ? null : at;
  }
  return null;
}

const urgentWords = new Set(['紧急', '特急', '加急', '急', 'urgent', '是', 'true', '1']);

/** The order as stored in triage: everything read, the phone only sealed and masked. */
interface StoredOrder {
  workOrderNumber: string | null;
  callTime: string | null;
  callerName: string | null;
  callerPhoneCipher: string | null;
  callerPhoneMasked: string | null;
  classificationCode: string | null;
  title: string | null;
  content: string | null;
  address: string | null;
  lng: number | null;
  lat: number | null;
  urgent: boolean;
  timeLimit: string | null;
}

interface ReadOrder {
  stored: StoredOrder;
  errors: FieldError[];
  /** Valid rows only. */
  callTime?: Date;
  callerPhone?: string;
  timeLimitAt?: Date | null;
}

function readOrder(secrets: SecretBox, values: RawRow['values']): ReadOrder {
  const errors: FieldError[] = [];
  const header = (field: string) => hotlineColumns.find((c) => c.field === field)?.header ?? field;
  const parsed = HotlineOrderRowSchema.safeParse(values);
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? 'row');
      const missing = issue.code === 'invalid_type' && values[field as keyof HotlineOrderRow] === undefined;
      errors.push({ field, message: `${header(field)}: ${missing ? '必填 (required)' : issue.message}` });
    }
  const text = (field: keyof HotlineOrderRow) => values[field] ?? null;
  const phone = text('callerPhone');
  const number = (field: 'lng' | 'lat') => {
    const n = Number(values[field]);
    return values[field] !== undefined && Number.isFinite(n) ? n : null;
  };
  const stored: StoredOrder = {
    workOrderNumber: text('workOrderNumber'),
    callTime: text('callTime'),
    callerName: text('callerName'),
    callerPhoneCipher: phone === null ? null : secrets.encrypt(phone),
    callerPhoneMasked: phone === null ? null : maskPhone(phone),
    classificationCode: text('classificationCode'),
    title: text('title'),
    content: text('content'),
    address: text('address'),
    lng: number('lng'),
    lat: number('lat'),
    urgent: urgentWords.has((values.urgency ?? '').toLowerCase()),
    timeLimit: text('timeLimit'),
  };
  const result: ReadOrder = { stored, errors };
  if (stored.callTime !== null) {
    const at = parseChinaTime(stored.callTime);
    if (!at) errors.push({ field: 'callTime', message: '来电时间: 时间格式不正确 (invalid time)' });
    else {
      result.callTime = at;
      stored.callTime = at.toISOString();
    }
  }
  if (phone === null) errors.push({ field: 'callerPhone', message: '来电号码: 必填 (required)' });
  else if (!PhoneSchema.safeParse(phone).success)
    errors.push({ field: 'callerPhone', message: '来电号码: 电话号码格式不正确 (invalid phone number)' });
  else result.callerPhone = PhoneSchema.parse(phone);
  if (
    (stored.lng === null) !== (stored.lat === null) &&
    !errors.some((e) => e.field === 'lng' || e.field === 'lat')
  )
    errors.push({ field: 'lng', message: '经度、纬度须同时填写 (longitude and latitude go together)' });
  result.timeLimitAt = null;
  if (stored.timeLimit !== null) {
    const at = parseChinaTime(stored.timeLimit);
    if (!at) errors.push({ field: 'timeLimit', message: '办理时限: 时间格式不正确 (invalid time)' });
    else {
      result.timeLimitAt = at;
      stored.timeLimit = at.toISOString();
    }
  }
  return result;
}

/** Deterministic clientId of a work order (UUID v5 layout over sha256): re-imports find the same case. */
export function hotlineClientId(source: string, workOrderNumber: string): string {
  const hash = crypto
    .createHash('sha256')
    .update(`wangge-hotline\u0000${source}\u0000${workOrderNumber}`)
    .digest();
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function dedupeKey(secrets: SecretBox, source: string, values: RawRow['values']): string {
  if (values.workOrderNumber) return `${source}:${values.workOrderNumber}`;
  return `row:${secrets.lookupHash('hotline.row', canonicalJson({ source, ...values }))}`;
}

type Place =
  | { ok: true; lng: number; lat: number; gridCode: string; overrideGrid: boolean }
  | { ok: false; message: string };

function normaliseAddress(text: string): string {
  return text
    .replace(/[\uff10-\uff19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/\s+/g, '');
}

/**
 * Where an order is: its point (WGS-84) routed to a grid, else its address matched to a standard address of the
 * actor's area by road + number (胜利路12号); one grid or none (an ambiguous match is none).
 */
async function placeOrder(
  ex: Executor,
  router: GridRouter,
  paths: string[] | 'all',
  order: StoredOrder,
): Promise<Place> {
  if (order.lng !== null && order.lat !== null) {
    const gridCode = router.locate(order.lng, order.lat);
    if (!gridCode) return { ok: false, message: '坐标不在任何网格内 (the point is outside every grid)' };
    return { ok: true, lng: order.lng, lat: order.lat, gridCode, overrideGrid: false };
  }
  if (!order.address)
    return { ok: false, message: '无坐标且无事发地址 (neither coordinates nor an address)' };
  const wanted = normaliseAddress(order.address);
  const candidates = await rows<{
    grid_code: string;
    road: string;
    road_number: string | null;
    lng: number | null;
    lat: number | null;
  }>(
    ex,
    sql`select a.grid_code, a.road, a.road_number,
          coalesce(st_x(a.location), st_x(g.centroid)) as lng, coalesce(st_y(a.location), st_y(g.centroid)) as lat
        from address a join region g on g.code = a.grid_code
        where ${insideAny(sql`a.region_path`, paths)}
          and strpos(${wanted}, replace(a.road, ' ', '')) > 0
        limit 2000`,
  );
  let best: { key: string; grids: Set<string>; lng: number | null; lat: number | null } | null = null;
  for (const c of candidates) {
    const number = c.road_number ? normaliseAddress(c.road_number).replace(/号?$/, '号') : '';
    const key = normaliseAddress(c.road) + number;
    if (!wanted.includes(key)) continue;
    if (!best || key.length > best.key.length)
      best = { key, grids: new Set([c.grid_code]), lng: c.lng, lat: c.lat };
    else if (key.length === best.key.length) best.grids.add(c.grid_code);
  }
  if (!best || best.grids.size !== 1 || best.lng === null || best.lat === null)
    return {
      ok: false,
      message: best
        ? '地址对应多个网格,请人工定位 (the address matches several grids)'
        : '未匹配到标准地址,请人工定位 (no standard address matches)',
    };
  const gridCode = [...best.grids][0]!;
  return {
    ok: true,
    lng: best.lng,
    lat: best.lat,
    gridCode,
    overrideGrid: router.locate(best.lng, best.lat) !== gridCode,
  };
}

/* ---------------------------------------------------------------- import */

export type HotlineFormat = 'xlsx' | 'csv' | 'json';

type Triaged = HotlineImportResult['triaged'][number];

interface ImportRecordRow {
  id: number;
  total_rows: number;
  created_rows: number;
  duplicate_rows: number;
  triaged: Triaged[];
}

function presentImport(row: ImportRecordRow): HotlineImportResult {
  return {
    id: row.id,
    total: row.total_rows,
    created: row.created_rows,
    duplicates: row.duplicate_rows,
    triaged: row.triaged,
  };
}

async function loadImport(ex: Executor, userId: number, clientId: string) {
  return one<ImportRecordRow>(
    ex,
    sql`select id::int as id, total_rows, created_rows, duplicate_rows, triaged from hotline_import
        where created_by = ${userId} and client_id = ${clientId}`,
  );
}

async function caseOfClientId(ex: Executor, clientId: string) {
  return one<{ id: number; serial: string }>(
    ex,
    sql`select id::int as id, serial from grid_case where client_id = ${clientId}`,
  );
}

/** Writes (or refreshes, while open) the triage row of an order; answers its id. */
async function upsertTriage(
  ex: Executor,
  row: {
    key: string;
    source: string;
    rowNumber: number;
    order: StoredOrder;
    reason: Triaged['reason'];
    message: string;
    fields: FieldError[];
    regionPath: string | null;
    actorId: number;
    now: string;
  },
): Promise<{ id: number; status: string }> {
  const written = await one<{ id: number; status: string }>(
    ex,
    sql`insert into hotline_triage (dedupe_key, source, work_order_number, row_number, "order", reason, message,
          fields, region_path, created_by, created_at)
        values (${row.key}, ${row.source}, ${row.order.workOrderNumber}, ${row.rowNumber},
          ${JSON.stringify(row.order)}::jsonb, ${row.reason}, ${row.message}, ${JSON.stringify(row.fields)}::jsonb,
          ${row.regionPath}, ${row.actorId}, ${row.now})
        on conflict (dedupe_key) do update set "order" = excluded."order", reason = excluded.reason,
          message = excluded.message, fields = excluded.fields, row_number = excluded.row_number,
          region_path = excluded.region_path
          where hotline_triage.status = 'open'
        returning id::int as id, status`,
  );
  if (written) return written;
  return (await one<{ id: number; status: string }>(
    ex,
    sql`select id::int as id, status from hotline_triage where dedupe_key = ${row.key}`,
  ))!;
}

/** The writes that go with a hotline case, in its transaction: its work order, a triage row resolved. */
function hotlineWrites(options: {
  source: string;
  workOrderNumber: string;
  classificationCode: string | null;
  timeLimitAt: Date | null;
  key: string;
  actorId: number;
  now: string;
}) {
  return async (tx: Executor, created: { id: number }) => {
    await tx.execute(sql`insert into hotline_order (case_id, source, work_order_number, classification_code,
        time_limit_at, imported_by, imported_at)
      values (${created.id}, ${options.source}, ${options.workOrderNumber}, ${options.classificationCode},
        ${options.timeLimitAt?.toISOString() ?? null}, ${options.actorId}, ${options.now})
      on conflict do nothing`);
    await tx.execute(sql`update hotline_triage set status = 'resolved', case_id = ${created.id},
        resolved_by = ${options.actorId}, resolved_at = ${options.now}
      where dedupe_key = ${options.key} and status = 'open'`);
  };
}

function caseRequest(options: {
  source: string;
  order: StoredOrder;
  workOrderNumber: string;
  callerPhone: string;
  callTime: Date;
  categoryCode: string;
  place: { lng: number; lat: number; gridCode: string; overrideGrid: boolean };
  overrideReason: string;
}): CreateCaseRequest {
  const { order, place } = options;
  const title = (order.title ?? order.content ?? `热线工单 ${options.workOrderNumber}`).slice(0, 200);
  return {
    clientId: hotlineClientId(options.source, options.workOrderNumber),
    title,
    description: (order.content ?? '').slice(0, 5000),
    categoryCode: options.categoryCode,
    location: { lng: place.lng, lat: place.lat, crs: 'wgs84' },
    ...(order.address ? { address: order.address.slice(0, 300) } : {}),
    ...(place.overrideGrid ? { gridCode: place.gridCode, gridOverrideReason: options.overrideReason } : {}),
    channel: 'hotline',
    urgent: order.urgent,
    extra: {},
    anonymous: false,
    hotline: HotlineOrderSchema.parse({
      callerName: order.callerName ?? '来电群众',
      callerPhone: options.callerPhone,
      callTime: options.callTime.toISOString(),
      workOrderNumber: options.workOrderNumber,
    }),
  };
}

/** Domain refusals of createCase that mean "cannot become a case yet" rather than a failed request. */
function triageOf(
  error: unknown,
): { reason: Triaged['reason']; message: string; fields: FieldError[] } | null {
  if (!(error instanceof DomainError)) return null;
  if (error.code === 'NOT_FOUND' || error.code === 'CASE_OUTSIDE_GRIDS')
    return {
      reason: 'no_location',
      message: '位置不在您的辖区网格内 (the place is in no grid of your area)',
      fields: [],
    };
  if (error.code === 'CASE_INVALID_CATEGORY')
    return { reason: 'unmapped_classification', message: error.message, fields: [] };
  if (error.code === 'VALIDATION_FAILED')
    return { reason: 'invalid', message: error.message, fields: error.fields ?? [] };
  return null;
}

/**
 * 导入热线工单: every order becomes a case (channel hotline) or a triage row; nothing is lost and nothing is
 * created twice (deterministic clientId per source + work order number; one triage row per order). Idempotent by
 * the request's clientId: a replay answers the first result. Each case commits on its own (like the hotline
 * sending them one by one); the import record and one audit row (counts only) commit at the end.
 */
export async function importHotlineOrders(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  router: GridRouter;
  secrets: SecretBox;
  clientId: string;
  source: string;
  format: HotlineFormat;
  bytes?: Buffer;
  orders?: Record<string, unknown>[];
  requestId?: string;
}): Promise<{ result: HotlineImportResult; replayed: boolean }> {
  const { db, clock, actor, router, secrets, source } = options;
  const paths = hotlinePaths(actor);
  const earlier = await loadImport(db.orm, actor.userId, options.clientId);
  if (earlier) return { result: presentImport(earlier), replayed: true };

  const raw =
    options.format === 'json'
      ? readJson(options.orders ?? [])
      : options.format === 'csv'
        ? readCsv(options.bytes ?? Buffer.alloc(0))
        : await readXlsx(options.bytes ?? Buffer.alloc(0));
  await ensureDefaultHotlineClassifications(db.orm);
  // Rows nobody could locate are seen by the importer's area (an administrator's: by administrators).
  const importerPath =
    paths === 'all' ? null : (hotlineGrants(actor).find((g) => g.regionPath)?.regionPath ?? null);

  let created = 0;
  let duplicates = 0;
  const triaged: Triaged[] = [];
  const triageIds: number[] = [];
  const now = clock.now();
  const nowIso = now.toISOString();

  for (const { row, values } of raw) {
    const key = dedupeKey(secrets, source, values);
    const read = readOrder(secrets, values);
    const { stored } = read;
    const number = stored.workOrderNumber;
    const triage = async (
      reason: Triaged['reason'],
      message: string,
      fields: FieldError[],
      regionPath: string | null,
    ) => {
      const written = await upsertTriage(db.orm, {
        key,
        source,
        rowNumber: row,
        order: stored,
        reason,
        message,
        fields,
        regionPath,
        actorId: actor.userId,
        now: nowIso,
      });
      triageIds.push(written.id);
      triaged.push({
        row,
        workOrderNumber: number,
        reason,
        message: written.status === 'rejected' ? `${message};此前已驳回 (rejected earlier)` : message,
      });
    };

    if (number !== null && (await caseOfClientId(db.orm, hotlineClientId(source, number)))) {
      duplicates += 1;
      continue;
    }
    if (read.errors.length > 0 || number === null || !read.callTime || !read.callerPhone) {
      await triage(
        'invalid',
        read.errors.map((e) => e.message).join('; ') || '工单无效 (invalid work order)',
        read.errors,
        importerPath,
      );
      continue;
    }
    const place = await placeOrder(db.orm, router, paths, stored);
    const gridPath = place.ok
      ? ((await one<{ path: string }>(db.orm, sql`select path from region where code = ${place.gridCode}`))
          ?.path ?? null)
      : null;
    const visiblePath =
      gridPath !== null &&
      (paths === 'all' || paths.some((p) => gridPath === p || gridPath.startsWith(`${p}.`)))
        ? gridPath
        : importerPath;
    const itemCode = await mapClassification(db.orm, stored.classificationCode!);
    if (!itemCode) {
      await triage(
        'unmapped_classification',
        `诉求分类编码 ${stored.classificationCode} 未对应事项类别 (classification not mapped to a category)`,
        [{ field: 'classificationCode', message: 'unmapped' }],
        visiblePath,
      );
      continue;
    }
    if (!place.ok) {
      await triage('no_location', place.message, [{ field: 'address', message: place.message }], visiblePath);
      continue;
    }
    try {
      const answer = await createCase({
        db,
        clock,
        actor,
        router,
        secrets,
        requestId: options.requestId,
        input: caseRequest({
          source,
          order: stored,
          workOrderNumber: number,
          callerPhone: read.callerPhone,
          callTime: read.callTime,
          categoryCode: itemCode,
          place,
          overrideReason: '热线工单地址所在网格 (grid of the work order address)',
        }),
        alsoWrite: hotlineWrites({
          source,
          workOrderNumber: number,
          classificationCode: stored.classificationCode,
          timeLimitAt: read.timeLimitAt ?? null,
          key,
          actorId: actor.userId,
          now: nowIso,
        }),
      });
      if (answer.created) created += 1;
      else duplicates += 1;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'CONFLICT') {
        duplicates += 1;
        continue;
      }
      const why = triageOf(error);
      if (!why) throw error;
      await triage(why.reason, why.message, why.fields, visiblePath);
    }
  }

  try {
    const record = await db.orm.transaction(async (tx) => {
      const inserted = await one<ImportRecordRow>(
        tx,
        sql`insert into hotline_import (client_id, created_by, source, format, total_rows, created_rows,
              duplicate_rows, triaged, created_at)
            values (${options.clientId}, ${actor.userId}, ${source}, ${options.format}, ${raw.length}, ${created},
              ${duplicates}, ${JSON.stringify(triaged)}::jsonb, ${nowIso})
            returning id::int as id, total_rows, created_rows, duplicate_rows, triaged`,
      );
      if (triageIds.length > 0)
        await tx.execute(sql`update hotline_triage set import_id = ${inserted!.id}
          where import_id is null and id in (${sql.join(
            triageIds.map((id) => sql`${id}`),
            sql`, `,
          )})`);
      await appendAudit(
        tx,
        {
          actorId: actor.userId,
          actorRole: null,
          action: 'hotline.imported',
          objectType: 'hotline_import',
          objectId: String(inserted!.id),
          result: 'success',
          requestId: options.requestId ?? null,
          detail: {
            source,
            format: options.format,
            total: raw.length,
            created,
            duplicates,
            triaged: triaged.length,
          },
        },
        now,
      );
      return inserted!;
    });
    return { result: presentImport(record), replayed: false };
  } catch (error) {
    if (pgErrorCode(error) === '23505') {
      const first = await loadImport(db.orm, actor.userId, options.clientId);
      if (first) return { result: presentImport(first), replayed: true };
    }
    throw error;
  }
}

/* ---------------------------------------------------------------- triage */

interface TriageRow {
  id: number;
  source: string;
  work_order_number: string | null;
  row_number: number | null;
  order: StoredOrder;
  reason: Triaged['reason'];
  message: string;
  fields: FieldError[];
  status: HotlineTriageItem['status'];
  case_id: number | null;
  reject_reason: string | null;
  region_path: string | null;
  dedupe_key: string;
  created_at: Date | string;
  resolved_at: Date | string | null;
}

const triageColumns = sql`id::int as id, source, work_order_number, row_number, "order", reason, message, fields,
  status, case_id::int as case_id, reject_reason, region_path, dedupe_key, created_at, resolved_at`;

function presentTriage(row: TriageRow): HotlineTriageItem {
  const o = row.order;
  return {
    id: row.id,
    source: row.source,
    workOrderNumber: row.work_order_number,
    row: row.row_number,
    reason: row.reason,
    message: row.message,
    fields: row.fields,
    order: {
      callTime: o.callTime,
      callerName: o.callerName,
      callerPhoneMasked: o.callerPhoneMasked,
      classificationCode: o.classificationCode,
      title: o.title,
      content: o.content,
      address: o.address,
      lng: o.lng,
      lat: o.lat,
      urgent: o.urgent,
      timeLimit: o.timeLimit,
    },
    status: row.status,
    caseId: row.case_id,
    rejectReason: row.reject_reason,
    createdAt: iso(row.created_at),
    resolvedAt: row.resolved_at === null ? null : iso(row.resolved_at),
  };
}

export async function listHotlineTriage(options: {
  db: Database;
  actor: Actor;
  status: HotlineTriageItem['status'];
  limit: number;
}): Promise<{ items: HotlineTriageItem[] }> {
  const paths = hotlinePaths(options.actor);
  const found = await rows<TriageRow>(
    options.db.orm,
    sql`select ${triageColumns} from hotline_triage
        where status = ${options.status} and ${insideAny(sql`region_path`, paths)}
        order by id limit ${options.limit}`,
  );
  return { items: found.map(presentTriage) };
}

/** An open triage row the actor may see; 404 otherwise (out of scope looks like absent). */
async function visibleTriage(ex: Executor, actor: Actor, id: number): Promise<TriageRow> {
  const paths = hotlinePaths(actor);
  const row = await one<TriageRow>(
    ex,
    sql`select ${triageColumns} from hotline_triage where id = ${id} and ${insideAny(sql`region_path`, paths)}`,
  );
  if (!row) throw new DomainError('NOT_FOUND', '未找到分拣工单 (no such triage row)');
  if (row.status !== 'open')
    throw new DomainError('CONFLICT', '该工单已处理 (this triage row was handled already)');
  return row;
}

/**
 * 分拣处理: the operator picks the category (and the place when it had none); the case is created with the same
 * deterministic clientId and the row is marked resolved in the case's transaction. Audited.
 */
export async function resolveHotlineTriage(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  router: GridRouter;
  secrets: SecretBox;
  id: number;
  input: ResolveHotlineTriageRequest;
  requestId?: string;
}): Promise<HotlineResolved> {
  const { db, clock, actor, router, secrets, input } = options;
  const row = await visibleTriage(db.orm, actor, options.id);
  const o = row.order;
  const invalid = (message: string, field = 'order') =>
    new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
  if (!o.workOrderNumber || !o.callTime || !o.callerPhoneCipher)
    throw invalid(
      '工单信息不全,请修正后重新导入或驳回 (the order is incomplete: re-import it corrected, or reject it)',
    );
  const callerPhone = PhoneSchema.safeParse(secrets.decrypt(o.callerPhoneCipher));
  if (!callerPhone.success)
    throw invalid(
      '来电号码无效,请修正后重新导入或驳回 (invalid phone: re-import it corrected, or reject it)',
    );

  let place: { lng: number; lat: number; gridCode: string; overrideGrid: boolean } | undefined;
  const point = input.location ?? (o.lng !== null && o.lat !== null ? { lng: o.lng, lat: o.lat } : undefined);
  if (point) {
    const located = router.locate(point.lng, point.lat);
    const gridCode = input.gridCode ?? located;
    if (!gridCode)
      throw invalid('该位置不在任何网格内,请指定网格 (the point is in no grid: give gridCode)', 'location');
    place = { ...point, gridCode, overrideGrid: gridCode !== located };
  } else if (input.gridCode) {
    const grid = await one<{ lng: number | null; lat: number | null }>(
      db.orm,
      sql`select st_x(centroid) as lng, st_y(centroid) as lat from region
          where code = ${input.gridCode} and level = 'grid'`,
    );
    if (!grid || grid.lng === null || grid.lat === null)
      throw new DomainError('NOT_FOUND', '未找到网格 (grid not found)');
    place = {
      lng: grid.lng,
      lat: grid.lat,
      gridCode: input.gridCode,
      overrideGrid: router.locate(grid.lng, grid.lat) !== input.gridCode,
    };
  } else {
    const found = await placeOrder(db.orm, router, hotlinePaths(actor), o);
    if (!found.ok)
      throw invalid(`${found.message};请提供 location 或 gridCode (give location or gridCode)`, 'location');
    place = found;
  }

  const now = clock.now();
  const nowIso = now.toISOString();
  const audit = async (tx: Executor, caseId: number) =>
    appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'hotline.triage.resolve',
        objectType: 'hotline_triage',
        objectId: String(row.id),
        result: 'success',
        requestId: options.requestId ?? null,
        detail: { caseId, categoryCode: input.categoryCode, reason: row.reason },
      },
      now,
    );
  const clientId = hotlineClientId(row.source, o.workOrderNumber);
  const timeLimitAt = o.timeLimit ? new Date(o.timeLimit) : null;
  const existing = await caseOfClientId(db.orm, clientId);
  if (existing) {
    // Imported meanwhile (a corrected file): the row points at that case.
    await db.orm.transaction(async (tx) => {
      await hotlineWrites({
        source: row.source,
        workOrderNumber: o.workOrderNumber!,
        classificationCode: o.classificationCode,
        timeLimitAt,
        key: row.dedupe_key,
        actorId: actor.userId,
        now: nowIso,
      })(tx, existing);
      await audit(tx, existing.id);
    });
    return { id: row.id, status: 'resolved', caseId: existing.id, serial: existing.serial };
  }
  const callTime = new Date(o.callTime);
  const createdCase = await createCase({
    db,
    clock,
    actor,
    router,
    secrets,
    requestId: options.requestId,
    input: caseRequest({
      source: row.source,
      order: o,
      workOrderNumber: o.workOrderNumber,
      callerPhone: callerPhone.data,
      callTime,
      categoryCode: input.categoryCode,
      place,
      overrideReason: '热线分拣指定网格 (grid chosen in triage)',
    }),
    alsoWrite: async (tx, created) => {
      await hotlineWrites({
        source: row.source,
        workOrderNumber: o.workOrderNumber!,
        classificationCode: o.classificationCode,
        timeLimitAt,
        key: row.dedupe_key,
        actorId: actor.userId,
        now: nowIso,
      })(tx, created);
      await audit(tx, created.id);
    },
  });
  return { id: row.id, status: 'resolved', caseId: createdCase.id, serial: createdCase.serial };
}

/** 驳回: not a case (a test call, a duplicate of another hotline's order …). Audited. */
export async function rejectHotlineTriage(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  id: number;
  reason: string;
  requestId?: string;
}): Promise<HotlineResolved> {
  const { db, clock, actor } = options;
  const now = clock.now();
  return db.orm.transaction(async (tx) => {
    const row = await visibleTriage(tx, actor, options.id);
    const updated = await one(
      tx,
      sql`update hotline_triage set status = 'rejected', reject_reason = ${options.reason},
            resolved_by = ${actor.userId}, resolved_at = ${now.toISOString()}
          where id = ${row.id} and status = 'open' returning id`,
    );
    if (!updated) throw new DomainError('CONFLICT', '该工单已处理 (this triage row was handled already)');
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'hotline.triage.reject',
        objectType: 'hotline_triage',
        objectId: String(row.id),
        result: 'success',
        requestId: options.requestId ?? null,
        detail: { reason: row.reason },
      },
      now,
    );
    return { id: row.id, status: 'rejected' as const, caseId: null, serial: null };
  });
}

/* ---------------------------------------------------------------- template and results */

export const hotlineSheetName = '热线工单';

/** The import template: the header row (text cells) and one example row on a second sheet. */
export async function hotlineTemplate(options: { actor: Actor }): Promise<Buffer> {
  hotlinePaths(options.actor);
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Wangge 网格';
  const sheet = workbook.addWorksheet(hotlineSheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = hotlineColumns.map((c) => ({
    header: c.header,
    key: c.field,
    width: c.field === 'content' ? 40 : 16,
    style: { numFmt: '@' },
  }));
  hotlineColumns.forEach((column, index) => {
    const cell = sheet.getRow(1).getCell(index + 1);
    cell.font = { bold: true, color: { argb: column.required ? 'FFC00000' : 'FF000000' } };
  });
  const help = workbook.addWorksheet('填写说明');
  for (const line of [
    '每行一条工单,不改动表头;红色表头为必填 (one work order per row; red headers are required).',
    '来电时间、办理时限: YYYY-MM-DD HH:mm:ss (北京时间, China time);经度纬度为 WGS-84,可不填.',
    '诉求分类编码: 6 位 (大类 XX0000, 中类 XXYY00, 小类);无对应事项类别的工单进入分拣 (unmapped codes go to triage).',
    '无坐标时按事发地址匹配标准地址(路名+门牌号),匹配不到进入分拣 (no point: matched by road + number, else triage).',
  ])
    help.addRow([line]);
  help.addRow([]);
  help.addRow(hotlineColumns.map((c) => c.header)).font = { bold: true };
  help.addRow([
    'GD20261120001',
    '2026-11-20 09:30:00',
    '王女士',
    '13800000000',
    '010202',
    '井盖缺失',
    '西林路与长安街口井盖缺失,夜间危险',
    '西林路 12号',
    '130.35',
    '46.85',
    '紧急',
    '2026-11-25 17:00:00',
  ]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** Status as the hotline reads it (办理状态). */
export const hotlineStatusLabels: Record<string, string> = {
  reported: '已受理',
  verifying: '核实中',
  filed: '已立案',
  not_filed: '不予立案',
  duplicate: '重复工单',
  dispatched: '已派遣',
  in_progress: '办理中',
  suspended: '挂起',
  responded: '已反馈',
  inspecting: '核查中',
  closed: '已办结',
  evaluated: '已办结(已评价)',
};

const evaluationLabels: Record<string, string> = {
  satisfied: '满意',
  basically_satisfied: '基本满意',
  dissatisfied: '不满意',
};

/** China time, `YYYY-MM-DD HH:mm:ss`. */
function chinaTime(value: Date | string | null): string {
  if (value === null) return '';
  const at = new Date(new Date(value).getTime() + 8 * 3600_000);
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * 办理结果回传: hotline cases in the actor's area updated in [from, to), one row per work order with the status,
 * the lead department, the reply (the latest respond / close comment of the timeline) and the times.
 */
export async function exportHotlineResults(options: {
  db: Database;
  actor: Actor;
  from: string;
  to: string;
  format: 'xlsx' | 'csv';
}): Promise<{ bytes: Buffer; filename: string; contentType: string }> {
  const paths = hotlinePaths(options.actor);
  if (new Date(options.from) >= new Date(options.to))
    throw new DomainError('VALIDATION_FAILED', 'to: 须晚于 from (to must be after from)', [
      { field: 'to', message: '须晚于 from (must be after from)' },
    ]);
  const found = await rows<{
    work_order_number: string | null;
    status: string;
    department: string | null;
    reply: string | null;
    reported_at: Date | string;
    closed_at: Date | string | null;
    evaluation: string | null;
  }>(
    options.db.orm,
    sql`select c.hotline->>'workOrderNumber' as work_order_number, c.status, d.name as department,
          (select t.comment from case_timeline t
            where t.case_id = c.id and t.action in ('respond', 'fixOnSpot', 'inspect', 'close')
              and t.comment is not null and t.comment <> ''
            order by t.at desc, t.id desc limit 1) as reply,
          c.reported_at, c.closed_at, c.evaluation
        from grid_case c left join department d on d.id = c.lead_department_id
        where c.channel = 'hotline' and c.updated_at >= ${options.from} and c.updated_at < ${options.to}
          and ${insideAny(sql`c.region_path`, paths)}
        order by c.updated_at, c.id
        limit 50000`,
  );
  const table = found.map((r) => [
    r.work_order_number ?? '',
    hotlineStatusLabels[r.status] ?? r.status,
    r.department ?? '',
    r.reply ?? '',
    chinaTime(r.reported_at),
    chinaTime(r.closed_at),
    r.evaluation ? (evaluationLabels[r.evaluation] ?? '') : '',
  ]);
  const stamp = new Date().toISOString().slice(0, 10);
  if (options.format === 'csv') {
    const lines = [[...hotlineResultHeaders], ...table].map((cells) =>
      cells.map((cell) => csvField(defuseCell(cell))).join(','),
    );
    return {
      bytes: Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8'),
      filename: `hotline-results-${stamp}.csv`,
      contentType: 'text/csv; charset=utf-8',
    };
  }
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Wangge 网格';
  const sheet = workbook.addWorksheet('办理结果');
  sheet.columns = hotlineResultHeaders.map((header) => ({ header, width: header === '答复内容' ? 50 : 18 }));
  sheet.getRow(1).font = { bold: true };
  for (const cells of table) sheet.addRow(cells.map(defuseCell));
  return {
    bytes: Buffer.from(await workbook.xlsx.writeBuffer()),
    filename: `hotline-results-${stamp}.xlsx`,
    contentType: xlsxContentType,
  };
}
