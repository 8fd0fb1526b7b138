import { auditRead, loadGrid } from './registry.service.ts';
import {
  componentMajorClasses,
  componentMinorClasses,
  inspectionIntervalMonths,
  type Address,
  type AddressList,
  type AddressListQuery,
  type BuildingDetail,
  type Component,
  type ComponentList,
  type ComponentListQuery,
  type ComponentMajorClass,
  type ComponentMinorClass,
  type CreateAddressRequest,
  type CreateComponentRequest,
  type CreateInspectionRequest,
  type CreateOrganisationRequest,
  type Inspection,
  type Organisation,
  type OrganisationList,
  type OrganisationListQuery,
  type OrganisationRevealRequest,
  type OrganisationRevealResponse,
  type Point,
  type UpdateComponentRequest,
  type UpdateOrganisationRequest,
} from '@wangge/contracts';
import { insideAny, requireAccess, scopePaths, type Actor, type Permission } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import type { SecretBox } from '../../platform/crypto.ts';
import {
  isoOrNull,
  one,
  pgErrorCode,
  rows,
  sql,
  type Database,
  type Executor,
  type SQL,
} from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion } from '../region/index.ts';
import { normalisePhone } from './person-id.ts';
import { sealPhone } from './registry.seal.ts';

/**
 * Places of the registry 一标三实: standard addresses (标准地址), organisations and places (实有单位) with their
 * inspections (检查), public components (部件, after GB/T 30428), and a building's units (提楼知户). Everything
 * belongs to a grid and carries its region path; out of scope answers 404. The safety-responsible person's phone
 * is sealed, hashed and masked like a resident's (`registry.seal.ts`); revealing it needs `person.reveal` and a
 * reason, audited without the value.
 */

const notFound = () => new DomainError('NOT_FOUND', '未找到 (not found)');

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

function conflict(field: string, message: string, short: string): DomainError {
  return new DomainError('CONFLICT', `${field}: ${message}`, [{ field, message: short }]);
}

const stale = () =>
  conflict(
    'body.expectedVersion',
    '该记录已被他人修改 (changed by someone else; reload)',
    '版本已过期 (stale version)',
  );

interface Deps {
  db: Database;
  actor: Actor;
}

interface Audited {
  clock: Clock;
  requestId: string;
}

const iso = (value: Date | string) => isoOrNull(value)!;

/** Lock key space of this module's advisory locks (serialises duplicate checks and code assignment). */
const placesLockKey = 7263100;

async function lock(ex: Executor, key: string): Promise<void> {
  await ex.execute(sql`select pg_advisory_xact_lock(${placesLockKey}::int, hashtext(${key}))`);
}

/* ---------------------------------------------------------------- grids, points, scope */

interface GridRef {
  code: string;
  path: string;
  name: string;
}

// registry.service.ts has its own `loadGrid`, not exported; this is the same minimal lookup.

const pointSql = (point: Point) => sql`ST_SetSRID(ST_MakePoint(${point.lng}, ${point.lat}), 4326)`;

/** Is the point inside the grid's current boundary? */
async function insideGrid(ex: Executor, gridCode: string, point: Point): Promise<boolean> {
  const row = await one<{ inside: boolean }>(
    ex,
    sql`select ST_Contains(b.geom, ${pointSql(point)}) as inside from region_boundary b
        where b.region_code = ${gridCode} and b.valid_to is null`,
  );
  return row?.inside === true;
}

async function requirePointInGrid(ex: Executor, grid: GridRef, point: Point, field: string): Promise<void> {
  if (!(await insideGrid(ex, grid.code, point)))
    throw invalid(field, `位置不在网格 ${grid.name} 内 (the point is outside the grid)`);
}

const toPoint = (lng: number | null, lat: number | null): Point | null =>
  lng === null || lat === null ? null : { lng, lat };

/** The list condition for scope plus `grid` / `region` filters (a filter out of scope is 404). */
async function listScope(
  ex: Executor,
  actor: Actor,
  permission: Permission,
  column: SQL,
  filter: { grid?: string | undefined; region?: string | undefined },
): Promise<SQL[]> {
  requireAccess(actor, permission);
  const where: SQL[] = [insideAny(column, scopePaths(actor, permission))];
  const code = filter.grid ?? filter.region;
  if (code) {
    const region = await findRegion(ex, code);
    if (!region || (filter.grid && region.level !== 'grid')) throw notFound();
    requireAccess(actor, permission, { regionPath: region.path });
    where.push(insideAny(column, [region.path]));
  }
  return where;
}

function afterCursor(column: SQL, cursor: string | undefined): SQL | undefined {
  if (cursor === undefined) return undefined;
  const after = Number(cursor);
  if (!Number.isInteger(after) || after < 0) throw invalid('query.cursor', '无效的游标 (invalid cursor)');
  return sql`${column} > ${after}`;
}

const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/* ---------------------------------------------------------------- standard addresses (标准地址) */

/**
 * The one-line label of a standard address: `胜利路 12号 3号楼 2单元 501室` (the floor only when there is no
 * room: `胜利路 12号 3号楼 1层`). Suffixes are added only when the part does not carry them already.
 */
