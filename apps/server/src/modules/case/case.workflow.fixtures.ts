import crypto from 'node:crypto';
import type { CaseStatus } from '@wangge/contracts';
import type { Actor, Role } from '../../platform/access.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { authenticate } from '../identity/index.ts';
import { ensureDefaultCalendar } from '../calendar/index.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';

/** Test-only: a territory, the default taxonomy and calendar, three departments and one user per relation. */
export interface WorkflowWorld {
  paths: Record<keyof typeof territory, string>;
  departments: { urban: number; water: number; eastOnly: number };
  users: Record<WorldUser, TestUser>;
}

export type WorldUser =
  | 'operatorA' // centre operator of community A (owns cases in grid A1)
  | 'operatorB' // centre operator of community B (cases in A are out of scope)
  | 'operatorStreet' // centre operator of the street (a level above community A)
  | 'workerA1' // grid worker of grid A1
  | 'workerB1' // grid worker of grid B1
  | 'handlerUrban' // department handler, urban management (district)
  | 'handlerWater' // department handler, water (district)
  | 'leader' // leader of the district
  | 'hotline' // hotline operator of the district
  | 'resident' // a resident who reports in community A
  | 'otherResident';

export async function buildWorkflowWorld(db: Database): Promise<WorkflowWorld> {
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  await ensureDefaultCalendar(db.orm);
  const paths = {} as Record<keyof typeof territory, string>;
  for (const [key, code] of Object.entries(territory)) {
    const row = await one<{ path: string }>(db.orm, sql`select path from region where code = ${code}`);
    paths[key as keyof typeof territory] = row!.path;
  }
  const department = async (code: string, name: string, regionCode: string, path: string) =>
    (await one<{ id: number }>(
      db.orm,
      sql`insert into department (code, name, region_code, region_path)
          values (${code}, ${name}, ${regionCode}, ${path}) returning id::int as id`,
    ))!.id;
  const departments = {
    urban: await department('wf-urban', '城管', territory.district, paths.district),
    water: await department('wf-water', '供水', territory.district, paths.district),
    eastOnly: await department('wf-east', '东林物业', territory.communityB, paths.communityB),
  };
  const user = (role: Role, regionCode: string, departmentId: number | null = null) =>
    makeUser(db, [{ role, regionCode, departmentId }]);
  const users: Record<WorldUser, TestUser> = {
    operatorA: await user('centre_operator', territory.communityA),
    operatorB: await user('centre_operator', territory.communityB),
    operatorStreet: await user('centre_operator', territory.street),
    workerA1: await user('grid_worker', territory.gridA1),
    workerB1: await user('grid_worker', territory.gridB1),
    handlerUrban: await user('department_handler', territory.district, departments.urban),
    handlerWater: await user('department_handler', territory.district, departments.water),
    leader: await user('leader', territory.district),
    hotline: await user('hotline_operator', territory.district),
    resident: await user('resident', territory.communityA),
    otherResident: await user('resident', territory.communityA),
  };
  return { paths, departments, users };
}

export async function actorOfUser(db: Database, user: TestUser): Promise<Actor> {
  const actor = await authenticate({
    db,
    clock: { now: () => new Date('2026-11-20T02:00:00Z') },
    token: user.token,
    sessionSeconds: 3600 * 24 * 365 * 100,
  });
  if (!actor) throw new Error(`no actor for ${user.username}`);
  return actor;
}

let serial = 0;

/**
 * Inserts a case straight into a status (test-only shortcut past the workflow), owned by community A in grid A1,
 * with a timeline that replays to that status.
 */
export async function insertCase(
  db: Database,
  world: WorkflowWorld,
  options: {
    status?: CaseStatus;
    categoryCode?: string;
    urgent?: boolean;
    leadDepartmentId?: number | null;
    reporterUserId?: number | null;
    evaluation?: 'satisfied' | 'basically_satisfied' | 'dissatisfied' | null;
    extensionRequested?: boolean;
    ownerLevel?: 'community' | 'district' | 'city';
  } = {},
): Promise<number> {
  const status = options.status ?? 'reported';
  serial += 1;
  const owner =
    options.ownerLevel === 'city'
      ? { code: territory.city, path: world.paths.city, level: 'city' }
      : options.ownerLevel === 'district'
        ? { code: territory.district, path: world.paths.district, level: 'district' }
        : { code: territory.communityA, path: world.paths.communityA, level: 'community' };
  const lead =
    options.leadDepartmentId !== undefined
      ? options.leadDepartmentId
      : ['dispatched', 'in_progress', 'suspended', 'responded', 'inspecting', 'closed', 'evaluated'].includes(
            status,
          )
        ? world.departments.urban
        : null;
  const reportedAt = '2026-11-19T02:00:00Z';
  const id = (await one<{ id: number }>(
    db.orm,
    sql`insert into grid_case (client_id, serial, title, description, category_code, channel, urgent, status,
          location, address, grid_code, region_path, owner_region_code, owner_region_path, owner_level,
          lead_department_id, reporter_user_id, reporter_name, evaluation, extension_requested,
          handle_due_at, reported_at)
        values (${crypto.randomUUID()}, ${`2026-WF-${process.pid}-${serial}`}, '井盖缺失', '路口井盖缺失',
          ${options.categoryCode ?? '0501'}, 'grid_worker', ${options.urgent ?? false}, ${status},
          st_setsrid(st_makepoint(130.35, 46.85), 4326), '西林路 1 号', ${territory.gridA1}, ${world.paths.gridA1},
          ${owner.code}, ${owner.path}, ${owner.level}, ${lead}, ${options.reporterUserId ?? null}, '张三丰',
          ${options.evaluation ?? null}, ${options.extensionRequested ?? false},
          ${status === 'in_progress' || status === 'suspended' ? '2026-11-25T15:59:59Z' : null}, ${reportedAt})
        returning id::int as id`,
  ))!.id;
  await db.orm.execute(sql`insert into case_timeline (case_id, at, action, from_status, to_status)
    values (${id}, ${reportedAt}, 'report', null, 'reported')`);
  if (status !== 'reported')
    await db.orm.execute(sql`insert into case_timeline (case_id, at, action, from_status, to_status)
      values (${id}, ${reportedAt}, 'fixture', 'reported', ${status})`);
  if (status === 'suspended')
    await db.orm.execute(sql`insert into case_timeline (case_id, at, action, from_status, to_status)
      values (${id}, '2026-11-20T00:00:00Z', 'suspend', 'in_progress', 'suspended')`);
  if (lead !== null)
    await db.orm.execute(sql`insert into case_department (case_id, department_id, role, status, assigned_at)
      values (${id}, ${lead}, 'lead', 'pending', ${reportedAt})`);
  return id;
}
