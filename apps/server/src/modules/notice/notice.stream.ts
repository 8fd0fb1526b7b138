import { isInside, rolePermissions, type Actor, type Permission } from '../../platform/access.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import type { RealtimeFilter, RealtimeHub, RealtimeRow } from '../../platform/realtime.ts';
import { overlaps } from './notice.scope.ts';

/**
 * Alert and notice events on the realtime streams. Staff (`GET /api/stream`): an alert event goes to everyone whose
 * `notice.read` grants overlap the alert's area; a published notice to its recipients; a reminder to the workers of
 * the grids reminded; an escalation to the people added; a relay (已转达) to the senders over that grid (live
 * statistics). Residents (`GET /api/public/grids/{code}/stream`): public notices and alerts (created, photo, closed) of
 * the areas their grid lies in — never acknowledgements or sightings.
 */

function alertEvent(row: RealtimeRow) {
  const p = row.payload;
  return {
    event: 'alert',
    data: {
      topic: row.topic,
      alertId: p.alertId as number,
      kind: p.kind as string,
      title: p.title as string,
      status: p.status as string,
      outcome: (p.outcome as string | null) ?? null,
      gridCode: (p.gridCode as string | null | undefined) ?? null,
      at: row.createdAt,
    },
  };
}

function noticeEvent(row: RealtimeRow, withGrids: boolean) {
  const p = row.payload;
  return {
    event: 'notice',
    data: {
      topic: row.topic,
      noticeId: p.noticeId as number,
      title: p.title as string,
      ...(withGrids && Array.isArray(p.gridCodes) ? { gridCodes: p.gridCodes as string[] } : {}),
      at: row.createdAt,
    },
  };
}

/** A grant holding the permission at one of these grids (or below). */
function worksIn(actor: Actor, permission: Permission, gridPaths: string[]): boolean {
  return actor.grants.some(
    (g) =>
      rolePermissions[g.role].includes(permission) &&
      g.regionPath !== null &&
      gridPaths.some((p) => isInside(p, g.regionPath!)),
  );
}

/** A grant holding the permission over one of these grids (at it or above). */
function over(actor: Actor, permission: Permission, gridPaths: string[]): boolean {
  return actor.grants.some(
    (g) =>
      rolePermissions[g.role].includes(permission) &&
      (g.regionPath === null ? g.role === 'admin' : gridPaths.some((p) => isInside(g.regionPath!, p))),
  );
}

export function registerNoticeStream(hub: RealtimeHub, db: Database): void {
  const staffAlerts: RealtimeFilter = (row, subscriber) => {
    const target = row.payload.targetPath;
    if (typeof target !== 'string' || !overlaps(subscriber.actor, 'notice.read', target)) return null;
    return alertEvent(row);
  };
  hub.register('alert.', () => Promise.resolve(staffAlerts));

  hub.register('notice.', async (batch) => {
    const published = [
      ...new Set(
        batch
          .filter((row) => row.topic === 'notice.published')
          .map((row) => row.payload.noticeId)
          .filter((id): id is number => Number.isInteger(id)),
      ),
    ];
    const recipients = new Map<number, Set<number>>();
    if (published.length > 0) {
      const found = await rows<{ notice_id: number; user_id: number }>(
        db.orm,
        sql`select notice_id::int as notice_id, user_id::int as user_id from notice_recipient
            where notice_id in (${sql.join(
              published.map((id) => sql`${id}`),
              sql`, `,
            )})`,
      );
      for (const r of found) {
        let set = recipients.get(r.notice_id);
        if (!set) recipients.set(r.notice_id, (set = new Set()));
        set.add(r.user_id);
      }
    }
    const filter: RealtimeFilter = (row, subscriber) => {
      const { actor } = subscriber;
      const p = row.payload;
      const gridPaths = Array.isArray(p.gridPaths) ? (p.gridPaths as string[]) : [];
      switch (row.topic) {
        case 'notice.published':
          return recipients.get(p.noticeId as number)?.has(actor.userId) ? noticeEvent(row, false) : null;
        case 'notice.reminded':
          return worksIn(actor, 'notice.acknowledge', gridPaths) ? noticeEvent(row, true) : null;
        case 'notice.escalated':
          return Array.isArray(p.userIds) && (p.userIds as number[]).includes(actor.userId)
            ? noticeEvent(row, true)
            : null;
        case 'notice.acknowledged':
          return over(actor, 'notice.send', gridPaths) ? noticeEvent(row, true) : null;
        default:
          return null;
      }
    };
    return filter;
  });
}

/** Which grid a resident stream follows (its subscriber's actor is a placeholder without grants). */
export const residentStreamGrid = new WeakMap<Actor, { gridPath: string }>();

export function registerResidentStream(hub: RealtimeHub): void {
  const alerts: RealtimeFilter = (row, subscriber) => {
    const grid = residentStreamGrid.get(subscriber.actor);
    const target = row.payload.targetPath;
    if (!grid || typeof target !== 'string' || !isInside(target, grid.gridPath)) return null;
    if (row.topic !== 'alert.created' && row.topic !== 'alert.photo' && row.topic !== 'alert.closed')
      return null;
    return alertEvent(row);
  };
  const notices: RealtimeFilter = (row, subscriber) => {
    const grid = residentStreamGrid.get(subscriber.actor);
    const p = row.payload;
    if (!grid || row.topic !== 'notice.published' || p.public !== true) return null;
    if (typeof p.regionPath !== 'string' || !isInside(p.regionPath, grid.gridPath)) return null;
    return noticeEvent(row, false);
  };
  hub.register('alert.', () => Promise.resolve(alerts));
  hub.register('notice.', () => Promise.resolve(notices));
}
