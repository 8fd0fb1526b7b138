import type { CreateDepartmentRequest, Department } from '@wangge/contracts';
import { insideAny, requireAccess, scopePaths, type Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion } from '../region/index.ts';

/**
 * Departments (职能部门): the offices cases are dispatched to (派遣 / 吹哨). A department serves the subtree of
 * its region: the case workflow lets a case go to a department whose region is the case's place or above it.
 * So a caller sees the departments inside their scope **and** those above it (a street centre dispatches to the
 * district's and the city's departments).
 */

const notFound = () => new DomainError('NOT_FOUND', '未找到 (not found)');

/** A region path and every ancestor of it (`a.b.c` → `a.b.c`, `a.b`, `a`). */
function pathAndAncestors(regionPath: string): string[] {
  const parts = regionPath.split('.');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('.'));
}

/** Departments serving any of these places: inside one of the paths, or at one of them or above. */
function servingAny(column: SQL, paths: string[] | 'all'): SQL {
  if (paths === 'all') return sql`true`;
  const above = [...new Set(paths.flatMap(pathAndAncestors))];
  if (above.length === 0) return sql`false`;
  return sql`(${insideAny(column, paths)} or ${column} in (${sql.join(
    above.map((p) => sql`${p}`),
    sql`, `,
  )}))`;
}

interface DepartmentRow {
  id: number;
  code: string;
  name: string;
  name_en: string | null;
  region_code: string;
  region_name: string;
  region_path: string;
  handlers: number;
}

/** Columns of a department with its region's name and its active handlers (department_handler grants). */
const departmentColumns = sql`d.id::int as id, d.code, d.name, d.name_en, d.region_code, r.name as region_name,
  d.region_path,
  (select count(*)::int from user_role g join app_user u on u.id = g.user_id
   where g.department_id = d.id and g.role = 'department_handler' and u.status = 'active') as handlers`;

function present(row: DepartmentRow): Department {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    nameEn: row.name_en,
    regionCode: row.region_code,
    regionName: row.region_name,
    handlers: row.handlers,
  };
}

async function loadDepartment(ex: Executor, id: number): Promise<DepartmentRow | undefined> {
  return one<DepartmentRow>(
    ex,
    sql`select ${departmentColumns} from department d join region r on r.code = d.region_code where d.id = ${id}`,
  );
}

/**
 * Departments the caller may see (and dispatch to): inside their `department.read` scope or above it. With a
 * region (which must be in that scope), only the departments serving it: inside it or at it or above it.
 */
export async function listDepartments(options: {
  db: Database;
  actor: Actor;
  regionCode?: string | undefined;
}): Promise<Department[]> {
  const { db, actor } = options;
  requireAccess(actor, 'department.read');
  let within = sql`true`;
  if (options.regionCode) {
    const region = await findRegion(db.orm, options.regionCode);
    if (!region) throw notFound();
    requireAccess(actor, 'department.read', { regionPath: region.path });
    within = servingAny(sql`d.region_path`, [region.path]);
  }
  const list = await rows<DepartmentRow>(
    db.orm,
    sql`select ${departmentColumns}
        from department d join region r on r.code = d.region_code
        where ${servingAny(sql`d.region_path`, scopePaths(actor, 'department.read'))} and ${within}
        order by d.region_path, d.code
        limit 1000`,
  );
  return list.map(present);
}

const codeTaken = (code: string) =>
  new DomainError('CONFLICT', `body.code: 部门代码 ${code} 已存在 (department code already exists)`, [
    { field: 'body.code', message: '已存在 (already exists)' },
  ]);

export async function createDepartment(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  input: CreateDepartmentRequest;
  requestId: string;
}): Promise<Department> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  const id = await db.orm.transaction(async (tx) => {
    const region = await findRegion(tx, input.regionCode);
    // An unknown region answers like one out of scope: 404.
    if (!region) throw notFound();
    requireAccess(actor, 'department.write', { regionPath: region.path });
    if (await one(tx, sql`select 1 from department where code = ${input.code}`)) throw codeTaken(input.code);
    let created: { id: number } | undefined;
    try {
      created = await one<{ id: number }>(
        tx,
        sql`insert into department (code, name, name_en, region_code, region_path, created_at)
            values (${input.code}, ${input.name}, ${input.nameEn || null}, ${region.code}, ${region.path},
              ${now.toISOString()})
            returning id::int as id`,
      );
    } catch (error) {
      // Two requests with one code at once: the unique index decides.
      if (pgErrorCode(error) === '23505') throw codeTaken(input.code);
      throw error;
    }
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'department.created',
        objectType: 'department',
        objectId: String(created!.id),
        result: 'success',
        requestId: options.requestId,
        detail: { code: input.code, regionCode: region.code },
      },
      now,
    );
    return created!.id;
  });
  return present((await loadDepartment(db.orm, id))!);
}

export async function updateDepartment(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  departmentId: number;
  patch: { name?: string | undefined; nameEn?: string | null | undefined };
  requestId: string;
}): Promise<Department> {
  const { db, actor, patch, departmentId } = options;
  const now = options.clock.now();
  await db.orm.transaction(async (tx) => {
    const current = await one<{ id: number; region_path: string; name: string; name_en: string | null }>(
      tx,
      sql`select id::int as id, region_path, name, name_en from department where id = ${departmentId} for update`,
    );
    if (!current) throw notFound();
    requireAccess(actor, 'department.write', { regionPath: current.region_path });
    const name = patch.name ?? current.name;
    const nameEn = patch.nameEn === undefined ? current.name_en : patch.nameEn || null;
    if (name === current.name && nameEn === current.name_en) return;
    await tx.execute(
      sql`update department set name = ${name}, name_en = ${nameEn} where id = ${departmentId}`,
    );
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'department.updated',
        objectType: 'department',
        objectId: String(departmentId),
        result: 'success',
        requestId: options.requestId,
        detail: { name: name !== current.name, nameEn: nameEn !== current.name_en },
      },
      now,
    );
  });
  return present((await loadDepartment(db.orm, departmentId))!);
}
