/**
 * Report periods in China dates (UTC+8, no daylight saving), as the KPI API counts them: `[from, to)` with `to`
 * exclusive. The URL carries the same `from`/`to` as the API, so a link reproduces the report exactly.
 */
export const periodKinds = ['month', 'quarter', 'year', 'custom'] as const;
export type PeriodKind = (typeof periodKinds)[number];
export type Interval = 'day' | 'week' | 'month';

const chinaOffsetMs = 8 * 3_600_000;
const dayMs = 86_400_000;

/** Today's date in China (YYYY-MM-DD), whatever the browser's time zone. */
export function chinaToday(now: Date = new Date()): string {
  return new Date(now.getTime() + chinaOffsetMs).toISOString().slice(0, 10);
}

export function isIsoDate(value: string | null | undefined): value is string {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const time = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(value);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * dayMs).toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The calendar month, quarter or year holding `today`, as `[from, to)`. */
export function periodRange(
  kind: Exclude<PeriodKind, 'custom'>,
  today: string,
): { from: string; to: string } {
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  if (kind === 'year') return { from: `${year}-01-01`, to: `${year + 1}-01-01` };
  const startMonth = kind === 'quarter' ? Math.floor((month - 1) / 3) * 3 + 1 : month;
  const length = kind === 'quarter' ? 3 : 1;
  const endMonth = startMonth + length;
  const to = endMonth > 12 ? `${year + 1}-${pad(endMonth - 12)}-01` : `${year}-${pad(endMonth)}-01`;
  return { from: `${year}-${pad(startMonth)}-01`, to };
}

/** Daily points up to two months, weekly up to half a year, monthly beyond. */
export function defaultInterval(from: string, to: string): Interval {
  const days = daysBetween(from, to);
  if (days <= 62) return 'day';
  if (days <= 184) return 'week';
  return 'month';
}

/** An instant as China wall-clock time, `YYYY-MM-DD HH:mm` (the time grid offices read, whatever the browser's). */
export function chinaTime(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Date(time + chinaOffsetMs).toISOString().slice(0, 16).replace('T', ' ');
}
