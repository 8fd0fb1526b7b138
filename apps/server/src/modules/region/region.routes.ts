import { RegionCodeSchema } from '@wangge/contracts';
import { z } from 'zod';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { getRegion, listChildren, regionStats } from './region.read.ts';

const CodeParams = z.object({ code: RegionCodeSchema });

export function registerRegionReadRoutes(app: App, ctx: AppContext): void {
  const { db } = ctx;
  app.get(
    '/api/regions/:code',
    { config: { access: { permission: 'region.read' } }, schema: { params: CodeParams } },
    async (request) => getRegion(db.orm, actorOf(request), request.params.code),
  );
  app.get(
    '/api/regions/:code/children',
    { config: { access: { permission: 'region.read' } }, schema: { params: CodeParams } },
    async (request) => ({ items: await listChildren(db.orm, actorOf(request), request.params.code) }),
  );
  app.get(
    '/api/regions/:code/stats',
    { config: { access: { permission: 'region.stats' } }, schema: { params: CodeParams } },
    async (request) => regionStats(db.orm, actorOf(request), request.params.code),
  );
}
