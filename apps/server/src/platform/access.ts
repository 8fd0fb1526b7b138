import { DomainError } from './errors.ts';
import { sql, type SQL } from './db.ts';

export const roles = [
  'admin',
  'centre_operator',
  'hotline_operator',
  'department_handler',
  'leader',
  'grid_leader',
  'grid_worker',
  'professional_worker',
  'auxiliary',
  'resident',
  'auditor',
] as const;
export type Role = (typeof roles)[number];

export const permissions = [
  'region.read',
  'region.stats',
  'region.write',
  'region.import',
  'region.export',
  'user.read',
  'user.write',
  'department.read',
  /** create and rename departments (admin only) */
  'department.write',
  'audit.read',
  // the case loop
  'case.read',
  'case.report',
  'case.verify',
  'case.file',
  'case.dispatch',
  'case.escalate',
  'case.handle',
  'case.inspect',
  'case.fix_on_spot',
  'case.evaluate',
  'case.supervise',
  'case.instruct',
  'taxonomy.write',
  'calendar.write',
  'kpi.read',
  // integrations
  'webhook.admin',
  // the registry 一标三实 (persons, households, buildings)
  'person.read',
  'person.write',
  /** see the full ID number or phone of a person, with a reason (audited) */
  'person.reveal',
  /** see key-population tags (重点人群); a professional worker only those of their specialty */
  'person.tags.read',
  // places of the registry: standard addresses, organisations and places (实有单位) with their inspections,
  // public components (部件)
  'place.read',
  'place.write',
  // field work (网格通): patrols, household visits and the diary of oneself; watching others' in a region
  /** record one's own patrols, visits and diary in one's grids */
  'fieldwork.record',
  /** read other people's patrols, visits, diaries and compliance inside the grant's region */
  'fieldwork.monitor',
  // reaching people (issue 7): notices, alerts (紧急协查), polls
  /** compose notices, send and close alerts, create polls, watch their statistics (in the grant's region) */
  'notice.send',
  /** receive notices and alerts that reach one's region; see alert photos and sightings */
  'notice.read',
  /** acknowledge a notice (已转达) or an alert for one's grid; post sightings */
  'notice.acknowledge',
] as const;
export type Permission = (typeof permissions)[number];

/** Permissions are data: which role may do what. Where is decided by the grant's region path. */
export const rolePermissions: Record<Role, readonly Permission[]> = {
  admin: permissions,
  centre_operator: [
    'region.read',
    'region.stats',
    'region.export',
    'user.read',
    'department.read',
    'case.read',
    'case.report',
    'case.verify',
    'case.file',
    'case.dispatch',
    'case.escalate',
    'case.inspect',
    'case.evaluate',
    'case.supervise',
    'kpi.read',
    'person.read',
    'person.write',
    'person.reveal',
    'person.tags.read',
    'place.read',
    'place.write',
    'fieldwork.monitor',
    'notice.send',
    'notice.read',
  ],
  hotline_operator: [
    'region.read',
    'department.read',
    'case.read',
    'case.report',
    'case.evaluate',
    'notice.read',
  ],
  department_handler: [
    'region.read',
    'department.read',
    'case.read',
    'case.handle',
    'place.read',
    'notice.read',
  ],
  leader: [
    'region.read',
    'region.stats',
    'user.read',
    'department.read',
    'case.read',
    'case.instruct',
    'case.supervise',
    'kpi.read',
    'place.read',
    'fieldwork.monitor',
    'notice.read',
  ],
  grid_leader: [
    'region.read',
    'region.stats',
    'user.read',
    'case.read',
    'case.report',
    'case.verify',
    'case.inspect',
    'case.fix_on_spot',
    'kpi.read',
    'person.read',
    'person.write',
    'person.tags.read',
    'place.read',
    'place.write',
    'fieldwork.record',
    'fieldwork.monitor',
    'notice.read',
    'notice.acknowledge',
  ],
  grid_worker: [
    'region.read',
    'region.stats',
    'user.read',
    'case.read',
    'case.report',
    'case.verify',
    'case.inspect',
    'case.fix_on_spot',
    'person.read',
    'person.write',
    'person.tags.read',
    'place.read',
    'place.write',
    'fieldwork.record',
    'notice.read',
    'notice.acknowledge',
  ],
  professional_worker: [
    'region.read',
    'region.stats',
    'case.read',
    'case.report',
    'case.fix_on_spot',
    'person.read',
    'person.tags.read',
    'place.read',
    'fieldwork.record',
    'notice.read',
    'notice.acknowledge',
  ],
  auxiliary: ['region.read', 'case.report', 'notice.read'],
  resident: ['region.read', 'case.report'],
  auditor: ['audit.read', 'region.read', 'user.read', 'case.read', 'kpi.read'],
};

