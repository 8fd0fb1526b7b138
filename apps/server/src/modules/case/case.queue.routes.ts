import {
  NotificationListSchema,
  NotificationQuerySchema,
  QueueQuerySchema,
  QueueResponseSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';
import { listNotifications, markNotificationRead } from './case.notify.ts';
import { listMyQueue } from './case.queues.ts';

const NotificationParams = z.object({ id: z.coerce.number().int().positive() });
const NotificationReadSchema = z.object({ id: z.number().int(), readAt: z.string() });

/** GET /api/queues/mine, notifications. */
export function registerCaseQueueRoutes(app: App, ctx: AppContext, _deps: CaseDeps): void {
  const { db, clock } = ctx;

  // Every signed-in role has some queue (a resident: my reports); the buckets follow the actor's roles.
  app.get(
    '/api/queues/mine',
    {
      config: { access: { authenticated: true } },
      schema: { querystring: QueueQuerySchema, response: { 200: QueueResponseSchema } },
    },
    async (request) => listMyQueue({ db, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/notifications',
    {
      config: { access: { authenticated: true } },
      schema: { querystring: NotificationQuerySchema, response: { 200: NotificationListSchema } },
    },
    async (request) =>
      listNotifications({
        db,
        actor: actorOf(request),
        unreadOnly: request.query.unread === '1' || request.query.unread === 'true',
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/api/notifications/:id/read',
    {
      config: { access: { authenticated: true } },
      schema: { params: NotificationParams, response: { 200: NotificationReadSchema } },
    },
    async (request) =>
      markNotificationRead({ db, clock, actor: actorOf(request), notificationId: request.params.id }),
  );
}
