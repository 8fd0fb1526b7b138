import {
  CreateTaxonomyItemRequestSchema,
  DepartmentRulesSchema,
  ItemCodeSchema,
  PutDepartmentRulesRequestSchema,
  TaxonomyItemSchema,
  TaxonomyQuerySchema,
  TaxonomyTreeSchema,
  UpdateTaxonomyItemRequestSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import {
  createTaxonomyItem,
  listTaxonomy,
  presentItem,
  replaceDepartmentRules,
  updateTaxonomyItem,
} from './taxonomy.admin.ts';

const CodeParams = z.object({ code: ItemCodeSchema });

/** GET /api/taxonomy; item writes and department rules for taxonomy admins. */
export function registerTaxonomyRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;

  app.get(
    '/api/taxonomy',
    {
      config: { access: { authenticated: true } },
      schema: { querystring: TaxonomyQuerySchema, response: { 200: TaxonomyTreeSchema } },
    },
    async (request) => listTaxonomy({ db, actor: actorOf(request), all: request.query.all === '1' }),
  );

  app.post(
    '/api/taxonomy/items',
    {
      config: { access: { permission: 'taxonomy.write' } },
      schema: { body: CreateTaxonomyItemRequestSchema, response: { 201: TaxonomyItemSchema } },
    },
    async (request, reply) => {
      const item = await createTaxonomyItem({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        input: request.body,
      });
      return reply.status(201).send(presentItem(item));
    },
  );

  app.patch(
    '/api/taxonomy/items/:code',
    {
      config: { access: { permission: 'taxonomy.write' } },
      schema: {
        params: CodeParams,
        body: UpdateTaxonomyItemRequestSchema,
        response: { 200: TaxonomyItemSchema },
      },
    },
    async (request) =>
      presentItem(
        await updateTaxonomyItem({
          db,
          clock,
          actor: actorOf(request),
          requestId: request.id,
          code: request.params.code,
          patch: request.body,
        }),
      ),
  );

  app.put(
    '/api/taxonomy/items/:code/rules',
    {
      config: { access: { permission: 'taxonomy.write' } },
      schema: {
        params: CodeParams,
        body: PutDepartmentRulesRequestSchema,
        response: { 200: DepartmentRulesSchema },
      },
    },
    async (request) =>
      replaceDepartmentRules({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        code: request.params.code,
        input: request.body,
      }),
  );
}
