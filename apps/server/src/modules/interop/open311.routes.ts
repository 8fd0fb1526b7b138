import {
  CasePublicSchema,
  CreateOpen311ClientRequestSchema,
  CreatedOpen311ClientSchema,
  Open311ClientListSchema,
  SetCasePublicRequestSchema,
} from '@wangge/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { loadSecretBox } from '../../platform/crypto.ts';
import { DomainError } from '../../platform/errors.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { GridRouter } from '../region/index.ts';
import {
  createOpen311Client,
  listOpen311Clients,
  revokeOpen311Client,
  setCasePublic,
} from './open311.admin.ts';
import {
  contentTypes,
  field,
  formatOfUrl,
  open311Error,
  Open311Failure,
  parseForm,
  render,
  splitFormat,
  type FormFields,
  type Open311Format,
  type Open311Value,
} from './open311.format.ts';
import {
  createServiceRequest,
  getServiceRequest,
  getToken,
  listServiceRequests,
  listServiceRequestUpdates,
  listServices,
  open311Specification,
  postServiceRequestUpdate,
  resolveJurisdiction,
  serviceDefinition,
  toOpen311Failure,
} from './open311.service.ts';

/** Where the GeoReport v2 endpoint lives. */
export const open311Prefix = '/open311/v2';

/**
 * The Open311 routes are public by the standard (GET needs no key; POST checks `api_key` itself, 403 per the
 * specification). The route-guard test lists them with this.
 */
export const open311PublicRoutes = [
  `GET ${open311Prefix}/:file`,
  `POST ${open311Prefix}/:file`,
  `GET ${open311Prefix}/services/:file`,
  `GET ${open311Prefix}/requests/:file`,
  `GET ${open311Prefix}/tokens/:file`,
] as const;

const IdParams = z.object({ id: z.coerce.number().int().positive() });
const FileParams = z.object({ file: z.string() });
const adminAccess = { access: { permission: 'webhook.admin' as const } };
/** A separate standard API: not part of the Wangge OpenAPI document. */
const open311Route = {
  config: { access: { public: true as const } },
  schema: { hide: true, params: FileParams },
};

/** When the changeset of the discovery document last changed (the endpoints or formats offered). */
const discoveryChangeset = '2026-11-26T00:00:00Z';

function send(reply: FastifyReply, format: Open311Format, root: string, value: Open311Value, status = 200) {
  return reply
    .status(status)
    .header('content-type', contentTypes[format])
    .send(render(format, root, value));
}

/**
 * Errors in the specification's list, in the format of the path's suffix. A path without `.xml` / `.json` is no
 * Open311 resource: it gets Wangge's own JSON error, like every unknown API path.
 */
function sendErrors(reply: FastifyReply, url: string, failure: Open311Failure) {
  const format = formatOfUrl(url);
  if (format) return send(reply, format, 'errors', failure.errors, failure.status);
  return reply.status(failure.status).send({
    code: failure.status === 404 ? 'NOT_FOUND' : failure.status === 403 ? 'FORBIDDEN' : 'VALIDATION_FAILED',
    message: failure.message,
  });
}

function formatOf(file: string): { name: string; format: Open311Format } {
  const split = splitFormat(file);
  if (!split) throw open311Error(404, '请使用 .xml 或 .json 后缀 (use the .xml or .json format suffix)');
  return split;
}

const queryOf = (request: FastifyRequest): Record<string, unknown> =>
  (request.query ?? {}) as Record<string, unknown>;

function formOf(request: FastifyRequest): FormFields {
  if (!(request.body instanceof Map))
    throw open311Error(
      400,
      '请以 application/x-www-form-urlencoded 提交 (send the form as application/x-www-form-urlencoded)',
    );
  return request.body as FormFields;
}

