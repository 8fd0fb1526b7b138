import type { Poll, StaffPoll } from '@wangge/contracts';
import { can, isInside, requireAccess, scopePaths, type Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { appendAudit } from '../../platform/audit.ts';
import { DomainError } from '../../platform/errors.ts';
import { overlaps, overlapsAny } from '../notice/notice.scope.ts';
import { findRegion } from '../region/index.ts';
import type { ResidentSession } from './resident.service.ts';

/**
 * Polls (民意征集): a centre asks the residents of an area; each verified phone votes once per poll (unique by poll
 * and the phone's keyed hash). Results — counts per option — are public at all times, on the grid pages of the area.
 * A poll is open until `open_until`, or until a centre closes it earlier (结束投票, once). Centres see the polls whose
 * area overlaps their `notice.send` scope (a street centre sees its street's and its communities' polls, and the
 * city's), with the counts; another street's poll is 404.
 */

interface PollRow {
  id: number;
  question: string;
  options: string[];
  region_code: string;
  region_path: string;
  open_until: Date | string;
  closed_at: Date | string | null;
  created_by: number;
  counts: { option_index: number; n: number }[];
}

const pollColumns = sql`p.id::int as id, p.question, p.options, p.region_code, p.region_path, p.open_until,
  p.closed_at, p.created_by::int as created_by,
  coalesce((select json_agg(json_build_object('option_index', v.option_index, 'n', v.n))
    from (select option_index, count(*)::int as n from poll_vote where poll_id = p.id group by option_index) v),
    '[]'::json) as counts`;

/** Open: not closed by a centre and before its deadline. */
function isOpen(row: Pick<PollRow, 'open_until' | 'closed_at'>, now: Date): boolean {
  return row.closed_at === null && new Date(row.open_until) > now;
}

/** The SQL form of `isOpen` for `poll p`. */
function openAt(now: Date) {
  return sql`(p.closed_at is null and p.open_until > ${now.toISOString()})`;
}

export function presentPoll(row: PollRow, now: Date, created?: boolean): Poll {
  const counts = row.options.map(() => 0);
  for (const c of row.counts) if (c.option_index < counts.length) counts[c.option_index] = Number(c.n);
  return {
    id: row.id,
    question: row.question,
    options: row.options,
    regionCode: row.region_code,
    openUntil: new Date(row.open_until).toISOString(),
    open: isOpen(row, now),
    counts,
    total: counts.reduce((a, b) => a + b, 0),
    ...(created === undefined ? {} : { created }),
  };
}

async function loadPoll(ex: Executor, id: number): Promise<PollRow | undefined> {
  return one<PollRow>(ex, sql`select ${pollColumns} from poll p where p.id = ${id}`);
}

/** Polls whose area contains this grid path, open ones first. */
export async function pollsForGrid(ex: Executor, gridPath: string, now: Date): Promise<Poll[]> {
  const parts = gridPath.split('.');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('.'));
  const found = await rows<PollRow>(
    ex,
    sql`select ${pollColumns} from poll p where p.region_path in (${sql.join(
      prefixes.map((p) => sql`${p}`),
      sql`, `,
    )}) order by ${openAt(now)} desc, p.open_until desc limit 20`,
  );
  return found.map((row) => presentPoll(row, now));
}

export async function createPoll(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  input: { clientId: string; question: string; options: string[]; regionCode: string; openUntil: string };
}): Promise<Poll> {
  const { db, clock, actor, input } = options;
  const now = clock.now();
  const replay = async (): Promise<Poll | undefined> => {
    const found = await one<{ id: number; created_by: number }>(
      db.orm,
      sql`select id::int as id, created_by::int as created_by from poll where client_id = ${input.clientId}`,
    );
    if (!found) return undefined;
    if (found.created_by !== actor.userId)
      throw new DomainError('CONFLICT', '该客户端编号已被使用 (clientId already used)', [
        { field: 'clientId', message: 'already used' },
      ]);
    return presentPoll((await loadPoll(db.orm, found.id))!, now, false);
  };
  const first = await replay();
  if (first) return first;
  const region = await findRegion(db.orm, input.regionCode);
  if (!region) throw new DomainError('NOT_FOUND', '未找到区域 (region not found)');
  requireAccess(actor, 'notice.send', { regionPath: region.path });
  if (new Date(input.openUntil) <= now)
    throw new DomainError('VALIDATION_FAILED', 'openUntil: 截止时间须晚于现在 (must be in the future)', [
      { field: 'openUntil', message: 'must be in the future' },
    ]);
  try {
    const row = await db.orm.transaction(async (tx) => {
      const inserted = await one<{ id: number }>(
        tx,
        sql`insert into poll (client_id, question, options, region_code, region_path, open_until, created_by,
            created_at)
          values (${input.clientId}, ${input.question}, ${JSON.stringify(input.options)}::jsonb, ${region.code},
            ${region.path}, ${input.openUntil}, ${actor.userId}, ${now.toISOString()})
          returning id::int as id`,
      );
      await appendAudit(
        tx,
        {
          actorId: actor.userId,
          actorRole: null,
          action: 'poll.created',
          objectType: 'poll',
          objectId: String(inserted!.id),
          result: 'success',
          detail: { regionCode: region.code },
        },
        now,
      );
      return inserted!;
    });
    return presentPoll((await loadPoll(db.orm, row.id))!, now, true);
  } catch (error) {
    if (pgErrorCode(error) === '23505') {
      const again = await replay();
      if (again) return again;
    }
    throw error;
  }
}

export async function getPublicPoll(options: { db: Database; clock: Clock; pollId: number }): Promise<Poll> {
  const row = await loadPoll(options.db.orm, options.pollId);
  if (!row) throw new DomainError('NOT_FOUND', '未找到投票 (poll not found)');
  return presentPoll(row, options.clock.now());
}

