import { CaseExportQuerySchema } from '@wangge/contracts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { csvContentType, exportCases, exportLanguage } from './case.export.ts';

/**
 * GET /api/cases/export.csv (案件导出): the case list's filters and scope, every matching case as CSV, streamed.
 * `case.read` like the list (the scope narrows it; each export is audited).
 */
export function registerCaseExportRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;
  app.get(
    '/api/cases/export.csv',
    {
      config: { access: { permission: 'case.read' } },
      schema: { querystring: CaseExportQuerySchema, produces: [csvContentType] },
    },
    async (request, reply) => {
      const exported = await exportCases({
        db,
        clock,
        actor: actorOf(request),
        query: request.query,
        language: exportLanguage(request.query.lang, request.headers['accept-language']),
        requestId: request.id,
      });
      return reply
        .type(csvContentType)
        .header('content-disposition', exported.disposition)
        .header('cache-control', 'no-store')
        .header('x-total-count', String(exported.rows))
        .send(exported.stream);
    },
  );
}
