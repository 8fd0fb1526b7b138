import {
  CasePhotoQuerySchema,
  CasePhotoSchema,
  CreatePollRequestSchema,
  PollListQuerySchema,
  PollListSchema,
  PollSchema,
  PollVoteRequestSchema,
  PublicGridPageSchema,
  ResidentCodeRequestSchema,
  ResidentCodeSentSchema,
  ResidentRateRequestSchema,
  ResidentReportListSchema,
  ResidentReportRequestSchema,
  ResidentReportSchema,
  ResidentTokenSchema,
  ResidentVerifyRequestSchema,
  StaffPollSchema,
} from '@wangge/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../platform/access.ts';
import type { SecretBox } from '../../platform/crypto.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { lastEventIdOf, streamEvents, type RealtimeHub } from '../../platform/realtime.ts';
import type { PhotoStore } from '../case/case.photos.ts';
import type { GridRouter } from '../region/index.ts';
import { readAlertPhoto } from '../notice/alert.service.ts';
import { readNoticeAttachment } from '../notice/notice.service.ts';
import { residentStreamGrid } from '../notice/notice.stream.ts';
import {
  acceptUploads,
  attachmentHeaders,
  imageHeaders,
  uploadBodyLimit,
  uploadedBytes,
} from '../notice/notice.upload.ts';
import { closePoll, createPoll, getPoll, getPublicPoll, listPolls, votePoll } from './poll.service.ts';
import { publicGrid, publicGridPage } from './public.service.ts';
import {
  addResidentPhoto,
  listResidentReports,
  rateResidentReport,
  requestResidentCode,
  residentReport,
  residentSession,
  verifyResidentCode,
  type SmsSender,
} from './resident.service.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });
const CodeParams = z.object({ code: z.string().regex(/^\d{6,18}$/) });
const AttachmentParams = IdParams.extend({ attachmentId: z.coerce.number().int().positive() });
const StreamQuerySchema = z.object({ lastEventId: z.coerce.number().int().min(0).optional() });

/** The resident token: `X-Resident-Token`, or `Authorization: Bearer` (the typed client's token). */
function residentToken(request: FastifyRequest): string | undefined {
  const header = request.headers['x-resident-token'];
  if (typeof header === 'string' && header.trim()) return header.trim();
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7).trim() || undefined;
  return undefined;
}

const residentHeaders = z.object({ 'x-resident-token': z.string().optional() });

/**
 * The residents' pages (no account). Public reads: a grid's page, its stream, open alerts' photos, public
 * notices' images, a poll. With a resident token (from phone verification): reports, wishes, my reports, ratings,
 * votes. Rate limits answer 429 with a message saying what to do.
 */
