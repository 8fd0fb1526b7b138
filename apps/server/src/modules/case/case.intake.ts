import type { CaseChannel, CaseCreated, CreateCaseRequest } from '@wangge/contracts';
import { rolePermissions, type Actor, type Role, type RoleGrant, isInside } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import type { SecretBox } from '../../platform/crypto.ts';
import { maskPhone } from '../../platform/crypto.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { enqueue } from '../../platform/outbox.ts';
import { wakeRealtime } from '../../platform/realtime.ts';
import { toWgs84 } from '../region/gcj02.ts';
import type { GridRouter, RegionLevel } from '../region/index.ts';
import { getItem, validateExtraFields } from '../taxonomy/index.ts';

/**
 * Which channels each role may report through. A resident reports for themselves (随手拍, 我的心愿); grid staff
 * patrol or enter what a resident told them; hotline work orders (12345 / 96118) come from the hotline or the centre.
 */
export const channelsByRole: Record<Role, readonly CaseChannel[]> = {
  admin: ['grid_worker', 'resident', 'wish', 'hotline', 'department', 'leader', 'system'],
  centre_operator: ['hotline', 'department', 'leader', 'system', 'resident', 'wish'],
  hotline_operator: ['hotline'],
  grid_leader: ['grid_worker', 'resident', 'wish'],
  grid_worker: ['grid_worker', 'resident', 'wish'],
  professional_worker: ['grid_worker', 'resident', 'wish'],
  auxiliary: ['grid_worker'],
  resident: ['resident', 'wish'],
  department_handler: [],
  leader: [],
  auditor: [],
};

/** Channels whose cases the community centre owns first; the others start at the street centre. */
const communityChannels: readonly CaseChannel[] = ['grid_worker', 'resident', 'wish'];

interface CaseSummaryRow {
  id: number;
  serial: string;
  status: CaseCreated['status'];
  channel: CaseChannel;
  category_code: string;
  grid_code: string;
  owner_region_code: string;
  owner_level: string;
  urgent: boolean;
  reported_at: Date | string;
  reporter_user_id: number | null;
}

function present(row: CaseSummaryRow, created: boolean): CaseCreated {
  return {
    id: row.id,
    serial: row.serial,
    status: row.status,
    channel: row.channel,
    categoryCode: row.category_code,
    gridCode: row.grid_code,
    ownerRegionCode: row.owner_region_code,
    ownerLevel: row.owner_level,
    urgent: row.urgent,
    reportedAt: new Date(row.reported_at).toISOString(),
    created,
  };
}

async function findByClientId(ex: Executor, clientId: string): Promise<CaseSummaryRow | undefined> {
  return one<CaseSummaryRow>(
    ex,
    sql`select id::int as id, serial, status, channel, category_code, grid_code, owner_region_code, owner_level,
          urgent, reported_at, reporter_user_id::int as reporter_user_id
        from grid_case where client_id = ${clientId}`,
  );
}

/** A replay of the same clientId returns the first case, but only to the one who created it. */
function replay(row: CaseSummaryRow, actor: Actor): CaseCreated {
  if (row.reporter_user_id !== actor.userId)
    throw new DomainError('CONFLICT', '该客户端编号已被使用 (clientId already used)', [
      { field: 'clientId', message: 'already used' },
    ]);
  return present(row, false);
}

/** The grant that lets the actor report through this channel in this grid (404 when the grid is out of scope). */
function reportingGrant(actor: Actor, channel: CaseChannel, gridPath: string): RoleGrant {
  const able = actor.grants.filter(
    (g) => rolePermissions[g.role].includes('case.report') && channelsByRole[g.role].includes(channel),
  );
  if (able.length === 0)
    throw new DomainError(
      'CASE_CHANNEL_NOT_ALLOWED',
      `您的角色不能通过该渠道上报 (your role cannot report through channel ${channel})`,
      [{ field: 'channel', message: 'not allowed for your role' }],
    );
  const grant = able.find((g) =>
    g.regionPath === null ? g.role === 'admin' : isInside(g.regionPath, gridPath),
  );
  if (!grant) throw new DomainError('NOT_FOUND', '未找到网格 (grid not found)');
  return grant;
}

interface Ancestor {
  code: string;
  level: RegionLevel;
  path: string;
}

/**
 * The region `code` and every region above it (up its parents, one primary-key lookup a level), longest path first,
 * in one query: the first is the region itself; none when there is no such region.
 */
