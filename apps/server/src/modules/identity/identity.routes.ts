import {
  ChangePasswordRequestSchema,
  CreateUserRequestSchema,
  ListUsersQuerySchema,
  LoginRequestSchema,
  LoginResponseSchema,
  ErrorResponseSchema,
  MeResponseSchema,
  UpdateUserRequestSchema,
  UserListResponseSchema,
  UserSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, sessionCookie, type App, type AppContext } from '../../platform/http.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion } from '../region/region.queries.ts';
import {
  changePassword,
  createUser,
  describeMe,
  getUser,
  listUsers,
  login,
  logout,
  updateUser,
} from './identity.service.ts';
import { requireAccess } from '../../platform/access.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });

export function registerIdentityRoutes(app: App, ctx: AppContext): void {
  const { db, clock, config } = ctx;

  app.post(
    '/api/auth/login',
    {
      config: { access: { public: true } },
      schema: { body: LoginRequestSchema, response: { 200: LoginResponseSchema } },
    },
    async (request, reply) => {
      const result = await login({
        db,
        clock,
        username: request.body.username,
        password: request.body.password,
        meta: { requestId: request.id, userAgent: request.headers['user-agent'] },
        sessionSeconds: config.sessionIdleSeconds,
      });
      void reply.setCookie(sessionCookie, result.token, {
        httpOnly: true,
        sameSite: 'lax',
        secure: config.secureCookies,
        path: '/',
        maxAge: config.sessionIdleSeconds,
      });
      return { token: result.token, expiresAt: result.expiresAt.toISOString() };
    },
  );

  app.post('/api/auth/logout', { config: { access: { authenticated: true } } }, async (request, reply) => {
    await logout({ db, clock, actor: actorOf(request), meta: { requestId: request.id } });
    void reply.clearCookie(sessionCookie, { path: '/' });
    return reply.status(204).send();
  });

  app.get(
    '/api/me',
    { config: { access: { authenticated: true } }, schema: { response: { 200: MeResponseSchema } } },
    async (request) => describeMe({ db, actor: actorOf(request) }),
  );

  app.post(
    '/api/me/password',
    { config: { access: { authenticated: true } }, schema: { body: ChangePasswordRequestSchema } },
    async (request, reply) => {
      await changePassword({
        db,
        clock,
        actor: actorOf(request),
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
        meta: { requestId: request.id },
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/users',
    {
      config: { access: { permission: 'user.read' } },
      schema: { querystring: ListUsersQuerySchema, response: { 200: UserListResponseSchema } },
    },
    async (request) => {
      const actor = actorOf(request);
      let regionPath: string | undefined;
      if (request.query.region) {
        const region = await findRegion(db.orm, request.query.region);
        if (!region) throw new DomainError('NOT_FOUND', '未找到 (not found)');
        requireAccess(actor, 'user.read', { regionPath: region.path });
        regionPath = region.path;
      }
      const after = request.query.cursor ? Number(request.query.cursor) : undefined;
      if (after !== undefined && !Number.isInteger(after))
        throw new DomainError('VALIDATION_FAILED', 'cursor: invalid', [
          { field: 'cursor', message: 'invalid' },
        ]);
      return listUsers({
        db,
        actor,
        regionPath,
        role: request.query.role,
        limit: request.query.limit,
        after,
      });
    },
  );

  app.get(
    '/api/users/:id',
    {
      config: { access: { permission: 'user.read' } },
      schema: { params: IdParams, response: { 200: UserSchema } },
    },
    async (request) => getUser({ db, actor: actorOf(request), userId: request.params.id }),
  );

  app.post(
    '/api/users',
    {
      config: { access: { permission: 'user.write' } },
      schema: { body: CreateUserRequestSchema, response: { 201: UserSchema } },
    },
    async (request, reply) => {
      const user = await createUser({
        db,
        clock,
        actor: actorOf(request),
        input: request.body,
        meta: { requestId: request.id },
      });
      return reply.status(201).send(user);
    },
  );

  app.patch(
    '/api/users/:id',
    {
      config: { access: { permission: 'user.write' } },
      schema: {
        params: IdParams,
        body: UpdateUserRequestSchema,
        response: { 200: UserSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) =>
      updateUser({
        db,
        clock,
        actor: actorOf(request),
        userId: request.params.id,
        input: request.body,
        meta: { requestId: request.id },
      }),
  );
}
