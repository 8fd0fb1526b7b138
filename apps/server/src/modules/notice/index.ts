import path from 'node:path';
import type { Job } from '../../platform/jobs.ts';
import type { Clock } from '../../platform/clock.ts';
import { loadSecretBox } from '../../platform/crypto.ts';
import type { Database } from '../../platform/db.ts';
import type { App, AppContext } from '../../platform/http.ts';
import { createRealtimeHub, type RealtimeHub } from '../../platform/realtime.ts';
import { filesystemPhotoStore, type PhotoStore } from '../case/case.photos.ts';
import type { GridRouter } from '../region/index.ts';
import { registerResidentRoutes } from '../resident/resident.routes.ts';
import { logSmsSender, type SmsSender } from '../resident/resident.service.ts';
import { registerNoticeRoutes } from './notice.routes.ts';
import { publishDueNotices, remindNotices } from './notice.service.ts';
import { registerNoticeStream, registerResidentStream } from './notice.stream.ts';

export { publishDueNotices, remindNotices } from './notice.service.ts';
export type { SmsSender } from '../resident/resident.service.ts';

/**
 * Reaching people (issue 7): alerts and notices for staff (routes and events on the staff stream), the residents'
 * pages (public grid page and stream, phone verification, reports, wishes, ratings, polls).
 */
export function registerNoticeModule(
  app: App,
  ctx: AppContext,
  deps: { router: GridRouter; realtime: RealtimeHub; photoStore?: PhotoStore; sms?: SmsSender },
): void {
  const store = deps.photoStore ?? filesystemPhotoStore(path.join(ctx.config.dataDir, 'photos'));
  registerNoticeStream(deps.realtime, ctx.db);
  registerNoticeRoutes(app, ctx, { router: deps.router, store });
  // Residents have their own hub: it tails the outbox only while a resident page is open.
  const residentHub = createRealtimeHub({ db: ctx.db, logger: ctx.logger });
  registerResidentStream(residentHub);
  registerResidentRoutes(app, ctx, {
    router: deps.router,
    store,
    secrets: loadSecretBox({ dataDir: ctx.config.dataDir }),
    sms: deps.sms ?? logSmsSender(ctx.logger),
    hub: residentHub,
  });
}

/** The module's jobs (main.ts): publish scheduled notices, remind and escalate; both idempotent. */
export function noticeJobs(options: { db: Database; clock: Clock }): Job[] {
  return [
    { name: 'notice-publish', everyMs: 15_000, run: () => publishDueNotices(options) },
    { name: 'notice-reminders', everyMs: 60_000, run: () => remindNotices(options) },
  ];
}
