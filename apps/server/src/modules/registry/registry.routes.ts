import {
  AuditReadsQuerySchema,
  AuditReadsSchema,
  BuildingListSchema,
  BuildingSchema,
  CreateBuildingRequestSchema,
  CreateHouseholdRequestSchema,
  CreatePersonRequestSchema,
  ErrorResponseSchema,
  GridSizingSchema,
  HouseholdListSchema,
  HouseholdSchema,
  PersonHouseholdSchema,
  PersonListQuerySchema,
  PersonListSchema,
  PersonSchema,
  RegionCodeSchema,
  RegistryStatsQuerySchema,
  RegistryStatsSchema,
  RevealRequestSchema,
  RevealResponseSchema,
  UpdatePersonRequestSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { loadSecretBox } from '../../platform/crypto.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import {
  createBuilding,
  createHousehold,
  createPerson,
  getPerson,
  getPersonHousehold,
  gridSizing,
  listBuildingHouseholds,
  listGridBuildings,
  listPersons,
  listReads,
  registryStats,
  revealPerson,
  updatePerson,
} from './registry.service.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });
const CodeParams = z.object({ code: RegionCodeSchema });
const errors = { 400: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema };

/** The registry 一标三实: persons, households, buildings; reveal; counts; the read log for auditors. */
export function registerRegistryRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;
  const secrets = loadSecretBox({ dataDir: ctx.config.dataDir });

  app.post(
    '/api/persons',
    {
      config: { access: { permission: 'person.write' } },
      schema: {
        body: CreatePersonRequestSchema,
        response: { 201: PersonSchema, ...errors, 409: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const person = await createPerson({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        input: request.body,
        requestId: request.id,
      });
      return reply.status(201).send(person);
    },
  );

  app.get(
    '/api/persons',
    {
      config: { access: { permission: 'person.read' } },
      schema: { querystring: PersonListQuerySchema, response: { 200: PersonListSchema, ...errors } },
    },
    async (request) =>
      listPersons({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        query: request.query,
        requestId: request.id,
      }),
  );

  app.get(
    '/api/persons/:id',
    {
      config: { access: { permission: 'person.read' } },
      schema: { params: IdParams, response: { 200: PersonSchema, ...errors } },
    },
    async (request) =>
      getPerson({ db, clock, actor: actorOf(request), personId: request.params.id, requestId: request.id }),
  );

  app.patch(
    '/api/persons/:id',
    {
      config: { access: { permission: 'person.write' } },
      schema: {
        params: IdParams,
        body: UpdatePersonRequestSchema,
        response: { 200: PersonSchema, ...errors, 409: ErrorResponseSchema },
      },
    },
    async (request) =>
      updatePerson({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        personId: request.params.id,
        input: request.body,
        requestId: request.id,
      }),
  );

  app.post(
    '/api/persons/:id/reveal',
    {
      config: { access: { permission: 'person.reveal' } },
      schema: {
        params: IdParams,
        body: RevealRequestSchema,
        response: { 200: RevealResponseSchema, ...errors },
      },
    },
    async (request) =>
      revealPerson({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        personId: request.params.id,
        input: request.body,
        requestId: request.id,
      }),
  );

  app.get(
    '/api/persons/:id/household',
    {
      config: { access: { permission: 'person.read' } },
      schema: { params: IdParams, response: { 200: PersonHouseholdSchema, ...errors } },
    },
    async (request) =>
      getPersonHousehold({
        db,
        clock,
        actor: actorOf(request),
        personId: request.params.id,
        requestId: request.id,
      }),
  );

  app.post(
    '/api/buildings',
    {
      config: { access: { permission: 'person.write' } },
      schema: {
        body: CreateBuildingRequestSchema,
        response: { 201: BuildingSchema, ...errors, 409: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const building = await createBuilding({
        db,
        clock,
        actor: actorOf(request),
        input: request.body,
        requestId: request.id,
      });
      return reply.status(201).send(building);
    },
  );

  app.get(
    '/api/grids/:code/buildings',
    {
      config: { access: { permission: 'person.read' } },
      schema: { params: CodeParams, response: { 200: BuildingListSchema, ...errors } },
    },
    async (request) => ({
      items: await listGridBuildings({ db, actor: actorOf(request), gridCode: request.params.code }),
    }),
  );

  app.post(
    '/api/households',
    {
      config: { access: { permission: 'person.write' } },
      schema: { body: CreateHouseholdRequestSchema, response: { 201: HouseholdSchema, ...errors } },
    },
    async (request, reply) => {
      const household = await createHousehold({
        db,
        clock,
        actor: actorOf(request),
        input: request.body,
        requestId: request.id,
      });
      return reply.status(201).send(household);
    },
  );

  app.get(
    '/api/buildings/:id/households',
    {
      config: { access: { permission: 'person.read' } },
      schema: { params: IdParams, response: { 200: HouseholdListSchema, ...errors } },
    },
    async (request) => ({
      items: await listBuildingHouseholds({
        db,
        clock,
        actor: actorOf(request),
        buildingId: request.params.id,
        requestId: request.id,
      }),
    }),
  );

  app.get(
    '/api/regions/:code/registry-stats',
    {
      config: { access: { permission: 'region.stats' } },
      schema: {
        params: CodeParams,
        querystring: RegistryStatsQuerySchema,
        response: { 200: RegistryStatsSchema, ...errors },
      },
    },
    async (request) =>
      registryStats({
        db,
        actor: actorOf(request),
        regionCode: request.params.code,
        byGrid: request.query.by === 'grid',
      }),
  );

  app.get(
    '/api/regions/:code/grid-sizing',
    {
      config: { access: { permission: 'region.stats' } },
      schema: { params: CodeParams, response: { 200: GridSizingSchema, ...errors } },
    },
    async (request) =>
      gridSizing({
        db,
        actor: actorOf(request),
        regionCode: request.params.code,
        guidance: ctx.config.gridSizing,
      }),
  );

  app.get(
    '/api/audit/reads',
    {
      config: { access: { permission: 'audit.read' } },
      schema: { querystring: AuditReadsQuerySchema, response: { 200: AuditReadsSchema, ...errors } },
    },
    async (request) => ({
      items: await listReads({
        db,
        actor: actorOf(request),
        accountId: request.query.actor,
        from: request.query.from,
        to: request.query.to,
        limit: request.query.limit,
      }),
    }),
  );
}
