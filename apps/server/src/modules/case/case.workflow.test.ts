import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  caseActionInputSchemas,
  caseActionValues,
  caseStatusValues,
  terminalCaseStatuses,
} from '@wangge/contracts';
import { describe, expect, it } from 'vitest';
import { permissions } from '../../platform/access.ts';
import {
  checkTransition,
  defaultWorkflowSettings,
  escalationTarget,
  openStatuses,
  skipLevelAllowed,
  targetOf,
  transitions,
  workflowEdges,
  workflowMermaid,
  type CaseSnapshot,
  type GuardContext,
} from './case.workflow.ts';

const docPath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../../docs/domain/case-workflow.md',
);
const begin = '```mermaid';

const snapshot = (over: Partial<CaseSnapshot> = {}): CaseSnapshot => ({
  status: 'reported',
  urgent: false,
  categoryCode: '0501',
  ownerLevel: 'community',
  extensionRequested: false,
  evaluation: null,
  supervision: 'none',
  hasLeadDepartment: true,
  ...over,
});
const context = (over: Partial<GuardContext> = {}): GuardContext => ({
  fixOnSpotAllowed: false,
  settings: defaultWorkflowSettings,
  ...over,
});

describe('the transition table', () => {
  it('has exactly one row per action, each with a body schema and a known permission', () => {
    expect(transitions.map((t) => t.action).sort()).toEqual([...caseActionValues].sort());
    for (const t of transitions) {
      expect(caseActionInputSchemas[t.action], t.action).toBeDefined();
      expect(permissions, t.action).toContain(t.permission);
      expect(t.who.length, t.action).toBeGreaterThan(0);
      expect(t.event).toMatch(/^case\.[a-z_]+$/);
      for (const from of t.from) expect(caseStatusValues).toContain(from);
    }
  });

  it('leaves terminal states only by evaluating a closed case or reopening an evaluated one', () => {
    const leaving = workflowEdges().filter((e) => terminalCaseStatuses.includes(e.from) && e.from !== e.to);
    expect(leaving.map((e) => `${e.from}-${e.action}->${e.to}`).sort()).toEqual([
      'closed-evaluate->evaluated',
      'evaluated-reopen->dispatched',
    ]);
    for (const t of transitions.filter((t) => t.to === 'same'))
      for (const from of t.from) expect(openStatuses, `${t.action} from ${from}`).toContain(from);
  });

  it('reaches every state from reported', () => {
    const seen = new Set(['reported']);
    for (let changed = true; changed;) {
      changed = false;
      for (const e of workflowEdges())
        if (seen.has(e.from) && !seen.has(e.to)) {
          seen.add(e.to);
          changed = true;
        }
    }
    expect([...seen].sort()).toEqual([...caseStatusValues].sort());
  });

  it('answers state before guard, and each guard for its reason', () => {
    expect(checkTransition('dispatch', snapshot({ status: 'reported' }), context())).toMatchObject({
      ok: false,
      kind: 'state',
    });
    expect(checkTransition('dispatch', snapshot({ status: 'filed' }), context()).ok).toBe(true);
    expect(checkTransition('fixOnSpot', snapshot(), context())).toMatchObject({ ok: false, kind: 'guard' });
    expect(checkTransition('fixOnSpot', snapshot(), context({ fixOnSpotAllowed: true })).ok).toBe(true);
    expect(checkTransition('escalate', snapshot({ ownerLevel: 'city' }), context())).toMatchObject({
      kind: 'guard',
    });
    const inProgress = snapshot({ status: 'in_progress' });
    expect(checkTransition('approveExtension', inProgress, context()).ok).toBe(false);
    expect(checkTransition('requestExtension', inProgress, context()).ok).toBe(true);
    expect(
      checkTransition('requestExtension', { ...inProgress, extensionRequested: true }, context()).ok,
    ).toBe(false);
    expect(
      checkTransition('rejectExtension', { ...inProgress, extensionRequested: true }, context()).ok,
    ).toBe(true);
    const unhappy = snapshot({ status: 'evaluated', evaluation: 'dissatisfied' });
    expect(checkTransition('reopen', unhappy, context()).ok).toBe(true);
    expect(checkTransition('reopen', { ...unhappy, evaluation: 'basically_satisfied' }, context()).ok).toBe(
      false,
    );
    expect(checkTransition('reopen', { ...unhappy, hasLeadDepartment: false }, context()).ok).toBe(false);
    expect(
      checkTransition('reopen', unhappy, context({ settings: { reopenOnDissatisfied: false } })).ok,
    ).toBe(false);
    expect(checkTransition('markUrgent', snapshot({ urgent: true }), context()).ok).toBe(false);
    expect(checkTransition('supervise', snapshot({ status: 'closed' }), context()).ok).toBe(false);
  });

  it('sends a failed inspection back to dispatch and a passed one to closed', () => {
    expect(targetOf('inspect', 'responded', { result: 'pass' })).toBe('closed');
    expect(targetOf('inspect', 'inspecting', { result: 'fail' })).toBe('dispatched');
    expect(targetOf('supervise', 'in_progress')).toBe('in_progress');
    expect(targetOf('returnCase', 'in_progress')).toBe('filed');
  });

  it('escalates one level, or two for urgent cases and emergencies (09xx)', () => {
    expect(escalationTarget('community', false)).toBe('street');
    expect(escalationTarget('community', true)).toBe('district');
    expect(escalationTarget('district', true)).toBe('city');
    expect(escalationTarget('city', false)).toBeUndefined();
    expect(skipLevelAllowed({ urgent: false, categoryCode: '0501' })).toBe(false);
    expect(skipLevelAllowed({ urgent: true, categoryCode: '0501' })).toBe(true);
    expect(skipLevelAllowed({ urgent: false, categoryCode: '0901' })).toBe(true);
  });
});

