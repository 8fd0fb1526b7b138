import type { App, AppContext } from '../../platform/http.ts';
import { registerKpiRoutes } from './kpi.routes.ts';

export {
  chinaMidnight,
  departmentScore,
  drainKpiRollup,
  kpiReport,
  kpiRollupJob,
  rate,
  ratesOf,
} from './kpi.service.ts';

/** Assessment (考核): KPIs (GET /api/kpis). */
export function registerAssessmentRoutes(app: App, ctx: AppContext): void {
  registerKpiRoutes(app, ctx);
}
