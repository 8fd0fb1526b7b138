import { isInside } from '../../platform/access.ts';
import { rows, sql, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { stageDue } from '../calendar/deadline.ts';
import { getItem, limitsFor, pathAndAncestors } from '../taxonomy/taxonomy.service.ts';
import type { CaseRow } from './case.read.ts';

/**
 * The rules of 派遣 (dispatch) that the dispatch action and its preview share: which departments may take the
 * case and which deadlines it gets.
 */

/** A department may be sent a case when its region covers the case's grid (its path is the grid's or above it). */
export function departmentCovers(departmentRegionPath: string, caseRegionPath: string): boolean {
  return isInside(departmentRegionPath, caseRegionPath);
}

export interface EligibleDepartment {
  id: number;
  code: string;
  name: string;
  region_path: string;
}

/** Every department the case may be dispatched to (those whose region covers its grid), most local first. */
export async function eligibleDepartments(
  ex: Executor,
  caseRegionPath: string,
): Promise<EligibleDepartment[]> {
  const found = await rows<EligibleDepartment>(
    ex,
    sql`select id::int as id, code, name, region_path from department
        where region_path in (${sql.join(
          pathAndAncestors(caseRegionPath).map((p) => sql`${p}`),
          sql`, `,
        )})
        order by length(region_path) desc, code`,
  );
  return found.filter((d) => departmentCovers(d.region_path, caseRegionPath));
}

export interface DispatchDeadlines {
  /** 报到: the lead department must accept by then (clock hours from the dispatch) */
  acceptDueAt: Date;
  /**
   * 处置: the handling deadline the case has once dispatched. Filing set it (counted from the filing); a case with
   * none gets one counted from the dispatch. Acceptance counts it again from the acceptance.
   */
  handleDueAt: Date;
  /** true when the dispatch sets the handling deadline (the case had none) */
  handleDueIsNew: boolean;
  /** the item's limits at the case's owning level */
  limits: { acceptHours: number; handleWorkingDays: number };
  /** a deadline computed here ran past the last year whose holiday notice is loaded */
  beyondCalendar: boolean;
}

/** The deadlines a dispatch at `now` gives the case: the same computation for the action and its preview. */
export async function dispatchDeadlines(options: {
  ex: Executor;
  row: Pick<CaseRow, 'category_code' | 'owner_level' | 'handle_due_at'>;
  now: Date;
}): Promise<DispatchDeadlines> {
  const { ex, row, now } = options;
  const item = await getItem(ex, row.category_code);
  if (!item)
    throw new DomainError('VALIDATION_FAILED', `categoryCode: 未知事项 (unknown item ${row.category_code})`, [
      { field: 'categoryCode', message: '未知事项 (unknown item)' },
    ]);
  const limits = limitsFor(item, row.owner_level);
  const stage = { ex, categoryCode: row.category_code, level: row.owner_level, from: now };
  const accept = await stageDue({ ...stage, stage: 'accept' });
  const handle = row.handle_due_at
    ? { dueAt: new Date(row.handle_due_at), beyondCalendar: false }
    : await stageDue({ ...stage, stage: 'handle' });
  return {
    acceptDueAt: accept.dueAt,
    handleDueAt: handle.dueAt,
    handleDueIsNew: row.handle_due_at === null,
    limits: { acceptHours: limits.acceptHours, handleWorkingDays: limits.handleWorkingDays },
    beyondCalendar: accept.beyondCalendar || handle.beyondCalendar,
  };
}
