import {
  CreateDepartmentRequestSchema,
  DepartmentListQuerySchema,
  DepartmentListSchema,
  DepartmentSchema,
  ErrorResponseSchema,
  UpdateDepartmentRequestSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { createDepartment, listDepartments, updateDepartment } from './department.service.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });

/** GET /api/departments for whoever dispatches or handles; writes for department admins. */
export function registerDepartmentRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;

  app.get(
    '/api/departments',
    {
      config: { access: { permission: 'department.read' } },
      schema: {
        querystring: DepartmentListQuerySchema,
        response: { 200: DepartmentListSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) => ({
      items: await listDepartments({ db, actor: actorOf(request), regionCode: request.query.region }),
    }),
  );

  app.post(
    '/api/departments',
    {
      config: { access: { permission: 'department.write' } },
      schema: {
        body: CreateDepartmentRequestSchema,
        response: { 201: DepartmentSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const department = await createDepartment({
        db,
        clock,
        actor: actorOf(request),
        input: request.body,
        requestId: request.id,
      });
      return reply.status(201).send(department);
    },
  );

  app.patch(
    '/api/departments/:id',
    {
      config: { access: { permission: 'department.write' } },
      schema: {
        params: IdParams,
        body: UpdateDepartmentRequestSchema,
        response: { 200: DepartmentSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) =>
      updateDepartment({
        db,
        clock,
        actor: actorOf(request),
        departmentId: request.params.id,
        patch: request.body,
        requestId: request.id,
      }),
  );
}
