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
import { one, sql, type Database, type SQL } from '../../platform/db.ts';
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
 *   read on from where it stopped), so a small scope does not walk the table in small steps. The database writes
 *   each window's CSV lines itself (labels, China time, quoting, the formula guard) and hands back one text per
 *   window: a million cases cost about two hundred queries and no per-row objects. Two windows are read at once
 *   (two pooled connections on PostgreSQL; PGlite runs them one after the other) and handed on in order.
 * - Windows are read only as the client takes them (a pull stream with a high-water mark of one chunk:
 *   backpressure), and a client that goes away stops it: no window is opened after the stream is destroyed. No
 *   cap: memory is a few windows' text at any size.
 * - UTF-8 with a BOM (Excel and WPS read the Chinese), CRLF lines (RFC 4180), every free-text cell quoted and
 *   defused against formula injection like `defuseCell`, the reporter's phone masked (the sealed value is never
 *   read), times in China time (UTC+8).
 * - One audit row `case.exported` per export with the filters and the row count (no search text: it may hold
 *   personal data).
 */

export const csvContentType = 'text/csv; charset=utf-8';
export const caseExportBatchSize = 5000;
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

/** SQL mapping a code column to its label (the labels are constants of the contract; bound as parameters). */
function labelCell(
  value: SQL,
  labels: Record<string, { zh: string; en: string }>,
  lang: CaseExportLanguage,
): SQL {
  const branches = Object.entries(labels).map(([code, label]) => sql`when ${code} then ${label[lang]}::text`);
  return sql`(case ${value} ${sql.join(branches, sql` `)} else ${value} end)`;
}

/** SQL: a timestamp as China time text `YYYY-MM-DD HH24:MI:SS` (UTC+8; China keeps no daylight saving). */
function chinaTimeCell(value: SQL): SQL {
  return sql`coalesce(to_char((${value} at time zone 'UTC') + interval '8 hours', 'YYYY-MM-DD HH24:MI:SS'), '')`;
}

function yesNo(value: SQL, lang: CaseExportLanguage): SQL {
  return sql`(case when ${value} then ${yesNoLabels.yes[lang]}::text else ${yesNoLabels.no[lang]}::text end)`;
}

/** The CSV line of one case of `grid_case c` (with `g` its grid, `d` its lead department, `k`/`kc` its category). */
function lineOf(lang: CaseExportLanguage): SQL {
  const en = lang === 'en';
  const cells: SQL[] = [
    sql`c.serial`,
    textCell(sql`c.title`),
    textCell(sql`c.description`),
    textCell(en ? sql`kc.name_en` : sql`kc.name_zh`),
    textCell(en ? sql`k.name_en` : sql`k.name_zh`),
    labelCell(sql`c.channel`, caseChannelLabels, lang),
    labelCell(sql`c.status`, caseStatusLabels, lang),
    yesNo(sql`c.urgent`, lang),
    labelCell(sql`c.supervision`, supervisionLabels, lang),
    yesNo(sql`c.overdue`, lang),
    textCell(sql`g.name`),
    sql`c.grid_code`,
    textCell(sql`c.address`),
    sql`coalesce(st_x(c.location)::text, '')`,
    sql`coalesce(st_y(c.location)::text, '')`,
    textCell(en ? sql`coalesce(d.name_en, d.name)` : sql`d.name`),
    textCell(sql`c.reporter_name`),
    textCell(sql`c.reporter_contact_masked`),
    chinaTimeCell(sql`c.reported_at`),
    chinaTimeCell(sql`c.due_at`),
    chinaTimeCell(sql`c.closed_at`),
  ];
  if (cells.length !== caseExportColumns.length) throw new Error('case export: cells and columns differ');
  return sql`concat_ws(',', ${sql.join(cells, sql`, `)})`;
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

  const line = lineOf(language);
  const header = caseExportColumns.map((c) => csvField(defuseCell(c[language]))).join(',');
  /** The CSV lines of the cases with `from <= id < to`, newest first, at most `limit` of them. */
  const readWindow = (from: bigint, to: bigint, limit: number) =>
    one<{ n: number; last: string | null; chunk: string | null }>(
      db.orm,
      sql`select count(*)::int as n, min(b.id)::text as last,
            string_agg(b.line, chr(13) || chr(10) order by b.id desc) as chunk
          from (select c.id, ${line} as line
              from grid_case c
              join region g on g.code = c.grid_code
              join case_category k on k.code = c.category_code
              left join case_category kc on kc.code = k.parent_code
              left join department d on d.id = c.lead_department_id
              where ${where} and c.id >= ${from.toString()}::bigint and c.id < ${to.toString()}::bigint
              order by c.id desc
              limit ${limit}) b`,
    );
  async function* generate(): AsyncGenerator<string> {
    yield `${bom}${header}\r\n`;
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
        if (!batch || batch.n === 0 || batch.chunk === null || batch.last === null) {
          span = span * 4n > maxSpan ? maxSpan : span * 4n;
          continue;
        }
        // A window that held more than expected: the rest of it before anything else.
        if (batch.n === limit) queue.unshift(open(window.from, BigInt(batch.last)));
        else {
          const wanted = (Number(window.to - window.from) * batchSize) / batch.n;
          span = BigInt(Math.max(batchSize, Math.min(Number(maxSpan), Math.round(wanted))));
        }
        yield `${batch.chunk}\r\n`;
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
