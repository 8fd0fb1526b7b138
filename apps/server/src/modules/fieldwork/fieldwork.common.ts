import { monthlyVisitTags } from '@wangge/contracts';
import { can, insideAny, isInside, scopePaths, type Actor } from '../../platform/access.ts';
import { one, sql, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';

/**
 * Shared pieces of the field-work module: China dates (UTC+8, no daylight saving), scopes (a worker records in their
 * grids; a monitor reads a region subtree), distances, and the household label and monthly-visit flag.
 */

export const notFound = (what = '未找到 (not found)') => new DomainError('NOT_FOUND', what);

export function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

/* ---------------------------------------------------------------- China dates */

const chinaOffsetMs = 8 * 3600_000;
const dayMs = 86_400_000;

/** The China date (YYYY-MM-DD) of an instant. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + chinaOffsetMs).toISOString().slice(0, 10);
}

/** China midnight starting a date, as an instant. */
export function chinaDayStart(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - chinaOffsetMs);
}

/** China midnight ending a date (= the start of the next day). */
export function chinaDayEnd(date: string): Date {
  return new Date(chinaDayStart(date).getTime() + dayMs);
}

/** A real calendar date in YYYY-MM-DD (the schema checks only the shape), else 400 on `field`. */
export function checkDate(value: string, field: string): string {
  const parsed = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== value)
    throw invalid(field, '不是有效日期 (not a valid date)');
  return value;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * dayMs).toISOString().slice(0, 10);
}

/** Every date from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function monthStart(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

export function monthEnd(date: string): string {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

export function quarterStart(date: string): string {
  const month = Number(date.slice(5, 7));
  return `${date.slice(0, 4)}-${pad(Math.floor((month - 1) / 3) * 3 + 1)}-01`;
}

export function quarterEnd(date: string): string {
  const start = quarterStart(date);
  const year = Number(start.slice(0, 4));
  const month = Number(start.slice(5, 7));
  return new Date(Date.UTC(year, month + 2, 0)).toISOString().slice(0, 10);
}

/** The first day of the month before `date`'s month. */
export function previousMonthStart(date: string): string {
  return monthStart(addDays(monthStart(date), -1));
}

export function previousQuarterStart(date: string): string {
  return quarterStart(addDays(quarterStart(date), -1));
}

/* ---------------------------------------------------------------- scope */

/** Region paths where the actor records field work (their grids), and where they watch others'. */
export function fieldScopes(actor: Actor): { record: string[] | 'all'; monitor: string[] | 'all' } {
  return { record: scopePaths(actor, 'fieldwork.record'), monitor: scopePaths(actor, 'fieldwork.monitor') };
}

export function insidePaths(paths: string[] | 'all', path: string): boolean {
  return paths === 'all' || paths.some((p) => isInside(p, path));
}

/** Paths the actor may read field work in: their own grids and the regions they monitor. */
export function readPaths(actor: Actor): string[] | 'all' {
  const { record, monitor } = fieldScopes(actor);
  if (record === 'all' || monitor === 'all') return 'all';
  const all = [...new Set([...record, ...monitor])];
  return all.filter((p) => !all.some((q) => q !== p && isInside(q, p)));
}

/** Either field-work permission, held somewhere (routes shared by workers and monitors), else 403. */
export function requireFieldAccess(actor: Actor): void {
  if (!can(actor, 'fieldwork.record') && !can(actor, 'fieldwork.monitor'))
    throw new DomainError('FORBIDDEN', '没有权限 (permission denied)');
}

export { insideAny };

/** A grid (level 'grid') by code, or 404. */
export async function loadGridRegion(
  ex: Executor,
  code: string,
): Promise<{ code: string; path: string; name: string }> {
  const row = await one<{ code: string; path: string; name: string; level: string }>(
    ex,
    sql`select code, path, name, level from region where code = ${code}`,
  );
  if (!row || row.level !== 'grid') throw notFound('未找到网格 (grid not found)');
  return { code: row.code, path: row.path, name: row.name };
}

/** A grid the actor may read field work in (record or monitor scope), else 404. */
export async function readableGrid(
  ex: Executor,
  actor: Actor,
  code: string,
): Promise<{ code: string; path: string; name: string }> {
  requireFieldAccess(actor);
  const grid = await loadGridRegion(ex, code);
  if (!insidePaths(readPaths(actor), grid.path)) throw notFound('未找到网格 (grid not found)');
  return grid;
}

/* ---------------------------------------------------------------- distance */

const earthRadius = 6_371_008.8;

/** Great-circle distance in metres (haversine on the mean Earth radius). */
export function haversine(lng1: number, lat1: number, lng2: number, lat2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLng = (lng2 - lng1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * earthRadius * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Rounded to 4 decimals; 1 when there is nothing to count. */
export function ratio(part: number, whole: number): number {
  if (whole === 0) return 1;
  return Math.round((part / whole) * 10_000) / 10_000;
}

/* ---------------------------------------------------------------- households */

/**
 * The household's label like the registry tree shows it: building name, unit and room (`3号楼 2单元 301室`),
 * suffixes added only when missing; `户 #id` when the household has none of them. Needs `h` (household) and `b`
 * (building, left-joined).
 */
export const householdLabelSql: SQL = sql`coalesce(nullif(concat_ws(' ', b.name,
    case when h.unit is null or h.unit = '' then null when h.unit like '%单元' then h.unit else h.unit || '单元' end,
    case when h.room is null or h.room = '' then null when h.room like '%室' then h.room else h.room || '室' end), ''),
  '户 #' || h.id::text)`;

/**
 * True when an active member of household `h` carries one of the monthly-visit tags (困难、空巢独居…). Only the
 * flag leaves the server, never the tag.
 */
export const monthlySql: SQL = sql`exists (select 1 from person mp join person_tag mt on mt.person_id = mp.id
    where mp.household_id = h.id and mp.status = 'active'
      and mt.kind in (${sql.join(
        monthlyVisitTags.map((k) => sql`${k}`),
        sql`, `,
      )}))`;
