import {
  caseActionValues,
  caseStatusValues,
  terminalCaseStatuses,
  type CaseAction,
  type CaseLevel,
  type CaseStatus,
} from '@wangge/contracts';
import type { Permission } from '../../platform/access.ts';

/**
 * The case workflow as data (事件闭环): one row per verb. The service, the `allowedActions` of a case and the
 * state diagram in docs/domain/case-workflow.md all read this table; nothing writes `status` another way.
 */

/** Who, in relation to the case, may take an action (each with the action's permission, except the reporter). */
export type CaseRelation =
  /** an operator of the command centre that owns the case now (首问负责: the owner acts) */
  | 'owner_operator'
  /** a handler of the lead department (主办) */
  | 'lead_department'
  /** a grid worker (or grid leader, professional worker) of the case's grid */
  | 'grid_worker'
  /** the user who reported it (needs no permission: their own case) */
  | 'reporter'
  /** a centre or hotline operator whose scope covers the case (call-back 回访) */
  | 'operator_in_scope'
  /** someone at a level above the owner (上级) */
  | 'higher_level'
  /** a leader whose scope covers the case */
  | 'leader';

/** What a guard may look at: the case as it is, the item's rules, settings. Never the database. */
export interface CaseSnapshot {
  status: CaseStatus;
  urgent: boolean;
  categoryCode: string;
  ownerLevel: CaseLevel;
  extensionRequested: boolean;
  evaluation: 'satisfied' | 'basically_satisfied' | 'dissatisfied' | null;
  supervision: 'none' | 'normal' | 'yellow' | 'red';
  /** A department handled it (reopening sends it back there; a case fixed on the spot has none). */
  hasLeadDepartment: boolean;
}

export interface GuardContext {
  /** The item allows 简易程序 (a grid worker fixes and closes it on the spot). */
  fixOnSpotAllowed: boolean;
  settings: WorkflowSettings;
}

export interface WorkflowSettings {
  /** 不满意重办: a dissatisfied evaluation may reopen the case (back to dispatch). */
  reopenOnDissatisfied: boolean;
}

export const defaultWorkflowSettings: WorkflowSettings = { reopenOnDissatisfied: true };

/** A guard answers null when the action may go ahead, or why not. */
export type Guard = (c: CaseSnapshot, context: GuardContext) => string | null;

export interface Transition {
  action: CaseAction;
  from: readonly CaseStatus[];
  /** 'same' for overlays: the status does not change. */
  to: CaseStatus | 'same';
  permission: Permission;
  who: readonly CaseRelation[];
  guard?: Guard;
  /** Outbox topic written after the change (past tense). */
  event: `case.${string}`;
  zh: string;
}

/** Every state in which a case is still open (overlays apply there). */
export const openStatuses: readonly CaseStatus[] = caseStatusValues.filter(
  (s) => !terminalCaseStatuses.includes(s),
);

/** Levels in order: escalation goes one (or, where allowed, two) up. */
export const levelOrder: readonly CaseLevel[] = ['grid', 'community', 'street', 'district', 'city'];

/** Skip-level escalation (越级上报) is allowed for urgent cases and for emergencies (category 09). */
export function skipLevelAllowed(c: Pick<CaseSnapshot, 'urgent' | 'categoryCode'>): boolean {
  return c.urgent || c.categoryCode.startsWith('09');
}

