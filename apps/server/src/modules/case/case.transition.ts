import {
  caseActionInputSchemas,
  type CaseAction,
  type CaseActionInput,
  type CaseDetail,
  type CaseStatus,
} from '@wangge/contracts';
import type { Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError, type FieldError } from '../../platform/errors.ts';
import { enqueue } from '../../platform/outbox.ts';
import { wakeRealtime } from '../../platform/realtime.ts';
import { getWorkCalendar } from '../calendar/calendar.service.ts';
import { stageDue, type CaseStage } from '../calendar/deadline.ts';
import { getItem, resolveDepartment } from '../taxonomy/taxonomy.service.ts';
import { departmentCovers, dispatchDeadlines } from './case.dispatch.ts';
import { attachmentsOf } from './case.photos.ts';
import { canSeeCase, isReporter, relationGrant, requireCaseAccess } from './case.policy.ts';
import { getCaseDetail, loadCase, snapshotOf, type CaseRow, type LoadedCase } from './case.read.ts';
import {
  checkTransition,
  defaultWorkflowSettings,
  escalationTarget,
  openStatuses,
  skipLevelAllowed,
  targetOf,
  transitionOf,
  type CaseRelation,
  type WorkflowSettings,
} from './case.workflow.ts';

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

/** Parses an action's body with its schema; field errors as `body.<path>: problem`. */
export function parseActionInput<A extends CaseAction>(action: A, body: unknown): CaseActionInput<A> {
  const parsed = caseActionInputSchemas[action].safeParse(body ?? {});
  if (parsed.success) return parsed.data as CaseActionInput<A>;
  const fields: FieldError[] = parsed.error.issues.map((issue) => ({
    field: ['body', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new DomainError(
    'VALIDATION_FAILED',
    fields.map((f) => `${f.field}: ${f.message}`).join('; '),
    fields,
  );
}

/** The deadline that applies in a status (the current stage's due). */
function currentDue(
  status: CaseStatus,
  due: { accept: Date | null; handle: Date | null; inspect: Date | null; current: Date | null },
): Date | null {
  switch (status) {
    case 'reported':
    case 'verifying':
      return due.current;
    case 'filed':
    case 'in_progress':
      return due.handle;
    case 'dispatched':
      return due.accept;
    case 'responded':
    case 'inspecting':
      return due.inspect;
    case 'suspended': // the clock stops while suspended
    case 'not_filed':
    case 'duplicate':
    case 'closed':
    case 'evaluated':
      return null;
  }
}

interface Effects {
  /** grid_case columns to set, besides status, due_at, version and updated_at */
  set: Record<string, string | number | boolean | null>;
  /** timeline comment and structured data */
  comment: string | null;
  data: Record<string, unknown>;
  /** statements to run after the case update (case_department rows) */
  after: SQL[];
  /** a deadline computed now: whether it ran past the known calendar */
  beyondCalendar?: boolean;
}

async function due(
  ex: Executor,
  row: CaseRow,
  stage: CaseStage,
  from: Date,
  effects: Effects,
  categoryCode = row.category_code,
): Promise<Date> {
  const result = await stageDue({ ex, categoryCode, level: row.owner_level, stage, from });
  effects.beyondCalendar = (effects.beyondCalendar ?? false) || result.beyondCalendar;
  return result.dueAt;
}

const dateOf = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/**
 * May the actor take this action on the case now? The checks `applyAction` makes, in its order: not visible → 404;
 * stale `expectedVersion` → 409; wrong state → 409; not theirs to act on → 403; guard → 409. Returns the relation
 * and role the actor acts in.
 */
export function requireActionAllowed(options: {
  actor: Actor;
  loaded: LoadedCase | undefined;
  action: CaseAction;
  settings: WorkflowSettings;
  expectedVersion?: number | undefined;
}): { relation: CaseRelation; role: string } {
  const { actor, loaded, action, settings } = options;
  if (!loaded || !canSeeCase(actor, loaded.facts)) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  const { row } = loaded;
  if (options.expectedVersion !== undefined && options.expectedVersion !== row.version)
    throw new DomainError(
      'CASE_VERSION_CONFLICT',
      `案件已被他人更新 (the case changed: version ${row.version}, expected ${options.expectedVersion})`,
      undefined,
      { version: row.version, status: row.status },
    );
  const context = { fixOnSpotAllowed: row.fix_on_spot, settings };
  const state = checkTransition(action, { ...snapshotOf(row) }, context);
  if (!state.ok && state.kind === 'state')
    throw new DomainError('CASE_INVALID_TRANSITION', state.reason, undefined, { status: row.status });
  const acting = requireCaseAccess(actor, action, loaded.facts)!;
  if (!state.ok)
    throw new DomainError('CASE_INVALID_TRANSITION', state.reason, undefined, { status: row.status });
  return acting;
}

/**
 * Applies one workflow verb to a case, in one transaction: lock the case, check visibility (404), version and
 * state (409), who (403), guard and input (409 / 400); update it, append the timeline, enqueue the event.
 * The only writer of `grid_case.status`.
 */
export async function applyAction(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  caseId: number;
  action: CaseAction;
  input: unknown;
  expectedVersion?: number | undefined;
  requestId?: string | null;
  settings?: WorkflowSettings;
}): Promise<CaseDetail> {
  const { db, clock, actor, caseId, action, requestId } = options;
  const settings = options.settings ?? defaultWorkflowSettings;
  const input = parseActionInput(action, options.input);
  const now = clock.now();
  const nowIso = now.toISOString();

  await db.orm.transaction(async (tx) => {
    const found = await loadCase(tx, caseId, { forUpdate: true });
    const acting = requireActionAllowed({
      actor,
      loaded: found,
      action,
      settings,
      expectedVersion: options.expectedVersion,
    });
    const loaded = found!; // requireActionAllowed answered 404 when it is missing
    const { row } = loaded;

    const to = targetOf(action, row.status, input as { result?: unknown });
    const effects = await effectsOf({ tx, actor, loaded, action, input, now, to });
    const attachments = await attachmentsOf(
      tx,
      caseId,
      (input as { attachments?: number[] }).attachments ?? [],
    );

    const handle =
      'handle_due_at' in effects.set ? dateOf(effects.set.handle_due_at as string | null) : row.handle_due_at;
    const accept =
      'accept_due_at' in effects.set ? dateOf(effects.set.accept_due_at as string | null) : row.accept_due_at;
    const inspect =
      'inspect_due_at' in effects.set
        ? dateOf(effects.set.inspect_due_at as string | null)
        : row.inspect_due_at;
    const dueAt = currentDue(to, { accept, handle, inspect, current: row.due_at });
    const dueChanged = (dueAt?.getTime() ?? null) !== (row.due_at ? new Date(row.due_at).getTime() : null);
    const set: Record<string, string | number | boolean | null> = {
      ...effects.set,
      status: to,
      due_at: dueAt ? dueAt.toISOString() : null,
      updated_at: nowIso,
    };
    // A new deadline in the future (or none) clears the overdue mark; the scanner sets it again when due.
    if (dueChanged && (dueAt === null || dueAt > now)) {
      set.overdue = false;
      set.overdue_since = null;
    }
    if (effects.beyondCalendar !== undefined) set.deadline_beyond_calendar = effects.beyondCalendar;
    const assignments = Object.entries(set).map(
      ([column, value]) => sql`${sql.identifier(column)} = ${value}`,
    );
    await tx.execute(sql`update grid_case set ${sql.join(assignments, sql`, `)}, version = version + 1
      where id = ${caseId}`);
    for (const statement of effects.after) await tx.execute(statement);

    await tx.execute(sql`insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status,
        comment, data, attachments)
      values (${caseId}, ${nowIso}, ${actor.userId}, ${acting.role}, ${action}, ${row.status}, ${to},
        ${effects.comment}, ${JSON.stringify(effects.data)}::jsonb, ${JSON.stringify(attachments)}::jsonb)`);

    const owner = (set.owner_region_code as string | undefined) ?? row.owner_region_code;
    const lead =
      'lead_department_id' in set ? (set.lead_department_id as number | null) : row.lead_department_id;
    await enqueue(
      tx,
      {
        topic: transitionOf(action).event,
        payload: {
          caseId,
          serial: row.serial,
          action,
          from: row.status,
          to,
          actorId: actor.userId,
          gridCode: row.grid_code,
          ownerRegionCode: owner,
          leadDepartmentId: lead,
          ...('departmentIds' in effects.data ? { departmentIds: effects.data.departmentIds } : {}),
        },
      },
      now,
    );
    // Ids and codes only: the comment and the result stay in the case timeline.
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: acting.role,
        action: `case.${action}`,
        objectType: 'case',
        objectId: String(caseId),
        result: 'success',
        requestId: requestId ?? null,
        detail: { from: row.status, to },
      },
      now,
    );
  });
  // Committed: realtime streams in this process look now rather than at their next poll.
  wakeRealtime();

  return getCaseDetail({ db, actor, caseId, settings });
}

interface EffectOptions {
  tx: Executor;
  actor: Actor;
  loaded: LoadedCase;
  action: CaseAction;
  input: unknown;
  now: Date;
  to: CaseStatus;
}

/** What each verb changes besides the status. Input-dependent rules (400) are checked here. */
async function effectsOf(options: EffectOptions): Promise<Effects> {
  const { tx, actor, loaded, action, now } = options;
  const { row } = loaded;
  const caseId = row.id;
  const nowIso = now.toISOString();
  const effects: Effects = { set: {}, comment: null, data: {}, after: [] };
  const base = options.input as { comment?: string };
  effects.comment = base.comment ?? null;
  const withReason = (reason: string) => {
    effects.comment = base.comment ? `${reason}\n${base.comment}` : reason;
    effects.data.reason = reason;
  };
  const setDepartmentStatus = (departmentId: number | null, status: string) => {
    if (departmentId !== null)
      effects.after.push(sql`update case_department set status = ${status}
        where case_id = ${caseId} and department_id = ${departmentId}`);
  };

  switch (action) {
    case 'verify':
    case 'startInspection':
      break;
    case 'file': {
      const input = options.input as CaseActionInput<'file'>;
      let category = row.category_code;
      if (input.categoryCode && input.categoryCode !== row.category_code) {
        const item = await getItem(tx, input.categoryCode);
        if (!item || !item.active) throw invalid('body.categoryCode', '没有这个事项 (no such active item)');
        category = input.categoryCode;
        effects.set.category_code = category;
        effects.data.categoryCode = { from: row.category_code, to: category };
      }
      effects.set.filed_at = nowIso;
      effects.set.handle_due_at = (await due(tx, row, 'handle', now, effects, category)).toISOString();
      break;
    }
    case 'notFile':
    case 'returnCase':
    case 'suspend':
    case 'rejectExtension':
    case 'reopen': {
      withReason((options.input as { reason: string }).reason);
      if (action === 'returnCase') {
        effects.set.lead_department_id = null;
        effects.data.departmentId = row.lead_department_id;
        setDepartmentStatus(row.lead_department_id, 'returned');
      }
      if (action === 'rejectExtension') effects.set.extension_requested = false;
      if (action === 'reopen') {
        effects.set.evaluation = null;
        effects.set.evaluated_at = null;
        effects.set.closed_at = null;
        effects.set.accept_due_at = (await due(tx, row, 'accept', now, effects)).toISOString();
        setDepartmentStatus(row.lead_department_id, 'pending');
      }
      break;
    }
    case 'mergeDuplicate': {
      const input = options.input as CaseActionInput<'mergeDuplicate'>;
      if (input.parentCaseId === caseId) throw invalid('body.parentCaseId', '不能合并到自身 (not itself)');
      const parent = await loadCase(tx, input.parentCaseId);
      if (!parent || !canSeeCase(actor, parent.facts))
        throw invalid('body.parentCaseId', '没有这个案件 (no such case)');
      if (!openStatuses.includes(parent.row.status))
        throw invalid('body.parentCaseId', '主案件已办结 (the parent case is no longer open)');
      effects.set.parent_case_id = input.parentCaseId;
      effects.data.parentCaseId = input.parentCaseId;
      break;
    }
    case 'fixOnSpot': {
      const input = options.input as CaseActionInput<'fixOnSpot'>;
      effects.comment = input.comment ? `${input.result}\n${input.comment}` : input.result;
      effects.data.result = input.result;
      effects.set.filed_at = nowIso;
      effects.set.responded_at = nowIso;
      effects.set.closed_at = nowIso;
      break;
    }
    case 'escalate': {
      const input = options.input as CaseActionInput<'escalate'>;
      withReason(input.reason);
      if (input.skipLevel && !skipLevelAllowed(snapshotOf(row)))
        throw invalid(
          'body.skipLevel',
          '仅紧急或突发事件可越级上报 (skip-level only for urgent cases or emergencies)',
        );
      let target = await one<{ code: string; level: string; path: string }>(
        tx,
        sql`select p.code, p.level, p.path from region o join region p on p.code = o.parent_code
            where o.code = ${row.owner_region_code}`,
      );
      if (target && input.skipLevel && escalationTarget(row.owner_level, true) !== target.level) {
        const above = await one<{ code: string; level: string; path: string }>(
          tx,
          sql`select p.code, p.level, p.path from region p join region o on p.code = o.parent_code
              where o.code = ${target.code}`,
        );
        target = above ?? target;
      }
      if (!target)
        throw new DomainError('CASE_INVALID_TRANSITION', '已是最高层级 (already at the top level)');
      effects.set.owner_region_code = target.code;
      effects.set.owner_region_path = target.path;
      effects.set.owner_level = target.level;
      effects.data.owner = { from: row.owner_region_code, to: target.code, level: target.level };
      effects.data.skipLevel = input.skipLevel;
      break;
    }
    case 'dispatch': {
      const input = options.input as CaseActionInput<'dispatch'>;
      const lead =
        input.leadDepartmentId ?? (await resolveDepartment(tx, row.category_code, row.region_path))?.id;
      if (lead === undefined)
        throw invalid(
          'body.leadDepartmentId',
          '该事项没有默认承办部门,请指定 (no default department: choose one)',
        );
      const all = [lead, ...input.coDepartmentIds, ...input.ccDepartmentIds];
      const found = await rows<{ id: number; region_path: string }>(
        tx,
        sql`select id::int as id, region_path from department where id in (${sql.join(
          all.map((id) => sql`${id}`),
          sql`, `,
        )})`,
      );
      const fieldOf = (id: number) =>
        id === lead
          ? 'body.leadDepartmentId'
          : input.coDepartmentIds.includes(id)
            ? 'body.coDepartmentIds'
            : 'body.ccDepartmentIds';
      for (const id of all) {
        const department = found.find((d) => d.id === id);
        if (!department) throw invalid(fieldOf(id), `没有部门 ${id} (no such department)`);
        if (!departmentCovers(department.region_path, row.region_path))
          throw invalid(fieldOf(id), `部门 ${id} 不管辖此处 (department ${id} does not cover this place)`);
      }
      effects.set.lead_department_id = lead;
      effects.set.dispatched_at = nowIso;
      // The same computation as GET /api/cases/{id}/dispatch-preview.
      const deadlines = await dispatchDeadlines({ ex: tx, row, now });
      effects.set.accept_due_at = deadlines.acceptDueAt.toISOString();
      if (deadlines.handleDueIsNew) effects.set.handle_due_at = deadlines.handleDueAt.toISOString();
      effects.beyondCalendar = (effects.beyondCalendar ?? false) || deadlines.beyondCalendar;
      effects.data.departmentIds = { lead, co: input.coDepartmentIds, cc: input.ccDepartmentIds };
      const assign = (id: number, role: 'lead' | 'co' | 'cc') =>
        sql`insert into case_department (case_id, department_id, role, status, assigned_at)
            values (${caseId}, ${id}, ${role}, 'pending', ${nowIso})
            on conflict (case_id, department_id)
            do update set role = excluded.role, status = 'pending', assigned_at = excluded.assigned_at`;
      effects.after.push(assign(lead, 'lead'));
      for (const id of input.coDepartmentIds) effects.after.push(assign(id, 'co'));
      for (const id of input.ccDepartmentIds) effects.after.push(assign(id, 'cc'));
      break;
    }
    case 'accept': {
      effects.set.accepted_at = nowIso;
      effects.set.handle_due_at = (await due(tx, row, 'handle', now, effects)).toISOString();
      setDepartmentStatus(row.lead_department_id, 'accepted');
      break;
    }
    case 'resume': {
      const suspended = await one<{ at: Date }>(
        tx,
        sql`select at from case_timeline where case_id = ${caseId} and action = 'suspend' order by id desc limit 1`,
      );
      // The clock stopped while suspended: the handling deadline moves by the working days lost.
      const calendar = await getWorkCalendar(tx);
      const pausedDays = suspended ? calendar.workingDaysBetween(new Date(suspended.at), now) : 0;
      if (row.handle_due_at && pausedDays > 0) {
        const moved = calendar.addWorkingDays(new Date(row.handle_due_at), pausedDays);
        effects.set.handle_due_at = moved.dueAt.toISOString();
        if (moved.beyondCalendar) effects.set.deadline_beyond_calendar = true;
      }
      effects.data.suspendedWorkingDays = pausedDays;
      break;
    }
    case 'requestExtension': {
      const input = options.input as CaseActionInput<'requestExtension'>;
      withReason(input.reason);
      effects.data.days = input.days;
      effects.set.extension_requested = true;
      break;
    }
    case 'approveExtension': {
      const request = await one<{ days: number | null }>(
        tx,
        sql`select (data ->> 'days')::int as days from case_timeline
            where case_id = ${caseId} and action = 'requestExtension' order by id desc limit 1`,
      );
      const days = request?.days ?? 0;
      const from = row.handle_due_at ? new Date(row.handle_due_at) : now;
      // Extensions are granted in working days (工作日, holidays and make-up workdays counted) after the
      // current handling deadline's day, due at the end of the last one (China time).
      const extended = (await getWorkCalendar(tx)).addWorkingDays(from, days);
      effects.set.handle_due_at = extended.dueAt.toISOString();
      effects.beyondCalendar = (effects.beyondCalendar ?? false) || extended.beyondCalendar;
      effects.set.extension_requested = false;
      effects.data.days = days;
      effects.data.handleDueAt = effects.set.handle_due_at;
      break;
    }
    case 'respond': {
      const input = options.input as CaseActionInput<'respond'>;
      effects.comment = input.comment ? `${input.result}\n${input.comment}` : input.result;
      effects.data.result = input.result;
      effects.set.responded_at = nowIso;
      effects.set.inspect_due_at = (await due(tx, row, 'inspect', now, effects)).toISOString();
      setDepartmentStatus(row.lead_department_id, 'responded');
      break;
    }
    case 'inspect': {
      const input = options.input as CaseActionInput<'inspect'>;
      effects.data.result = input.result;
      if (input.result === 'pass') effects.set.closed_at = nowIso;
      else {
        // 返工: back to the lead department, with a new time to accept.
        effects.set.rework_count = row.rework_count + 1;
        effects.set.accept_due_at = (await due(tx, row, 'accept', now, effects)).toISOString();
        setDepartmentStatus(row.lead_department_id, 'pending');
      }
      break;
    }
    case 'evaluate': {
      const input = options.input as CaseActionInput<'evaluate'>;
      const method = input.method ?? (isReporter(actor, loaded.facts) ? 'self' : 'callback');
      const allowed =
        method === 'self'
          ? isReporter(actor, loaded.facts)
          : relationGrant(actor, 'operator_in_scope', 'case.evaluate', loaded.facts) !== undefined;
      if (!allowed)
        throw new DomainError(
          'FORBIDDEN',
          method === 'self'
            ? '只有上报人可以自评 (only the reporter rates it themselves)'
            : '只有坐席可以回访评价 (only an operator records a call-back)',
        );
      effects.set.evaluation = input.evaluation;
      effects.set.evaluated_at = nowIso;
      effects.data.evaluation = input.evaluation;
      effects.data.method = method;
      break;
    }
    case 'supervise': {
      const input = options.input as CaseActionInput<'supervise'>;
      // A card can be given again (a new note from the supervising centre) or raised, never lowered: a red card
      // stays red until the case is finished.
      const rank = { none: 0, normal: 1, yellow: 2, red: 3 } as const;
      if (rank[input.level] < rank[row.supervision])
        throw new DomainError(
          'CASE_INVALID_TRANSITION',
          '督办级别不能降低 (a supervision card cannot be lowered)',
          undefined,
          { supervision: row.supervision },
        );
      effects.set.supervision = input.level;
      effects.data.level = { from: row.supervision, to: input.level };
      break;
    }
    case 'instruct': {
      effects.set.instructed = true;
      break;
    }
    case 'markUrgent': {
      effects.set.urgent = true;
      break;
    }
  }
  return effects;
}
