import type { Executor } from '../../platform/db.ts';
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

/** An item (4-digit code) of the taxonomy, or undefined (also for 2-digit category codes). */
export async function getItem(_ex: Executor, _code: string): Promise<CategoryItem | undefined> {
  await Promise.resolve();
  throw new Error('getItem: being implemented (taxonomy work)');
}

/** Checks intake values against the item's extra fields; one error per bad field (`extra.<code>`). */
export function validateExtraFields(_item: CategoryItem, _values: Record<string, unknown>): FieldError[] {
  throw new Error('validateExtraFields: being implemented (taxonomy work)');
}

/** The default handling department of an item for a place: the most specific rule, else the department key. */
export async function resolveDepartment(
  _ex: Executor,
  _itemCode: string,
  _regionPath: string,
): Promise<{ id: number; code: string; name: string } | undefined> {
  await Promise.resolve();
  throw new Error('resolveDepartment: being implemented (taxonomy work)');
}
