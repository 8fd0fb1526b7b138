import type { App, AppContext } from '../../platform/http.ts';

/** Case taxonomy (categories and items). Filled in by the taxonomy work. */
export function registerTaxonomyRoutes(_app: App, _ctx: AppContext): void {}