export const transitions: readonly Transition[] = [
  {
    action: 'verify',
    from: ['reported'],
    to: 'verifying',
    permission: 'case.verify',
    who: ['owner_operator', 'grid_worker'],
    event: 'case.verifying',
    zh: '核实',
  },
  {
    action: 'file',
    from: ['reported', 'verifying'],
    to: 'filed',
    permission: 'case.file',
    who: ['owner_operator'],
    event: 'case.filed',
    zh: '立案',
  },
  {
    action: 'notFile',
    from: ['reported', 'verifying'],
    to: 'not_filed',
    permission: 'case.file',
    who: ['owner_operator'],
    event: 'case.not_filed',
    zh: '不予立案',
  },
  {
    action: 'mergeDuplicate',
    from: ['reported', 'verifying'],
    to: 'duplicate',
    permission: 'case.verify',
    who: ['owner_operator'],
    event: 'case.merged',
    zh: '合并重复',
  },
  {
    action: 'fixOnSpot',
    from: ['reported'],
    to: 'closed',
    permission: 'case.fix_on_spot',
    who: ['grid_worker'],
    guard: (_c, context) =>
      context.fixOnSpotAllowed ? null : '该事项不适用简易程序 (this item cannot be fixed on the spot)',
    event: 'case.fixed_on_spot',
    zh: '简易程序',
  },
  {
    action: 'escalate',
    from: ['reported', 'verifying', 'filed'],
    to: 'same',
    permission: 'case.escalate',
    who: ['owner_operator'],
    guard: (c) => (c.ownerLevel === 'city' ? '已是最高层级 (already at the top level)' : null),
    event: 'case.escalated',
    zh: '上报',
  },
  {
    action: 'dispatch',
    from: ['filed'],
    to: 'dispatched',
    permission: 'case.dispatch',
    who: ['owner_operator'],
    event: 'case.dispatched',
    zh: '派遣',
  },
  {
    action: 'accept',
    from: ['dispatched'],
    to: 'in_progress',
    permission: 'case.handle',
    who: ['lead_department'],
    event: 'case.accepted',
    zh: '报到',
  },
  {
    action: 'returnCase',
    from: ['dispatched', 'in_progress'],
    to: 'filed',
    permission: 'case.handle',
    who: ['lead_department'],
    event: 'case.returned',
    zh: '回退',
  },
  {
    action: 'suspend',
    from: ['in_progress'],
    to: 'suspended',
    permission: 'case.handle',
    who: ['lead_department'],
    event: 'case.suspended',
    zh: '挂起',
  },
  {
    action: 'resume',
    from: ['suspended'],
    to: 'in_progress',
    permission: 'case.handle',
    who: ['lead_department'],
    event: 'case.resumed',
    zh: '恢复',
  },
  {
    action: 'requestExtension',
    from: ['in_progress'],
    to: 'same',
    permission: 'case.handle',
    who: ['lead_department'],
    guard: (c) => (c.extensionRequested ? '已有待批的延期申请 (an extension is already pending)' : null),
    event: 'case.extension_requested',
    zh: '申请延期',
  },
  {
    action: 'approveExtension',
    from: ['in_progress'],
    to: 'same',
    permission: 'case.dispatch',
    who: ['owner_operator'],
    guard: (c) => (c.extensionRequested ? null : '没有待批的延期申请 (no extension is pending)'),
    event: 'case.extension_approved',
    zh: '批准延期',
  },
  {
    action: 'rejectExtension',
    from: ['in_progress'],
    to: 'same',
    permission: 'case.dispatch',
    who: ['owner_operator'],
    guard: (c) => (c.extensionRequested ? null : '没有待批的延期申请 (no extension is pending)'),
    event: 'case.extension_rejected',
    zh: '驳回延期',
  },
  {
    action: 'respond',
    from: ['in_progress'],
    to: 'responded',
    permission: 'case.handle',
    who: ['lead_department'],
    event: 'case.responded',
    zh: '处置反馈',
  },
  {
    action: 'startInspection',
    from: ['responded'],
    to: 'inspecting',
    permission: 'case.inspect',
    who: ['grid_worker', 'owner_operator'],
    event: 'case.inspecting',
    zh: '开始核查',
  },
  {
    // pass → closed; fail → dispatched (rework 返工): see `targetOf`
    action: 'inspect',
    from: ['responded', 'inspecting'],
    to: 'closed',
    permission: 'case.inspect',
    who: ['grid_worker', 'owner_operator'],
    event: 'case.inspected',
    zh: '核查',
  },
  {
    action: 'evaluate',
    from: ['closed'],
    to: 'evaluated',
    permission: 'case.evaluate',
    who: ['reporter', 'operator_in_scope'],
    event: 'case.evaluated',
    zh: '评价',
  },
  {
    action: 'reopen',
    from: ['evaluated'],
    to: 'dispatched',
    permission: 'case.dispatch',
    who: ['owner_operator'],
    guard: (c, context) =>
      !context.settings.reopenOnDissatisfied
        ? '未启用不满意重办 (reopening is switched off)'
        : c.evaluation !== 'dissatisfied'
          ? '仅不满意的评价可重办 (only a dissatisfied evaluation reopens)'
          : !c.hasLeadDepartment
            ? '没有承办部门可重办 (no department handled it)'
            : null,
    event: 'case.reopened',
    zh: '重办',
  },
  {
    action: 'supervise',
    from: openStatuses,
    to: 'same',
    permission: 'case.supervise',
    who: ['higher_level', 'leader'],
    event: 'case.supervised',
    zh: '督办',
  },
  {
    action: 'instruct',
    from: openStatuses,
    to: 'same',
    permission: 'case.instruct',
    who: ['leader'],
    event: 'case.instructed',
    zh: '领导批示',
  },
  {
    action: 'markUrgent',
    from: openStatuses,
    to: 'same',
    permission: 'case.dispatch',
    who: ['owner_operator', 'higher_level'],
    guard: (c) => (c.urgent ? '已加急 (already urgent)' : null),
    event: 'case.marked_urgent',
    zh: '加急',
  },
];

