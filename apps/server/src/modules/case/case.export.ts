import { Readable } from 'node:stream';
import {
  caseChannelLabels,
  caseExportColumns,
  caseStatusLabels,
  supervisionLabels,
  yesNoLabels,
  type CaseExportLanguage,
  type CaseExportQuery,
} from '@wangge/contracts';
import type { Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { defuseCell } from '../../platform/spreadsheet.ts';
import { findRegion } from '../region/index.ts';
import { caseListConditions } from './case.list.ts';

/**
 * The case export (案件导出): every case the list would show for the same filters, as CSV, streamed.
 *
 * - Scope and filters are the list's own (`caseListConditions`): a department handler gets the cases of their
 *   department, a street operator those of their street; a region outside the scope is 404.
 * - One code path on PostgreSQL and PGlite: windows of ids, newest first, between the smallest and largest id that
 *   match when the export starts (cases created meanwhile do not shift it). A window is sized to hold about
 *   `batchSize` matching cases (wider where few match, up to `maxSpan` ids; one that holds more than twice that is
 *   read on from where it stopped), so a small scope does not walk the table in small steps. Two windows are read
 *   at once (two pooled connections on PostgreSQL; PGlite runs them one after the other) and handed on in order.
 * - The work is split so the database and Node run side by side: the database quotes and defuses the free-text
 *   cells of the case (cheap string functions) and joins them with their plain neighbours into three fields per
 *   row; Node adds the labels (maps), the flags, China time (arithmetic, no `Intl` or `to_char` per cell) and the
 *   category and department names (two small tables read once per export, so the window query joins only the
 *   grid). The database reads the next window while Node renders this one. Few fields per row keep
 *   the driver's allocations down, and each window is rendered into bytes as soon as it arrives, so its rows die
 *   young and a window waiting for the client is one Buffer (a full collection per window would cost more than
 *   the rendering).
 * - Windows are read only as the client takes them (a pull stream with a high-water mark of one chunk:
 *   backpressure), and a client that goes away stops it: no window is opened after the stream is destroyed. No
 *   cap: memory is a few windows' bytes at any size.
 * - UTF-8 with a BOM (Excel and WPS read the Chinese), CRLF lines (RFC 4180), every free-text cell quoted and
 *   defused against formula injection like `defuseCell`, the reporter's phone masked (the sealed value is never
 *   read), times in China time (UTC+8).
 * - One audit row `case.exported` per export with the filters and the row count (no search text: it may hold
 *   personal data).
 */

export const csvContentType = 'text/csv; charset=utf-8';
export const caseExportBatchSize = 2500;
/** Windows read at once. */
const ahead = 2;
/** The widest window of ids (where few cases match, e.g. one grid's in a city's table). */
const maxSpan = 1_000_000n;

const bom = '\uFEFF';

/** The language of the header and labels: `lang` if given, else English when the client prefers it, else Chinese. */
export function exportLanguage(lang: CaseExportLanguage | undefined, acceptLanguage: string | undefined) {
  if (lang) return lang;
  const first = (acceptLanguage ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'zh';
}

/** One CSV field (RFC 4180): quoted when it holds a quote, comma or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * SQL for a free-text cell: `defuseCell` (an apostrophe before text a spreadsheet would run as a formula) then
 * always quoted. The cheap first-character test keeps the regular expression off most cells.
 */
function textCell(value: SQL): SQL {
  return sql`('"' || coalesce(replace(case
      when ascii(${value}) in (61, 43, 45, 64, 9, 13)
        or (ascii(${value}) in (32, 12288) and ${value} ~ '^[ \u3000]*[-=+@]')
      then '''' || ${value} else ${value} end, '"', '""'), '') || '"')`;
}

const twoDigits = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
/** China dates by day number (days since 1970-01-01 in China time): one `toISOString` per day, not per cell. */
const chinaDays = new Map<number, string>();

/** Seconds since the epoch as China time `YYYY-MM-DD HH:MM:SS` (UTC+8; China keeps no daylight saving). */
function chinaTime(epochSeconds: number | null): string {
  if (epochSeconds === null) return '';
  const local = Math.floor(epochSeconds) + 8 * 3600;
  const day = Math.floor(local / 86_400);
  let date = chinaDays.get(day);
  if (date === undefined) {
    date = new Date(day * 86_400_000).toISOString().slice(0, 10);
    if (chinaDays.size < 100_000) chinaDays.set(day, date);
  }
  const second = local - day * 86_400;
  const hour = Math.floor(second / 3600);
  const minute = Math.floor((second % 3600) / 60);
  return `${date} ${twoDigits[hour]}:${twoDigits[minute]}:${twoDigits[second % 60]}`;
}

/**
 * One case as the database hands it: the free-text cells of the case already quoted and defused and joined with
 * their plain neighbours (three fields), the codes, flags, times and the category and department keys plain (their
 * names come from maps read once per export: no join per row for two small tables).
 */
interface ExportRow {
  id: string;
  /** serial, title, description */
  head: string;
  category_code: string;
  channel: string;
  status: string;
  urgent: boolean;
  supervision: string;
  overdue: boolean;
  /** grid, grid code, address, longitude, latitude */
  middle: string;
  lead_department_id: string | null;
  /** reporter, masked phone */
  tail: string;
  reported_at: number | null;
  due_at: number | null;
  closed_at: number | null;
}

/** The columns of `grid_case c` (with `g` its grid). */
const exportColumns = sql`c.id::text as id,
    concat_ws(',', c.serial, ${textCell(sql`c.title`)}, ${textCell(sql`c.description`)}) as head,
    c.category_code, c.channel, c.status, c.urgent, c.supervision, c.overdue,
    concat_ws(',', ${textCell(sql`g.name`)}, c.grid_code, ${textCell(sql`c.address`)},
      coalesce(st_x(c.location)::text, ''), coalesce(st_y(c.location)::text, '')) as middle,
    c.lead_department_id::text as lead_department_id,
    concat_ws(',', ${textCell(sql`c.reporter_name`)}, ${textCell(sql`c.reporter_contact_masked`)}) as tail,
    date_part('epoch', c.reported_at) as reported_at, date_part('epoch', c.due_at) as due_at,
    date_part('epoch', c.closed_at) as closed_at`;

/** A free-text cell in Node, the same as `textCell` in SQL: `defuseCell`, then always quoted. */
function quotedCell(value: string | null | undefined): string {
  if (value === null || value === undefined) return '""';
  return `"${defuseCell(value).replace(/"/g, '""')}"`;
}

/**
 * The cells that come from small tables, rendered once per export: category class and category by category code
 * (`"class","category"`), the lead department by id.
 */
async function lookups(db: Database, lang: CaseExportLanguage) {
  const en = lang === 'en';
  const categories = await rows<{ code: string; name: string; parent: string | null }>(
    db.orm,
    sql`select k.code, ${en ? sql`k.name_en` : sql`k.name_zh`} as name,
          ${en ? sql`kc.name_en` : sql`kc.name_zh`} as parent
        from case_category k left join case_category kc on kc.code = k.parent_code`,
  );
  const departments = await rows<{ id: string; name: string }>(
    db.orm,
    sql`select id::text as id, ${en ? sql`coalesce(name_en, name)` : sql`name`} as name from department`,
  );
  const category = new Map(categories.map((k) => [k.code, `${quotedCell(k.parent)},${quotedCell(k.name)}`]));
  const department = new Map(departments.map((d) => [d.id, quotedCell(d.name)]));
  return {
    category: (code: string) => category.get(code) ?? '"",""',
    department: (id: string | null) => (id === null ? '""' : (department.get(id) ?? '""')),
  };
}

/** Code → label in one language; an unknown code stands for itself. */
function labelMap(labels: Record<string, { zh: string; en: string }>, lang: CaseExportLanguage) {
  const map = new Map(Object.entries(labels).map(([code, label]) => [code, label[lang]]));
  return (code: string | null) => (code === null ? '' : (map.get(code) ?? code));
}

/**
 * Renders a window's rows as CSV lines (CRLF after each) straight into bytes: each line is written as soon as it is
 * made, so no window-long string is built (it would outlive the young generation and cost a full collection).
 */
function renderer(
  lang: CaseExportLanguage,
  named: Awaited<ReturnType<typeof lookups>>,
): (rows: ExportRow[]) => Buffer {
  const channel = labelMap(caseChannelLabels, lang);
  const status = labelMap(caseStatusLabels, lang);
  const supervision = labelMap(supervisionLabels, lang);
  const yes = yesNoLabels.yes[lang];
  const no = yesNoLabels.no[lang];
  return (rows) => {
    let out = Buffer.allocUnsafe(Math.max(4096, rows.length * 400));
    let at = 0;
    for (const r of rows) {
      const line =
        `${r.head},${named.category(r.category_code)},${channel(r.channel)},${status(r.status)},` +
        `${r.urgent ? yes : no},${supervision(r.supervision)},${r.overdue ? yes : no},${r.middle},` +
        `${named.department(r.lead_department_id)},${r.tail},${chinaTime(r.reported_at)},` +
        `${chinaTime(r.due_at)},${chinaTime(r.closed_at)}\r\n`;
      // UTF-8 takes at most three bytes per UTF-16 unit.
      if (at + line.length * 3 > out.length) {
        const larger = Buffer.allocUnsafe(Math.max(out.length * 2, at + line.length * 3));
        out.copy(larger, 0, 0, at);
        out = larger;
      }
      at += out.write(line, at, 'utf8');
    }
    return out.subarray(0, at);
  };
}

/** The China date of an instant, `YYYY-MM-DD`. */
function chinaDate(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** A file name without characters a file system or a header refuses. */
function safeName(text: string): string {
  return [...text].map((c) => (c.charCodeAt(0) < 0x20 || '\\/:*?"<>|\u007f'.includes(c) ? '_' : c)).join('');
}

function rfc5987(text: string): string {
  return encodeURIComponent(text).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `attachment` with an ASCII name (`cases-<region code>-<date>.csv`) and the Chinese one as RFC 5987 `filename*`. */
function disposition(ascii: string, unicode: string): string {
  return `attachment; filename="${ascii}"; filename*=UTF-8''${rfc5987(unicode)}`;
}

export interface CaseExport {
  stream: Readable;
  /** the Content-Disposition value (案件导出-<region>-<date>.csv) */
  disposition: string;
  /** cases matching when the export started (the stream holds these, less any deleted or moved meanwhile) */
  rows: number;
}

/**
 * GET /api/cases/export.csv: counts and audits the export, then returns the CSV as a stream that reads window
 * after window as the client takes them.
 */
export async function exportCases(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  query: CaseExportQuery;
  language: CaseExportLanguage;
  requestId: string;
  batchSize?: number;
}): Promise<CaseExport> {
  const { db, actor, query, language } = options;
  const batchSize = options.batchSize ?? caseExportBatchSize;
  const where = sql.join(await caseListConditions({ db, actor, query }), sql` and `);
  const region = query.region ? await findRegion(db.orm, query.region) : undefined;
  if (query.region && !region) throw new DomainError('NOT_FOUND', '未找到 (not found)');

  const now = options.clock.now();
  // Counted before the audit's transaction: a million rows take a moment, and the audit chain waits for no count.
  const found = await one<{ n: number; first: string | null; last: string | null }>(
    db.orm,
    sql`select count(*)::int as n, min(c.id)::text as first, max(c.id)::text as last
        from grid_case c where ${where}`,
  );
  const counted = { rows: found!.n, first: found!.first, last: found!.last };
  await db.orm.transaction(async (tx) => {
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'case.exported',
        objectType: 'region',
        objectId: region?.code ?? null,
        result: 'success',
        requestId: options.requestId,
        detail: {
          format: 'csv',
          rows: found!.n,
          region: query.region ?? null,
          state: query.state,
          status: query.status ?? null,
          channel: query.channel ?? null,
          categoryCode: query.categoryCode ?? null,
          supervised: query.supervised ?? null,
          from: query.from ?? null,
          to: query.to ?? null,
          bbox: query.bbox ?? null,
          searched: query.q !== undefined,
        },
      },
      now,
    );
  });

  const render = renderer(language, await lookups(db, language));
  const header = caseExportColumns.map((c) => csvField(defuseCell(c[language]))).join(',');
  /**
   * The cases with `from <= id < to`, newest first, at most `limit` of them, rendered as soon as they arrive (the
   * rows die young; a window waiting for the client is bytes, not thousands of objects).
   */
  const readWindow = (from: bigint, to: bigint, limit: number) =>
    rows<ExportRow>(
      db.orm,
      sql`select ${exportColumns}
              from grid_case c
              join region g on g.code = c.grid_code
              where ${where} and c.id >= ${from.toString()}::bigint and c.id < ${to.toString()}::bigint
              order by c.id desc
              limit ${limit}`,
    ).then((found) => ({ n: found.length, last: found.at(-1)?.id, bytes: render(found) }));
  async function* generate(): AsyncGenerator<Buffer> {
    yield Buffer.from(`${bom}${header}\r\n`, 'utf8');
    if (counted.first === null || counted.last === null) return;
    const first = BigInt(counted.first);
    const limit = batchSize * 2;
    // Windows of ids, newest first, sized to hold about `batchSize` matching cases (wider where few match);
    // `ahead` of them are read at once (PostgreSQL runs them on separate connections) and handed on in order.
    let span = BigInt(batchSize);
    let next = BigInt(counted.last) + 1n;
    const queue: { from: bigint; to: bigint; rows: ReturnType<typeof readWindow> }[] = [];
    const open = (from: bigint, to: bigint) => ({ from, to, rows: readWindow(from, to, limit) });
    try {
      for (;;) {
        while (queue.length < ahead && next > first) {
          const from = next - span > first ? next - span : first;
          queue.push(open(from, next));
          next = from;
        }
        const window = queue.shift();
        if (!window) return;
        const batch = await window.rows;
        if (batch.n === 0 || batch.last === undefined) {
          span = span * 4n > maxSpan ? maxSpan : span * 4n;
          continue;
        }
        // A window that held more than expected: the rest of it before anything else.
        if (batch.n === limit) queue.unshift(open(window.from, BigInt(batch.last)));
        else {
          const wanted = (Number(window.to - window.from) * batchSize) / batch.n;
          span = BigInt(Math.max(batchSize, Math.min(Number(maxSpan), Math.round(wanted))));
        }
        yield batch.bytes;
      }
    } finally {
      // A reader that went away: the windows still being read finish quietly.
      for (const window of queue) window.rows.catch(() => undefined);
    }
  }

  const date = chinaDate(now);
  const regionName = region ? safeName(region.name) : language === 'en' ? 'all' : '全部';
  const ascii = `cases-${region?.code ?? 'all'}-${date}.csv`;
  const unicode =
    language === 'en' ? `cases-${regionName}-${date}.csv` : `案件导出-${regionName}-${date}.csv`;
  return {
    // Not object mode: the stream asks for the next window only when the one before has been taken.
    stream: Readable.from(generate(), { objectMode: false, highWaterMark: 1 }),
    disposition: disposition(ascii, unicode),
    rows: counted.rows,
  };
}