export function addressLabel(parts: {
  road: string;
  roadNumber: string | null;
  buildingName: string | null;
  unit: string | null;
  floor: string | null;
  room: string | null;
}): string {
  const suffixed = (value: string | null, suffix: string) =>
    value === null || value === '' ? null : value.endsWith(suffix) ? value : `${value}${suffix}`;
  return [
    parts.road,
    suffixed(parts.roadNumber, '号'),
    parts.buildingName,
    suffixed(parts.unit, '单元'),
    parts.room ? suffixed(parts.room, '室') : suffixed(parts.floor, '层'),
  ]
    .filter((part): part is string => part !== null && part !== '')
    .join(' ');
}

interface AddressRow {
  id: number;
  grid_code: string;
  region_path: string;
  road: string;
  road_number: string | null;
  building_id: number | null;
  building_name: string | null;
  unit: string | null;
  floor: string | null;
  room: string | null;
  lng: number | null;
  lat: number | null;
}

const addressColumns = sql`a.id::int as id, a.grid_code, a.region_path, a.road, a.road_number,
  a.building_id::int as building_id, coalesce(ab.name, a.building_name) as building_name, a.unit, a.floor, a.room,
  ST_X(a.location) as lng, ST_Y(a.location) as lat`;
const addressFrom = sql`address a left join building ab on ab.id = a.building_id`;

function presentAddress(row: AddressRow): Address {
  return {
    id: row.id,
    gridCode: row.grid_code,
    road: row.road,
    roadNumber: row.road_number,
    buildingId: row.building_id,
    buildingName: row.building_name,
    unit: row.unit,
    floor: row.floor,
    room: row.room,
    location: toPoint(row.lng, row.lat),
    label: addressLabel({
      road: row.road,
      roadNumber: row.road_number,
      buildingName: row.building_name,
      unit: row.unit,
      floor: row.floor,
      room: row.room,
    }),
  };
}

async function loadAddress(ex: Executor, id: number): Promise<AddressRow | undefined> {
  return one<AddressRow>(ex, sql`select ${addressColumns} from ${addressFrom} where a.id = ${id}`);
}

interface BuildingRef {
  id: number;
  grid_code: string;
  region_path: string;
  name: string;
  lng: number | null;
  lat: number | null;
}

/** A building referenced by a place: it must exist, be in scope (else 404) and be in the same grid. */
async function buildingInGrid(
  ex: Executor,
  actor: Actor,
  grid: GridRef,
  buildingId: number,
  field: string,
): Promise<BuildingRef> {
  const building = await one<BuildingRef>(
    ex,
    sql`select id::int as id, grid_code, region_path, name, ST_X(location) as lng, ST_Y(location) as lat
        from building where id = ${buildingId}`,
  );
  if (!building) throw invalid(field, '楼栋不存在 (no such building)');
  requireAccess(actor, 'place.read', { regionPath: building.region_path });
  if (building.grid_code !== grid.code)
    throw invalid(field, '楼栋不在该网格 (the building is in another grid)');
  return building;
}

async function addressInGrid(
  ex: Executor,
  actor: Actor,
  grid: GridRef,
  addressId: number,
  field: string,
): Promise<AddressRow> {
  const address = await loadAddress(ex, addressId);
  if (!address) throw invalid(field, '地址不存在 (no such address)');
  requireAccess(actor, 'place.read', { regionPath: address.region_path });
  if (address.grid_code !== grid.code)
    throw invalid(field, '地址不在该网格 (the address is in another grid)');
  return address;
}

const duplicateAddress = () =>
  conflict(
    'body.road',
    '该网格已有此标准地址 (this standard address exists in the grid)',
    '已存在 (already exists)',
  );

/**
 * Registers a standard address in a grid (`place.write`): a referenced building must be in the same grid, a
 * point inside the grid's boundary; the same address twice in one grid is 409.
 */
export async function createAddress(
  options: Deps & Audited & { input: CreateAddressRequest },
): Promise<Address> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  const id = await db.orm.transaction(async (tx) => {
    const grid = await loadGrid(tx, input.gridCode);
    requireAccess(actor, 'place.write', { regionPath: grid.path });
    const building =
      input.buildingId === undefined
        ? undefined
        : await buildingInGrid(tx, actor, grid, input.buildingId, 'body.buildingId');
    const buildingName = building?.name ?? input.buildingName ?? null;
    if (input.location) await requirePointInGrid(tx, grid, input.location, 'body.location');
    await lock(tx, `address:${grid.code}`);
    const existing = await one(
      tx,
      sql`select 1 from ${addressFrom}
          where a.grid_code = ${grid.code} and a.road = ${input.road}
            and a.road_number is not distinct from ${input.roadNumber ?? null}
            and coalesce(ab.name, a.building_name) is not distinct from ${buildingName}
            and a.unit is not distinct from ${input.unit ?? null}
            and a.floor is not distinct from ${input.floor ?? null}
            and a.room is not distinct from ${input.room ?? null}
          limit 1`,
    );
    if (existing) throw duplicateAddress();
    const created = await one<{ id: number }>(
      tx,
      sql`insert into address (grid_code, region_path, road, road_number, building_id, building_name, unit, floor,
            room, location, created_at)
          values (${grid.code}, ${grid.path}, ${input.road}, ${input.roadNumber ?? null}, ${building?.id ?? null},
            ${buildingName}, ${input.unit ?? null}, ${input.floor ?? null}, ${input.room ?? null},
            ${input.location ? pointSql(input.location) : sql`null`}, ${now.toISOString()})
          returning id::int as id`,
    );
    await auditRead(tx, options, 'address.created', 'address', String(created!.id), { gridCode: grid.code });
    return created!.id;
  });
  return presentAddress((await loadAddress(db.orm, id))!);
}