const byAction = new Map(transitions.map((t) => [t.action, t]));

export function transitionOf(action: CaseAction): Transition {
  const t = byAction.get(action);
  if (!t) throw new Error(`no transition for ${action}`);
  return t;
}

export function isCaseAction(value: string): value is CaseAction {
  return (caseActionValues as readonly string[]).includes(value);
}

/** Where an action leads, given its input where the input decides (inspect pass/fail). */
export function targetOf(action: CaseAction, from: CaseStatus, input?: { result?: unknown }): CaseStatus {
  if (action === 'inspect') return input?.result === 'fail' ? 'dispatched' : 'closed';
  const t = transitionOf(action);
  return t.to === 'same' ? from : t.to;
}

/** Every status an action can lead to from a state (for the diagram and the property test). */
export function possibleTargets(t: Transition, from: CaseStatus): CaseStatus[] {
  if (t.action === 'inspect') return ['closed', 'dispatched'];
  return [t.to === 'same' ? from : t.to];
}

/** Does the state allow the action, and does its guard pass? Null when yes, else why not. */
export function checkTransition(
  action: CaseAction,
  c: CaseSnapshot,
  context: GuardContext,
): { ok: true } | { ok: false; kind: 'state' | 'guard'; reason: string } {
  const t = transitionOf(action);
  if (!t.from.includes(c.status))
    return {
      ok: false,
      kind: 'state',
      reason: `状态为 ${c.status} 时不能${t.zh} (${action} is not allowed in status ${c.status})`,
    };
  const why = t.guard?.(c, context) ?? null;
  return why === null ? { ok: true } : { ok: false, kind: 'guard', reason: why };
}

/** The next level up, or two up when skipping. Undefined at the top. */
export function escalationTarget(level: CaseLevel, skipLevel: boolean): CaseLevel | undefined {
  if (level === 'city') return undefined;
  const index = levelOrder.indexOf(level);
  return levelOrder[Math.min(index + (skipLevel ? 2 : 1), levelOrder.length - 1)];
}

/** Every edge of the table: from → to, labelled by action (overlays are self-loops). */
export function workflowEdges(): { from: CaseStatus; to: CaseStatus; action: CaseAction; zh: string }[] {
  const edges: { from: CaseStatus; to: CaseStatus; action: CaseAction; zh: string }[] = [];
  for (const t of transitions)
    for (const from of t.from)
      for (const to of possibleTargets(t, from)) edges.push({ from, to, action: t.action, zh: t.zh });
  return edges;
}

/**
 * The state diagram (Mermaid) generated from the table. Overlays (same state) are listed once as a note,
 * not drawn as a loop on every open state.
 */
export function workflowMermaid(): string {
  const lines = ['stateDiagram-v2', '  [*] --> reported: report 上报'];
  for (const t of transitions) {
    if (t.to === 'same') continue;
    for (const from of t.from)
      for (const to of possibleTargets(t, from)) {
        const label = t.action === 'inspect' ? `inspect ${to === 'closed' ? 'pass' : 'fail 返工'}` : t.action;
        lines.push(`  ${from} --> ${to}: ${label} ${t.action === 'inspect' ? '' : t.zh}`.trimEnd());
      }
  }
  for (const s of terminalCaseStatuses.filter((s) => s !== 'closed')) lines.push(`  ${s} --> [*]`);
  const overlays = transitions.filter((t) => t.to === 'same');
  lines.push(
    `  note right of filed`,
    `    overlays (status unchanged): ${overlays.map((t) => `${t.action} ${t.zh}`).join(', ')}`,
    `  end note`,
  );
  return `${lines.join('\n')}\n`;
}
