import {
  ErrorResponseSchema,
  RegionChildStatsSchema,
  RegionCodeSchema,
  RegionListSchema,
  RegionSearchQuerySchema,
  RegionStatsSchema,
  RegionViewSchema,
} from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { childStats, getRegion, listChildren, regionStats, searchRegions } from './region.read.ts';

const CodeParams = z.object({ code: RegionCodeSchema });

export function registerRegionReadRoutes(app: App, ctx: AppContext): void {
  const { db } = ctx;
  // A static path: the router prefers it to `/api/regions/:code`, and 'search' is not a region code anyway.
  app.get(
    '/api/regions/search',
    {
      config: { access: { permission: 'region.read' } },
      schema: { querystring: RegionSearchQuerySchema, response: { 200: RegionListSchema } },
    },
    async (request) => ({
      items: await searchRegions(db.orm, actorOf(request), request.query.q, request.query.limit),
    }),
  );
  app.get(
    '/api/regions/:code',
    {
      config: { access: { permission: 'region.read' } },
      schema: { params: CodeParams, response: { 200: RegionViewSchema, 404: ErrorResponseSchema } },
    },
    async (request) => getRegion(db.orm, actorOf(request), request.params.code),
  );
  app.get(
    '/api/regions/:code/children',
    {
      config: { access: { permission: 'region.read' } },
      schema: { params: CodeParams, response: { 200: RegionListSchema, 404: ErrorResponseSchema } },
    },
    async (request) => ({ items: await listChildren(db.orm, actorOf(request), request.params.code) }),
  );
  app.get(
    '/api/regions/:code/stats',
    {
      config: { access: { permission: 'region.stats' } },
      schema: { params: CodeParams, response: { 200: RegionStatsSchema, 404: ErrorResponseSchema } },
    },
    async (request) => regionStats(db.orm, actorOf(request), request.params.code),
  );
  app.get(
    '/api/regions/:code/children/stats',
    {
      config: { access: { permission: 'region.stats' } },
      schema: { params: CodeParams, response: { 200: RegionChildStatsSchema, 404: ErrorResponseSchema } },
    },
    async (request) => ({ items: await childStats(db.orm, actorOf(request), request.params.code) }),
  );
}