/** 投票: once per verified phone and poll (a second vote: 409), from a grid inside the poll's area, while open. */
export async function votePoll(options: {
  db: Database;
  clock: Clock;
  session: ResidentSession;
  pollId: number;
  option: number;
  gridCode: string;
}): Promise<Poll> {
  const { db, clock, session, pollId, option, gridCode } = options;
  const now = clock.now();
  const row = await loadPoll(db.orm, pollId);
  if (!row) throw new DomainError('NOT_FOUND', '未找到投票 (poll not found)');
  const grid = await findRegion(db.orm, gridCode);
  if (!grid || grid.level !== 'grid' || !isInside(row.region_path, grid.path))
    throw new DomainError('NOT_FOUND', '未找到投票 (poll not found)');
  if (!isOpen(row, now)) throw new DomainError('CONFLICT', '投票已截止 (the poll is closed)');
  if (option >= row.options.length)
    throw new DomainError('VALIDATION_FAILED', 'option: 没有这个选项 (no such option)', [
      { field: 'option', message: 'no such option' },
    ]);
  try {
    await db.orm.execute(sql`insert into poll_vote (poll_id, phone_hash, option_index, grid_code, created_at)
      values (${pollId}, ${session.phoneHash}, ${option}, ${grid.code}, ${now.toISOString()})`);
  } catch (error) {
    if (pgErrorCode(error) === '23505')
      throw new DomainError(
        'CONFLICT',
        '该手机号已投过票,每人限投一次 (this phone has already voted in this poll)',
      );
    throw error;
  }
  return presentPoll((await loadPoll(db.orm, pollId))!, now);
}

// ---------------------------------------------------------------------------------------------------------------
// The centres' side: list, results, close

interface StaffPollRow extends PollRow {
  region_name: string;
  created_by_name: string;
  created_at: Date | string;
}

const staffColumns = sql`${pollColumns}, r.name as region_name, u.display_name as created_by_name, p.created_at`;
const staffFrom = sql`poll p join region r on r.code = p.region_code join app_user u on u.id = p.created_by`;

function presentStaffPoll(row: StaffPollRow, now: Date, actor: Actor): StaffPoll {
  return {
    ...presentPoll(row, now),
    canClose: isOpen(row, now) && can(actor, 'notice.send', { regionPath: row.region_path }),
    regionName: row.region_name,
    createdBy: row.created_by_name,
    createdAt: new Date(row.created_at).toISOString(),
    closedAt: row.closed_at === null ? null : new Date(row.closed_at).toISOString(),
  };
}

async function loadStaffPoll(ex: Executor, id: number, forUpdate = false): Promise<StaffPollRow | undefined> {
  return one<StaffPollRow>(
    ex,
    sql`select ${staffColumns} from ${staffFrom} where p.id = ${id} ${forUpdate ? sql`for update of p` : sql``}`,
  );
}

/** The poll if the actor's `notice.send` grants overlap its area; else 404 (never a hint it exists). */
async function visiblePoll(ex: Executor, actor: Actor, id: number, forUpdate = false): Promise<StaffPollRow> {
  const row = await loadStaffPoll(ex, id, forUpdate);
  if (!row || !overlaps(actor, 'notice.send', row.region_path))
    throw new DomainError('NOT_FOUND', '未找到投票 (poll not found)');
  return row;
}

/** Polls whose area overlaps the caller's scope, newest first (at most 200). */
export async function listPolls(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  status: 'open' | 'closed' | 'all';
}): Promise<StaffPoll[]> {
  const { db, clock, actor, status } = options;
  const now = clock.now();
  const filter =
    status === 'all' ? sql`` : status === 'open' ? sql`and ${openAt(now)}` : sql`and not ${openAt(now)}`;
  const found = await rows<StaffPollRow>(
    db.orm,
    sql`select ${staffColumns} from ${staffFrom}
        where ${overlapsAny(sql`p.region_path`, scopePaths(actor, 'notice.send'))} ${filter}
        order by p.created_at desc, p.id desc limit 200`,
  );
  return found.map((row) => presentStaffPoll(row, now, actor));
}

/** One poll with its counts per option and total. */
export async function getPoll(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  pollId: number;
}): Promise<StaffPoll> {
  const row = await visiblePoll(options.db.orm, options.actor, options.pollId);
  return presentStaffPoll(row, options.clock.now(), options.actor);
}

/**
 * 结束投票: a centre over the poll's area closes it before its deadline, once (closed or past due: 409); a centre
 * below the area sees the poll but may not close it (403).
 */
export async function closePoll(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  pollId: number;
}): Promise<StaffPoll> {
  const { db, clock, actor, pollId } = options;
  const now = clock.now();
  await db.orm.transaction(async (tx) => {
    const row = await visiblePoll(tx, actor, pollId, true);
    // visible from below (a street centre sees the city's polls) but only the centres over the area close it
    if (!can(actor, 'notice.send', { regionPath: row.region_path }))
      throw new DomainError('FORBIDDEN', '只能结束本辖区的投票 (only polls of your own area can be closed)');
    if (!isOpen(row, now))
      throw new DomainError('CONFLICT', '投票已结束,不能重复结束 (the poll is already closed)');
    await tx.execute(
      sql`update poll set closed_at = ${now.toISOString()}, closed_by = ${actor.userId} where id = ${pollId}`,
    );
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'poll.closed',
        objectType: 'poll',
        objectId: String(pollId),
        result: 'success',
        detail: { regionCode: row.region_code },
      },
      now,
    );
  });
  return presentStaffPoll((await loadStaffPoll(db.orm, pollId))!, now, actor);
}
