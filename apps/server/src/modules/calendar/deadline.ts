import type { CaseLevel } from '@wangge/contracts';
import type { Executor } from '../../platform/db.ts';

export type CaseStage = 'accept' | 'handle' | 'inspect';

/**
 * When a stage of a case falls due: the item's limit for the stage at the owning level (accept: clock hours;
 * handle and inspect: Chinese working days, counted from the next day, due at the end of the last one, China time),
 * and whether the count ran past the last year whose holiday notice is loaded.
 */
export async function stageDue(_options: {
  ex: Executor;
  categoryCode: string;
  level: CaseLevel;
  stage: CaseStage;
  from: Date;
}): Promise<{ dueAt: Date; beyondCalendar: boolean }> {
  await Promise.resolve();
  throw new Error('stageDue: being implemented (calendar work)');
}
