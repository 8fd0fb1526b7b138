import { loadSecretBox } from '../../platform/crypto.ts';
import {
  CreateWebhookRequestSchema,
  CreatedWebhookSchema,
  WebhookDeliveryListSchema,
  WebhookEndpointSchema,
  WebhookListSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  resumeWebhook,
} from './webhook.admin.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });
const access = { access: { permission: 'webhook.admin' as const } };

/** Webhook endpoints for admins (permission `webhook.admin`). */
export function registerWebhookRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;
  const secrets = loadSecretBox({ dataDir: ctx.config.dataDir });

  app.post(
    '/api/webhooks',
    { config: access, schema: { body: CreateWebhookRequestSchema, response: { 201: CreatedWebhookSchema } } },
    async (request, reply) => {
      const created = await createWebhook({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        input: request.body,
        secrets,
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/api/webhooks',
    { config: access, schema: { response: { 200: WebhookListSchema } } },
    async (request) => listWebhooks({ db, actor: actorOf(request) }),
  );

  app.get(
    '/api/webhooks/:id/deliveries',
    { config: access, schema: { params: IdParams, response: { 200: WebhookDeliveryListSchema } } },
    async (request) => listDeliveries({ db, actor: actorOf(request), endpointId: request.params.id }),
  );

  app.post(
    '/api/webhooks/:id/actions/resume',
    { config: access, schema: { params: IdParams, response: { 200: WebhookEndpointSchema } } },
    async (request) =>
      resumeWebhook({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        endpointId: request.params.id,
      }),
  );

  app.delete(
    '/api/webhooks/:id',
    { config: access, schema: { params: IdParams } },
    async (request, reply) => {
      await deleteWebhook({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        endpointId: request.params.id,
      });
      return reply.status(204).send();
    },
  );
}
