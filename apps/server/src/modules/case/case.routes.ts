import {
  CaseActionEnvelopeSchema,
  CaseActionParamsSchema,
  CaseDetailSchema,
  CaseIdParamsSchema,
  CaseTimelineSchema,
} from '@wangge/contracts';
import { DomainError } from '../../platform/errors.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';
import { getCaseDetail, getCaseTimeline } from './case.read.ts';
import { applyAction } from './case.transition.ts';
import { isCaseAction, type WorkflowSettings } from './case.workflow.ts';

/**
 * GET /api/cases/:id (with allowedActions), POST /api/cases/:id/actions/:action, GET /api/cases/:id/timeline.
 * Access is `authenticated`: who may see or act on a case is the case policy's decision (residents hold no
 * `case.read` but see and rate their own reports; department handlers see only cases their department is on).
 */
export function registerCaseWorkflowRoutes(app: App, ctx: AppContext, _deps: CaseDeps): void {
  const { db, clock, config } = ctx;
  const settings: WorkflowSettings = { reopenOnDissatisfied: config.reopenOnDissatisfied };

  app.get(
    '/api/cases/:id',
    {
      config: { access: { authenticated: true } },
      schema: { params: CaseIdParamsSchema, response: { 200: CaseDetailSchema } },
    },
    async (request) => getCaseDetail({ db, actor: actorOf(request), caseId: request.params.id, settings }),
  );

  app.get(
    '/api/cases/:id/timeline',
    {
      config: { access: { authenticated: true } },
      schema: { params: CaseIdParamsSchema, response: { 200: CaseTimelineSchema } },
    },
    async (request) => getCaseTimeline({ db, actor: actorOf(request), caseId: request.params.id }),
  );

  app.post(
    '/api/cases/:id/actions/:action',
    {
      config: { access: { authenticated: true } },
      schema: {
        params: CaseActionParamsSchema,
        body: CaseActionEnvelopeSchema.optional(),
        response: { 200: CaseDetailSchema },
      },
    },
    async (request) => {
      const { action, id } = request.params;
      if (!isCaseAction(action)) throw new DomainError('NOT_FOUND', `没有这个操作 (no action ${action})`);
      const { expectedVersion, ...input } = request.body ?? {};
      return applyAction({
        db,
        clock,
        actor: actorOf(request),
        caseId: id,
        action,
        input,
        expectedVersion,
        requestId: request.id,
        settings,
      });
    },
  );
}
