import { terminalCaseStatuses } from '@wangge/contracts';
import type { Clock } from '../../platform/clock.ts';
import { one, sql, type Database, type SQL } from '../../platform/db.ts';
import { wakeRealtime } from '../../platform/realtime.ts';

/**
 * The deadline scanner (期限扫描): an idempotent job that acts on the stored deadline columns.
 * (a) marks overdue (超期) cases, (b) escalates a dispatch nobody accepted (报到) in time to the next command level
 * up (自动上报), (c) raises supervision (督办): a yellow card (黄牌) once overdue, a red card (红牌) at twice the limit.
 * Running it twice acts once. Every change bumps `version` (so a racing transition gets its 409), appends a timeline
 * row whose to_status is the case's status (the timeline still replays to the current state) and an outbox message.
 */

export interface SupervisionPolicy {
  /** Yellow card once the time used reaches this multiple of the stage's limit (1 = when overdue). */
  yellowAtFactor: number;
  /** Red card once the time used reaches this multiple of the stage's limit. */
  redAtFactor: number;
}

export const defaultSupervisionPolicy: SupervisionPolicy = { yellowAtFactor: 1, redAtFactor: 2 };

export interface ScanResult {
  overdue: number;
  escalated: number;
  supervised: number;
}

const batchDefault = 500;
const scannerLockKey = 7263010;

/** Literal (not bound) so the planner matches the partial due index `grid_case_due` on any plan. */
const terminal = sql.raw(terminalCaseStatuses.map((status) => `'${status}'`).join(', '));

/**
 * When the current stage started: the dispatch for an unaccepted dispatch, the acceptance while it is handled,
 * the response while it is inspected, else the filing (falling back to the report).
 */
const stageStart = sql`coalesce(case
    when c.status = 'dispatched' then c.dispatched_at
    when c.status in ('in_progress', 'suspended') then c.accepted_at
    when c.status in ('responded', 'inspecting') then coalesce(c.responded_at, c.accepted_at)
  end, c.filed_at, c.reported_at)`;

/** Runs one batch after another (each in its own transaction) until a batch picks nothing. */
async function inBatches(db: Database, batch: (after: number) => SQL): Promise<number> {
  let after = 0;
  let acted = 0;
  for (;;) {
    const result = await db.orm.transaction(async (tx) => {
      // Scanners in several processes take turns batch by batch; each batch then reads what the last one committed.
      await tx.execute(sql`select pg_advisory_xact_lock(${scannerLockKey})`);
      return one<{ last_id: number | null; acted: number }>(tx, batch(after));
    });
    if (!result || result.last_id === null) return acted;
    acted += result.acted;
    after = result.last_id;
  }
}

