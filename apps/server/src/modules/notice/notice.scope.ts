import { isInside, rolePermissions, type Actor, type Permission } from '../../platform/access.ts';
import { sql, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';

/**
 * Scope for things sent to an area (alerts, notices): an actor sees one when a grant holding the permission
 * overlaps the area — the grant is inside it (the workers of its grids) or above it (the centres over it).
 */
export function overlaps(actor: Actor, permission: Permission, areaPath: string): boolean {
  return actor.grants.some((grant) => {
    if (!rolePermissions[grant.role].includes(permission)) return false;
    if (grant.regionPath === null) return grant.role === 'admin' || grant.role === 'auditor';
    return isInside(grant.regionPath, areaPath) || isInside(areaPath, grant.regionPath);
  });
}

/** The SQL form of `overlaps` for a column of area paths: inside a scope path, or above one. */
export function overlapsAny(column: SQL, paths: string[] | 'all'): SQL {
  if (paths === 'all') return sql`true`;
  if (paths.length === 0) return sql`false`;
  const parts = paths.map(
    (p) => sql`(${column} = ${p} or (${column} >= ${`${p}.`} and ${column} < ${`${p}/`})
      or (${p} >= ${column} || '.' and ${p} < ${column} || '/'))`,
  );
  return sql`(${sql.join(parts, sql` or `)})`;
}

/** `column` is the region `path` or below it. */
export function under(column: SQL, path: string): SQL {
  return sql`(${column} = ${path} or (${column} >= ${`${path}.`} and ${column} < ${`${path}/`}))`;
}

export function notFound(what: string): DomainError {
  return new DomainError('NOT_FOUND', what);
}

export function bad(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

export function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/** `column` is the region path in `pathColumn` or below it (both SQL expressions). */
export function underColumn(column: SQL, pathColumn: SQL): SQL {
  return sql`(${column} = ${pathColumn}
    or (${column} >= ${pathColumn} || '.' and ${column} < ${pathColumn} || '/'))`;
}
