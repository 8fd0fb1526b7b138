import type { App, AppContext } from '../../platform/http.ts';
import { registerRegionReadRoutes } from './region.routes.ts';

export { findRegion, type RegionLevel, type RegionRow } from './region.queries.ts';

/** The region module: territory, boundaries, point → grid routing, tiles. */
export async function registerRegionModule(app: App, ctx: AppContext): Promise<void> {
  registerRegionReadRoutes(app, ctx);
  await Promise.resolve();
}
