import type { App, AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';
import { registerCaseExportRoutes } from './case.export.routes.ts';
import { registerCaseIntakeRoutes } from './case.intake.routes.ts';
import { registerCaseListRoutes } from './case.list.routes.ts';
import { registerCaseQueueRoutes } from './case.queue.routes.ts';
import { registerCaseWorkflowRoutes } from './case.routes.ts';
import { registerCaseStream } from './case.stream.ts';
import { registerCaseTileRoutes } from './case.tiles.routes.ts';

export type { CaseDeps } from './case.deps.ts';
export { processOutbox } from './case.notify.ts';

/** The case loop: intake, workflow, timeline, queues, lists and the map, realtime case events. */
export function registerCaseModule(app: App, ctx: AppContext, deps: CaseDeps): void {
  registerCaseIntakeRoutes(app, ctx, deps);
  registerCaseListRoutes(app, ctx, deps);
  registerCaseExportRoutes(app, ctx);
  registerCaseWorkflowRoutes(app, ctx, deps);
  registerCaseQueueRoutes(app, ctx, deps);
  registerCaseTileRoutes(app, ctx);
  registerCaseStream(deps.realtime, ctx.db);
}
