/**
 * What W1, W3 and W4 share: the raw reference server in its own process, the seeded actors they act as, the checks
 * that the work was really done (rows counted after each round; a mismatch throws), and the clean-up that keeps
 * `wangge_scale` steady across runs.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { one, rows, sql, type Executor } from '../../apps/server/src/platform/db.ts';
import type { RawCaseBody } from './raw-server.ts';
import type { Reporter } from './requests.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const requestsModule = path.join(here, 'requests.ts');

export interface RawServer {
  baseUrl: string;
  close(): Promise<void>;
}

/** Forks raw-server.ts with a pg Pool of `poolSize` on `databaseUrl`; resolves once it listens. */
export async function startRawServer(databaseUrl: string, poolSize = 10): Promise<RawServer> {
  const child = fork(path.join(here, 'raw-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, WANGGE_RAW_API_URL: databaseUrl, WANGGE_RAW_API_POOL: String(poolSize) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the raw server exited with ${code}`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

/** The highest outbox id now: rows a round writes come after it. */
export async function outboxMark(ex: Executor): Promise<number> {
  return (await one<{ n: number }>(ex, sql`select coalesce(max(id), 0)::bigint::float8 as n from outbox`))!.n;
}

const idArray = (ids: readonly number[]) => `{${ids.join(',')}}`;

/**
 * W1's check after a round: the cases `reporterIds` reported in [from, to], each with its `report` timeline row and
 * its `case.created` outbox message. Throws unless there are exactly `expected` (the 2xx answers) of each. Returns
 * the cases' ids (for the clean-up).
 */
export async function checkCreated(
  ex: Executor,
  options: { reporterIds: number[]; from: Date; to: Date; outboxAfter: number; expected: number },
): Promise<number[]> {
  const cases = await rows<{ id: number }>(
    ex,
    sql`select id::int as id from grid_case
        where reporter_user_id = any(${idArray(options.reporterIds)}::bigint[])
          and reported_at >= ${options.from.toISOString()} and reported_at <= ${options.to.toISOString()}
          and status = 'reported'`,
  );
  const ids = cases.map((c) => c.id);
  const counts = await one<{ timeline: number; outbox: number }>(
    ex,
    sql`select
          (select count(*)::int from case_timeline t
            where t.case_id = any(${idArray(ids)}::bigint[]) and t.action = 'report') as timeline,
          (select count(distinct (o.payload ->> 'caseId'))::int from outbox o
            where o.id > ${options.outboxAfter} and o.topic = 'case.created'
              and (o.payload ->> 'caseId')::bigint = any(${idArray(ids)}::bigint[])) as outbox`,
  );
  if (ids.length !== options.expected || counts!.timeline !== ids.length || counts!.outbox !== ids.length)
    throw new Error(
      `created-case check: ${options.expected} answered 2xx but ${ids.length} cases, ` +
        `${counts!.timeline} timeline rows, ${counts!.outbox} outbox messages were written`,
    );
  return ids;
}

/**
 * W4's check after a round: every case in `ids` is filed, with its `file` timeline row written since `from` and its
 * `case.filed` outbox message. Throws naming how many are missing.
 */
export async function checkFiled(
  ex: Executor,
  options: { ids: number[]; from: Date; outboxAfter: number },
): Promise<void> {
  const ids = idArray(options.ids);
  const counts = await one<{ filed: number; timeline: number; outbox: number }>(
    ex,
    sql`select
          (select count(*)::int from grid_case where id = any(${ids}::bigint[]) and status = 'filed') as filed,
          (select count(distinct case_id)::int from case_timeline
            where case_id = any(${ids}::bigint[]) and action = 'file' and to_status = 'filed'
              and at >= ${options.from.toISOString()}) as timeline,
          (select count(distinct (o.payload ->> 'caseId'))::int from outbox o
            where o.id > ${options.outboxAfter} and o.topic = 'case.filed'
              and (o.payload ->> 'caseId')::bigint = any(${ids}::bigint[])) as outbox`,
  );
  const { filed, timeline, outbox } = counts!;
  const n = options.ids.length;
  if (filed !== n || timeline !== n || outbox !== n)
    throw new Error(
      `transition check: of ${n} cases ${filed} are filed, ${timeline} have the file timeline row, ` +
        `${outbox} the case.filed message`,
    );
}

/** Deletes benchmark cases with their timeline (cascade) and their outbox messages written after `outboxAfter`. */
export async function deleteCases(ex: Executor, ids: readonly number[], outboxAfter: number): Promise<void> {
  for (let at = 0; at < ids.length; at += 5000) {
    const chunk = idArray(ids.slice(at, at + 5000));
    await ex.execute(sql`delete from outbox where id > ${outboxAfter}
      and (payload ->> 'caseId')::bigint = any(${chunk}::bigint[])`);
    await ex.execute(sql`delete from case_department where case_id = any(${chunk}::bigint[])`);
    await ex.execute(sql`delete from grid_case where id = any(${chunk}::bigint[])`);
  }
}

/** The compared columns of a created case: what both sides must write alike (W1's sameness check). */
export async function caseRow(ex: Executor, id: number): Promise<Record<string, unknown> | undefined> {
  return one<Record<string, unknown>>(
    ex,
    sql`select title, description, category_code, channel, urgent, status, ST_AsText(location) as location,
          grid_code, region_path, owner_region_code, owner_region_path, owner_level,
          reporter_user_id::int as reporter, reporter_name, extra,
          (select count(*)::int from case_timeline t where t.case_id = c.id and t.action = 'report') as timeline
        from grid_case c where id = ${id}`,
  );
}

/** A grid and the regions that own its cases: the grid-worker channel's owner is the community. */
export async function placeOf(ex: Executor, gridCode: string): Promise<RawCaseBody['place']> {
  const found = await rows<{ code: string; level: string; path: string }>(
    ex,
    sql`select a.code, a.level, a.path from region g join region a
          on g.path = a.path or g.path like a.path || '.%'
        where g.code = ${gridCode}`,
  );
  const at = (level: string) => found.find((r) => r.level === level);
  const grid = at('grid');
  const owner = at('community') ?? at('street');
  const district = at('district');
  if (!grid || !owner || !district) throw new Error(`grid ${gridCode}: no grid, community or district found`);
  return {
    gridCode: grid.code,
    gridPath: grid.path,
    ownerCode: owner.code,
    ownerPath: owner.path,
    ownerLevel: owner.level,
    districtCode: district.code,
  };
}

/** `count` points inside a grid's current boundary (PostGIS, seeded: the same points every run). */
export async function pointsIn(ex: Executor, gridCode: string, count: number): Promise<[number, number][]> {
  const found = await rows<{ lng: number; lat: number }>(
    ex,
    sql`select ST_X(p.geom) as lng, ST_Y(p.geom) as lat
        from region_boundary b, ST_Dump(ST_GeneratePoints(b.geom, ${count}, 7)) p
        where b.region_code = ${gridCode} and b.valid_to is null`,
  );
  return found.map((p) => [Number(p.lng), Number(p.lat)]);
}

/** A grid worker able to report in `gridCode`: who, the grid's place and points inside it. */
export async function reporterFor(
  ex: Executor,
  options: { username: string; token: string; gridCode: string; points?: number },
): Promise<Reporter> {
  const user = await one<{ id: number; display_name: string; role: string }>(
    ex,
    sql`select u.id::int as id, u.display_name, r.role from app_user u join user_role r on r.user_id = u.id
        where u.username = ${options.username} and r.region_code = ${options.gridCode}
          and r.role in ('grid_worker', 'grid_leader') order by r.role desc limit 1`,
  );
  if (!user) throw new Error(`${options.username} reports for no grid ${options.gridCode}`);
  return {
    token: options.token,
    userId: user.id,
    role: user.role,
    name: user.display_name,
    place: await placeOf(ex, options.gridCode),
    points: await pointsIn(ex, options.gridCode, options.points ?? 20),
  };
}

/**
 * W4's cases: `count` hotline work orders reported in grids of a street and owned by its centre (status `reported`,
 * where 立案 applies), written directly. Returns their ids.
 */
export async function makeReportedCases(
  ex: Executor,
  options: { streetCode: string; count: number; tag: string },
): Promise<number[]> {
  const made = await rows<{ id: number }>(
    ex,
    sql`with street as (select code, path from region where code = ${options.streetCode}),
        grids as (
          select g.code, g.path, ST_PointOnSurface(b.geom) as point, row_number() over (order by g.code) - 1 as n
          from street s join region g on g.path like s.path || '.%' and g.level = 'grid'
          join region_boundary b on b.region_code = g.code and b.valid_to is null),
        many as (select count(*) as n from grids)
        insert into grid_case (client_id, serial, title, description, category_code, channel, urgent, status,
          location, grid_code, region_path, owner_region_code, owner_region_path, owner_level, reporter_name,
          hotline, extra, reported_at, created_at, updated_at)
        select gen_random_uuid(), ${`BENCH-${options.tag}-`} || gen_random_uuid(), '占道经营影响通行', '市民来电反映路口占道经营',
          '0104', 'hotline', false, 'reported', g.point, g.code, g.path, s.code, s.path, 'street', '市民',
          '{"callerName":"市民"}'::jsonb, '{}'::jsonb, now(), now(), now()
        from generate_series(0, ${options.count - 1}) i cross join street s cross join many
        join grids g on g.n = i % many.n
        returning id::int as id`,
  );
  if (made.length !== options.count)
    throw new Error(
      `street ${options.streetCode}: made ${made.length} of ${options.count} cases (no grids?)`,
    );
  return made.map((m) => m.id);
}
