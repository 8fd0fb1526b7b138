import {
  AcknowledgementSchema,
  AcknowledgeRequestSchema,
  AlertDetailSchema,
  AlertListQuerySchema,
  AlertListSchema,
  AlertSummarySchema,
  CloseAlertRequestSchema,
  CreateAlertRequestSchema,
  CreateNoticeRequestSchema,
  CreateSightingRequestSchema,
  MyNoticeListSchema,
  NoticeSchema,
  NoticeStatsSchema,
  SightingSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { PhotoStore } from '../case/case.photos.ts';
import type { GridRouter } from '../region/index.ts';
import {
  acknowledgeAlert,
  addSighting,
  closeAlert,
  createAlert,
  getAlert,
  listAlerts,
  readAlertPhoto,
  readSightingPhoto,
  setAlertPhoto,
  setSightingPhoto,
} from './alert.service.ts';
import {
  acknowledgeNotice,
  addNoticeAttachment,
  createNotice,
  listMyNotices,
  listSentNotices,
  noticeStats,
  readNotice,
  readNoticeAttachment,
} from './notice.service.ts';
import {
  acceptUploads,
  attachmentHeaders,
  documentBodyLimit,
  imageHeaders,
  uploadBodyLimit,
  uploadedBytes,
  uploadedFile,
} from './notice.upload.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });
const AttachmentParams = IdParams.extend({ attachmentId: z.coerce.number().int().positive() });
const AttachmentQuery = z.object({ name: z.string().max(1000).optional() });
const SightingParams = IdParams.extend({ sightingId: z.coerce.number().int().positive() });

/** Staff routes: alerts (紧急协查) and notices (通知). */
export function registerNoticeRoutes(
  app: App,
  ctx: AppContext,
  deps: { router: GridRouter; store: PhotoStore },
): void {
  const { db, clock } = ctx;
  const { store, router } = deps;

  // ---- alerts
  app.post(
    '/api/alerts',
    {
      config: { access: { permission: 'notice.send' } },
      schema: {
        summary:
          'Send an alert (missing person, emergency) to every grid of a region; idempotent by clientId',
        body: CreateAlertRequestSchema,
        response: { 200: AlertSummarySchema, 201: AlertSummarySchema },
      },
    },
    async (request, reply) => {
      const alert = await createAlert({ db, clock, actor: actorOf(request), input: request.body });
      return reply.status(alert.created ? 201 : 200).send(alert);
    },
  );

  app.get(
    '/api/alerts',
    {
      config: { access: { permission: 'notice.read' } },
      schema: { querystring: AlertListQuerySchema, response: { 200: AlertListSchema } },
    },
    async (request) => ({
      items: await listAlerts({ db, actor: actorOf(request), status: request.query.status }),
    }),
  );

  app.get(
    '/api/alerts/:id',
    {
      config: { access: { permission: 'notice.read' } },
      schema: { params: IdParams, response: { 200: AlertDetailSchema } },
    },
    async (request) => getAlert({ db, actor: actorOf(request), alertId: request.params.id }),
  );

  app.post(
    '/api/alerts/:id/acknowledge',
    {
      config: { access: { permission: 'notice.acknowledge' } },
      schema: { params: IdParams, body: AcknowledgeRequestSchema, response: { 200: AcknowledgementSchema } },
    },
    async (request) =>
      acknowledgeAlert({
        db,
        clock,
        actor: actorOf(request),
        alertId: request.params.id,
        gridCode: request.body.gridCode,
      }),
  );

  app.post(
    '/api/alerts/:id/sightings',
    {
      config: { access: { permission: 'notice.acknowledge' } },
      schema: {
        params: IdParams,
        body: CreateSightingRequestSchema,
        response: { 200: SightingSchema, 201: SightingSchema },
      },
    },
    async (request, reply) => {
      const sighting = await addSighting({
        db,
        clock,
        actor: actorOf(request),
        router,
        alertId: request.params.id,
        input: request.body,
      });
      return reply.status(sighting.created ? 201 : 200).send(sighting);
    },
  );

  app.post(
    '/api/alerts/:id/close',
    {
      config: { access: { permission: 'notice.send' } },
      schema: { params: IdParams, body: CloseAlertRequestSchema, response: { 200: AlertSummarySchema } },
    },
    async (request) =>
      closeAlert({
        db,
        clock,
        actor: actorOf(request),
        alertId: request.params.id,
        outcome: request.body.outcome,
        note: request.body.note,
      }),
  );

  // ---- notices
  app.post(
    '/api/notices',
    {
      config: { access: { permission: 'notice.send' } },
      schema: {
        summary: 'Compose a notice (now or scheduled); idempotent by clientId',
        body: CreateNoticeRequestSchema,
        response: { 200: NoticeSchema, 201: NoticeSchema },
      },
    },
    async (request, reply) => {
      const notice = await createNotice({ db, clock, actor: actorOf(request), input: request.body });
      return reply.status(notice.created ? 201 : 200).send(notice);
    },
  );

  app.get(
    '/api/notices',
    {
      config: { access: { permission: 'notice.send' } },
      schema: {
        summary: 'Notices sent in my scope',
        response: { 200: z.object({ items: z.array(NoticeSchema) }) },
      },
    },
    async (request) => ({ items: await listSentNotices({ db, actor: actorOf(request) }) }),
  );

  app.get(
    '/api/notices/mine',
    {
      config: { access: { permission: 'notice.read' } },
      schema: {
        summary: 'Notices to me, unread first (marks them delivered)',
        response: { 200: MyNoticeListSchema },
      },
    },
    async (request) => listMyNotices({ db, clock, actor: actorOf(request) }),
  );

  app.get(
    '/api/notices/:id',
    {
      config: { access: { permission: 'notice.read' } },
      schema: {
        summary: 'A notice (marks it read for a recipient)',
        params: IdParams,
        response: { 200: NoticeSchema },
      },
    },
    async (request) => readNotice({ db, clock, actor: actorOf(request), noticeId: request.params.id }),
  );

  app.get(
    '/api/notices/:id/stats',
    {
      config: { access: { permission: 'notice.send' } },
      schema: { params: IdParams, response: { 200: NoticeStatsSchema } },
    },
    async (request) => noticeStats({ db, actor: actorOf(request), noticeId: request.params.id }),
  );

  app.post(
    '/api/notices/:id/acknowledge',
    {
      config: { access: { permission: 'notice.acknowledge' } },
      schema: {
        summary: '已转达: the grid group was told',
        params: IdParams,
        body: AcknowledgeRequestSchema,
        response: { 200: AcknowledgementSchema },
      },
    },
    async (request) =>
      acknowledgeNotice({
        db,
        clock,
        actor: actorOf(request),
        noticeId: request.params.id,
        gridCode: request.body.gridCode,
      }),
  );

  // ---- images (multipart or raw body)
  void app.register(async (scope: App) => {
    await acceptUploads(scope);

    scope.post(
      '/api/alerts/:id/photo',
      {
        config: { access: { permission: 'notice.send' } },
        bodyLimit: uploadBodyLimit,
        schema: { params: IdParams, response: { 200: AlertSummarySchema } },
      },
      async (request) =>
        setAlertPhoto({
          db,
          clock,
          actor: actorOf(request),
          store,
          alertId: request.params.id,
          bytes: await uploadedBytes(request),
        }),
    );

    scope.get(
      '/api/alerts/:id/photo',
      { config: { access: { permission: 'notice.read' } }, schema: { params: IdParams } },
      async (request, reply) => {
        const bytes = await readAlertPhoto({
          db,
          store,
          alertId: request.params.id,
          actor: actorOf(request),
        });
        return reply.headers(imageHeaders('private')).send(bytes);
      },
    );

    scope.post(
      '/api/alerts/:id/sightings/:sightingId/photo',
      {
        config: { access: { permission: 'notice.acknowledge' } },
        bodyLimit: uploadBodyLimit,
        schema: { params: SightingParams, response: { 200: SightingSchema } },
      },
      async (request) =>
        setSightingPhoto({
          db,
          clock,
          actor: actorOf(request),
          store,
          alertId: request.params.id,
          sightingId: request.params.sightingId,
          bytes: await uploadedBytes(request),
        }),
    );

    scope.get(
      '/api/alerts/:id/sightings/:sightingId/photo',
      { config: { access: { permission: 'notice.read' } }, schema: { params: SightingParams } },
      async (request, reply) => {
        const bytes = await readSightingPhoto({
          db,
          store,
          actor: actorOf(request),
          alertId: request.params.id,
          sightingId: request.params.sightingId,
        });
        return reply.headers(imageHeaders('private')).send(bytes);
      },
    );

    scope.post(
      '/api/notices/:id/attachments',
      {
        config: { access: { permission: 'notice.send' } },
        bodyLimit: documentBodyLimit,
        schema: {
          summary:
            'An image (≤ 10 MB, re-encoded) or a document (PDF, .docx, .xlsx; ≤ 20 MB, kept as sent) for a notice; ' +
            'the file name is the multipart file name or `?name=`',
          params: IdParams,
          querystring: AttachmentQuery,
          response: { 200: NoticeSchema },
        },
      },
      async (request) =>
        addNoticeAttachment({
          db,
          clock,
          actor: actorOf(request),
          store,
          noticeId: request.params.id,
          ...(await uploadedFile(request)),
        }),
    );

    scope.get(
      '/api/notices/:id/attachments/:attachmentId',
      { config: { access: { permission: 'notice.read' } }, schema: { params: AttachmentParams } },
      async (request, reply) => {
        const attachment = await readNoticeAttachment({
          db,
          store,
          actor: actorOf(request),
          noticeId: request.params.id,
          attachmentId: request.params.attachmentId,
        });
        return reply.headers(attachmentHeaders(attachment)).send(attachment.bytes);
      },
    );
  });
}