export async function getAddress(options: Deps & { addressId: number }): Promise<Address> {
  const row = await loadAddress(options.db.orm, options.addressId);
  if (!row) throw notFound();
  requireAccess(options.actor, 'place.read', { regionPath: row.region_path });
  return presentAddress(row);
}

/** Standard addresses in scope, by grid and text (road, number, building, unit, room); keyset paging by id. */
export async function listAddresses(options: Deps & { query: AddressListQuery }): Promise<AddressList> {
  const { db, actor, query } = options;
  const where = await listScope(db.orm, actor, 'place.read', sql`a.region_path`, { grid: query.grid });
  if (query.q)
    where.push(
      sql`concat_ws(' ', a.road, a.road_number, coalesce(ab.name, a.building_name), a.unit, a.room)
          like ${`%${likeEscape(query.q)}%`}`,
    );
  const after = afterCursor(sql`a.id`, query.cursor);
  if (after) where.push(after);
  const list = await rows<AddressRow>(
    db.orm,
    sql`select ${addressColumns} from ${addressFrom} where ${sql.join(where, sql` and `)}
        order by a.id limit ${query.limit + 1}`,
  );
  const page = list.slice(0, query.limit);
  return {
    items: page.map(presentAddress),
    nextCursor: list.length > query.limit ? String(page[page.length - 1]!.id) : null,
  };
}

/* ---------------------------------------------------------------- building detail (提楼知户) */

