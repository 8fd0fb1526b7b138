import type { App, AppContext } from '../../platform/http.ts';
import { registerRegistryRoutes } from './registry.routes.ts';

export { registryStats } from './registry.service.ts';
export { runRetention } from './registry.retention.ts';

/** The registry 一标三实 (standard address + actual people, houses, organisations). */
export function registerRegistryModule(app: App, ctx: AppContext): void {
  registerRegistryRoutes(app, ctx);
}
