import {
  CaseIdParamsSchema,
  CaseListQuerySchema,
  CaseListSchema,
  DispatchPreviewQuerySchema,
  DispatchPreviewSchema,
  NearbyCasesQuerySchema,
  NearbyCasesSchema,
} from '@wangge/contracts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';
import { previewDispatch } from './case.dispatch-preview.ts';
import { findNearbyCases, listCases } from './case.list.ts';
import type { WorkflowSettings } from './case.workflow.ts';

/** GET /api/cases (the map and lists), /api/cases/nearby (duplicate hints), /api/cases/{id}/dispatch-preview. */
export function registerCaseListRoutes(app: App, ctx: AppContext, _deps: CaseDeps): void {
  const { db, clock, config } = ctx;
  const settings: WorkflowSettings = { reopenOnDissatisfied: config.reopenOnDissatisfied };

  app.get(
    '/api/cases',
    {
      config: { access: { permission: 'case.read' } },
      schema: { querystring: CaseListQuerySchema, response: { 200: CaseListSchema } },
    },
    async (request) => listCases({ db, actor: actorOf(request), query: request.query }),
  );

  // Whoever reports (a resident too: their own reports) or reads cases gets duplicate hints.
  app.get(
    '/api/cases/nearby',
    {
      config: { access: { authenticated: true } },
      schema: { querystring: NearbyCasesQuerySchema, response: { 200: NearbyCasesSchema } },
    },
    async (request) => findNearbyCases({ db, clock, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/cases/:id/dispatch-preview',
    {
      config: { access: { permission: 'case.dispatch' } },
      schema: {
        params: CaseIdParamsSchema,
        querystring: DispatchPreviewQuerySchema,
        response: { 200: DispatchPreviewSchema },
      },
    },
    async (request) =>
      previewDispatch({
        db,
        clock,
        actor: actorOf(request),
        caseId: request.params.id,
        departmentId: request.query.departmentId,
        settings,
      }),
  );
}
