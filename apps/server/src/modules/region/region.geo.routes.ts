import type { App, AppContext } from '../../platform/http.ts';
import type { BoundaryEvents } from './region.events.ts';

/** Point → grid routing, GCJ-02 input, vector tiles. */
export async function registerRegionGeoRoutes(_app: App, _ctx: AppContext, _events: BoundaryEvents): Promise<void> {
  await Promise.resolve();
}
