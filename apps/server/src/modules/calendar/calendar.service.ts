import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CalendarSummary, CalendarYear, PutCalendarYearRequest } from '@wangge/contracts';
import { requireAccess, type Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError, type FieldError } from '../../platform/errors.ts';
import {
  chinaDateOf,
  noticeDays,
  WorkCalendar,
  type CalendarDayKind,
  type HolidayNotice,
} from './work-calendar.ts';

/** db/data/cn-holidays.json: the official schedules shipped with Wangge, loaded as editable data. */
export const defaultHolidaysFile = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../../db/data/cn-holidays.json',
);
const defaultSource = 'cn-holidays.json (国务院办公厅 部分节假日安排的通知)';

interface HolidayFile {
  years: Record<string, HolidayNotice>;
}

let defaultFile: HolidayFile | undefined;
function readDefaultFile(): HolidayFile {
  defaultFile ??= JSON.parse(fs.readFileSync(defaultHolidaysFile, 'utf8')) as HolidayFile;
  return defaultFile;
}

async function insertDays(
  tx: Executor,
  year: number,
  days: { day: string; kind: CalendarDayKind; name: string }[],
): Promise<void> {
  if (days.length === 0) return;
  await tx.execute(sql`insert into calendar_day (day, kind, name, year)
    select d.day::date, d.kind, d.name, ${year}::int
    from jsonb_to_recordset(${JSON.stringify(days)}::jsonb) as d (day text, kind text, name text)
    on conflict (day) do nothing`);
}

/**
 * Loads every year of db/data/cn-holidays.json that is not in the database yet (idempotent; a year an admin has
 * edited is never overwritten). Called at start-up and by seeding. Returns the years it loaded.
 */
export async function ensureDefaultCalendar(ex: Executor): Promise<number[]> {
  const file = readDefaultFile();
  const loaded: number[] = [];
  await ex.transaction(async (tx) => {
    for (const [key, notice] of Object.entries(file.years)) {
      const year = Number(key);
      const inserted = await one<{ year: number }>(
        tx,
        sql`insert into calendar_year (year, source) values (${year}, ${defaultSource})
            on conflict (year) do nothing returning year`,
      );
      if (!inserted) continue;
      await insertDays(tx, year, noticeDays(notice));
      loaded.push(year);
    }
  });
  if (loaded.length > 0) invalidateWorkCalendar();
  return loaded;
}

let cached: { signature: string; calendar: WorkCalendar } | undefined;

/** Forgets the in-process calendar (called after every edit). */
export function invalidateWorkCalendar(): void {
  cached = undefined;
}

/**
 * The working-day calendar, built once and kept in process. A one-row fingerprint of the two small tables is
 * checked on each call, so an edit made by another process (or a reset test database) is seen at once.
 */
export async function getWorkCalendar(ex: Executor): Promise<WorkCalendar> {
  const stamp = await one<{ years: number; days: number; year_sum: number; loaded: string | null }>(
    ex,
    sql`select (select count(*)::int from calendar_year) as years,
               (select count(*)::int from calendar_day) as days,
               (select coalesce(sum(year), 0)::int from calendar_year) as year_sum,
               (select max(loaded_at)::text from calendar_year) as loaded`,
  );
  const signature = JSON.stringify(stamp);
  if (cached?.signature === signature) return cached.calendar;
  const years = await rows<{ year: number }>(
    ex,
    sql`select year::int as year from calendar_year order by year`,
  );
  const days = await rows<{ day: string; kind: CalendarDayKind }>(
    ex,
    sql`select to_char(day, 'YYYY-MM-DD') as day, kind from calendar_day order by day`,
  );
  const calendar = new WorkCalendar(
    years.map((y) => y.year),
    days,
  );
  cached = { signature, calendar };
  return calendar;
}

/** The visible warning of the calendar page (and of deadlines near the end of the known years). */
export function calendarWarning(calendar: WorkCalendar, now: Date): string | null {
  const today = chinaDateOf(now);
  const year = Number(today.slice(0, 4));
  if (!calendar.isKnownYear(year))
    return `${year} 年节假日安排尚未导入,期限按周末计算 (the ${year} holiday schedule is not loaded; deadlines count weekends only)`;
  if (today >= `${year}-11-01` && !calendar.isKnownYear(year + 1))
    return `${year + 1} 年节假日安排尚未导入,跨年期限按周末计算 (the ${year + 1} holiday schedule is not loaded yet; deadlines past ${year} count weekends only)`;
  return null;
}

