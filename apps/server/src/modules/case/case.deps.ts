import type { GridRouter } from '../region/grid-router.ts';

/** What the case module needs from the others, wired in server.ts. */
export interface CaseDeps {
  router: GridRouter;
}
