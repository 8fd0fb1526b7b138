import type { App, AppContext } from '../../platform/http.ts';

/** Working-day calendar (Chinese public holidays and make-up workdays). Filled in by the calendar work. */
export function registerCalendarRoutes(_app: App, _ctx: AppContext): void {}