/** Sorts units by their number (`2单元` before `10单元`), the unit-less (bungalow) homes first. */
function unitOrder(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const na = Number(/^\d+/.exec(a)?.[0] ?? Number.NaN);
  const nb = Number(/^\d+/.exec(b)?.[0] ?? Number.NaN);
  if (!Number.isNaN(na) && !Number.isNaN(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A building with its units, each with its active households and their active people (counts only). */
export async function getBuildingDetail(options: Deps & { buildingId: number }): Promise<BuildingDetail> {
  const { db, actor } = options;
  const building = await one<{
    id: number;
    grid_code: string;
    grid_name: string;
    region_path: string;
    name: string;
    kind: BuildingDetail['kind'];
    floors: number | null;
    lng: number | null;
    lat: number | null;
  }>(
    db.orm,
    sql`select b.id::int as id, b.grid_code, r.name as grid_name, b.region_path, b.name, b.kind, b.floors,
          ST_X(b.location) as lng, ST_Y(b.location) as lat
        from building b join region r on r.code = b.grid_code where b.id = ${options.buildingId}`,
  );
  if (!building) throw notFound();
  requireAccess(actor, 'place.read', { regionPath: building.region_path });
  const units = await rows<{ unit: string | null; households: number; people: number }>(
    db.orm,
    sql`select h.unit, count(*)::int as households,
          coalesce(sum((select count(*) from person p where p.household_id = h.id and p.status = 'active')), 0)::int
            as people
        from household h where h.building_id = ${building.id} and h.status = 'active'
        group by h.unit`,
  );
  units.sort((a, b) => unitOrder(a.unit, b.unit));
  return {
    id: building.id,
    gridCode: building.grid_code,
    gridName: building.grid_name,
    name: building.name,
    kind: building.kind,
    floors: building.floors,
    location: toPoint(building.lng, building.lat),
    households: units.reduce((sum, u) => sum + u.households, 0),
    people: units.reduce((sum, u) => sum + u.people, 0),
    units: units.map((u) => ({ unit: u.unit, households: u.households, people: u.people })),
  };
}

/* ---------------------------------------------------------------- organisations and places (实有单位) */

/** Months between inspections of a kind, as SQL over the organisation row `o` (from `inspectionIntervalMonths`). */
const intervalMonthsSql = sql`(case o.kind ${sql.join(
  Object.entries(inspectionIntervalMonths).map(([kind, months]) => sql`when ${kind} then ${months}::int`),
  sql` `,
)} else 12 end)`;

/**
 * When the next inspection of `o` is due (months counted in China time): the interval after the latest
 * inspection `li`; at registration when never inspected; never for a closed place.
 */
const nextDueSql = sql`(case when o.status = 'active' then
    case when li.inspected_at is null then o.created_at
    else ((li.inspected_at at time zone 'Asia/Shanghai') + make_interval(months => ${intervalMonthsSql}))
      at time zone 'Asia/Shanghai' end
  end)`;

const latestInspection = sql`left join lateral (
    select i.id, i.client_id, i.inspected_at, i.result, i.findings, i.hazards, i.rectify_by, i.inspector_id,
      i.created_at
    from organisation_inspection i where i.organisation_id = o.id
    order by i.inspected_at desc, i.id desc limit 1) li on true`;

interface InspectionRow {
  id: number;
  organisation_id: number;
  client_id: string;
  inspected_at: Date | string;
  result: Inspection['result'];
  findings: string;
  hazards: string[] | string;
  rectify_by: string | null;
  inspector_id: number | null;
  created_at: Date | string;
}

const inspectionColumns = sql`i.id::int as id, i.organisation_id::int as organisation_id, i.client_id::text as client_id,
  i.inspected_at, i.result, i.findings, i.hazards, to_char(i.rectify_by, 'YYYY-MM-DD') as rectify_by,
  i.inspector_id::int as inspector_id, i.created_at`;

function presentInspection(row: InspectionRow): Inspection {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    clientId: row.client_id,
    inspectedAt: iso(row.inspected_at),
    result: row.result,
    findings: row.findings,
    hazards: typeof row.hazards === 'string' ? (JSON.parse(row.hazards) as string[]) : row.hazards,
    rectifyBy: row.rectify_by,
    inspectorId: row.inspector_id,
    createdAt: iso(row.created_at),
  };
}

interface OrganisationRow {
  id: number;
  name: string;
  kind: Organisation['kind'];
  licence_no: string | null;
  safety_name: string | null;
  safety_phone_masked: string | null;
  address_id: number | null;
  building_id: number | null;
  lng: number | null;
  lat: number | null;
  status: Organisation['status'];
  grid_code: string;
  region_path: string;
  created_at: Date | string;
  updated_at: Date | string;
  version: number;
  addr_road: string | null;
  addr_road_number: string | null;
  addr_building_name: string | null;
  addr_unit: string | null;
  addr_floor: string | null;
  addr_room: string | null;
  li_id: number | null;
  li_client_id: string | null;
  li_inspected_at: Date | string | null;
  li_result: Inspection['result'] | null;
  li_findings: string | null;
  li_hazards: string[] | string | null;
  li_rectify_by: string | null;
  li_inspector_id: number | null;
  li_created_at: Date | string | null;
  next_due: Date | string | null;
}

/** The columns an answer may carry: the phone's mask only, never the sealed value or its hash. */
const organisationSelect = sql`select o.id::int as id, o.name, o.kind, o.licence_no, o.safety_name,
    o.safety_phone_masked, o.address_id::int as address_id, o.building_id::int as building_id,
    ST_X(o.location) as lng, ST_Y(o.location) as lat, o.status, o.grid_code, o.region_path, o.created_at,
    o.updated_at, o.version,
    a.road as addr_road, a.road_number as addr_road_number, coalesce(ab.name, a.building_name) as addr_building_name,
    a.unit as addr_unit, a.floor as addr_floor, a.room as addr_room,
    li.id::int as li_id, li.client_id::text as li_client_id, li.inspected_at as li_inspected_at, li.result as li_result,
    li.findings as li_findings, li.hazards as li_hazards, to_char(li.rectify_by, 'YYYY-MM-DD') as li_rectify_by,
    li.inspector_id::int as li_inspector_id, li.created_at as li_created_at,
    ${nextDueSql} as next_due
  from organisation o
  left join address a on a.id = o.address_id
  left join building ab on ab.id = a.building_id
  ${latestInspection}`;

function presentOrganisation(row: OrganisationRow): Organisation {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    licenceNo: row.licence_no,
    safetyName: row.safety_name,
    safetyPhoneMasked: row.safety_phone_masked,
    addressId: row.address_id,
    addressLabel:
      row.addr_road === null
        ? null
        : addressLabel({
            road: row.addr_road,
            roadNumber: row.addr_road_number,
            buildingName: row.addr_building_name,
            unit: row.addr_unit,
            floor: row.addr_floor,
            room: row.addr_room,
          }),
    buildingId: row.building_id,
    location: toPoint(row.lng, row.lat),
    status: row.status,
    gridCode: row.grid_code,
    lastInspection:
      row.li_id === null
        ? null
        : presentInspection({
            id: row.li_id,
            organisation_id: row.id,
            client_id: row.li_client_id!,
            inspected_at: row.li_inspected_at!,
            result: row.li_result!,
            findings: row.li_findings ?? '',
            hazards: row.li_hazards ?? [],
            rectify_by: row.li_rectify_by,
            inspector_id: row.li_inspector_id,
            created_at: row.li_created_at!,
          }),
    inspectionIntervalMonths: inspectionIntervalMonths[row.kind],
    nextInspectionDue: isoOrNull(row.next_due),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    version: row.version,
  };
}

async function loadOrganisation(ex: Executor, id: number): Promise<OrganisationRow | undefined> {
  return one<OrganisationRow>(ex, sql`${organisationSelect} where o.id = ${id}`);
}

function parsePhone(value: string, field: string): string {
  const phone = normalisePhone(value);
  if (!phone) throw invalid(field, '手机号或带区号的固定电话 (a mobile or a landline with area code)');
  return phone;
}

/**
 * Registers an organisation or place (`place.write`) in a grid: its address, building and point must be in the
 * same grid (the building's point is used when none is given); the safety-responsible person's phone is sealed.
 */
export async function createOrganisation(
  options: Deps & Audited & { secrets: SecretBox; input: CreateOrganisationRequest },
): Promise<Organisation> {
  const { db, actor, input, secrets } = options;
  const now = options.clock.now();
  const phone = input.safetyPhone === undefined ? null : parsePhone(input.safetyPhone, 'body.safetyPhone');
  const id = await db.orm.transaction(async (tx) => {
    const grid = await loadGrid(tx, input.gridCode);
    requireAccess(actor, 'place.write', { regionPath: grid.path });
    const address =
      input.addressId === undefined
        ? undefined
        : await addressInGrid(tx, actor, grid, input.addressId, 'body.addressId');
    const building =
      input.buildingId === undefined
        ? undefined
        : await buildingInGrid(tx, actor, grid, input.buildingId, 'body.buildingId');
    if (input.location) await requirePointInGrid(tx, grid, input.location, 'body.location');
    const location =
      input.location ??
      toPoint(building?.lng ?? null, building?.lat ?? null) ??
      toPoint(address?.lng ?? null, address?.lat ?? null);
    const sealed = phone === null ? null : sealPhone(secrets, phone);
    const created = await one<{ id: number }>(
      tx,
      sql`insert into organisation (name, kind, licence_no, safety_name, safety_phone_cipher, safety_phone_key_id,
            safety_phone_hash, safety_phone_masked, address_id, building_id, location, status, grid_code,
            region_path, created_at, updated_at)
          values (${input.name}, ${input.kind}, ${input.licenceNo ?? null}, ${input.safetyName ?? null},
            ${sealed?.cipher ?? null}, ${sealed?.keyId ?? null}, ${sealed?.hash ?? null}, ${sealed?.masked ?? null},
            ${address?.id ?? null}, ${building?.id ?? address?.building_id ?? null},
            ${location ? pointSql(location) : sql`null`}, ${input.status}, ${grid.code}, ${grid.path},
            ${now.toISOString()}, ${now.toISOString()})
          returning id::int as id`,
    );
    await auditRead(tx, options, 'organisation.created', 'organisation', String(created!.id), {
      gridCode: grid.code,
      kind: input.kind,
    });
    return created!.id;
  });
  return presentOrganisation((await loadOrganisation(db.orm, id))!);
}

export async function getOrganisation(options: Deps & { organisationId: number }): Promise<Organisation> {
  const row = await loadOrganisation(options.db.orm, options.organisationId);
  if (!row) throw notFound();
  requireAccess(options.actor, 'place.read', { regionPath: row.region_path });
  return presentOrganisation(row);
}

/**
 * Organisations in scope by grid or region, kind, status, text (name, or licence number prefix) and
 * `inspection=overdue` (active places whose next inspection was due before now); keyset paging by id.
 */
export async function listOrganisations(
  options: Deps & { clock: Clock; query: OrganisationListQuery },
): Promise<OrganisationList> {
  const { db, actor, query } = options;
  const where = await listScope(db.orm, actor, 'place.read', sql`o.region_path`, query);
  if (query.kind) where.push(sql`o.kind = ${query.kind}`);
  if (query.status) where.push(sql`o.status = ${query.status}`);
  if (query.q) {
    const text = likeEscape(query.q);
    where.push(sql`(o.name like ${`%${text}%`} or o.licence_no like ${`${text}%`})`);
  }
  if (query.inspection === 'overdue')
    where.push(
      sql`o.status = 'active' and ${nextDueSql} < ${options.clock.now().toISOString()}::timestamptz`,
    );
  const after = afterCursor(sql`o.id`, query.cursor);
  if (after) where.push(after);
  const list = await rows<OrganisationRow>(
    db.orm,
    sql`${organisationSelect} where ${sql.join(where, sql` and `)} order by o.id limit ${query.limit + 1}`,
  );
  const page = list.slice(0, query.limit);
  return {
    items: page.map(presentOrganisation),
    nextCursor: list.length > query.limit ? String(page[page.length - 1]!.id) : null,
  };
}

/**
 * Changes an organisation in scope (`place.write`) at the version the caller read (409 when stale): only the
 * fields present; address, building and point stay within its grid; the phone is re-sealed. Audited as
 * `organisation.updated` with the names of the changed fields (never the values).
 */
export async function updateOrganisation(
  options: Deps & Audited & { secrets: SecretBox; organisationId: number; input: UpdateOrganisationRequest },
): Promise<Organisation> {
  const { db, actor, input, secrets } = options;
  const now = options.clock.now();
  const phone =
    typeof input.safetyPhone === 'string'
      ? parsePhone(input.safetyPhone, 'body.safetyPhone')
      : input.safetyPhone;
  await db.orm.transaction(async (tx) => {
    const current = await one<{ grid_code: string; region_path: string; version: number }>(
      tx,
      sql`select grid_code, region_path, version from organisation where id = ${options.organisationId} for update`,
    );
    if (!current) throw notFound();
    requireAccess(actor, 'place.write', { regionPath: current.region_path });
    if (input.expectedVersion !== current.version) throw stale();
    const grid = await loadGrid(tx, current.grid_code);
    const sets: SQL[] = [];
    const changed: string[] = [];
    const set = (field: string, assignment: SQL) => {
      sets.push(assignment);
      changed.push(field);
    };
    if (input.name !== undefined) set('name', sql`name = ${input.name}`);
    if (input.kind !== undefined) set('kind', sql`kind = ${input.kind}`);
    if (input.licenceNo !== undefined) set('licenceNo', sql`licence_no = ${input.licenceNo}`);
    if (input.safetyName !== undefined) set('safetyName', sql`safety_name = ${input.safetyName}`);
    if (phone !== undefined) {
      const sealed = phone === null ? null : sealPhone(secrets, phone);
      set(
        'safetyPhone',
        sql`safety_phone_cipher = ${sealed?.cipher ?? null}, safety_phone_key_id = ${sealed?.keyId ?? null},
          safety_phone_hash = ${sealed?.hash ?? null}, safety_phone_masked = ${sealed?.masked ?? null}`,
      );
    }
    if (input.addressId !== undefined) {
      if (input.addressId !== null) await addressInGrid(tx, actor, grid, input.addressId, 'body.addressId');
      set('addressId', sql`address_id = ${input.addressId}`);
    }
    if (input.buildingId !== undefined) {
      if (input.buildingId !== null)
        await buildingInGrid(tx, actor, grid, input.buildingId, 'body.buildingId');
      set('buildingId', sql`building_id = ${input.buildingId}`);
    }
    if (input.location !== undefined) {
      if (input.location !== null) await requirePointInGrid(tx, grid, input.location, 'body.location');
      set('location', sql`location = ${input.location ? pointSql(input.location) : null}`);
    }
    if (input.status !== undefined) set('status', sql`status = ${input.status}`);
    if (changed.length === 0) return;
    sets.push(sql`version = version + 1, updated_at = ${now.toISOString()}`);
    await tx.execute(
      sql`update organisation set ${sql.join(sets, sql`, `)} where id = ${options.organisationId}`,
    );
    await auditRead(tx, options, 'organisation.updated', 'organisation', String(options.organisationId), {
      fields: changed.join(','),
    });
  });
  return presentOrganisation((await loadOrganisation(db.orm, options.organisationId))!);
}

/**
 * The safety-responsible person's full phone, for a stated reason: `person.reveal` in the organisation's scope,
 * audited as `organisation.revealed` with the field and the reason (never the value).
 */
export async function revealOrganisation(
  options: Deps & Audited & { secrets: SecretBox; organisationId: number; input: OrganisationRevealRequest },
): Promise<OrganisationRevealResponse> {
  const { db, actor, input } = options;
  return db.orm.transaction(async (tx) => {
    const row = await one<{ region_path: string; safety_phone_cipher: string | null }>(
      tx,
      sql`select region_path, safety_phone_cipher from organisation where id = ${options.organisationId}`,
    );
    if (!row) throw notFound();
    requireAccess(actor, 'person.reveal', { regionPath: row.region_path });
    await auditRead(tx, options, 'organisation.revealed', 'organisation', String(options.organisationId), {
      field: input.field,
      reason: input.reason,
    });
    return {
      field: input.field,
      value: row.safety_phone_cipher === null ? null : options.secrets.decrypt(row.safety_phone_cipher),
    };
  });
}

/** China's calendar day of an instant, `YYYY-MM-DD`. */
function chinaDay(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/**
 * Records an inspection (检查) of an organisation in scope (`place.write`). Idempotent by `clientId`: the same
 * id again answers the first inspection (`created: false`); the same id on another organisation is 409. Not in
 * the future; a rectify deadline not before the inspection day.
 */
export async function recordInspection(
  options: Deps & Audited & { organisationId: number; input: CreateInspectionRequest },
): Promise<{ created: boolean; inspection: Inspection }> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  return db.orm.transaction(async (tx) => {
    const organisation = await one<{ region_path: string }>(
      tx,
      sql`select region_path from organisation where id = ${options.organisationId}`,
    );
    if (!organisation) throw notFound();
    requireAccess(actor, 'place.write', { regionPath: organisation.region_path });
    const replay = async () => {
      const existing = await one<InspectionRow>(
        tx,
        sql`select ${inspectionColumns} from organisation_inspection i where i.client_id = ${input.clientId}::uuid`,
      );
      if (!existing) return undefined;
      if (existing.organisation_id !== options.organisationId)
        throw conflict(
          'body.clientId',
          '该客户端编号已用于另一单位的检查 (this clientId belongs to another organisation)',
          '已使用 (already used)',
        );
      return { created: false, inspection: presentInspection(existing) };
    };
    const first = await replay();
    if (first) return first;
    const inspectedAt = new Date(input.inspectedAt);
    if (inspectedAt.getTime() > now.getTime() + 5 * 60_000)
      throw invalid('body.inspectedAt', '检查时间不能晚于现在 (the inspection cannot be in the future)');
    if (input.rectifyBy !== undefined && input.rectifyBy < chinaDay(inspectedAt))
      throw invalid('body.rectifyBy', '整改期限不能早于检查日期 (the deadline is before the inspection)');
    const inserted = await one<{ id: number }>(
      tx,
      sql`insert into organisation_inspection (organisation_id, client_id, inspected_at, result, findings, hazards,
            rectify_by, inspector_id, region_path, created_at)
          values (${options.organisationId}, ${input.clientId}::uuid, ${inspectedAt.toISOString()}, ${input.result},
            ${input.findings}, ${JSON.stringify(input.hazards)}::jsonb, ${input.rectifyBy ?? null},
            ${actor.userId}, ${organisation.region_path}, ${now.toISOString()})
          on conflict (client_id) do nothing
          returning id::int as id`,
    );
    // A retry that raced the first request: it committed meanwhile; answer its inspection.
    if (!inserted) return (await replay())!;
    await auditRead(tx, options, 'organisation.inspected', 'organisation', String(options.organisationId), {
      inspectionId: inserted.id,
      result: input.result,
      hazards: input.hazards.length,
    });
    const row = await one<InspectionRow>(
      tx,
      sql`select ${inspectionColumns} from organisation_inspection i where i.id = ${inserted.id}`,
    );
    return { created: true, inspection: presentInspection(row!) };
  });
}

/** An organisation's inspections, the latest first. */
export async function listInspections(options: Deps & { organisationId: number }): Promise<Inspection[]> {
  const { db, actor } = options;
  const organisation = await one<{ region_path: string }>(
    db.orm,
    sql`select region_path from organisation where id = ${options.organisationId}`,
  );
  if (!organisation) throw notFound();
  requireAccess(actor, 'place.read', { regionPath: organisation.region_path });
  const list = await rows<InspectionRow>(
    db.orm,
    sql`select ${inspectionColumns} from organisation_inspection i where i.organisation_id = ${options.organisationId}
        order by i.inspected_at desc, i.id desc limit 500`,
  );
  return list.map(presentInspection);
}

/* ---------------------------------------------------------------- public components (部件) */

interface ComponentRow {
  id: number;
  code: string;
  major_class: ComponentMajorClass;
  minor_class: ComponentMinorClass;
  name: string;
  owner_id: number | null;
  owner_name: string | null;
  maintainer_id: number | null;
  maintainer_name: string | null;
  state: Component['state'];
  lng: number;
  lat: number;
  grid_code: string;
  region_path: string;
  created_at: Date | string;
  updated_at: Date | string;
  version: number;
}

const componentSelect = sql`select c.id::int as id, c.code, c.major_class, c.minor_class, c.name,
    c.owner_department_id::int as owner_id, od.name as owner_name,
    c.maintainer_department_id::int as maintainer_id, md.name as maintainer_name, c.state,
    ST_X(c.location) as lng, ST_Y(c.location) as lat, c.grid_code, c.region_path, c.created_at, c.updated_at,
    c.version
  from public_component c
  left join department od on od.id = c.owner_department_id
  left join department md on md.id = c.maintainer_department_id`;

function presentComponent(row: ComponentRow): Component {
  return {
    id: row.id,
    code: row.code,
    majorClass: row.major_class,
    majorClassName: componentMajorClasses[row.major_class],
    minorClass: row.minor_class,
    minorClassName: componentMinorClasses[row.minor_class].zh,
    name: row.name,
    ownerDepartment: row.owner_id === null ? null : { id: row.owner_id, name: row.owner_name! },
    maintainerDepartment:
      row.maintainer_id === null ? null : { id: row.maintainer_id, name: row.maintainer_name! },
    state: row.state,
    location: { lng: row.lng, lat: row.lat },
    gridCode: row.grid_code,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    version: row.version,
  };
}

async function loadComponent(ex: Executor, id: number): Promise<ComponentRow | undefined> {
  return one<ComponentRow>(ex, sql`${componentSelect} where c.id = ${id}`);
}

async function requireDepartment(ex: Executor, id: number, field: string): Promise<void> {
  if (!(await one(ex, sql`select 1 from department where id = ${id}`)))
    throw invalid(field, '部门不存在 (no such department)');
}

const duplicateCode = () =>
  conflict('body.code', '部件编码已存在 (this component code exists)', '已存在 (already exists)');

/**
 * The code of a component (GB/T 30428 manner): `<community code, 12 digits>-<minor class>-<serial, 6 digits>`.
 * The community is the grid's (the first 12 digits of its code); the code does not change when grids are redrawn.
 */
export function componentCodePrefix(gridCode: string, minorClass: string): string {
  return `${gridCode.slice(0, 12)}-${minorClass}`;
}

/**
 * Registers a public component (`place.write`): the point is required and inside the grid; departments must
 * exist; the code is the next serial of the community and minor class unless an existing survey code is given.
 */
export async function createComponent(
  options: Deps & Audited & { input: CreateComponentRequest },
): Promise<Component> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  const minor = input.minorClass;
  const major = minor.slice(0, 2);
  if (input.code !== undefined && input.code.slice(13, 17) !== minor)
    throw invalid('body.code', `编码中的小类须为 ${minor} (the code's class must be ${minor})`);
  const id = await db.orm.transaction(async (tx) => {
    const grid = await loadGrid(tx, input.gridCode);
    requireAccess(actor, 'place.write', { regionPath: grid.path });
    await requirePointInGrid(tx, grid, input.location, 'body.location');
    if (input.ownerDepartmentId !== undefined)
      await requireDepartment(tx, input.ownerDepartmentId, 'body.ownerDepartmentId');
    if (input.maintainerDepartmentId !== undefined)
      await requireDepartment(tx, input.maintainerDepartmentId, 'body.maintainerDepartmentId');
    let code = input.code;
    if (code === undefined) {
      const prefix = componentCodePrefix(grid.code, minor);
      await lock(tx, `component:${prefix}`);
      const next = await one<{ serial: number }>(
        tx,
        sql`select coalesce(max(substr(code, 19)::int), 0)::int + 1 as serial from public_component
            where code like ${`${prefix}-%`}`,
      );
      if (next!.serial > 999_999) throw conflict('body.code', '流水号已用尽 (serials exhausted)', '已用尽');
      code = `${prefix}-${String(next!.serial).padStart(6, '0')}`;
    }
    if (await one(tx, sql`select 1 from public_component where code = ${code}`)) throw duplicateCode();
    let created: { id: number } | undefined;
    try {
      created = await one<{ id: number }>(
        tx,
        sql`insert into public_component (code, major_class, minor_class, name, owner_department_id,
              maintainer_department_id, state, location, grid_code, region_path, created_at, updated_at)
            values (${code}, ${major}, ${minor}, ${input.name ?? componentMinorClasses[minor].zh},
              ${input.ownerDepartmentId ?? null}, ${input.maintainerDepartmentId ?? null}, ${input.state},
              ${pointSql(input.location)}, ${grid.code}, ${grid.path}, ${now.toISOString()}, ${now.toISOString()})
            returning id::int as id`,
      );
    } catch (error) {
      if (pgErrorCode(error) === '23505') throw duplicateCode();
      throw error;
    }
    await auditRead(tx, options, 'component.created', 'public_component', String(created!.id), {
      gridCode: grid.code,
      minorClass: minor,
    });
    return created!.id;
  });
  return presentComponent((await loadComponent(db.orm, id))!);
}