export function registerResidentRoutes(
  app: App,
  ctx: AppContext,
  deps: {
    router: GridRouter;
    store: PhotoStore;
    secrets: SecretBox;
    sms: SmsSender;
    hub: RealtimeHub;
    pingMs?: number;
  },
): void {
  const { db, clock } = ctx;
  const { router, store, secrets, sms, hub } = deps;
  const session = (request: FastifyRequest) => residentSession({ db, clock, token: residentToken(request) });

  app.get(
    '/api/public/grids/:code',
    {
      config: { access: { public: true } },
      schema: {
        summary: "A grid's public page (residents, no account)",
        params: CodeParams,
        response: { 200: PublicGridPageSchema },
      },
    },
    async (request) => publicGridPage({ db, clock, code: request.params.code }),
  );

  app.post(
    '/api/resident/codes',
    {
      config: { access: { public: true } },
      schema: {
        summary: 'Send a verification code to a phone (rate-limited per phone and address)',
        body: ResidentCodeRequestSchema,
        response: { 200: ResidentCodeSentSchema },
      },
    },
    async (request) =>
      requestResidentCode({ db, clock, secrets, sms, phone: request.body.phone, address: request.ip }),
  );

  app.post(
    '/api/resident/verify',
    {
      config: { access: { public: true } },
      schema: {
        summary: 'Verify the code: a resident token bound to the phone',
        body: ResidentVerifyRequestSchema,
        response: { 200: ResidentTokenSchema },
      },
    },
    async (request) =>
      verifyResidentCode({ db, clock, secrets, phone: request.body.phone, code: request.body.code }),
  );

  for (const kind of ['report', 'wish'] as const)
    app.post(
      kind === 'report' ? '/api/resident/reports' : '/api/resident/wishes',
      {
        config: { access: { public: true } },
        schema: {
          summary:
            kind === 'report'
              ? '随手拍: report a problem (a case, channel resident); resident token; idempotent by clientId'
              : '我的心愿: make a wish (a case, channel wish); resident token; idempotent by clientId',
          headers: residentHeaders,
          body: ResidentReportRequestSchema,
          response: { 200: ResidentReportSchema, 201: ResidentReportSchema },
        },
      },
      async (request, reply) => {
        const report = await residentReport({
          db,
          clock,
          secrets,
          router,
          session: await session(request),
          address: request.ip,
          kind,
          input: request.body,
        });
        return reply.status(report.created ? 201 : 200).send(report);
      },
    );

  app.get(
    '/api/resident/reports',
    {
      config: { access: { public: true } },
      schema: {
        summary: 'My reports and wishes (resident token)',
        headers: residentHeaders,
        response: { 200: ResidentReportListSchema },
      },
    },
    async (request) => ({ items: await listResidentReports({ db, session: await session(request) }) }),
  );

  app.post(
    '/api/resident/reports/:id/rate',
    {
      config: { access: { public: true } },
      schema: {
        summary: 'Rate a closed report of mine (满意/基本满意/不满意); another phone’s case is 404',
        headers: residentHeaders,
        params: IdParams,
        body: ResidentRateRequestSchema,
        response: { 200: ResidentReportSchema },
      },
    },
    async (request) =>
      rateResidentReport({
        db,
        clock,
        session: await session(request),
        caseId: request.params.id,
        evaluation: request.body.evaluation,
        comment: request.body.comment,
      }),
  );

  app.get(
    '/api/public/polls/:id',
    {
      config: { access: { public: true } },
      schema: {
        summary: 'A poll with its results (public)',
        params: IdParams,
        response: { 200: PollSchema },
      },
    },
    async (request) => getPublicPoll({ db, clock, pollId: request.params.id }),
  );

  app.post(
    '/api/resident/polls/:id/votes',
    {
      config: { access: { public: true } },
      schema: {
        summary: 'Vote once per verified phone (resident token); a second vote is 409',
        headers: residentHeaders,
        params: IdParams,
        body: PollVoteRequestSchema,
        response: { 200: PollSchema },
      },
    },
    async (request) =>
      votePoll({
        db,
        clock,
        session: await session(request),
        pollId: request.params.id,
        option: request.body.option,
        gridCode: request.body.gridCode,
      }),
  );

  app.post(
    '/api/polls',
    {
      config: { access: { permission: 'notice.send' } },
      schema: {
        summary: 'Create a poll for the residents of an area; idempotent by clientId',
        body: CreatePollRequestSchema,
        response: { 200: PollSchema, 201: PollSchema },
      },
    },
    async (request, reply) => {
      const poll = await createPoll({ db, clock, actor: actorOf(request), input: request.body });
      return reply.status(poll.created ? 201 : 200).send(poll);
    },
  );

  app.get(
    '/api/polls',
    {
      config: { access: { permission: 'notice.send' } },
      schema: {
        summary:
          "Polls whose area overlaps the caller's scope, newest first (at most 200), with their counts",
        querystring: PollListQuerySchema,
        response: { 200: PollListSchema },
      },
    },
    async (request) => ({
      items: await listPolls({ db, clock, actor: actorOf(request), status: request.query.status }),
    }),
  );

  app.get(
    '/api/polls/:id',
    {
      config: { access: { permission: 'notice.send' } },
      schema: {
        summary: 'A poll with its counts per option and total (404 outside the caller’s scope)',
        params: IdParams,
        response: { 200: StaffPollSchema },
      },
    },
    async (request) => getPoll({ db, clock, actor: actorOf(request), pollId: request.params.id }),
  );

  app.post(
    '/api/polls/:id/close',
    {
      config: { access: { permission: 'notice.send' } },
      schema: {
        summary: '结束投票: close a poll before its deadline, once (already closed: 409)',
        params: IdParams,
        response: { 200: StaffPollSchema },
      },
    },
    async (request) => closePoll({ db, clock, actor: actorOf(request), pollId: request.params.id }),
  );

  void app.register(async (scope: App) => {
    await acceptUploads(scope);

    scope.post(
      '/api/resident/reports/:id/photos',
      {
        config: { access: { public: true } },
        bodyLimit: uploadBodyLimit,
        schema: {
          summary:
            'A photo for a report of mine (resident token); `?clientId=` makes a retry return the first photo',
          params: IdParams,
          querystring: CasePhotoQuerySchema,
          response: { 200: CasePhotoSchema, 201: CasePhotoSchema },
        },
      },
      async (request, reply) => {
        const { created, ...photo } = await addResidentPhoto({
          db,
          clock,
          store,
          session: await session(request),
          caseId: request.params.id,
          bytes: await uploadedBytes(request),
          ...(request.query.clientId ? { clientId: request.query.clientId } : {}),
        });
        return reply.status(created ? 201 : 200).send(photo);
      },
    );

    scope.get(
      '/api/public/alerts/:id/photo',
      {
        config: { access: { public: true } },
        schema: { summary: 'The photo of an open alert (404 once closed)', params: IdParams },
      },
      async (request, reply) => {
        const bytes = await readAlertPhoto({ db, store, alertId: request.params.id, actor: null });
        return reply.headers(imageHeaders('no-store')).send(bytes);
      },
    );

    scope.get(
      '/api/public/notices/:id/attachments/:attachmentId',
      { config: { access: { public: true } }, schema: { params: AttachmentParams } },
      async (request, reply) => {
        const attachment = await readNoticeAttachment({
          db,
          store,
          actor: null,
          noticeId: request.params.id,
          attachmentId: request.params.attachmentId,
        });
        return reply.headers(attachmentHeaders(attachment)).send(attachment.bytes);
      },
    );
  });

  registerResidentStreamRoute(app, ctx, hub, deps.pingMs ?? 25_000);
}

