import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from './platform/clock.ts';
import type { Config } from './platform/config.ts';
import { isDatabaseUnavailable, sql, type Database } from './platform/db.ts';
import { createHttpApp, type App, type AppContext, type RegisteredRoute } from './platform/http.ts';
import { currentMigration } from './platform/migrate.ts';
import { registerApiDocs } from './platform/openapi.ts';
import { createRealtimeHub, registerRealtimeRoutes } from './platform/realtime.ts';
import { registerWebApp } from './platform/web.ts';
import { authenticate, registerIdentityRoutes } from './modules/identity/index.ts';
import { registerRegionModule } from './modules/region/index.ts';
import { registerCalendarRoutes } from './modules/calendar/index.ts';
import { registerTaxonomyRoutes } from './modules/taxonomy/index.ts';
import { registerCaseModule } from './modules/case/index.ts';
import { registerAssessmentRoutes } from './modules/assessment/index.ts';
import {
  registerHotlineRoutes,
  registerOpen311Routes,
  registerWebhookRoutes,
} from './modules/interop/index.ts';
import { registerDispatchModule } from './modules/dispatch/index.ts';
import { registerRegistryModule } from './modules/registry/index.ts';
import { registerNoticeModule } from './modules/notice/index.ts';
import { registerFieldworkModule } from './modules/fieldwork/index.ts';

export interface Wangge {
  app: App;
  routes: RegisteredRoute[];
  ctx: AppContext;
}

export interface ServerState {
  /** Set while the demo city is being generated in the background. */
  seeding: boolean;
}

const HealthSchema = z.object({
  status: z.enum(['ok', 'seeding', 'unavailable']),
  database: z.enum(['pglite', 'postgres']),
  migration: z.string(),
  version: z.string(),
});

export async function createWangge(options: {
  config: Config;
  db: Database;
  logger: Logger;
  clock: Clock;
  state?: ServerState;
}): Promise<Wangge> {
  const { config, db, logger, clock } = options;
  const state = options.state ?? { seeding: false };
  const ctx: AppContext = {
    db,
    config,
    clock,
    logger,
    authenticate: (token) => authenticate({ db, clock, token, sessionSeconds: config.sessionIdleSeconds }),
  };
  const { app, routes } = createHttpApp(ctx);
  await registerApiDocs(app, config);

  app.get(
    '/api/health',
    { config: { access: { public: true } }, schema: { response: { 200: HealthSchema, 503: HealthSchema } } },
    async (_request, reply) => {
      const base = { database: db.kind, version: config.version } as const;
      try {
        await db.orm.execute(sql`select 1`);
        const migration = await currentMigration(db);
        return { ...base, status: state.seeding ? ('seeding' as const) : ('ok' as const), migration };
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        return reply.status(503).send({ ...base, status: 'unavailable', migration: 'unknown' });
      }
    },
  );

  registerIdentityRoutes(app, ctx);
  const { router } = await registerRegionModule(app, ctx);
  registerCalendarRoutes(app, ctx);
  registerTaxonomyRoutes(app, ctx);
  // One realtime hub per app: tails the outbox for GET /api/stream; modules register their topics on it.
  const realtime = createRealtimeHub({ db, logger });
  registerRealtimeRoutes(app, realtime);
  registerCaseModule(app, ctx, { router, realtime });
  registerDispatchModule(app, ctx);
  registerRegistryModule(app, ctx);
  registerNoticeModule(app, ctx, { router, realtime });
  registerFieldworkModule(app, ctx);
  registerAssessmentRoutes(app, ctx);
  registerWebhookRoutes(app, ctx);
  registerOpen311Routes(app, ctx, { router });
  registerHotlineRoutes(app, ctx, { router });
  if (config.webDir) await registerWebApp(app, config.webDir);
  await app.ready();
  return { app, routes, ctx };
}
