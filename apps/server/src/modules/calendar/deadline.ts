import type { CaseLevel } from '@wangge/contracts';
import type { Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { getItem, limitsFor } from '../taxonomy/taxonomy.service.ts';
import { getWorkCalendar } from './calendar.service.ts';
import { addHours } from './work-calendar.ts';

export type CaseStage = 'accept' | 'handle' | 'inspect';

/**
 * When a stage of a case falls due: the item's limit for the stage at the owning level (accept: clock hours;
 * handle and inspect: Chinese working days, counted from the next day, due at the end of the last one, China time),
 * and whether the count ran past the last year whose holiday notice is loaded.
 */
export async function stageDue(options: {
  ex: Executor;
  categoryCode: string;
  level: CaseLevel;
  stage: CaseStage;
  from: Date;
}): Promise<{ dueAt: Date; beyondCalendar: boolean }> {
  const { ex, categoryCode, level, stage, from } = options;
  const item = await getItem(ex, categoryCode);
  if (!item)
    throw new DomainError('VALIDATION_FAILED', `categoryCode: 未知事项 (unknown item ${categoryCode})`, [
      { field: 'categoryCode', message: '未知事项 (unknown item)' },
    ]);
  const limits = limitsFor(item, level);
  if (stage === 'accept') return { dueAt: addHours(from, limits.acceptHours), beyondCalendar: false };
  const calendar = await getWorkCalendar(ex);
  return calendar.addWorkingDays(
    from,
    stage === 'handle' ? limits.handleWorkingDays : limits.inspectWorkingDays,
  );
}
