import { fieldworkLimits, visitKindLabels, type Diary, type VisitKind } from '@wangge/contracts';
import { can, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import {
  chinaDayEnd,
  chinaDayStart,
  checkDate,
  fieldScopes,
  haversine,
  householdLabelSql,
  insideAny,
  notFound,
  requireFieldAccess,
} from './fieldwork.common.ts';
import { countedEnd } from './patrol.service.ts';

/**
 * 一日志: a worker's day summarised from the record (patrols, visits, case steps) plus the notes they write. The
 * day is a China date (00:00–24:00 UTC+8); a patrol across midnight counts on each day for the part inside it.
 */

const userNotFound = () => notFound('未找到用户 (user not found)');

/** The worker whose diary is read: the caller, or a user holding a grant inside a region the caller monitors. */
async function diaryUser(
  ex: Executor,
  actor: Actor,
  userId: number | undefined,
): Promise<{ id: number; name: string }> {
  if (userId === undefined || userId === actor.userId) return { id: actor.userId, name: actor.displayName };
  const monitor = fieldScopes(actor).monitor;
  const row = await one<{ id: number; name: string }>(
    ex,
    sql`select u.id::int as id, u.display_name as name from app_user u
        where u.id = ${userId} and exists (select 1 from user_role ur where ur.user_id = u.id
          and ur.region_path is not null and ${insideAny(sql`ur.region_path`, monitor)})`,
  );
  if (!row) throw userNotFound();
  return row;
}

function duration(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours}小时${minutes}分` : `${minutes}分钟`;
}

function kilometres(meters: number): string {
  return meters >= 1000 ? `${(meters / 1000).toFixed(1)}公里` : `${Math.round(meters)}米`;
}

const caseActionText: Record<string, string> = {
  report: '上报事件',
  fixOnSpot: '简易程序处置',
  verify: '核实事件',
  inspect: '核查事件',
};

async function buildDiary(
  ex: Executor,
  user: { id: number; name: string },
  date: string,
  now: Date,
): Promise<Diary> {
  const dayStart = chinaDayStart(date);
  const dayEnd = chinaDayEnd(date);
  // Patrols touching the day (a counted session is at most patrolMaxSeconds long).
  const earliest = new Date(dayStart.getTime() - fieldworkLimits.patrolMaxSeconds * 1000).toISOString();
  const patrols = await rows<{
    id: string;
    started_at: Date | string;
    ended_at: Date | string | null;
    grid_name: string;
  }>(
    ex,
    sql`select p.id::text as id, p.started_at, p.ended_at, r.name as grid_name
        from patrol p join region r on r.code = p.grid_code
        where p.user_id = ${user.id} and p.started_at >= ${earliest} and p.started_at < ${dayEnd.toISOString()}
        order by p.started_at, p.id`,
  );
  const entries: Diary['entries'] = [];
  let patrolCount = 0;
  let patrolSeconds = 0;
  let meters = 0;
  let flaggedPoints = 0;
  const touching: { id: string; from: Date; seconds: number; grid: string }[] = [];
  for (const p of patrols) {
    const started = new Date(p.started_at);
    const end = countedEnd(started, p.ended_at === null ? null : new Date(p.ended_at), now);
    const from = new Date(Math.max(started.getTime(), dayStart.getTime()));
    const to = new Date(Math.min(end.getTime(), dayEnd.getTime()));
    if (to.getTime() <= from.getTime() && !(started >= dayStart && started < dayEnd)) continue;
    const seconds = Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));
    touching.push({ id: p.id, from, seconds, grid: p.grid_name });
    patrolCount += 1;
    patrolSeconds += seconds;
  }
  const perPatrol = new Map<string, { meters: number; flagged: number }>();
  if (touching.length > 0) {
    const points = await rows<{
      patrol_id: string;
      ms: number;
      lng: number;
      lat: number;
      speed: boolean;
      flagged: boolean;
    }>(
      ex,
      sql`select patrol_id::text as patrol_id, (extract(epoch from at) * 1000)::float8 as ms, lng, lat,
            impossible_speed as speed, (outside_grid or impossible_speed or repeated_coordinates) as flagged
          from patrol_point where patrol_id in (${sql.join(
            touching.map((t) => sql`${t.id}`),
            sql`, `,
          )}) order by patrol_id, at`,
    );
    let previous: (typeof points)[number] | undefined;
    for (const point of points) {
      const inDay = point.ms >= dayStart.getTime() && point.ms < dayEnd.getTime();
      const stats = perPatrol.get(point.patrol_id) ?? { meters: 0, flagged: 0 };
      if (inDay && point.flagged) stats.flagged += 1;
      if (!point.speed) {
        if (previous && previous.patrol_id === point.patrol_id && inDay)
          stats.meters += haversine(previous.lng, previous.lat, point.lng, point.lat);
        previous = point;
      }
      perPatrol.set(point.patrol_id, stats);
    }
  }
  for (const t of touching) {
    const stats = perPatrol.get(t.id) ?? { meters: 0, flagged: 0 };
    meters += stats.meters;
    flaggedPoints += stats.flagged;
    entries.push({
      at: t.from.toISOString(),
      kind: 'patrol',
      text:
        `巡查 ${t.grid} ${duration(t.seconds)}，${kilometres(stats.meters)}` +
        (stats.flagged > 0 ? `（${stats.flagged} 个异常定位点）` : ''),
    });
  }

  const visits = await rows<{
    household_id: number;
    label: string;
    kind: VisitKind;
    visited_at: Date | string;
    needs: number;
  }>(
    ex,
    sql`select v.household_id::int as household_id, ${householdLabelSql} as label, v.kind, v.visited_at,
          jsonb_array_length(v.needs)::int as needs
        from household_visit v join household h on h.id = v.household_id left join building b on b.id = h.building_id
        where v.user_id = ${user.id} and v.visited_at >= ${dayStart.toISOString()}
          and v.visited_at < ${dayEnd.toISOString()}
        order by v.visited_at, v.id`,
  );
  for (const v of visits)
    entries.push({
      at: new Date(v.visited_at).toISOString(),
      kind: 'visit',
      text: `${visitKindLabels[v.kind].zh} ${v.label}` + (v.needs > 0 ? `，发现需求 ${v.needs} 项` : ''),
    });

  const steps = await rows<{ action: string; at: Date | string; serial: string; title: string }>(
    ex,
    sql`select t.action, t.at, c.serial, c.title from case_timeline t join grid_case c on c.id = t.case_id
        where t.actor_id = ${user.id} and t.at >= ${dayStart.toISOString()} and t.at < ${dayEnd.toISOString()}
          and t.action in ('report', 'fixOnSpot', 'verify', 'inspect')
        order by t.at, t.id`,
  );
  const cases = { reported: 0, fixedOnSpot: 0, verified: 0, inspected: 0 };
  for (const s of steps) {
    if (s.action === 'report') cases.reported += 1;
    else if (s.action === 'fixOnSpot') cases.fixedOnSpot += 1;
    else if (s.action === 'verify') cases.verified += 1;
    else cases.inspected += 1;
    entries.push({
      at: new Date(s.at).toISOString(),
      kind: 'case',
      text: `${caseActionText[s.action]} ${s.serial} ${s.title}`,
    });
  }
  entries.sort((a, b) => a.at.localeCompare(b.at));

  const notes = await one<{ notes: string; version: number }>(
    ex,
    sql`select notes, version from work_diary where user_id = ${user.id} and day = ${date}`,
  );
  return {
    date,
    userId: user.id,
    userName: user.name,
    patrols: {
      count: patrolCount,
      seconds: patrolSeconds,
      meters: Math.round(meters),
      flaggedPoints,
    },
    visits: {
      count: visits.length,
      households: new Set(visits.map((v) => v.household_id)).size,
      needsFound: visits.reduce((sum, v) => sum + v.needs, 0),
    },
    cases,
    entries,
    notes: notes?.notes ?? '',
    version: notes?.version ?? 0,
  };
}

export async function getDiary(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  date: string;
  userId?: number;
}): Promise<Diary> {
  const { db, actor } = options;
  requireFieldAccess(actor);
  const date = checkDate(options.date, 'params.date');
  const user = await diaryUser(db.orm, actor, options.userId);
  return buildDiary(db.orm, user, date, options.clock.now());
}

const staleDiary = () =>
  new DomainError('CONFLICT', 'body.expectedVersion: 日志已被修改 (the notes changed meanwhile; reload)', [
    { field: 'body.expectedVersion', message: '版本已过期 (stale version)' },
  ]);

/**
 * Writes the caller's notes for a day. With `expectedVersion` (0: none written yet) a stale version is 409;
 * without it the notes are replaced.
 */
export async function putDiaryNotes(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  date: string;
  notes: string;
  expectedVersion?: number;
}): Promise<Diary> {
  const { db, actor, expectedVersion } = options;
  if (!can(actor, 'fieldwork.record')) throw new DomainError('FORBIDDEN', '没有权限 (permission denied)');
  const date = checkDate(options.date, 'params.date');
  const now = options.clock.now();
  await db.orm.transaction(async (tx) => {
    const current = await one<{ version: number }>(
      tx,
      sql`select version from work_diary where user_id = ${actor.userId} and day = ${date} for update`,
    );
    if (expectedVersion !== undefined && (current?.version ?? 0) !== expectedVersion) throw staleDiary();
    if (current) {
      await tx.execute(sql`update work_diary set notes = ${options.notes}, version = version + 1,
        updated_at = ${now.toISOString()} where user_id = ${actor.userId} and day = ${date}`);
      return;
    }
    try {
      await tx.execute(sql`insert into work_diary (user_id, day, notes, version, updated_at)
        values (${actor.userId}, ${date}, ${options.notes}, 1, ${now.toISOString()})`);
    } catch (error) {
      // Two first writes at once: the second is stale.
      if (pgErrorCode(error) === '23505') throw staleDiary();
      throw error;
    }
  });
  return buildDiary(db.orm, { id: actor.userId, name: actor.displayName }, date, now);
}