/** Open311 GeoReport v2 under /open311/v2, and its admin routes (client apps, the public flag of a case). */
export function registerOpen311Routes(app: App, ctx: AppContext, deps: { router: GridRouter }): void {
  const { db, clock } = ctx;
  const secrets = loadSecretBox({ dataDir: ctx.config.dataDir });

  app.post(
    '/api/open311/clients',
    {
      config: adminAccess,
      schema: { body: CreateOpen311ClientRequestSchema, response: { 201: CreatedOpen311ClientSchema } },
    },
    async (request, reply) => {
      const created = await createOpen311Client({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        input: request.body,
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/api/open311/clients',
    { config: adminAccess, schema: { response: { 200: Open311ClientListSchema } } },
    async (request) => listOpen311Clients({ db, actor: actorOf(request) }),
  );

  app.delete(
    '/api/open311/clients/:id',
    { config: adminAccess, schema: { params: IdParams } },
    async (request, reply) => {
      await revokeOpen311Client({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        clientId: request.params.id,
      });
      return reply.status(204).send();
    },
  );

  app.put(
    '/api/cases/:id/public',
    {
      config: { access: { permission: 'case.verify' } },
      schema: { params: IdParams, body: SetCasePublicRequestSchema, response: { 200: CasePublicSchema } },
    },
    async (request) =>
      setCasePublic({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        caseId: request.params.id,
        public: request.body.public,
      }),
  );

  void app.register(
    // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
    async (scope) => {
      // Form bodies as the specification sends them, on this prefix only: every key with all its values.
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string' },
        (_request, body, done) => done(null, parseForm(body as string)),
      );

      // Every failure in the specification's shape: [{ code, description }] / <errors><error>…
      scope.setErrorHandler((error: unknown, request, reply) => {
        let failure: Open311Failure;
        if (error instanceof Open311Failure) failure = error;
        else if (error instanceof DomainError) failure = toOpen311Failure(error);
        else {
          const status = (error as { statusCode?: number }).statusCode;
          if (status === undefined || status >= 500)
            request.log.error({ err: error }, 'open311 request failed');
          failure = open311Error(
            400,
            status !== undefined && status < 500
              ? `请求无效 (the request is invalid): ${(error as Error).message}`
              : '服务错误,请稍后重试或联系我们 (general service error: retry later or notify us)',
          );
        }
        return sendErrors(reply, request.url, failure);
      });
      scope.setNotFoundHandler((request, reply) =>
        sendErrors(
          reply,
          request.url,
          open311Error(404, `没有这个接口 (no such resource): ${request.url.split('?')[0]}`),
        ),
      );

      scope.get('/:file', open311Route, async (request, reply) => {
        const { name, format } = formatOf((request.params as { file: string }).file);
        const query = queryOf(request);
        switch (name) {
          case 'discovery':
            return send(reply, format, 'discovery', {
              changeset: discoveryChangeset,
              contact: '网格化服务管理中心 (grid service management centre)',
              key_service:
                '发送请求须有 api_key,由系统管理员发放 (POST needs an api_key issued by the administrator)',
              endpoints: [
                {
                  specification: open311Specification,
                  url: `${request.protocol}://${request.host}${open311Prefix}`,
                  changeset: discoveryChangeset,
                  type: 'production',
                  formats: ['text/xml', 'application/json'],
                },
              ],
            });
          case 'services':
            await resolveJurisdiction(db, field(query, 'jurisdiction_id'));
            return send(reply, format, 'services', await listServices(db));
          case 'requests':
            return send(reply, format, 'service_requests', await listServiceRequests({ db, clock, query }));
          case 'servicerequestupdates':
            return send(
              reply,
              format,
              'service_request_updates',
              await listServiceRequestUpdates({ db, clock, query }),
            );
          default:
            throw open311Error(404, `没有这个接口 (no such resource): ${name}`);
        }
      });

      scope.post('/:file', open311Route, async (request, reply) => {
        const { name, format } = formatOf((request.params as { file: string }).file);
        if (name === 'requests') {
          const created = await createServiceRequest({
            db,
            clock,
            router: deps.router,
            secrets,
            fields: formOf(request),
            requestId: request.id,
          });
          return send(reply, format, 'service_requests', [created]);
        }
        if (name === 'servicerequestupdates')
          return send(
            reply,
            format,
            'service_request_updates',
            await postServiceRequestUpdate({ db, clock, fields: formOf(request), requestId: request.id }),
          );
        throw open311Error(404, `没有这个接口 (no such resource): ${name}`);
      });

      scope.get('/services/:file', open311Route, async (request, reply) => {
        const { name, format } = formatOf((request.params as { file: string }).file);
        const query = queryOf(request);
        await resolveJurisdiction(db, field(query, 'jurisdiction_id'));
        return send(reply, format, 'service_definition', await serviceDefinition(db, name));
      });

      scope.get('/requests/:file', open311Route, async (request, reply) => {
        const { name, format } = formatOf((request.params as { file: string }).file);
        return send(
          reply,
          format,
          'service_requests',
          await getServiceRequest({ db, serial: name, query: queryOf(request) }),
        );
      });

      scope.get('/tokens/:file', open311Route, async (request, reply) => {
        const { name, format } = formatOf((request.params as { file: string }).file);
        return send(
          reply,
          format,
          'service_requests',
          await getToken({ db, token: name, query: queryOf(request) }),
        );
      });
    },
    { prefix: open311Prefix },
  );
}
