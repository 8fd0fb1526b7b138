import type { RealtimeHub } from '../../platform/realtime.ts';
import type { GridRouter } from '../region/grid-router.ts';

/** What the case module needs from the others, wired in server.ts. */
export interface CaseDeps {
  router: GridRouter;
  /** the app's realtime hub: the case module tells it who may see which case event */
  realtime: RealtimeHub;
}
