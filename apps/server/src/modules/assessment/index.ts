import type { App, AppContext } from '../../platform/http.ts';

/** KPIs (GET /api/kpis). Filled in by the KPI work. */
export function registerAssessmentRoutes(_app: App, _ctx: AppContext): void {}
