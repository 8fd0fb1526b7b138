/**
 * The working-day calendar (工作日历): Chinese public holidays (法定节假日) and make-up workdays (调休上班), pure.
 * Dates are China local dates (UTC+8, no daylight saving). Built from the stored rows; no database here.
 */

/** China Standard Time is UTC+8 all year round. */
const chinaOffsetMs = 8 * 3_600_000;
const dayMs = 86_400_000;

export type CalendarDayKind = 'holiday' | 'workday';

export interface CalendarDayEntry {
  /** Local date YYYY-MM-DD. */
  day: string;
  kind: CalendarDayKind;
}

export interface WorkingDaysResult {
  /** The end of the last counted day, 23:59:59.999 China time. */
  dueAt: Date;
  /** True when the count ran past 31 December of the last loaded year (weekend-only rules applied there). */
  beyondCalendar: boolean;
}

/** The China local date (YYYY-MM-DD) of an instant. */
export function chinaDateOf(at: Date): string {
  return new Date(at.getTime() + chinaOffsetMs).toISOString().slice(0, 10);
}

/** Midnight UTC of a local date, used only as a day counter. */
function dayNumber(localDate: string): number {
  const parsed = Date.parse(`${localDate}T00:00:00Z`);
  if (Number.isNaN(parsed)) throw new Error(`not a date: ${localDate}`);
  return parsed;
}

function dateOfDayNumber(value: number): string {
  return new Date(value).toISOString().slice(0, 10);
}

/** 23:59:59.999 China time on a local date. */
export function endOfChinaDay(localDate: string): Date {
  return new Date(dayNumber(localDate) + dayMs - 1 - chinaOffsetMs);
}

/** Clock hours after an instant (accept limits); fractional hours are fine. */
export function addHours(from: Date, hours: number): Date {
  return new Date(from.getTime() + Math.round(hours * 3_600_000));
}

export class WorkCalendar {
  readonly years: readonly number[];
  private readonly kinds: ReadonlyMap<string, CalendarDayKind>;

  constructor(years: Iterable<number>, days: Iterable<CalendarDayEntry>) {
    this.years = [...new Set(years)].sort((a, b) => a - b);
    this.kinds = new Map([...days].map((d) => [d.day, d.kind]));
  }

  /** The last year whose holiday notice is loaded, or null when none is. */
  get lastKnownYear(): number | null {
    return this.years.at(-1) ?? null;
  }

  isKnownYear(year: number): boolean {
    return this.years.includes(year);
  }

  /** A make-up workday, or Monday to Friday and not a holiday. */
  isWorkingDay(localDate: string): boolean {
    const kind = this.kinds.get(localDate);
    if (kind === 'workday') return true;
    if (kind === 'holiday') return false;
    const weekday = new Date(dayNumber(localDate)).getUTCDay();
    return weekday !== 0 && weekday !== 6;
  }

  /**
   * Working days lost between two moments: those after `from`'s China date up to and including `to`'s
   * (suspended on Friday, resumed on Wednesday: Monday, Tuesday and Wednesday, 3). Zero when `to` is not later.
   */
  workingDaysBetween(from: Date, to: Date): number {
    const end = dayNumber(chinaDateOf(to));
    let count = 0;
    for (let day = dayNumber(chinaDateOf(from)) + dayMs; day <= end; day += dayMs)
      if (this.isWorkingDay(dateOfDayNumber(day))) count += 1;
    return count;
  }

  /**
   * Counts `days` working days starting the day after `from` (China local date) and falls due at the end of the
   * last one. Zero days: the end of `from`'s own day.
   */
  addWorkingDays(from: Date, days: number): WorkingDaysResult {
    if (!Number.isInteger(days) || days < 0)
      throw new Error(`working days must be a whole number ≥ 0: ${days}`);
    const last = this.lastKnownYear;
    let current = dayNumber(chinaDateOf(from));
    let beyondCalendar = last === null;
    let counted = 0;
    while (counted < days) {
      current += dayMs;
      const date = dateOfDayNumber(current);
      if (last !== null && Number(date.slice(0, 4)) > last) beyondCalendar = true;
      if (this.isWorkingDay(date)) counted += 1;
    }
    return { dueAt: endOfChinaDay(dateOfDayNumber(current)), beyondCalendar };
  }
}

/** The shape of db/data/cn-holidays.json and of `PUT /api/calendar/:year` (make-up days as strings or objects). */
export interface HolidayNotice {
  holidays: { name: string; en?: string; days: string[] }[];
  makeUpWorkdays: (string | { name?: string | undefined; day: string })[];
}

export const makeUpWorkdayName = '调休上班';

/** Flattens one year's notice into day rows (name kept for display). */
export function noticeDays(notice: HolidayNotice): { day: string; kind: CalendarDayKind; name: string }[] {
  const out: { day: string; kind: CalendarDayKind; name: string }[] = [];
  for (const holiday of notice.holidays)
    for (const day of holiday.days) out.push({ day, kind: 'holiday', name: holiday.name });
  for (const entry of notice.makeUpWorkdays) {
    if (typeof entry === 'string') out.push({ day: entry, kind: 'workday', name: makeUpWorkdayName });
    else out.push({ day: entry.day, kind: 'workday', name: entry.name ?? makeUpWorkdayName });
  }
  return out;
}
