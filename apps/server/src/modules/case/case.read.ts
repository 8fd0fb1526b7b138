import type {
  CaseAction,
  CaseDetail,
  CaseLevel,
  CaseStatus,
  CaseTimelineAttachment,
  CaseTimelineEntry,
} from '@wangge/contracts';
import type { Actor } from '../../platform/access.ts';
import { one, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { actingAs, canSeeCase, requireCaseAccess, type CaseFacts } from './case.policy.ts';
import {
  checkTransition,
  defaultWorkflowSettings,
  transitions,
  type CaseSnapshot,
  type WorkflowSettings,
} from './case.workflow.ts';

/** One case as the workflow sees it (columns listed; no `select *`). */
export interface CaseRow {
  id: number;
  serial: string;
  status: CaseStatus;
  urgent: boolean;
  category_code: string;
  fix_on_spot: boolean;
  owner_region_code: string;
  owner_region_path: string;
  owner_level: CaseLevel;
  region_path: string;
  grid_code: string;
  lead_department_id: number | null;
  reporter_user_id: number | null;
  extension_requested: boolean;
  evaluation: CaseSnapshot['evaluation'];
  supervision: CaseSnapshot['supervision'];
  instructed: boolean;
  rework_count: number;
  version: number;
  accept_due_at: Date | null;
  handle_due_at: Date | null;
  inspect_due_at: Date | null;
  due_at: Date | null;
  overdue: boolean;
}

export interface LoadedCase {
  row: CaseRow;
  departments: { department_id: number; role: 'lead' | 'co' | 'cc'; status: string }[];
  facts: CaseFacts;
}

/** Loads a case (locked `for update` inside a transaction when asked) with its departments. */
export async function loadCase(
  ex: Executor,
  caseId: number,
  options: { forUpdate?: boolean } = {},
): Promise<LoadedCase | undefined> {
  // The case and its departments in one round trip (the departments as a JSON array, ordered by department).
  const found = await one<CaseRow & { departments: LoadedCase['departments'] | string }>(
    ex,
    sql`select c.id::int as id, c.serial, c.status, c.urgent, c.category_code,
          coalesce((select cat.fix_on_spot from case_category cat where cat.code = c.category_code), false)
            as fix_on_spot,
          c.owner_region_code, c.owner_region_path, c.owner_level, c.region_path, c.grid_code,
          c.lead_department_id::int as lead_department_id, c.reporter_user_id::int as reporter_user_id,
          c.extension_requested, c.evaluation, c.supervision, c.instructed, c.rework_count, c.version,
          c.accept_due_at, c.handle_due_at, c.inspect_due_at, c.due_at, c.overdue,
          coalesce((select json_agg(json_build_object('department_id', d.department_id::int, 'role', d.role,
                      'status', d.status) order by d.department_id)
                    from case_department d where d.case_id = c.id), '[]'::json) as departments
        from grid_case c where c.id = ${caseId}
        ${options.forUpdate ? sql`for update of c` : sql``}`,
  );
  if (!found) return undefined;
  const { departments: listed, ...row } = found;
  const departments: LoadedCase['departments'] =
    typeof listed === 'string' ? (JSON.parse(listed) as LoadedCase['departments']) : listed;
  // Drivers differ on timestamptz in raw queries (Date or string): always Dates here.
  for (const key of ['accept_due_at', 'handle_due_at', 'inspect_due_at', 'due_at'] as const)
    row[key] = row[key] === null ? null : new Date(row[key]);

  return { row, departments, facts: factsOf(row, departments) };
}

export function factsOf(row: CaseRow, departments: LoadedCase['departments']): CaseFacts {
  return {
    regionPath: row.region_path,
    ownerRegionPath: row.owner_region_path,
    leadDepartmentId: row.lead_department_id,
    reporterUserId: row.reporter_user_id,
    departmentIds: departments.map((d) => d.department_id),
  };
}

export function snapshotOf(row: CaseRow): CaseSnapshot {
  return {
    status: row.status,
    urgent: row.urgent,
    categoryCode: row.category_code,
    ownerLevel: row.owner_level,
    extensionRequested: row.extension_requested,
    evaluation: row.evaluation,
    supervision: row.supervision,
    hasLeadDepartment: row.lead_department_id !== null,
  };
}

/** The actions the actor may take on the case now: the same table and policy the service applies. */
export function allowedActionsFor(
  actor: Actor,
  loaded: LoadedCase,
  settings: WorkflowSettings = defaultWorkflowSettings,
): CaseAction[] {
  const snapshot = snapshotOf(loaded.row);
  const context = { fixOnSpotAllowed: loaded.row.fix_on_spot, settings };
  return transitions
    .filter(
      (t) =>
        checkTransition(t.action, snapshot, context).ok &&
        actingAs(actor, t.action, loaded.facts) !== undefined,
    )
    .map((t) => t.action);
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/** 张三丰 → 张**; never the whole name. */
export function maskName(name: string | null): string | null {
  if (!name) return null;
  const chars = [...name];
  return chars.length <= 1 ? '*' : `${chars[0]}${'*'.repeat(Math.min(chars.length - 1, 3))}`;
}

interface DetailRow {
  title: string;
  description: string;
  channel: CaseDetail['channel'];
  category_name_zh: string | null;
  category_name_en: string | null;
  grid_name: string;
  owner_name: string;
  lead_department_name: string | null;
  parent_case_id: number | null;
  deadline_beyond_calendar: boolean;
  lng: number | null;
  lat: number | null;
  address: string | null;
  reporter_name: string | null;
  reporter_contact_masked: string | null;
  hotline: {
    workOrderNumber?: string;
    callerName?: string;
    callerPhoneMasked?: string;
    callTime?: string;
  } | null;
  reported_at: Date;
  filed_at: Date | null;
  closed_at: Date | null;
}

/** GET /api/cases/{id}: the case for this actor (404 when they may not see it) with its allowed actions. */
export async function getCaseDetail(options: {
  db: Database;
  actor: Actor;
  caseId: number;
  settings?: WorkflowSettings;
}): Promise<CaseDetail> {
  const { db, actor, caseId } = options;
  const loaded = await loadCase(db.orm, caseId);
  if (!loaded) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  requireCaseAccess(actor, 'read', loaded.facts);
  const { row } = loaded;
  const detail = await one<DetailRow>(
    db.orm,
    sql`select c.title, c.description, c.channel, cat.name_zh as category_name_zh, cat.name_en as category_name_en,
          g.name as grid_name, o.name as owner_name, d.name as lead_department_name,
          c.parent_case_id::int as parent_case_id, c.deadline_beyond_calendar,
          st_x(c.location) as lng, st_y(c.location) as lat, c.address,
          c.reporter_name, c.reporter_contact_masked, c.hotline, c.reported_at, c.filed_at, c.closed_at
        from grid_case c
        join region g on g.code = c.grid_code
        join region o on o.code = c.owner_region_code
        left join case_category cat on cat.code = c.category_code
        left join department d on d.id = c.lead_department_id
        where c.id = ${caseId}`,
  );
  if (!detail) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  const departments = await rows<{ id: number; name: string; role: 'lead' | 'co' | 'cc'; status: string }>(
    db.orm,
    sql`select d.id::int as id, d.name, cd.role, cd.status from case_department cd
        join department d on d.id = cd.department_id
        where cd.case_id = ${caseId} order by cd.role, d.id`,
  );
  return {
    id: row.id,
    serial: row.serial,
    title: detail.title,
    description: detail.description,
    category: {
      code: row.category_code,
      nameZh: detail.category_name_zh ?? row.category_code,
      nameEn: detail.category_name_en ?? row.category_code,
    },
    status: row.status,
    channel: detail.channel,
    urgent: row.urgent,
    supervision: row.supervision,
    instructed: row.instructed,
    extensionRequested: row.extension_requested,
    grid: { code: row.grid_code, name: detail.grid_name },
    owner: { regionCode: row.owner_region_code, name: detail.owner_name, level: row.owner_level },
    leadDepartment:
      row.lead_department_id === null
        ? null
        : { id: row.lead_department_id, name: detail.lead_department_name ?? '' },
    departments: departments.map((d) => ({
      id: d.id,
      name: d.name,
      role: d.role,
      status: d.status as CaseDetail['departments'][number]['status'],
    })),
    parentCaseId: detail.parent_case_id,
    due: {
      accept: iso(row.accept_due_at),
      handle: iso(row.handle_due_at),
      inspect: iso(row.inspect_due_at),
      current: iso(row.due_at),
      beyondCalendar: detail.deadline_beyond_calendar,
    },
    overdue: row.overdue,
    location: detail.lng === null || detail.lat === null ? null : [Number(detail.lng), Number(detail.lat)],
    address: detail.address,
    evaluation: row.evaluation,
    reworkCount: row.rework_count,
    reporter: {
      // An anonymous report keeps the reporter's user id (their own queue) but no name.
      anonymous: detail.reporter_name === null,
      name: maskName(detail.reporter_name),
      contact: detail.reporter_contact_masked,
    },
    // The work order as the hotline took it; the caller's phone only masked (the sealed one never leaves).
    hotline: detail.hotline
      ? {
          workOrderNumber: detail.hotline.workOrderNumber ?? null,
          callerName: maskName(detail.hotline.callerName ?? null),
          callerPhoneMasked: detail.hotline.callerPhoneMasked ?? null,
          callTime: detail.hotline.callTime ?? null,
        }
      : null,
    reportedAt: new Date(detail.reported_at).toISOString(),
    filedAt: iso(detail.filed_at),
    closedAt: iso(detail.closed_at),
    version: row.version,
    allowedActions: allowedActionsFor(actor, loaded, options.settings),
  };
}

interface TimelineRow {
  id: number;
  at: Date;
  actor_id: number | null;
  actor_name: string | null;
  actor_role: string | null;
  action: string;
  from_status: CaseStatus | null;
  to_status: CaseStatus | null;
  comment: string | null;
  data: Record<string, unknown>;
  attachments: unknown[];
}

/** Stored attachments as the API shows them (a bare photo id from an early row counts as a JPEG photo). */
function presentAttachments(stored: unknown): CaseTimelineAttachment[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((entry: unknown): CaseTimelineAttachment[] => {
    if (typeof entry === 'number') return [{ photoId: entry, contentType: 'image/jpeg' }];
    if (entry && typeof entry === 'object' && typeof (entry as { photoId?: unknown }).photoId === 'number') {
      const { photoId, contentType } = entry as { photoId: number; contentType?: unknown };
      return [{ photoId, contentType: typeof contentType === 'string' ? contentType : 'image/jpeg' }];
    }
    return [];
  });
}

function isAnonymousReport(t: TimelineRow): boolean {
  return t.action === 'report' && (t.data as { anonymous?: unknown } | null)?.anonymous === true;
}

/** The timeline cap: a case with more steps than this is not a case but a bug. */
export const timelineLimit = 1000;

/** GET /api/cases/{id}/timeline, oldest first. */
export async function getCaseTimeline(options: {
  db: Database;
  actor: Actor;
  caseId: number;
}): Promise<{ items: CaseTimelineEntry[] }> {
  const { db, actor, caseId } = options;
  const loaded = await loadCase(db.orm, caseId);
  if (!loaded || !canSeeCase(actor, loaded.facts)) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  const items = await rows<TimelineRow>(
    db.orm,
    sql`select t.id::int as id, t.at, t.actor_id::int as actor_id, u.display_name as actor_name, t.actor_role,
          t.action, t.from_status, t.to_status, t.comment, t.data, t.attachments
        from case_timeline t left join app_user u on u.id = t.actor_id
        where t.case_id = ${caseId} order by t.id limit ${timelineLimit}`,
  );
  return {
    items: items.map((t) => ({
      id: t.id,
      at: new Date(t.at).toISOString(),
      // 匿名: an anonymous reporter stays anonymous to everyone but themselves.
      actor:
        t.actor_id === null || (isAnonymousReport(t) && t.actor_id !== actor.userId)
          ? null
          : { id: t.actor_id, name: t.actor_name ?? '' },
      role: t.actor_role,
      action: t.action,
      fromStatus: t.from_status,
      toStatus: t.to_status,
      comment: t.comment,
      data: t.data,
      attachments: presentAttachments(t.attachments),
    })),
  };
}
