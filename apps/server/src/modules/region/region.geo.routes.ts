import { ErrorResponseSchema } from '@wangge/contracts';
import { z } from 'zod';
import type { App, AppContext } from '../../platform/http.ts';
import { inputCrsValues } from './gcj02.ts';
import { GridRouter } from './grid-router.ts';
import type { BoundaryEvents } from './region.events.ts';
import { gridTile, locateGrid } from './region.geo.ts';
import { TileCache } from './tile-cache.ts';

/** A decimal number as query text, then range-checked ('' must not become 0 the way z.coerce would). */
function coordinate(min: number, max: number) {
  const message = `应为 ${min} 到 ${max} 之间的数字 (a number from ${min} to ${max})`;
  return z
    .string()
    .trim()
    .regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message));
}

export const LocateGridQuerySchema = z.object({
  lat: coordinate(-90, 90),
  lng: coordinate(-180, 180),
  /** wgs84 (GPS), cgcs2000 (national datum, treated as WGS-84), gcj02 (Amap / Tencent phone SDKs). */
  crs: z
    .enum(inputCrsValues, { error: '应为 wgs84、cgcs2000 或 gcj02 (wgs84, cgcs2000 or gcj02)' })
    .default('wgs84'),
  /** Which grid contained the point on this date (boundaries change when grids are redrawn). */
  at: z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: '应为 ISO 日期 (an ISO 8601 date)' })
    .optional(),
});

export const GridLocationSchema = z.object({
  code: z.string(),
  name: z.string(),
  level: z.literal('grid'),
  crs: z.literal('wgs84'),
  point: z.tuple([z.number(), z.number()]),
});

const TileParams = z.object({
  z: z.coerce.number().int(),
  x: z.coerce.number().int(),
  y: z.coerce.number().int(),
});

/**
 * Point → grid routing, GCJ-02 input, vector tiles. Returns the router so other modules (case intake) can
 * route points without a database round trip.
 */
export async function registerRegionGeoRoutes(
  app: App,
  ctx: AppContext,
  events: BoundaryEvents,
): Promise<GridRouter> {
  const { db, logger } = ctx;
  const router = await GridRouter.create({ db: db.orm, events, logger });
  // 64 MB of encoded tiles (a city's z12–z16 at street density is a few thousand tiles of ~15 KB), 60 s each.
  const tiles = new TileCache(64 * 1024 * 1024, 60_000);
  events.on(() => tiles.clear());

  // Public by decision: grid boundaries are published geometry (every resident is told which grid and grid
  // worker serve them), and the resident pages must find "my grid" from a phone's location without an
  // account. The answer names a grid only; it carries no personal data.
  app.get(
    '/api/grids/locate',
    {
      config: { access: { public: true } },
      schema: {
        querystring: LocateGridQuerySchema,
        response: { 200: GridLocationSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) => {
      const { lat, lng, crs, at } = request.query;
      return locateGrid({
        db: db.orm,
        router,
        lng,
        lat,
        crs,
        at: at === undefined ? undefined : new Date(at),
      });
    },
  );

  // Public by decision: tiles hold only region boundaries, codes, names and levels (public geometry, no
  // personal data), and the resident pages draw them without an account.
  app.get(
    '/tiles/grids/:z/:x/:y.mvt',
    { config: { access: { public: true } }, schema: { params: TileParams } },
    async (request, reply) => {
      const { z, x, y } = request.params;
      const tile = await tiles.through(`${z}/${x}/${y}`, () => gridTile(db, request.params));
      return reply
        .header('content-type', 'application/vnd.mapbox-vector-tile')
        .header('cache-control', 'public, max-age=60')
        .send(Buffer.from(tile.buffer, tile.byteOffset, tile.byteLength));
    },
  );

  return router;
}
