import type { CaseAction } from '@wangge/contracts';
import {
  isInside,
  rolePermissions,
  type Actor,
  type Permission,
  type Role,
  type RoleGrant,
} from '../../platform/access.ts';
import { DomainError } from '../../platform/errors.ts';
import { transitionOf, type CaseRelation } from './case.workflow.ts';

/** What the policy needs to know about a case: where it is, who owns it, who is on it. */
export interface CaseFacts {
  /** region path of the case's grid */
  regionPath: string;
  ownerRegionPath: string;
  leadDepartmentId: number | null;
  reporterUserId: number | null;
  /** every department on case_department (lead, co, cc; also those that returned it) */
  departmentIds: readonly number[];
}

const gridRoles: readonly Role[] = ['grid_worker', 'grid_leader', 'professional_worker'];
const operatorRoles: readonly Role[] = ['centre_operator', 'hotline_operator', 'admin'];

function holds(grant: RoleGrant, permission: Permission): boolean {
  return rolePermissions[grant.role].includes(permission);
}

function covers(grant: RoleGrant, path: string): boolean {
  if (grant.regionPath === null) return grant.role === 'admin';
  return isInside(grant.regionPath, path);
}

/**
 * May the actor see the case? Inside a `case.read` scope, except department handlers, who see only cases their
 * department is on (lead, co or cc) inside their grant's region; and the reporter always sees their own report.
 */
export function canSeeCase(actor: Actor, c: CaseFacts): boolean {
  if (c.reporterUserId !== null && c.reporterUserId === actor.userId) return true;
  return actor.grants.some((grant) => {
    if (!holds(grant, 'case.read')) return false;
    if (grant.regionPath === null) return grant.role === 'admin' || grant.role === 'auditor';
    if (!isInside(grant.regionPath, c.regionPath)) return false;
    if (grant.role === 'department_handler')
      return grant.departmentId !== null && c.departmentIds.includes(grant.departmentId);
    return true;
  });
}

/** The grant through which the actor stands in this relation to the case with the permission, if any. */
export function relationGrant(
  actor: Actor,
  relation: CaseRelation,
  permission: Permission,
  c: CaseFacts,
): { role: string } | undefined {
  if (relation === 'reporter')
    return c.reporterUserId !== null && c.reporterUserId === actor.userId ? { role: 'reporter' } : undefined;
  return actor.grants.find((grant) => {
    if (!holds(grant, permission)) return false;
    switch (relation) {
      case 'owner_operator':
        return grant.regionPath === null ? grant.role === 'admin' : grant.regionPath === c.ownerRegionPath;
      case 'higher_level':
        return grant.regionPath === null
          ? grant.role === 'admin'
          : grant.regionPath !== c.ownerRegionPath && isInside(grant.regionPath, c.ownerRegionPath);
      case 'lead_department':
        return (
          grant.role === 'department_handler' &&
          grant.departmentId !== null &&
          grant.departmentId === c.leadDepartmentId &&
          covers(grant, c.regionPath)
        );
      case 'grid_worker':
        return gridRoles.includes(grant.role) && covers(grant, c.regionPath);
      case 'operator_in_scope':
        return operatorRoles.includes(grant.role) && covers(grant, c.regionPath);
      case 'leader':
        return grant.role === 'leader' && covers(grant, c.regionPath);
    }
  });
}

/** Who the actor is for this action on this case (the first relation of the table that fits), or undefined. */
export function actingAs(
  actor: Actor,
  action: CaseAction,
  c: CaseFacts,
): { relation: CaseRelation; role: string } | undefined {
  const t = transitionOf(action);
  for (const relation of t.who) {
    const grant = relationGrant(actor, relation, t.permission, c);
    if (grant) return { relation, role: grant.role };
  }
  return undefined;
}

/** requireAccess for cases: not visible → 404; visible but not theirs to act on → 403. */
export function requireCaseAccess(
  actor: Actor,
  action: CaseAction | 'read',
  c: CaseFacts,
): { relation: CaseRelation; role: string } | undefined {
  if (!canSeeCase(actor, c)) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  if (action === 'read') return undefined;
  const acting = actingAs(actor, action, c);
  if (!acting) throw new DomainError('FORBIDDEN', '没有权限 (permission denied)');
  return acting;
}

/** Does the actor hold the relation, whatever the permission (evaluate: self by the reporter, else call-back)? */
export function isReporter(actor: Actor, c: CaseFacts): boolean {
  return c.reporterUserId !== null && c.reporterUserId === actor.userId;
}
