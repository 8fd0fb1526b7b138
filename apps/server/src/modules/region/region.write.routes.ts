import {
  CreateRegionRequestSchema,
  ImportRegionsRequestSchema,
  ImportRegionsResponseSchema,
  RegionCodeSchema,
  RegionWrittenSchema,
  RenameRegionRequestSchema,
  ReplaceBoundaryRequestSchema,
  regionLimits,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { BoundaryEvents } from './region.events.ts';
import { exportBoundaries, importRegions } from './region.geojson.ts';
import { createRegion, renameRegion, replaceBoundary } from './region.service.ts';

const CodeParams = z.object({ code: RegionCodeSchema });

/** Validated region and boundary writes, re-gridding, GeoJSON import and export. */
export function registerRegionWriteRoutes(app: App, ctx: AppContext, events: BoundaryEvents): void {
  const { db, clock } = ctx;

  // GeoJSON files are often sent as application/geo+json (RFC 7946): parse them like JSON.
  if (!app.hasContentTypeParser('application/geo+json'))
    app.addContentTypeParser(
      'application/geo+json',
      { parseAs: 'string' },
      app.getDefaultJsonParser('error', 'error'),
    );

  app.post(
    '/api/regions',
    {
      config: { access: { permission: 'region.write' } },
      schema: { body: CreateRegionRequestSchema, response: { 201: RegionWrittenSchema } },
    },
    async (request, reply) => {
      const { validFrom, ...input } = request.body;
      const written = await createRegion({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        events,
        input: { ...input, validFrom: validFrom ? new Date(validFrom) : undefined },
      });
      return reply.status(201).send(written);
    },
  );

  app.put(
    '/api/regions/:code/boundary',
    {
      config: { access: { permission: 'region.write' } },
      schema: {
        params: CodeParams,
        body: ReplaceBoundaryRequestSchema,
        response: { 200: RegionWrittenSchema },
      },
    },
    async (request) =>
      replaceBoundary({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        events,
        code: request.params.code,
        boundary: request.body.boundary,
        validFrom: request.body.validFrom ? new Date(request.body.validFrom) : undefined,
      }),
  );

  app.patch(
    '/api/regions/:code',
    {
      config: { access: { permission: 'region.write' } },
      schema: { params: CodeParams, body: RenameRegionRequestSchema, response: { 200: RegionWrittenSchema } },
    },
    async (request) =>
      renameRegion({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        events,
        code: request.params.code,
        name: request.body.name,
      }),
  );

  app.post(
    '/api/regions/import',
    {
      bodyLimit: regionLimits.importBodyBytes,
      config: { access: { permission: 'region.import' } },
      schema: { body: ImportRegionsRequestSchema, response: { 200: ImportRegionsResponseSchema } },
    },
    async (request) =>
      importRegions({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        events,
        features: request.body.features,
      }),
  );

  app.get(
    '/api/regions/:code/boundaries.geojson',
    { config: { access: { permission: 'region.export' } }, schema: { params: CodeParams } },
    async (request, reply) => {
      const { geojson } = await exportBoundaries({ db, actor: actorOf(request), code: request.params.code });
      return reply
        .type('application/geo+json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${request.params.code}-boundaries.geojson"`)
        .send(geojson);
    },
  );
}
