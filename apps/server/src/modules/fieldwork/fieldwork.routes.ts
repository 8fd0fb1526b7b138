import {
  ComplianceQuerySchema,
  ComplianceReportSchema,
  CreateVisitRequestSchema,
  DiaryQuerySchema,
  DiarySchema,
  ErrorResponseSchema,
  FieldTasksSchema,
  OfflineGridSchema,
  PatrolListQuerySchema,
  PatrolListSchema,
  PatrolPointsRequestSchema,
  PatrolPointsResultSchema,
  PatrolSchema,
  PatrolTrackSchema,
  PutDiaryNotesRequestSchema,
  RegionCodeSchema,
  StartPatrolRequestSchema,
  StopPatrolRequestSchema,
  VisitListQuerySchema,
  VisitListSchema,
  VisitPlanQuerySchema,
  VisitPlanSchema,
  VisitSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { complianceReport } from './compliance.service.ts';
import { getDiary, putDiaryNotes } from './diary.service.ts';
import {
  addPatrolPoints,
  getPatrol,
  listPatrols,
  patrolTrack,
  startPatrol,
  stopPatrol,
} from './patrol.service.ts';
import { createVisit, fieldTasks, listVisits, offlineGrid, visitPlan } from './visit.service.ts';

const UuidParams = z.object({ id: z.uuid() });
const CodeParams = z.object({ code: RegionCodeSchema });
const DateParams = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式 YYYY-MM-DD (date YYYY-MM-DD)'),
});
const errors = {
  400: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
};

/**
 * Field work (网格通): patrols, visits, the offline copy, tasks, diary, compliance. Writes need `fieldwork.record`;
 * reads shared by workers and the people watching them are open to any signed-in account and check
 * `fieldwork.record` or `fieldwork.monitor` (and the scope) in the use-case.
 */
export function registerFieldworkRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;
  const record = { access: { permission: 'fieldwork.record' as const } };
  const shared = { access: { authenticated: true as const } };

  app.post(
    '/api/patrols',
    {
      config: record,
      schema: {
        body: StartPatrolRequestSchema,
        response: { 200: PatrolSchema, 201: PatrolSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { patrol, created } = await startPatrol({
        db,
        clock,
        actor: actorOf(request),
        input: request.body,
      });
      return reply.status(created ? 201 : 200).send(patrol);
    },
  );

  app.post(
    '/api/patrols/:id/points',
    {
      config: record,
      schema: {
        params: UuidParams,
        body: PatrolPointsRequestSchema,
        response: { 200: PatrolPointsResultSchema, ...errors },
      },
    },
    async (request) =>
      addPatrolPoints({
        db,
        clock,
        actor: actorOf(request),
        patrolId: request.params.id,
        input: request.body,
      }),
  );

  app.post(
    '/api/patrols/:id/actions/stop',
    {
      config: record,
      schema: {
        params: UuidParams,
        body: StopPatrolRequestSchema,
        response: { 200: PatrolSchema, ...errors },
      },
    },
    async (request) =>
      stopPatrol({
        db,
        clock,
        actor: actorOf(request),
        patrolId: request.params.id,
        endedAt: request.body.endedAt,
      }),
  );

  app.get(
    '/api/patrols',
    {
      config: shared,
      schema: { querystring: PatrolListQuerySchema, response: { 200: PatrolListSchema, ...errors } },
    },
    async (request) => listPatrols({ db, clock, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/patrols/:id',
    { config: shared, schema: { params: UuidParams, response: { 200: PatrolSchema, ...errors } } },
    async (request) => getPatrol({ db, clock, actor: actorOf(request), patrolId: request.params.id }),
  );

  app.get(
    '/api/patrols/:id/track',
    { config: shared, schema: { params: UuidParams, response: { 200: PatrolTrackSchema, ...errors } } },
    async (request) => patrolTrack({ db, actor: actorOf(request), patrolId: request.params.id }),
  );

  app.post(
    '/api/visits',
    {
      config: record,
      schema: { body: CreateVisitRequestSchema, response: { 200: VisitSchema, 201: VisitSchema, ...errors } },
    },
    async (request, reply) => {
      const visit = await createVisit({ db, clock, actor: actorOf(request), input: request.body });
      return reply.status(visit.created ? 201 : 200).send(visit);
    },
  );

  app.get(
    '/api/visits',
    {
      config: shared,
      schema: { querystring: VisitListQuerySchema, response: { 200: VisitListSchema, ...errors } },
    },
    async (request) => listVisits({ db, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/grids/:code/visit-plan',
    {
      config: shared,
      schema: {
        params: CodeParams,
        querystring: VisitPlanQuerySchema,
        response: { 200: VisitPlanSchema, ...errors },
      },
    },
    async (request) =>
      visitPlan({
        db,
        clock,
        actor: actorOf(request),
        gridCode: request.params.code,
        ...(request.query.on ? { on: request.query.on } : {}),
      }),
  );

  app.get(
    '/api/grids/:code/offline',
    { config: record, schema: { params: CodeParams, response: { 200: OfflineGridSchema, ...errors } } },
    async (request) =>
      offlineGrid({
        db,
        clock,
        actor: actorOf(request),
        gridCode: request.params.code,
        requestId: request.id,
      }),
  );

  app.get(
    '/api/field/tasks',
    { config: record, schema: { response: { 200: FieldTasksSchema, ...errors } } },
    async (request) => fieldTasks({ db, clock, actor: actorOf(request) }),
  );

  app.get(
    '/api/diary/:date',
    {
      config: shared,
      schema: {
        params: DateParams,
        querystring: DiaryQuerySchema,
        response: { 200: DiarySchema, ...errors },
      },
    },
    async (request) =>
      getDiary({
        db,
        clock,
        actor: actorOf(request),
        date: request.params.date,
        ...(request.query.userId !== undefined ? { userId: request.query.userId } : {}),
      }),
  );

  app.put(
    '/api/diary/:date',
    {
      config: record,
      schema: {
        params: DateParams,
        body: PutDiaryNotesRequestSchema,
        response: { 200: DiarySchema, ...errors, 409: ErrorResponseSchema },
      },
    },
    async (request) =>
      putDiaryNotes({
        db,
        clock,
        actor: actorOf(request),
        date: request.params.date,
        notes: request.body.notes,
        ...(request.body.expectedVersion !== undefined
          ? { expectedVersion: request.body.expectedVersion }
          : {}),
      }),
  );

  app.get(
    '/api/compliance',
    {
      config: shared,
      schema: { querystring: ComplianceQuerySchema, response: { 200: ComplianceReportSchema, ...errors } },
    },
    async (request) => complianceReport({ db, clock, actor: actorOf(request), query: request.query }),
  );
}
