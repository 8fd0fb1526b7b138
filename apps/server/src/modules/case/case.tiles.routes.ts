import { CaseListQuerySchema } from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { caseTile } from './case.tiles.ts';

/** The map's filters (the case list's, without paging, sorting, search or bbox: the tile is the box). */
export const CaseTileQuerySchema = CaseListQuerySchema.pick({
  region: true,
  categoryCode: true,
  state: true,
  status: true,
  channel: true,
  supervised: true,
  from: true,
  to: true,
});

const TileParams = z.object({
  z: z.coerce.number().int(),
  x: z.coerce.number().int(),
  y: z.coerce.number().int(),
});

/**
 * GET /tiles/cases/{z}/{x}/{y}.mvt: the console map's case layer. Not public (cases are not): `case.read`, and only
 * the cases the caller may see, exactly as the case list scopes them.
 */
export function registerCaseTileRoutes(app: App, ctx: AppContext): void {
  const { db } = ctx;
  app.get(
    '/tiles/cases/:z/:x/:y.mvt',
    {
      config: { access: { permission: 'case.read' } },
      schema: { params: TileParams, querystring: CaseTileQuerySchema },
    },
    async (request, reply) => {
      const { tile, truncated } = await caseTile({
        db,
        actor: actorOf(request),
        address: request.params,
        query: request.query,
      });
      return reply
        .header('content-type', 'application/vnd.mapbox-vector-tile')
        .header('cache-control', 'private, max-age=15')
        .header('x-wangge-truncated', truncated ? '1' : '0')
        .send(Buffer.from(tile.buffer, tile.byteOffset, tile.byteLength));
    },
  );
}
