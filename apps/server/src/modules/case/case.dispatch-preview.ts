import type { DispatchPreview } from '@wangge/contracts';
import type { Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { resolveDepartment } from '../taxonomy/taxonomy.service.ts';
import { dispatchDeadlines, eligibleDepartments } from './case.dispatch.ts';
import { loadCase } from './case.read.ts';
import { requireActionAllowed } from './case.transition.ts';
import { defaultWorkflowSettings, type WorkflowSettings } from './case.workflow.ts';

/**
 * GET /api/cases/{id}/dispatch-preview: for a caller who may dispatch the case now (else the answer the dispatch
 * itself would give: 404, 409 or 403), the departments it may go to (the category's default first) and the
 * deadlines a dispatch at this moment would set — computed by the same functions the dispatch action uses.
 */
export async function previewDispatch(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  caseId: number;
  departmentId?: number | undefined;
  settings?: WorkflowSettings;
}): Promise<DispatchPreview> {
  const { db, clock, actor, caseId } = options;
  const loaded = await loadCase(db.orm, caseId);
  requireActionAllowed({
    actor,
    loaded,
    action: 'dispatch',
    settings: options.settings ?? defaultWorkflowSettings,
  });
  const { row } = loaded!;

  const departments = await eligibleDepartments(db.orm, row.region_path);
  const resolved = await resolveDepartment(db.orm, row.category_code, row.region_path);
  // A default the dispatch would refuse (its department does not cover the place) is no default.
  const defaultDepartment = resolved && departments.some((d) => d.id === resolved.id) ? resolved.id : null;
  if (options.departmentId !== undefined && !departments.some((d) => d.id === options.departmentId))
    throw new DomainError(
      'VALIDATION_FAILED',
      `query.departmentId: 部门 ${options.departmentId} 不管辖此处 (department does not cover this place)`,
      [{ field: 'query.departmentId', message: 'not a department that covers this place' }],
    );

  const deadlines = await dispatchDeadlines({ ex: db.orm, row, now: clock.now() });
  const ordered = [
    ...departments.filter((d) => d.id === defaultDepartment),
    ...departments.filter((d) => d.id !== defaultDepartment),
  ];
  return {
    defaultDepartmentId: defaultDepartment,
    departments: ordered.map((d) => ({ id: d.id, code: d.code, name: d.name })),
    acceptDueAt: deadlines.acceptDueAt.toISOString(),
    handleDueAt: deadlines.handleDueAt.toISOString(),
    limits: deadlines.limits,
  };
}