/** The table as Markdown, for the doc. */
function workflowTableMarkdown(): string {
  const lines = [
    '| Action | 中文 | From | To | Permission | Who | Guard | Event |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const t of transitions)
    lines.push(
      `| \`${t.action}\` | ${t.zh} | ${t.from.join(', ')} | ${
        t.action === 'inspect' ? 'closed (pass) / dispatched (fail)' : t.to
      } | \`${t.permission}\` | ${t.who.join(', ')} | ${t.guard ? 'yes' : ''} | \`${t.event}\` |`,
    );
  return lines.join('\n');
}

function replaceBetween(doc: string, startMarker: string, endMarker: string, body: string): string {
  const start = doc.indexOf(startMarker);
  const end = doc.indexOf(endMarker, start + startMarker.length);
  if (start < 0 || end < 0) throw new Error(`markers ${startMarker} … ${endMarker} missing`);
  return doc.slice(0, start + startMarker.length) + body + doc.slice(end);
}

describe('docs/domain/case-workflow.md', () => {
  it('carries the table generated from the code (WANGGE_UPDATE_DOCS=1 rewrites it)', () => {
    const doc = fs.readFileSync(docPath, 'utf8');
    const next = replaceBetween(
      doc,
      '<!-- table:begin -->',
      '<!-- table:end -->',
      `\n${workflowTableMarkdown()}\n`,
    );
    if (process.env.WANGGE_UPDATE_DOCS === '1') fs.writeFileSync(docPath, next);
    else expect(next).toBe(doc);
  });

  it('carries the state diagram generated from the table (WANGGE_UPDATE_DOCS=1 rewrites it)', () => {
    const generated = `${begin}\n${workflowMermaid()}\`\`\``;
    const doc = fs.readFileSync(docPath, 'utf8');
    const start = doc.indexOf(begin);
    const end = doc.indexOf('```', start + begin.length);
    expect(start).toBeGreaterThan(-1);
    const current = doc.slice(start, end + 3);
    if (process.env.WANGGE_UPDATE_DOCS === '1' && current !== generated)
      fs.writeFileSync(docPath, doc.slice(0, start) + generated + doc.slice(end + 3));
    else expect(current).toBe(generated);
  });
});
