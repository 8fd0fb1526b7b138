import type { App, AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';
import { registerCaseIntakeRoutes } from './case.intake.routes.ts';
import { registerCaseQueueRoutes } from './case.queue.routes.ts';
import { registerCaseWorkflowRoutes } from './case.routes.ts';

export type { CaseDeps } from './case.deps.ts';
export { processOutbox } from './case.notify.ts';

/** The case loop: intake, workflow, timeline, queues. */
export function registerCaseModule(app: App, ctx: AppContext, deps: CaseDeps): void {
  registerCaseIntakeRoutes(app, ctx, deps);
  registerCaseWorkflowRoutes(app, ctx, deps);
  registerCaseQueueRoutes(app, ctx, deps);
}
