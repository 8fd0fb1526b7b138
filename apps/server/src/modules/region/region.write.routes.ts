import type { App, AppContext } from '../../platform/http.ts';
import type { BoundaryEvents } from './region.events.ts';

/** Validated region and boundary writes, re-gridding, GeoJSON import and export. */
export function registerRegionWriteRoutes(_app: App, _ctx: AppContext, _events: BoundaryEvents): void {}