export interface RoleGrant {
  role: Role;
  /** Region the grant covers (its whole subtree); null only for system-wide roles (admin, auditor). */
  regionCode: string | null;
  regionPath: string | null;
  departmentId: number | null;
  specialty: string | null;
}

export interface Actor {
  userId: number;
  username: string;
  displayName: string;
  sessionId: number;
  grants: RoleGrant[];
}

/** Something that belongs to a place. */
export interface Scoped {
  regionPath: string;
}

/** The plain definition: a path is inside a scope when it is the scope or below it. */
export function isInside(scopePath: string, targetPath: string): boolean {
  return targetPath === scopePath || targetPath.startsWith(`${scopePath}.`);
}

function grantCovers(grant: RoleGrant, target: Scoped | undefined): boolean {
  if (grant.regionPath === null) return grant.role === 'admin' || grant.role === 'auditor';
  return target === undefined || isInside(grant.regionPath, target.regionPath);
}

export function permissionsOf(actor: Actor): Permission[] {
  const set = new Set<Permission>();
  for (const grant of actor.grants) for (const p of rolePermissions[grant.role]) set.add(p);
  return permissions.filter((p) => set.has(p));
}

/** May the actor do this (to this target)? A target outside every grant of a role with the permission: no. */
export function can(actor: Actor, permission: Permission, target?: Scoped): boolean {
  return actor.grants.some(
    (grant) => rolePermissions[grant.role].includes(permission) && grantCovers(grant, target),
  );
}

/**
 * The one access choke point. Out of scope answers 404 (never a hint the row exists);
 * in scope but without the permission answers 403.
 */
export function requireAccess(actor: Actor, permission: Permission, target?: Scoped): void {
  if (can(actor, permission, target)) return;
  if (target && !actor.grants.some((grant) => grantCovers(grant, target)))
    throw new DomainError('NOT_FOUND', '未找到 (not found)');
  throw new DomainError('FORBIDDEN', '没有权限 (permission denied)');
}

/** Region path prefixes where the actor holds the permission; 'all' for system-wide grants. */
export function scopePaths(actor: Actor, permission: Permission): string[] | 'all' {
  const paths: string[] = [];
  for (const grant of actor.grants) {
    if (!rolePermissions[grant.role].includes(permission)) continue;
    if (grant.regionPath === null) {
      if (grant.role === 'admin' || grant.role === 'auditor') return 'all';
      continue;
    }
    paths.push(grant.regionPath);
  }
  // Drop paths already covered by a shorter one.
  return paths.filter((p, i) => !paths.some((q, j) => j !== i && q !== p && isInside(q, p)));
}

/**
 * SQL condition "column is inside one of these paths" as index-friendly ranges:
 * p itself, or p + '.' ≤ column < p + '/' ('/' sorts right after '.' in the C collation).
 */
export function insideAny(column: SQL, paths: string[] | 'all'): SQL {
  if (paths === 'all') return sql`true`;
  if (paths.length === 0) return sql`false`;
  const parts = paths.map(
    (p) => sql`(${column} = ${p} or (${column} >= ${`${p}.`} and ${column} < ${`${p}/`}))`,
  );
  return sql`(${sql.join(parts, sql` or `)})`;
}
