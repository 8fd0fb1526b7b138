import type { App, AppContext } from '../../platform/http.ts';
import { registerPlacesRoutes } from './places.routes.ts';
import { registerRegistryExcelRoutes } from './registry.excel.routes.ts';
import { registerRegistryRoutes } from './registry.routes.ts';

export { registryStats } from './registry.service.ts';
export { runRetention } from './registry.retention.ts';

/** The registry 一标三实 (standard address + actual people, houses, organisations). */
export function registerRegistryModule(app: App, ctx: AppContext): void {
  registerRegistryRoutes(app, ctx);
  registerRegistryExcelRoutes(app, ctx);
  registerPlacesRoutes(app, ctx);
}
