import crypto from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { can, type Actor, type Permission } from './access.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { isDatabaseUnavailable, type Database } from './db.ts';
import { DomainError, httpStatusOf, type FieldError } from './errors.ts';

/**
 * Every route declares its access in `config.access`:
 * - `{ public: true }` for the few public paths (health, login, public tiles);
 * - `{ permission }` when a signed-in actor needs a permission: held in some grant (checked for every request
 *   here), and in the target's scope (checked by the use-case);
 * - `{ authenticated: true }` for routes about the caller themselves (me, logout).
 * A route without one makes the app refuse to start.
 */
export type RouteAccess = { public: true } | { permission: Permission } | { authenticated: true };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
}

export interface AppContext {
  db: Database;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Looks up the actor for a session token (cookie or bearer); null when missing, expired or revoked. */
  authenticate(token: string, request: FastifyRequest): Promise<Actor | null>;
}

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;

export const sessionCookie = 'wangge_session';

/** Where the OpenAPI description (`/docs/json`) and its viewer live. */
export const docsPrefix = '/docs';

export function requestToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || undefined;
  return request.cookies[sessionCookie] || undefined;
}

export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new DomainError('UNAUTHENTICATED', '请先登录 (sign in first)');
  return request.actor;
}

/** Every route registered, with its access declaration (the route-guard test reads this). */
export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

export function createHttpApp(ctx: AppContext): { app: App; routes: RegisteredRoute[] } {
  const routes: RegisteredRoute[] = [];
  const app = Fastify({
    loggerInstance: ctx.logger,
    bodyLimit: ctx.config.bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && /^[A-Za-z0-9._-]{8,64}$/.test(incoming)
        ? incoming
        : crypto.randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  void app.register(cookie);
  app.decorateRequest('actor', null);

  app.addHook('onRoute', (route) => {
    // The API description and its viewer (registered by @fastify/swagger-ui) are public by decision: they
    // describe the API, hold no data, and every route they describe keeps its own guard.
    if (!route.config?.access && (route.url === docsPrefix || route.url.startsWith(`${docsPrefix}/`)))
      route.config = { ...route.config, access: { public: true } };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      const access = route.config?.access;
      routes.push({ method, url: route.url, access });
      if (!access)
        throw new Error(
          `route ${method} ${route.url} declares no access (public, authenticated or a permission)`,
        );
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const access = request.routeOptions.config.access;
    const token = requestToken(request);
    if (token) request.actor = await ctx.authenticate(token, request);
    if (access && !('public' in access) && !request.actor)
      throw new DomainError('UNAUTHENTICATED', '请先登录 (sign in first)');
    // The declared permission, held somewhere: checked here for every route, so a use-case that forgets its own
    // check cannot open a route to everyone signed in. Where (scope) is still the use-case's to check.
    if (access && 'permission' in access && request.actor && !can(request.actor, access.permission))
      throw new DomainError('FORBIDDEN', '没有权限 (permission denied)');
  });

  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send({ code: 'NOT_FOUND', message: '未找到 (not found)' });
  });

  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(error);
    if (body.status >= 500 && body.code !== 'DATABASE_UNAVAILABLE')
      request.log.error({ err: error }, 'request failed');
    else if (body.code === 'DATABASE_UNAVAILABLE')
      request.log.warn({ err: (error as Error).message }, 'database unavailable');
    void reply.status(body.status).send({
      code: body.code,
      message: body.message,
      ...(body.fields ? { fields: body.fields } : {}),
      ...(body.details !== undefined ? { details: body.details } : {}),
    });
  });

  return { app, routes };
}

interface ErrorBody {
  status: number;
  code: string;
  message: string;
  fields?: FieldError[];
  details?: unknown;
}

export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof DomainError) {
    return {
      status: httpStatusOf(error.code),
      code: error.code,
      message: error.message,
      ...(error.fields ? { fields: error.fields } : {}),
      ...(error.details !== undefined ? { details: error.details } : {}),
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields = error.validation.map((issue) => {
      const where = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
      const context = (error as { validationContext?: string }).validationContext ?? 'body';
      return { field: where ? `${context}.${where}` : context, message: issue.message ?? 'invalid' };
    });
    return {
      status: 400,
      code: 'VALIDATION_FAILED',
      message: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
      fields,
    };
  }
  if (isDatabaseUnavailable(error))
    return {
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
      message: '数据库暂时不可用,请稍后重试 (database unavailable, retry later)',
    };
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: '请求体过大 (request body too large)' };
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  )
    return {
      status: fastifyError.statusCode,
      code: fastifyError.statusCode === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED',
      message: fastifyError.message ?? 'bad request',
    };
  return { status: 500, code: 'INTERNAL', message: '服务器内部错误 (internal error)' };
}
