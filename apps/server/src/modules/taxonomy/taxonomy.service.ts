import { one, rows, sql, type Executor } from '../../platform/db.ts';
import type { FieldError } from '../../platform/errors.ts';

export interface StageLimits {
  acceptHours: number;
  handleWorkingDays: number;
  inspectWorkingDays: number;
}

export interface ExtraField {
  code: string;
  type: 'string' | 'number' | 'date' | 'single' | 'multi';
  zh: string;
  en?: string;
  required?: boolean;
  options?: { value: string; zh: string; en?: string }[];
}

export interface CategoryItem {
  code: string;
  parentCode: string;
  nameZh: string;
  nameEn: string;
  departmentKey: string | null;
  fixOnSpot: boolean;
  limits: StageLimits;
  limitsByLevel: Partial<Record<string, Partial<StageLimits>>>;
  fields: ExtraField[];
  active: boolean;
}

/** The columns of an item, in the shape `itemOfRow` reads. */
export interface CategoryRow {
  code: string;
  parent_code: string | null;
  name_zh: string;
  name_en: string;
  department_key: string | null;
  fix_on_spot: boolean;
  accept_hours: string | number | null;
  handle_working_days: number | null;
  inspect_working_days: number | null;
  limits_by_level: Partial<Record<string, Partial<StageLimits>>>;
  fields: ExtraField[];
  active: boolean;
  sort: number;
}

export const categoryColumns = sql`code, parent_code, name_zh, name_en, department_key, fix_on_spot,
  accept_hours::float8 as accept_hours, handle_working_days, inspect_working_days, limits_by_level, fields, active,
  sort`;

export function itemOfRow(row: CategoryRow): CategoryItem {
  return {
    code: row.code,
    parentCode: row.parent_code ?? '',
    nameZh: row.name_zh,
    nameEn: row.name_en,
    departmentKey: row.department_key,
    fixOnSpot: row.fix_on_spot,
    limits: {
      acceptHours: Number(row.accept_hours ?? 0),
      handleWorkingDays: row.handle_working_days ?? 0,
      inspectWorkingDays: row.inspect_working_days ?? 0,
    },
    limitsByLevel: row.limits_by_level,
    fields: row.fields,
    active: row.active,
  };
}

/** An item (4-digit code) of the taxonomy, or undefined (also for 2-digit category codes). */
export async function getItem(ex: Executor, code: string): Promise<CategoryItem | undefined> {
  if (!/^\d{4}$/.test(code)) return undefined;
  const row = await one<CategoryRow>(
    ex,
    sql`select ${categoryColumns} from case_category where code = ${code} and parent_code is not null`,
  );
  return row ? itemOfRow(row) : undefined;
}

/** The limits of an item at a command level: the item's own, overridden by `limitsByLevel[level]`. */
export function limitsFor(item: CategoryItem, level: string): StageLimits {
  const override = item.limitsByLevel[level] ?? {};
  return {
    acceptHours: override.acceptHours ?? item.limits.acceptHours,
    handleWorkingDays: override.handleWorkingDays ?? item.limits.handleWorkingDays,
    inspectWorkingDays: override.inspectWorkingDays ?? item.limits.inspectWorkingDays,
  };
}

const isBlank = (value: unknown) =>
  value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

function isLocalDate(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

/** Longest text an extra string field keeps. */
export const extraTextMaxLength = 500;

function fieldProblem(field: ExtraField, value: unknown): string | undefined {
  const values = new Set((field.options ?? []).map((o) => o.value));
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') return '应为文本 (must be text)';
      if (value.length > extraTextMaxLength)
        return `不超过 ${extraTextMaxLength} 字 (at most ${extraTextMaxLength} characters)`;
      return undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : '应为数字 (must be a number)';
    case 'date':
      return isLocalDate(value) ? undefined : '应为日期 YYYY-MM-DD (must be a date YYYY-MM-DD)';
    case 'single':
      return typeof value === 'string' && values.has(value)
        ? undefined
        : '不是可选项之一 (not one of the options)';
    case 'multi':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && values.has(v)))
        return '应为可选项列表 (must be a list of the options)';
      return new Set(value).size === value.length ? undefined : '选项重复 (option chosen twice)';
  }
}

/**
 * Checks intake values against the item's extra fields; one error per bad field, `field` = `extra.<code>` and the
 * message in Chinese with English in parentheses (shown as `extra.<code>: …`). Unknown keys are refused.
 */
export function validateExtraFields(item: CategoryItem, values: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const known = new Map(item.fields.map((f) => [f.code, f]));
  for (const key of Object.keys(values))
    if (!known.has(key)) errors.push({ field: `extra.${key}`, message: '未知字段 (unknown field)' });
  for (const field of item.fields) {
    const value = values[field.code];
    if (isBlank(value)) {
      if (field.required) errors.push({ field: `extra.${field.code}`, message: '必填 (required)' });
      continue;
    }
    const problem = fieldProblem(field, value);
    if (problem) errors.push({ field: `extra.${field.code}`, message: problem });
  }
  return errors;
}

/** A region path and every ancestor of it, longest first (`a.b.c` → `a.b.c`, `a.b`, `a`). */
export function pathAndAncestors(regionPath: string): string[] {
  const parts = regionPath.split('.');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('.'));
}

/** The default handling department of an item for a place: the most specific rule, else the department key. */
export async function resolveDepartment(
  ex: Executor,
  itemCode: string,
  regionPath: string,
): Promise<{ id: number; code: string; name: string } | undefined> {
  const paths = sql.join(
    pathAndAncestors(regionPath).map((p) => sql`${p}`),
    sql`, `,
  );
  const ruled = await one<{ id: number; code: string; name: string }>(
    ex,
    sql`select d.id::int as id, d.code, d.name
        from category_department_rule r join department d on d.id = r.department_id
        where r.item_code = ${itemCode} and r.region_path in (${paths})
        order by length(r.region_path) desc limit 1`,
  );
  if (ruled) return ruled;
  return one<{ id: number; code: string; name: string }>(
    ex,
    sql`select d.id::int as id, d.code, d.name
        from case_category c join department d on d.code = c.department_key
        where c.code = ${itemCode} and d.region_path in (${paths})
        order by length(d.region_path) desc limit 1`,
  );
}

export interface DepartmentRule {
  regionCode: string;
  regionPath: string;
  departmentId: number;
  departmentCode: string;
  departmentName: string;
}

export async function departmentRules(
  ex: Executor,
  itemCodes?: string[],
): Promise<Map<string, DepartmentRule[]>> {
  const filter =
    itemCodes === undefined
      ? sql`true`
      : itemCodes.length === 0
        ? sql`false`
        : sql`r.item_code in (${sql.join(
            itemCodes.map((c) => sql`${c}`),
            sql`, `,
          )})`;
  const list = await rows<DepartmentRule & { itemCode: string }>(
    ex,
    sql`select r.item_code as "itemCode", r.region_code as "regionCode", r.region_path as "regionPath",
          d.id::int as "departmentId", d.code as "departmentCode", d.name as "departmentName"
        from category_department_rule r join department d on d.id = r.department_id
        where ${filter} order by r.item_code, r.region_path`,
  );
  const byItem = new Map<string, DepartmentRule[]>();
  for (const { itemCode, ...rule } of list) {
    const bucket = byItem.get(itemCode) ?? [];
    bucket.push(rule);
    byItem.set(itemCode, bucket);
  }
  return byItem;
}
