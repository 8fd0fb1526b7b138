import type { App, AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';

/** POST /api/cases (idempotent by clientId), photos. */
export function registerCaseIntakeRoutes(_app: App, _ctx: AppContext, _deps: CaseDeps): void {}
