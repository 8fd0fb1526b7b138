import type { App, AppContext } from '../../platform/http.ts';
import { registerFieldworkRoutes } from './fieldwork.routes.ts';

export { complianceReport } from './compliance.service.ts';
export { trackFlags } from './patrol.service.ts';

/** Field work of grid workers (网格通): patrols, household visits, the offline copy, tasks, diary, compliance. */
export function registerFieldworkModule(app: App, ctx: AppContext): void {
  registerFieldworkRoutes(app, ctx);
}