export async function getComponent(options: Deps & { componentId: number }): Promise<Component> {
  const row = await loadComponent(options.db.orm, options.componentId);
  if (!row) throw notFound();
  requireAccess(options.actor, 'place.read', { regionPath: row.region_path });
  return presentComponent(row);
}

/** Components in scope by grid or region, class (major `01` or minor `0101`) and state; keyset paging by id. */
export async function listComponents(options: Deps & { query: ComponentListQuery }): Promise<ComponentList> {
  const { db, actor, query } = options;
  const where = await listScope(db.orm, actor, 'place.read', sql`c.region_path`, query);
  if (query.class)
    where.push(
      query.class.length === 2 ? sql`c.major_class = ${query.class}` : sql`c.minor_class = ${query.class}`,
    );
  if (query.state) where.push(sql`c.state = ${query.state}`);
  const after = afterCursor(sql`c.id`, query.cursor);
  if (after) where.push(after);
  const list = await rows<ComponentRow>(
    db.orm,
    sql`${componentSelect} where ${sql.join(where, sql` and `)} order by c.id limit ${query.limit + 1}`,
  );
  const page = list.slice(0, query.limit);
  return {
    items: page.map(presentComponent),
    nextCursor: list.length > query.limit ? String(page[page.length - 1]!.id) : null,
  };
}

