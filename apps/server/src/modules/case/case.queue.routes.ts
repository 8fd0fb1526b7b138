import type { App, AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';

/** GET /api/queues/mine, GET /api/cases (search), notifications. */
export function registerCaseQueueRoutes(_app: App, _ctx: AppContext, _deps: CaseDeps): void {}
