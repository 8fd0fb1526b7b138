import type { App, AppContext } from '../../platform/http.ts';
import { registerDepartmentRoutes } from './department.routes.ts';

export { listDepartments } from './department.service.ts';

/** Dispatch (派遣): the departments cases are sent to. */
export function registerDispatchModule(app: App, ctx: AppContext): void {
  registerDepartmentRoutes(app, ctx);
}