/**
 * Changes a component's name, state or departments (`place.write`) at the version the caller read (409 when
 * stale). Audited as `component.updated` with the changed fields (and the new state).
 */
export async function updateComponent(
  options: Deps & Audited & { componentId: number; input: UpdateComponentRequest },
): Promise<Component> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  await db.orm.transaction(async (tx) => {
    const current = await one<{ region_path: string; version: number }>(
      tx,
      sql`select region_path, version from public_component where id = ${options.componentId} for update`,
    );
    if (!current) throw notFound();
    requireAccess(actor, 'place.write', { regionPath: current.region_path });
    if (input.expectedVersion !== current.version) throw stale();
    const sets: SQL[] = [];
    const changed: string[] = [];
    if (input.name !== undefined) {
      sets.push(sql`name = ${input.name}`);
      changed.push('name');
    }
    if (input.state !== undefined) {
      sets.push(sql`state = ${input.state}`);
      changed.push('state');
    }
    if (input.ownerDepartmentId !== undefined) {
      if (input.ownerDepartmentId !== null)
        await requireDepartment(tx, input.ownerDepartmentId, 'body.ownerDepartmentId');
      sets.push(sql`owner_department_id = ${input.ownerDepartmentId}`);
      changed.push('ownerDepartmentId');
    }
    if (input.maintainerDepartmentId !== undefined) {
      if (input.maintainerDepartmentId !== null)
        await requireDepartment(tx, input.maintainerDepartmentId, 'body.maintainerDepartmentId');
      sets.push(sql`maintainer_department_id = ${input.maintainerDepartmentId}`);
      changed.push('maintainerDepartmentId');
    }
    if (changed.length === 0) return;
    sets.push(sql`version = version + 1, updated_at = ${now.toISOString()}`);
    await tx.execute(
      sql`update public_component set ${sql.join(sets, sql`, `)} where id = ${options.componentId}`,
    );
    await auditRead(tx, options, 'component.updated', 'public_component', String(options.componentId), {
      fields: changed.join(','),
      state: input.state ?? null,
    });
  });
  return presentComponent((await loadComponent(db.orm, options.componentId))!);
}
