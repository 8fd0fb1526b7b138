import {
  AddressListQuerySchema,
  AddressListSchema,
  AddressSchema,
  BuildingDetailSchema,
  ComponentListQuerySchema,
  ComponentListSchema,
  ComponentSchema,
  CreateAddressRequestSchema,
  CreateComponentRequestSchema,
  CreateInspectionRequestSchema,
  CreateOrganisationRequestSchema,
  ErrorResponseSchema,
  InspectionListSchema,
  InspectionSchema,
  OrganisationListQuerySchema,
  OrganisationListSchema,
  OrganisationRevealRequestSchema,
  OrganisationRevealResponseSchema,
  OrganisationSchema,
  UpdateComponentRequestSchema,
  UpdateOrganisationRequestSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { loadSecretBox } from '../../platform/crypto.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import {
  createAddress,
  createComponent,
  createOrganisation,
  getAddress,
  getBuildingDetail,
  getComponent,
  getOrganisation,
  listAddresses,
  listComponents,
  listInspections,
  listOrganisations,
  recordInspection,
  revealOrganisation,
  updateComponent,
  updateOrganisation,
} from './places.service.ts';

const IdParams = z.object({ id: z.coerce.number().int().positive() });
const errors = { 400: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema };
const conflictErrors = { ...errors, 409: ErrorResponseSchema };

/**
 * Places of the registry: standard addresses (标准地址), organisations and places (实有单位) with inspections
 * (检查), public components (部件), and a building's units (提楼知户).
 */
export function registerPlacesRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;
  const secrets = loadSecretBox({ dataDir: ctx.config.dataDir });

  /* ------------------------------------------------------------ standard addresses */

  app.post(
    '/api/addresses',
    {
      config: { access: { permission: 'place.write' } },
      schema: { body: CreateAddressRequestSchema, response: { 201: AddressSchema, ...conflictErrors } },
    },
    async (request, reply) => {
      const address = await createAddress({
        db,
        clock,
        actor: actorOf(request),
        input: request.body,
        requestId: request.id,
      });
      return reply.status(201).send(address);
    },
  );

  app.get(
    '/api/addresses',
    {
      config: { access: { permission: 'place.read' } },
      schema: { querystring: AddressListQuerySchema, response: { 200: AddressListSchema, ...errors } },
    },
    async (request) => listAddresses({ db, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/addresses/:id',
    {
      config: { access: { permission: 'place.read' } },
      schema: { params: IdParams, response: { 200: AddressSchema, ...errors } },
    },
    async (request) => getAddress({ db, actor: actorOf(request), addressId: request.params.id }),
  );

  /* ------------------------------------------------------------ building detail */

  app.get(
    '/api/buildings/:id',
    {
      config: { access: { permission: 'place.read' } },
      schema: { params: IdParams, response: { 200: BuildingDetailSchema, ...errors } },
    },
    async (request) => getBuildingDetail({ db, actor: actorOf(request), buildingId: request.params.id }),
  );

  /* ------------------------------------------------------------ organisations and places */

  app.post(
    '/api/organisations',
    {
      config: { access: { permission: 'place.write' } },
      schema: { body: CreateOrganisationRequestSchema, response: { 201: OrganisationSchema, ...errors } },
    },
    async (request, reply) => {
      const organisation = await createOrganisation({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        input: request.body,
        requestId: request.id,
      });
      return reply.status(201).send(organisation);
    },
  );

  app.get(
    '/api/organisations',
    {
      config: { access: { permission: 'place.read' } },
      schema: {
        querystring: OrganisationListQuerySchema,
        response: { 200: OrganisationListSchema, ...errors },
      },
    },
    async (request) => listOrganisations({ db, clock, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/organisations/:id',
    {
      config: { access: { permission: 'place.read' } },
      schema: { params: IdParams, response: { 200: OrganisationSchema, ...errors } },
    },
    async (request) => getOrganisation({ db, actor: actorOf(request), organisationId: request.params.id }),
  );

  app.patch(
    '/api/organisations/:id',
    {
      config: { access: { permission: 'place.write' } },
      schema: {
        params: IdParams,
        body: UpdateOrganisationRequestSchema,
        response: { 200: OrganisationSchema, ...conflictErrors },
      },
    },
    async (request) =>
      updateOrganisation({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        organisationId: request.params.id,
        input: request.body,
        requestId: request.id,
      }),
  );

  app.post(
    '/api/organisations/:id/reveal',
    {
      config: { access: { permission: 'person.reveal' } },
      schema: {
        params: IdParams,
        body: OrganisationRevealRequestSchema,
        response: { 200: OrganisationRevealResponseSchema, ...errors },
      },
    },
    async (request) =>
      revealOrganisation({
        db,
        clock,
        secrets,
        actor: actorOf(request),
        organisationId: request.params.id,
        input: request.body,
        requestId: request.id,
      }),
  );

  app.post(
    '/api/organisations/:id/inspections',
    {
      config: { access: { permission: 'place.write' } },
      schema: {
        params: IdParams,
        body: CreateInspectionRequestSchema,
        response: { 200: InspectionSchema, 201: InspectionSchema, ...conflictErrors },
      },
    },
    async (request, reply) => {
      const { created, inspection } = await recordInspection({
        db,
        clock,
        actor: actorOf(request),
        organisationId: request.params.id,
        input: request.body,
        requestId: request.id,
      });
      return reply.status(created ? 201 : 200).send(inspection);
    },
  );

  app.get(
    '/api/organisations/:id/inspections',
    {
      config: { access: { permission: 'place.read' } },
      schema: { params: IdParams, response: { 200: InspectionListSchema, ...errors } },
    },
    async (request) => ({
      items: await listInspections({ db, actor: actorOf(request), organisationId: request.params.id }),
    }),
  );

  /* ------------------------------------------------------------ public components */

  app.post(
    '/api/components',
    {
      config: { access: { permission: 'place.write' } },
      schema: { body: CreateComponentRequestSchema, response: { 201: ComponentSchema, ...conflictErrors } },
    },
    async (request, reply) => {
      const component = await createComponent({
        db,
        clock,
        actor: actorOf(request),
        input: request.body,
        requestId: request.id,
      });
      return reply.status(201).send(component);
    },
  );

  app.get(
    '/api/components',
    {
      config: { access: { permission: 'place.read' } },
      schema: { querystring: ComponentListQuerySchema, response: { 200: ComponentListSchema, ...errors } },
    },
    async (request) => listComponents({ db, actor: actorOf(request), query: request.query }),
  );

  app.get(
    '/api/components/:id',
    {
      config: { access: { permission: 'place.read' } },
      schema: { params: IdParams, response: { 200: ComponentSchema, ...errors } },
    },
    async (request) => getComponent({ db, actor: actorOf(request), componentId: request.params.id }),
  );

  app.patch(
    '/api/components/:id',
    {
      config: { access: { permission: 'place.write' } },
      schema: {
        params: IdParams,
        body: UpdateComponentRequestSchema,
        response: { 200: ComponentSchema, ...conflictErrors },
      },
    },
    async (request) =>
      updateComponent({
        db,
        clock,
        actor: actorOf(request),
        componentId: request.params.id,
        input: request.body,
        requestId: request.id,
      }),
  );
}
