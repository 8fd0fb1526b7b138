import { DomainError } from '../../platform/errors.ts';
import {
  ErrorResponseSchema,
  ExportQuerySchema,
  ImportListQuerySchema,
  ImportListSchema,
  ImportQuerySchema,
  ImportResultSchema,
  RegistryExcelKindParamsSchema,
  registryImportMaxBytes,
} from '@wangge/contracts';
import { z } from 'zod';
import { loadSecretBox } from '../../platform/crypto.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import {
  exportRegistry,
  getImport,
  importErrorWorkbook,
  importRegistryWorkbook,
  listImports,
  registryTemplate,
  xlsxContentType,
} from './registry.excel.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });
const errors = { 400: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema };
const attachment = (filename: string) => `attachment; filename="${filename}"`;

/**
 * The registry's Excel in and out: templates, imports (the raw xlsx bytes as the body), the import record and its
 * error workbook, and streamed exports. Uploads get their own scope: the xlsx parser and its 20 MB cap live there.
 */
export function registerRegistryExcelRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;
  const secrets = loadSecretBox({ dataDir: ctx.config.dataDir });

  app.get(
    '/api/registry/templates/:kind.xlsx',
    {
      config: { access: { permission: 'person.write' } },
      schema: { params: RegistryExcelKindParamsSchema, produces: [xlsxContentType] },
    },
    async (request, reply) => {
      const bytes = await registryTemplate(request.params.kind);
      return reply
        .type(xlsxContentType)
        .header('content-disposition', attachment(`template-${request.params.kind}.xlsx`))
        .header('cache-control', 'no-store')
        .send(bytes);
    },
  );

  app.register((scope: App, _options, done) => {
    scope.addContentTypeParser(
      xlsxContentType,
      { parseAs: 'buffer', bodyLimit: registryImportMaxBytes },
      (_request, body, done) => done(null, body),
    );

    scope.post(
      '/api/registry/imports',
      {
        config: { access: { permission: 'person.write' } },
        bodyLimit: registryImportMaxBytes,
        // Anything but an xlsx body is refused before it is read.
        onRequest: (request, _reply, done) => {
          const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
          if (type === xlsxContentType) return done();
          done(
            new DomainError(
              'UNSUPPORTED_MEDIA_TYPE',
              `请上传 Excel 文件,Content-Type 须为 ${xlsxContentType} (send the raw xlsx bytes as ${xlsxContentType})`,
            ),
          );
        },
        schema: {
          querystring: ImportQuerySchema,
          response: {
            200: ImportResultSchema,
            201: ImportResultSchema,
            ...errors,
            409: ErrorResponseSchema,
            413: ErrorResponseSchema,
            415: ErrorResponseSchema,
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const { result, replayed } = await importRegistryWorkbook({
          db,
          clock,
          secrets,
          actor: actorOf(request),
          kind: request.query.kind,
          mode: request.query.mode,
          clientId: request.query.clientId,
          bytes: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
          requestId: request.id,
        });
        return reply.status(replayed ? 200 : 201).send(result);
      },
    );
    done();
  });

  app.get(
    '/api/registry/imports',
    {
      config: { access: { permission: 'person.write' } },
      schema: { querystring: ImportListQuerySchema, response: { 200: ImportListSchema, ...errors } },
    },
    async (request) => ({
      items: await listImports({ db, actor: actorOf(request), limit: request.query.limit }),
    }),
  );

  app.get(
    '/api/registry/imports/:id',
    {
      config: { access: { permission: 'person.write' } },
      schema: { params: IdParams, response: { 200: ImportResultSchema, ...errors } },
    },
    async (request) => getImport({ db, actor: actorOf(request), importId: request.params.id }),
  );

  app.get(
    '/api/registry/imports/:id/errors.xlsx',
    {
      config: { access: { permission: 'person.write' } },
      schema: { params: IdParams, produces: [xlsxContentType] },
    },
    async (request, reply) => {
      const { bytes, filename } = await importErrorWorkbook({
        db,
        secrets,
        actor: actorOf(request),
        importId: request.params.id,
      });
      return reply
        .type(xlsxContentType)
        .header('content-disposition', attachment(filename))
        .header('cache-control', 'no-store')
        .send(bytes);
    },
  );

  app.get(
    '/api/registry/exports/:kind.xlsx',
    {
      config: { access: { permission: 'person.read' } },
      schema: {
        params: RegistryExcelKindParamsSchema,
        querystring: ExportQuerySchema,
        produces: [xlsxContentType],
      },
    },
    async (request, reply) => {
      const { stream, filename } = await exportRegistry({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        kind: request.params.kind,
        regionCode: request.query.region,
        reveal: request.query.reveal === '1',
        reason: request.query.reason,
        requestId: request.id,
      });
      return reply
        .type(xlsxContentType)
        .header('content-disposition', attachment(filename))
        .header('cache-control', 'no-store')
        .send(stream);
    },
  );
}