/** A resident stream subscriber: no grants, only the grid it follows (residentStreamGrid). */
function streamActor(gridCode: string, gridPath: string): Actor {
  const actor: Actor = {
    userId: 0,
    username: `resident-stream-${gridCode}`,
    displayName: '居民 (resident)',
    sessionId: 0,
    grants: [],
  };
  residentStreamGrid.set(actor, { gridPath });
  return actor;
}

/**
 * `GET /api/public/grids/{code}/stream`: server-sent events of a grid's public page (public notices of its areas,
 * alerts created or closed there), with `Last-Event-ID` (or `?lastEventId=`) replay, as `GET /api/stream` for staff.
 */
function registerResidentStreamRoute(app: App, ctx: AppContext, hub: RealtimeHub, pingMs: number): void {
  app.addHook('preClose', async () => {
    await hub.stop();
  });
  app.get(
    '/api/public/grids/:code/stream',
    {
      config: { access: { public: true } },
      schema: {
        summary: "A grid's public events (server-sent events)",
        description:
          'text/event-stream: `event: notice` (public notices) and `event: alert` (alerts of the area created or ' +
          'closed), `id` = outbox id; `Last-Event-ID` replays what was missed.',
        params: CodeParams,
        querystring: StreamQuerySchema,
        response: {
          200: {
            description: 'server-sent events',
            content: { 'text/event-stream': { schema: z.string() } },
          },
        },
      },
    },
    async (request, reply) => {
      const grid = await publicGrid(ctx.db, request.params.code);
      await streamEvents(request, reply, {
        hub,
        actor: streamActor(grid.code, grid.path),
        pingMs,
        lastEventId: lastEventIdOf(request.headers['last-event-id'], request.query.lastEventId),
      });
    },
  );
}
