import { noticeLimits, type PublicGridPage } from '@wangge/contracts';
import type { Clock } from '../../platform/clock.ts';
import { rows, sql, type Database } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion, type RegionRow } from '../region/index.ts';
import { pollsForGrid } from './poll.service.ts';

/** The grid of a public page (a grid code from a link or QR code); 404 for anything else. */
export async function publicGrid(db: Database, code: string): Promise<RegionRow> {
  const grid = await findRegion(db.orm, code);
  if (!grid || grid.level !== 'grid') throw new DomainError('NOT_FOUND', '未找到网格 (grid not found)');
  return grid;
}

function prefixesOf(path: string) {
  const parts = path.split('.');
  return sql.join(
    parts.map((_, i) => sql`${parts.slice(0, i + 1).join('.')}`),
    sql`, `,
  );
}

/**
 * 网格主页: the grid's name, its workers' display names (nothing else about them), the public notices of the areas
 * it lies in, the alerts of those areas — open ones with their photo, closed ones (for a week) as found / lifted
 * without it — and its polls with their results.
 */
export async function publicGridPage(options: {
  db: Database;
  clock: Clock;
  code: string;
}): Promise<PublicGridPage> {
  const { db, clock, code } = options;
  const grid = await publicGrid(db, code);
  const now = clock.now();
  const community = grid.parent_code ? await findRegion(db.orm, grid.parent_code) : undefined;
  const workers = await rows<{ display_name: string }>(
    db.orm,
    sql`select distinct u.display_name from user_role ur join app_user u on u.id = ur.user_id
        where ur.region_path = ${grid.path} and ur.role in ('grid_worker', 'grid_leader')
          and u.status = 'active' order by u.display_name`,
  );
  const notices = await rows<{
    id: number;
    title: string;
    body: string;
    published_at: Date | string;
    attachment_ids: number[];
    documents: { id: number; fileName: string; bytes: number }[];
  }>(
    db.orm,
    sql`select n.id::int as id, n.title, n.body, n.published_at,
          array(select a.id::int from notice_attachment a where a.notice_id = n.id and a.kind = 'image'
            order by a.id) as attachment_ids,
          coalesce((select json_agg(json_build_object('id', a.id, 'fileName', a.file_name, 'bytes', a.bytes)
              order by a.id)
            from notice_attachment a where a.notice_id = n.id and a.kind = 'document'), '[]'::json) as documents
        from notice n
        where n.public and n.status = 'published' and n.region_path in (${prefixesOf(grid.path)})
        order by n.published_at desc, n.id desc limit 50`,
  );
  const closedSince = new Date(now.getTime() - noticeLimits.closedAlertDays * 86400_000).toISOString();
  const alerts = await rows<{
    id: number;
    kind: 'missing_person' | 'emergency';
    title: string;
    description: string;
    status: 'open' | 'closed';
    outcome: 'found' | 'lifted' | null;
    last_seen_place: string | null;
    last_seen_at: Date | string | null;
    has_photo: boolean;
    created_at: Date | string;
    closed_at: Date | string | null;
  }>(
    db.orm,
    sql`select a.id::int as id, a.kind, a.title, a.description, a.status, a.outcome, a.last_seen_place,
          a.last_seen_at, a.photo_key is not null as has_photo, a.created_at, a.closed_at
        from alert a
        where a.target_region_path in (${prefixesOf(grid.path)})
          and (a.status = 'open' or a.closed_at > ${closedSince})
        order by (a.status = 'open') desc, a.created_at desc limit 20`,
  );
  return {
    grid: { code: grid.code, name: grid.name, communityName: community?.name ?? null },
    workers: workers.map((w) => ({ displayName: w.display_name })),
    notices: notices.map((n) => ({
      id: n.id,
      title: n.title,
      body: n.body,
      publishedAt: new Date(n.published_at).toISOString(),
      attachmentUrls: n.attachment_ids.map((a) => `/api/public/notices/${n.id}/attachments/${a}`),
      documents: n.documents.map((d) => ({
        url: `/api/public/notices/${n.id}/attachments/${d.id}`,
        fileName: d.fileName,
        bytes: Number(d.bytes),
      })),
    })),
    alerts: alerts.map((a) => {
      const open = a.status === 'open';
      return {
        id: a.id,
        kind: a.kind,
        title: a.title,
        // a closed alert keeps only what it was about and how it ended
        description: open ? a.description : '',
        status: a.status,
        outcome: a.outcome,
        lastSeenPlace: open ? a.last_seen_place : null,
        lastSeenAt: open && a.last_seen_at ? new Date(a.last_seen_at).toISOString() : null,
        photoUrl: open && a.has_photo ? `/api/public/alerts/${a.id}/photo` : null,
        createdAt: new Date(a.created_at).toISOString(),
        closedAt: a.closed_at ? new Date(a.closed_at).toISOString() : null,
      };
    }),
    polls: await pollsForGrid(db.orm, grid.path, now),
  };
}