async function selfAndAncestors(ex: Executor, code: string): Promise<Ancestor[]> {
  return rows<Ancestor>(
    ex,
    sql`with recursive up as (
          select code, level, path, parent_code from region where code = ${code}
          union all
          select r.code, r.level, r.path, r.parent_code from region r join up on r.code = up.parent_code)
        select code, level, path from up order by length(path) desc`,
  );
}

/** China time (UTC+8, no daylight saving). */
export function chinaYear(at: Date): number {
  return new Date(at.getTime() + 8 * 3600_000).getUTCFullYear();
}

function bad(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

/**
 * 上报: records a new case from any channel. Idempotent by clientId: a replay (also a concurrent one) returns the
 * first case with `created: false`.
 */
export async function createCase(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  router: GridRouter;
  secrets: SecretBox;
  input: CreateCaseRequest;
  requestId?: string;
  /**
   * More writes that belong to the new case (an interface's own record of it), in the same transaction: they
   * commit with the case or not at all. Not called on a replay of the clientId.
   */
  alsoWrite?: (tx: Executor, created: { id: number; serial: string }) => Promise<void>;
  /**
   * The point is not where the reporter stood but a stand-in (a grid's representative point for a typed address):
   * why, kept as the grid override reason and marked `approximate` in the timeline.
   */
  approximatePlace?: string;
}): Promise<CaseCreated> {
  const { db, clock, actor, router, secrets, input } = options;

  // Where: the point (converted to WGS-84) picks the grid; an explicit other grid needs a reason.
  const [lng, lat] = toWgs84(input.location.crs, input.location.lng, input.location.lat);
  const located = router.locate(lng, lat);
  const overriding = input.gridCode !== undefined && input.gridCode !== located;
  const gridCode = overriding ? input.gridCode : located;

  // The replay check, the grid with the regions above it and the item are independent reads: sent together, the
  // request waits for one round trip instead of three. A replay is still answered before anything is checked.
  const [existing, ancestors, item] = await Promise.all([
    findByClientId(db.orm, input.clientId),
    gridCode ? selfAndAncestors(db.orm, gridCode) : Promise.resolve([]),
    getItem(db.orm, input.categoryCode),
  ]);
  if (existing) return replay(existing, actor);

  let overrideReason: string | null = null;
  if (overriding) {
    if (!input.gridOverrideReason)
      throw bad('gridOverrideReason', '更改网格须说明理由 (a grid override needs a reason)');
    overrideReason = input.gridOverrideReason;
  }
  if (options.approximatePlace) overrideReason = options.approximatePlace;
  if (!gridCode)
    throw new DomainError(
      'CASE_OUTSIDE_GRIDS',
      '该位置不在任何网格内,请选择网格并说明理由 (the point is in no grid: choose a grid and give a reason)',
      [{ field: 'location', message: 'outside every grid' }],
    );
  const grid = ancestors[0];
  if (!grid || grid.code !== gridCode || grid.level !== 'grid')
    throw new DomainError('NOT_FOUND', '未找到网格 (grid not found)');
  const grant = reportingGrant(actor, input.channel, grid.path);

  // What: an active item of the taxonomy, with the extra fields it asks for.
  if (!item || !item.active)
    throw new DomainError(
      'CASE_INVALID_CATEGORY',
      '事项类别不存在或已停用 (unknown or inactive category item)',
      [{ field: 'categoryCode', message: 'unknown or inactive item' }],
    );
  const extraErrors = validateExtraFields(item, input.extra);
  if (extraErrors.length > 0)
    throw new DomainError(
      'VALIDATION_FAILED',
      extraErrors.map((e) => `${e.field}: ${e.message}`).join('; '),
      extraErrors,
    );

  // Who: hotline work orders carry the caller; phones are kept only sealed and masked.
  if (input.channel === 'hotline' && !input.hotline)
    throw bad('hotline', '热线工单须填写来电信息 (a hotline work order needs the caller)');
  if (input.channel !== 'hotline' && input.hotline)
    throw bad('hotline', '仅热线渠道可填写来电信息 (caller details only for the hotline channel)');
  const hotline = input.hotline
    ? {
        callerName: input.hotline.callerName,
        callerPhoneCipher: secrets.encrypt(input.hotline.callerPhone),
        callerPhoneMasked: maskPhone(input.hotline.callerPhone),
        callTime: new Date(input.hotline.callTime).toISOString(),
        workOrderNumber: input.hotline.workOrderNumber,
      }
    : null;
  const contactCipher = input.contact ? secrets.encrypt(input.contact) : null;
  const contactMasked = input.contact ? maskPhone(input.contact) : null;
  const reporterName = input.anonymous
    ? null
    : input.channel === 'hotline'
      ? (input.hotline?.callerName ?? null)
      : actor.displayName;

  const now = clock.now();
  const nowIso = now.toISOString();
  try {
    const row = await db.orm.transaction(async (tx) => {
      const ownerLevels: RegionLevel[] = communityChannels.includes(input.channel)
        ? ['community', 'street', 'district', 'city']
        : ['street', 'district', 'city'];
      const owner = ownerLevels.map((level) => ancestors.find((a) => a.level === level)).find(Boolean);
      if (!owner) throw new DomainError('NOT_FOUND', '未找到负责该网格的中心 (no centre above this grid)');
      const district = ancestors.find((a) => a.level === 'district') ?? ancestors[ancestors.length - 1]!;

      // 编号: <year>-<district code>-<6-digit sequence>, one counter per district and year (China time). The counter,
      // the case and its first timeline row are written by one statement (one round trip).
      const year = chinaYear(now);
      const timelineData = JSON.stringify({
        channel: input.channel,
        gridCode: grid.code,
        ...(overrideReason ? { gridOverride: { located, reason: overrideReason } } : {}),
        ...(options.approximatePlace ? { approximate: true } : {}),
        ...(input.anonymous ? { anonymous: true } : {}),
        ...(input.location.accuracy !== undefined ? { accuracy: input.location.accuracy } : {}),
        ...(options.requestId ? { requestId: options.requestId } : {}),
      });
      const inserted = await one<CaseSummaryRow>(
        tx,
        sql`with counter as (
              insert into case_serial_counter (year, region_code, last_value) values (${year}, ${district.code}, 1)
              on conflict (year, region_code) do update set last_value = case_serial_counter.last_value + 1
              returning last_value),
            created as (
              insert into grid_case (client_id, serial, title, description, category_code, channel, urgent, status,
                location, address, grid_code, region_path, grid_override_reason,
                owner_region_code, owner_region_path, owner_level,
                reporter_user_id, reporter_name, reporter_contact_cipher, reporter_contact_masked, hotline,
                people_involved, extra, reported_at, created_at, updated_at)
              select ${input.clientId}, ${`${year}-${district.code}-`} || lpad(counter.last_value::text, 6, '0'),
                ${input.title}, ${input.description}, ${item.code}, ${input.channel}, ${input.urgent}, 'reported',
                ST_SetSRID(ST_MakePoint(${lng}::float8, ${lat}::float8), 4326), ${input.address ?? null},
                ${grid.code}, ${grid.path}, ${overrideReason},
                ${owner.code}, ${owner.path}, ${owner.level},
                ${actor.userId}, ${reporterName}, ${contactCipher}, ${contactMasked},
                ${hotline ? JSON.stringify(hotline) : null}::jsonb,
                ${input.peopleInvolved ?? null}, ${JSON.stringify(input.extra)}::jsonb, ${nowIso}, ${nowIso}, ${nowIso}
              from counter
              returning id, serial, status, channel, category_code, grid_code, owner_region_code, owner_level, urgent,
                reported_at, reporter_user_id),
            timeline as (
              insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status, comment,
                data)
              select id, ${nowIso}, ${actor.userId}, ${grant.role}, 'report', null, 'reported', null,
                ${timelineData}::jsonb
              from created)
            select id::int as id, serial, status, channel, category_code, grid_code, owner_region_code, owner_level,
              urgent, reported_at, reporter_user_id::int as reporter_user_id
            from created`,
      );
      const created = inserted!;
      await enqueue(
        tx,
        {
          topic: 'case.created',
          payload: {
            caseId: created.id,
            serial: created.serial,
            actorId: actor.userId,
            ownerRegionCode: owner.code,
          },
        },
        now,
      );
      if (options.alsoWrite) await options.alsoWrite(tx, { id: created.id, serial: created.serial });
      return created;
    });
    // Committed: realtime streams in this process look now rather than at their next poll.
    wakeRealtime();
    return present(row, true);
  } catch (error) {
    // Lost a race with the same clientId: the other request's case is the answer.
    if (pgErrorCode(error) === '23505') {
      const first = await findByClientId(db.orm, input.clientId);
      if (first) return replay(first, actor);
    }
    throw error;
  }
}
