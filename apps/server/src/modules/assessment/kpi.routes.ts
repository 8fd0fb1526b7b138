import {
  ErrorResponseSchema,
  GridHeatSchema,
  KpiQuerySchema,
  KpiReportSchema,
  KpiTrendQuerySchema,
  KpiTrendSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { gridHeat, kpiTrend } from './kpi.cockpit.ts';
import { kpiReport } from './kpi.service.ts';
import { kpiWorkbook, kpiWorkbookDisposition, xlsxContentType } from './kpi.workbook.ts';

/** The workbook, for the API description (the body is binary, never serialised). */
const WorkbookSchema = z
  .custom<Buffer>((value) => Buffer.isBuffer(value))
  .meta({
    type: 'string',
    format: 'binary',
    description: `${xlsxContentType}: the KPI report as a workbook`,
  });

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

  app.get(
    '/api/kpis.xlsx',
    {
      config: { access: { permission: 'kpi.read' } },
      schema: {
        querystring: KpiQuerySchema,
        produces: [xlsxContentType],
        response: { 200: WorkbookSchema, 404: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const report = await kpiReport({
        ex: ctx.db.orm,
        actor: actorOf(request),
        query: request.query,
        now: ctx.clock.now(),
      });
      const workbook = await kpiWorkbook(report);
      return reply
        .type(xlsxContentType)
        .header('content-disposition', kpiWorkbookDisposition(report))
        .header('cache-control', 'no-store')
        .send(workbook);
    },
  );

  app.get(
    '/api/kpis/trend',
    {
      config: { access: { permission: 'kpi.read' } },
      schema: {
        querystring: KpiTrendQuerySchema,
        response: { 200: KpiTrendSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) => kpiTrend({ ex: ctx.db.orm, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/kpis/grid-heat',
    {
      config: { access: { permission: 'kpi.read' } },
      schema: {
        querystring: KpiQuerySchema,
        response: { 200: GridHeatSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) => gridHeat({ ex: ctx.db.orm, actor: actorOf(request), query: request.query }),
  );
}
