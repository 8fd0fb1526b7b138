import { ErrorResponseSchema, KpiQuerySchema, KpiReportSchema } from '@wangge/contracts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { kpiReport } from './kpi.service.ts';

export function registerKpiRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/api/kpis',
    {
      config: { access: { permission: 'kpi.read' } },
      schema: {
        querystring: KpiQuerySchema,
        response: { 200: KpiReportSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) =>
      kpiReport({ ex: ctx.db.orm, actor: actorOf(request), query: request.query, now: ctx.clock.now() }),
  );
}
