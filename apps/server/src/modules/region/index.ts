import type { App, AppContext } from '../../platform/http.ts';
import type { GridRouter } from './grid-router.ts';
import { BoundaryEvents } from './region.events.ts';
import { registerRegionGeoRoutes } from './region.geo.routes.ts';
import { registerRegionReadRoutes } from './region.routes.ts';
import { registerRegionWriteRoutes } from './region.write.routes.ts';

export type { GridRouter } from './grid-router.ts';
export { encodeTile, type TileFeature, type TileLayer } from './mvt-encoder.ts';
export { tileAddressProblems, tileExtent, type TileAddress } from './region.geo.ts';
export { currentGridPoint, findRegion, type RegionLevel, type RegionRow } from './region.queries.ts';

/** The region module: territory, boundaries, point → grid routing, tiles. */
export async function registerRegionModule(app: App, ctx: AppContext): Promise<{ router: GridRouter }> {
  const events = new BoundaryEvents();
  registerRegionReadRoutes(app, ctx);
  registerRegionWriteRoutes(app, ctx, events);
  const router = await registerRegionGeoRoutes(app, ctx, events);
  return { router };
}