export async function calendarSummary(options: { db: Database; clock: Clock }): Promise<CalendarSummary> {
  const { db, clock } = options;
  const years = await rows<{
    year: number;
    source: string;
    loaded_at: string;
    holidays: number;
    workdays: number;
  }>(
    db.orm,
    sql`select y.year::int as year, y.source, y.loaded_at,
          (select count(*)::int from calendar_day d where d.year = y.year and d.kind = 'holiday') as holidays,
          (select count(*)::int from calendar_day d where d.year = y.year and d.kind = 'workday') as workdays
        from calendar_year y order by y.year`,
  );
  const calendar = await getWorkCalendar(db.orm);
  return {
    years: years.map((y) => ({
      year: y.year,
      source: y.source,
      loadedAt: new Date(y.loaded_at).toISOString(),
      holidays: y.holidays,
      makeUpWorkdays: y.workdays,
    })),
    lastKnownYear: calendar.lastKnownYear,
    warning: calendarWarning(calendar, clock.now()),
  };
}

export async function calendarYear(options: { ex: Executor; year: number }): Promise<CalendarYear> {
  const { ex, year } = options;
  const head = await one<{ source: string; loaded_at: string }>(
    ex,
    sql`select source, loaded_at from calendar_year where year = ${year}`,
  );
  if (!head)
    throw new DomainError('NOT_FOUND', `${year} 年节假日安排未导入 (the ${year} schedule is not loaded)`);
  const days = await rows<{ day: string; kind: CalendarDayKind; name: string }>(
    ex,
    sql`select to_char(day, 'YYYY-MM-DD') as day, kind, name from calendar_day where year = ${year} order by day`,
  );
  const holidays = new Map<string, string[]>();
  for (const d of days.filter((d) => d.kind === 'holiday')) {
    const list = holidays.get(d.name) ?? [];
    list.push(d.day);
    holidays.set(d.name, list);
  }
  return {
    year,
    source: head.source,
    loadedAt: new Date(head.loaded_at).toISOString(),
    holidays: [...holidays].map(([name, list]) => ({ name, days: list })),
    makeUpWorkdays: days.filter((d) => d.kind === 'workday').map((d) => ({ name: d.name, day: d.day })),
  };
}

/** Field problems of a year's schedule: every day inside the year, no day listed twice. */
export function noticeProblems(year: number, notice: HolidayNotice): FieldError[] {
  const problems: FieldError[] = [];
  const seen = new Map<string, string>();
  const check = (field: string, day: string) => {
    if (!day.startsWith(`${year}-`)) problems.push({ field, message: `不在 ${year} 年内 (not in ${year})` });
    const earlier = seen.get(day);
    if (earlier) problems.push({ field, message: `与 ${earlier} 重复 (listed twice)` });
    else seen.set(day, field);
  };
  notice.holidays.forEach((holiday, i) =>
    holiday.days.forEach((day, j) => check(`body.holidays.${i}.days.${j}`, day)),
  );
  notice.makeUpWorkdays.forEach((entry, i) =>
    check(`body.makeUpWorkdays.${i}`, typeof entry === 'string' ? entry : entry.day),
  );
  return problems;
}

/** Replaces one year's holidays and make-up workdays at once (an admin loads a newly published notice). */
export async function replaceCalendarYear(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId: string;
  year: number;
  notice: PutCalendarYearRequest;
}): Promise<CalendarYear> {
  const { db, clock, actor, year, notice } = options;
  requireAccess(actor, 'calendar.write');
  const problems = noticeProblems(year, notice);
  if (problems.length > 0)
    throw new DomainError(
      'VALIDATION_FAILED',
      problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      problems,
    );
  const now = clock.now();
  const days = noticeDays(notice);
  const result = await db.orm.transaction(async (tx) => {
    await tx.execute(sql`insert into calendar_year (year, source, loaded_at)
      values (${year}, ${notice.source ?? 'admin'}, ${now.toISOString()})
      on conflict (year) do update set source = excluded.source, loaded_at = excluded.loaded_at`);
    await tx.execute(sql`delete from calendar_day where year = ${year}`);
    await insertDays(tx, year, days);
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: actor.grants[0]?.role ?? null,
        action: 'calendar.year_replaced',
        objectType: 'calendar_year',
        objectId: String(year),
        result: 'success',
        requestId: options.requestId,
        detail: {
          holidays: days.filter((d) => d.kind === 'holiday').length,
          makeUpWorkdays: days.filter((d) => d.kind === 'workday').length,
        },
      },
      now,
    );
    return calendarYear({ ex: tx, year });
  });
  invalidateWorkCalendar();
  return result;
}