export async function scanDeadlines(options: {
  db: Database;
  clock: Clock;
  policy?: Partial<SupervisionPolicy>;
  batchSize?: number;
}): Promise<ScanResult> {
  const { db } = options;
  const policy = { ...defaultSupervisionPolicy, ...options.policy };
  const size = options.batchSize ?? batchDefault;
  const now = options.clock.now().toISOString();

  // (a) overdue: not finished, past its due time, not yet marked. A suspended case has no due time (the clock
  // stops); the status test keeps it so even if a row were written with one.
  const overdue = await inBatches(
    db,
    (after) => sql`with picked as materialized (
        select c.id from grid_case c
        where c.due_at < ${now}::timestamptz and not c.overdue and c.status not in (${terminal})
          and c.status <> 'suspended' and c.id > ${after}
        order by c.id limit ${size}
        for update
      ), marked as (
        update grid_case c set overdue = true, overdue_since = c.due_at, version = c.version + 1,
          updated_at = ${now}::timestamptz
        from picked
        where c.id = picked.id and not c.overdue and c.due_at < ${now}::timestamptz and c.status not in (${terminal})
        returning c.id, c.serial, c.status, c.due_at, c.owner_region_code, c.lead_department_id
      ), timeline as (
        insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status, data)
        select m.id, ${now}::timestamptz, null, 'system', 'overdue', m.status, m.status,
          jsonb_build_object('dueAt', m.due_at)
        from marked m order by m.id
      ), messages as (
        insert into outbox (topic, payload, created_at, available_at)
        select 'case.overdue', jsonb_build_object('caseId', m.id, 'serial', m.serial, 'status', m.status,
            'dueAt', m.due_at, 'ownerRegionCode', m.owner_region_code, 'leadDepartmentId', m.lead_department_id),
          ${now}::timestamptz, ${now}::timestamptz
        from marked m order by m.id
      )
      select (select max(id)::int from picked) as last_id, (select count(*)::int from marked) as acted`,
  );

  // (b) a dispatch not accepted in time goes one command level up (the owner's parent region; the city stops it),
  // once per dispatch.
  const notEscalatedSinceDispatch = sql`not exists (
      select 1 from case_timeline t
      where t.case_id = c.id and t.action = 'auto_escalated' and t.at >= coalesce(c.dispatched_at, c.reported_at))`;
  const escalated = await inBatches(
    db,
    (after) => sql`with picked as materialized (
        select c.id from grid_case c
        where c.status = 'dispatched' and c.accept_due_at < ${now}::timestamptz and c.owner_level <> 'city'
          and ${notEscalatedSinceDispatch} and c.id > ${after}
        order by c.id limit ${size}
        for update
      ), moved as (
        update grid_case c set owner_region_code = p.code, owner_region_path = p.path, owner_level = p.level,
          version = c.version + 1, updated_at = ${now}::timestamptz
        from picked, region o, region p
        where c.id = picked.id and o.code = c.owner_region_code and p.code = o.parent_code
          and p.level in ('community', 'street', 'district', 'city')
          and c.status = 'dispatched' and c.accept_due_at < ${now}::timestamptz and ${notEscalatedSinceDispatch}
        returning c.id, c.serial, c.status, c.accept_due_at, o.code as from_code, o.level as from_level,
          p.code as to_code, p.level as to_level
      ), timeline as (
        insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status, comment, data)
        select m.id, ${now}::timestamptz, null, 'system', 'auto_escalated', m.status, m.status,
          '超时未报到,自动上报上一级 (not accepted in time; escalated one level up)',
          jsonb_build_object('fromRegion', m.from_code, 'fromLevel', m.from_level, 'toRegion', m.to_code,
            'toLevel', m.to_level, 'acceptDueAt', m.accept_due_at)
        from moved m order by m.id
      ), messages as (
        insert into outbox (topic, payload, created_at, available_at)
        select 'case.escalated', jsonb_build_object('caseId', m.id, 'serial', m.serial, 'status', m.status,
            'fromRegionCode', m.from_code, 'ownerRegionCode', m.to_code, 'ownerLevel', m.to_level, 'automatic', true),
          ${now}::timestamptz, ${now}::timestamptz
        from moved m order by m.id
      )
      select (select max(id)::int from picked) as last_id, (select count(*)::int from moved) as acted`,
  );

  // (c) supervision from the time used on the current stage; only ever raised.
  const used = sql`extract(epoch from (${now}::timestamptz - ${stageStart}))`;
  const limit = sql`extract(epoch from (c.due_at - ${stageStart}))`;
  const target = sql`case
      when ${limit} > 0 and ${used} >= ${policy.redAtFactor}::float8 * ${limit} then 'red'
      when ${used} >= ${policy.yellowAtFactor}::float8 * ${limit} then 'yellow'
    end`;
  const rank = (level: SQL) =>
    sql`(case ${level} when 'normal' then 1 when 'yellow' then 2 when 'red' then 3 else 0 end)`;
  // With both factors ≥ 1 a card needs the case to be past due, which the due index finds fast.
  const pastDue =
    Math.min(policy.yellowAtFactor, policy.redAtFactor) >= 1
      ? sql`c.due_at <= ${now}::timestamptz`
      : sql`true`;
  const supervised = await inBatches(
    db,
    (after) => sql`with picked as materialized (
        select c.id from grid_case c
        where c.due_at is not null and ${pastDue} and c.status not in (${terminal}) and c.supervision <> 'red'
          and c.id > ${after}
        order by c.id limit ${size}
        for update
      ), targeted as materialized (
        select c.id, ${target} as level from grid_case c join picked on picked.id = c.id
        where c.status not in (${terminal}) and c.due_at is not null
      ), raised as (
        update grid_case c set supervision = t.level, version = c.version + 1, updated_at = ${now}::timestamptz
        from targeted t
        where c.id = t.id and t.level is not null and ${rank(sql`t.level`)} > ${rank(sql`c.supervision`)}
        returning c.id, c.serial, c.status, c.supervision, c.due_at, c.owner_region_code, c.lead_department_id
      ), timeline as (
        insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status, data)
        select m.id, ${now}::timestamptz, null, 'system', 'supervised', m.status, m.status,
          jsonb_build_object('level', m.supervision, 'by', 'system')
        from raised m order by m.id
      ), messages as (
        insert into outbox (topic, payload, created_at, available_at)
        select 'case.supervised', jsonb_build_object('caseId', m.id, 'serial', m.serial, 'status', m.status,
            'level', m.supervision, 'by', 'system', 'ownerRegionCode', m.owner_region_code,
            'leadDepartmentId', m.lead_department_id),
          ${now}::timestamptz, ${now}::timestamptz
        from raised m order by m.id
      )
      select (select max(id)::int from picked) as last_id, (select count(*)::int from raised) as acted`,
  );

  // Committed (each batch in its own transaction): realtime streams in this process look now.
  if (overdue + escalated + supervised > 0) wakeRealtime();
  return { overdue, escalated, supervised };
}
