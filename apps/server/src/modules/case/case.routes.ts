import type { App, AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';

/** GET /api/cases/:id (with allowedActions), POST /api/cases/:id/actions/:action, GET /api/cases/:id/timeline. */
export function registerCaseWorkflowRoutes(_app: App, _ctx: AppContext, _deps: CaseDeps): void {}
