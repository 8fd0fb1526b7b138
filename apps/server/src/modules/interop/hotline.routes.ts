import {
  ErrorResponseSchema,
  HotlineClassificationListSchema,
  HotlineClassificationParamsSchema,
  HotlineClassificationSchema,
  HotlineImportQuerySchema,
  HotlineImportResultSchema,
  HotlineJsonImportSchema,
  HotlineResolvedSchema,
  HotlineResultsParamsSchema,
  HotlineResultsQuerySchema,
  HotlineTriageListSchema,
  HotlineTriageParamsSchema,
  HotlineTriageQuerySchema,
  PutHotlineClassificationRequestSchema,
  RejectHotlineTriageRequestSchema,
  ResolveHotlineTriageRequestSchema,
  hotlineImportMaxBytes,
} from '@wangge/contracts';
import { loadSecretBox } from '../../platform/crypto.ts';
import { DomainError } from '../../platform/errors.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { GridRouter } from '../region/index.ts';
import {
  exportHotlineResults,
  hotlinePaths,
  hotlineTemplate,
  importHotlineOrders,
  listHotlineClassifications,
  listHotlineTriage,
  putHotlineClassification,
  rejectHotlineTriage,
  resolveHotlineTriage,
  xlsxContentType,
  type HotlineFormat,
} from './hotline.service.ts';

const errors = { 400: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema };
const report = { access: { permission: 'case.report' as const } };
const attachment = (filename: string) => `attachment; filename="${filename}"`;

function formatOf(contentType: string | undefined): HotlineFormat | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === xlsxContentType) return 'xlsx';
  if (type === 'text/csv') return 'csv';
  if (type === 'application/json') return 'json';
  return null;
}

/**
 * Hotline exchange (12345 / 96118): the classification mapping, imports (xlsx, CSV or JSON body), the triage queue
 * and the results sent back. Uploads get their own scope: the xlsx and CSV parsers and the 10 MB cap live there.
 */
export function registerHotlineRoutes(app: App, ctx: AppContext, deps: { router: GridRouter }): void {
  const { db, clock } = ctx;
  const secrets = loadSecretBox({ dataDir: ctx.config.dataDir });
  const { router } = deps;

  app.get(
    '/api/hotline/classifications',
    { config: report, schema: { response: { 200: HotlineClassificationListSchema, ...errors } } },
    async (request) => listHotlineClassifications({ db, actor: actorOf(request) }),
  );

  app.put(
    '/api/hotline/classifications/:code',
    {
      config: { access: { permission: 'taxonomy.write' } },
      schema: {
        params: HotlineClassificationParamsSchema,
        body: PutHotlineClassificationRequestSchema,
        response: { 200: HotlineClassificationSchema, ...errors },
      },
    },
    async (request) =>
      putHotlineClassification({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        code: request.params.code,
        input: request.body,
      }),
  );

  app.get(
    '/api/hotline/template.xlsx',
    { config: report, schema: { produces: [xlsxContentType] } },
    async (request, reply) =>
      reply
        .type(xlsxContentType)
        .header('content-disposition', attachment('hotline-template.xlsx'))
        .header('cache-control', 'no-store')
        .send(await hotlineTemplate({ actor: actorOf(request) })),
  );

  app.register((scope: App, _options, done) => {
    for (const type of [xlsxContentType, 'text/csv'])
      scope.addContentTypeParser(
        type,
        { parseAs: 'buffer', bodyLimit: hotlineImportMaxBytes },
        (_request, body, next) => next(null, body),
      );

    scope.post(
      '/api/hotline/imports',
      {
        config: report,
        bodyLimit: hotlineImportMaxBytes,
        // Anything but xlsx, CSV or JSON is refused before it is read.
        onRequest: (request, _reply, next) => {
          if (formatOf(request.headers['content-type'])) return next();
          next(
            new DomainError(
              'UNSUPPORTED_MEDIA_TYPE',
              `请上传 Excel、CSV 或 JSON (send ${xlsxContentType}, text/csv or application/json)`,
            ),
          );
        },
        schema: {
          querystring: HotlineImportQuerySchema,
          response: {
            200: HotlineImportResultSchema,
            201: HotlineImportResultSchema,
            ...errors,
            413: ErrorResponseSchema,
            415: ErrorResponseSchema,
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        hotlinePaths(actor);
        const format = formatOf(request.headers['content-type'])!;
        let orders: Record<string, unknown>[] | undefined;
        if (format === 'json') {
          const parsed = HotlineJsonImportSchema.safeParse(request.body);
          if (!parsed.success)
            throw new DomainError(
              'VALIDATION_FAILED',
              parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
              parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message })),
            );
          orders = parsed.data.orders;
        }
        const { result, replayed } = await importHotlineOrders({
          db,
          clock,
          actor,
          router,
          secrets,
          clientId: request.query.clientId,
          source: request.query.source,
          format,
          bytes: Buffer.isBuffer(request.body) ? request.body : undefined,
          orders,
          requestId: request.id,
        });
        return reply.status(replayed ? 200 : 201).send(result);
      },
    );
    done();
  });

  app.get(
    '/api/hotline/triage',
    {
      config: report,
      schema: {
        querystring: HotlineTriageQuerySchema,
        response: { 200: HotlineTriageListSchema, ...errors },
      },
    },
    async (request) =>
      listHotlineTriage({
        db,
        actor: actorOf(request),
        status: request.query.status,
        limit: request.query.limit,
      }),
  );

  app.post(
    '/api/hotline/triage/:id/resolve',
    {
      config: report,
      schema: {
        params: HotlineTriageParamsSchema,
        body: ResolveHotlineTriageRequestSchema,
        response: { 200: HotlineResolvedSchema, ...errors, 409: ErrorResponseSchema },
      },
    },
    async (request) =>
      resolveHotlineTriage({
        db,
        clock,
        actor: actorOf(request),
        router,
        secrets,
        id: request.params.id,
        input: request.body,
        requestId: request.id,
      }),
  );

  app.post(
    '/api/hotline/triage/:id/reject',
    {
      config: report,
      schema: {
        params: HotlineTriageParamsSchema,
        body: RejectHotlineTriageRequestSchema,
        response: { 200: HotlineResolvedSchema, ...errors, 409: ErrorResponseSchema },
      },
    },
    async (request) =>
      rejectHotlineTriage({
        db,
        clock,
        actor: actorOf(request),
        id: request.params.id,
        reason: request.body.reason,
        requestId: request.id,
      }),
  );

  app.get(
    '/api/hotline/results.:format',
    {
      config: report,
      schema: {
        params: HotlineResultsParamsSchema,
        querystring: HotlineResultsQuerySchema,
        produces: [xlsxContentType, 'text/csv'],
      },
    },
    async (request, reply) => {
      const file = await exportHotlineResults({
        db,
        actor: actorOf(request),
        from: request.query.from,
        to: request.query.to,
        format: request.params.format,
      });
      return reply
        .type(file.contentType)
        .header('content-disposition', attachment(file.filename))
        .header('cache-control', 'no-store')
        .send(file.bytes);
    },
  );
}
