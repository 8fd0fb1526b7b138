import crypto from 'node:crypto';
import {
  CreateCaseRequestSchema,
  PhoneSchema,
  terminalCaseStatuses,
  type CaseAction,
  type CaseStatus,
  type CreateCaseRequest,
} from '@wangge/contracts';
import type { Actor, RoleGrant } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import type { SecretBox } from '../../platform/crypto.ts';
import { one, rows, sql, type Database, type SQL } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { isInside } from '../../platform/access.ts';
import { createCase } from '../case/case.intake.ts';
import { applyAction } from '../case/case.transition.ts';
import type { GridRouter } from '../region/index.ts';
import { getItem, type ExtraField } from '../taxonomy/index.ts';
import {
  attributesOf,
  field,
  open311Error,
  Open311Failure,
  parseW3cDateTime,
  w3c,
  type FormFields,
  type Open311Error,
  type Open311Record,
} from './open311.format.ts';

/** GeoReport v2: the specification every endpoint names in discovery. */
export const open311Specification = 'http://wiki.open311.org/GeoReport_v2';
/** The longest window of GET requests / servicerequestupdates, and its default (the specification's 90 days). */
export const open311WindowDays = 90;
/** The specification's response volume: at most 1000 requests. */
export const open311MaxPageSize = 1000;
/** The spec's free text limit for a description. */
export const open311DescriptionMax = 4000;

/**
 * Wangge states → Open311 status (open / closed), the Chinese detailed state (status_notes) and the FixMyStreet
 * extended status (returned as `extended_status` when asked with `extended_statuses=true`, and as `status` of
 * servicerequestupdates).
 */
export const open311StatusOf: Record<
  CaseStatus,
  { status: 'open' | 'closed'; notes: string; extended: Open311ExtendedStatus }
> = {
  reported: { status: 'open', notes: '已上报,待受理 (reported)', extended: 'OPEN' },
  verifying: { status: 'open', notes: '核实中 (being verified)', extended: 'INVESTIGATING' },
  filed: {
    status: 'open',
    notes: '已立案,待派遣 (accepted, to be dispatched)',
    extended: 'ACTION_SCHEDULED',
  },
  dispatched: {
    status: 'open',
    notes: '已派遣至承办部门 (dispatched to the department)',
    extended: 'ACTION_SCHEDULED',
  },
  in_progress: { status: 'open', notes: '处置中 (in progress)', extended: 'IN_PROGRESS' },
  suspended: { status: 'open', notes: '已挂起 (on hold)', extended: 'IN_PROGRESS' },
  responded: {
    status: 'open',
    notes: '部门已反馈处置结果,待核查 (handled, to be inspected)',
    extended: 'IN_PROGRESS',
  },
  inspecting: { status: 'open', notes: '核查中 (being inspected)', extended: 'IN_PROGRESS' },
  closed: { status: 'closed', notes: '已办结 (fixed and closed)', extended: 'FIXED' },
  evaluated: { status: 'closed', notes: '已办结并评价 (fixed, evaluated)', extended: 'FIXED' },
  not_filed: {
    status: 'closed',
    notes: '不予立案 (no further action)',
    extended: 'NO_FURTHER_ACTION',
  },
  duplicate: { status: 'closed', notes: '重复上报,已合并 (duplicate)', extended: 'DUPLICATE' },
};

/** FixMyStreet's extended statuses (Open311 FMS additional states). */
export const open311ExtendedStatuses = [
  'OPEN',
  'INVESTIGATING',
  'IN_PROGRESS',
  'ACTION_SCHEDULED',
  'NO_FURTHER_ACTION',
  'NOT_COUNCILS_RESPONSIBILITY',
  'DUPLICATE',
  'INTERNAL_REFERRAL',
  'CLOSED',
  'FIXED',
] as const;
export type Open311ExtendedStatus = (typeof open311ExtendedStatuses)[number];

/** Which workflow verb a posted update asks for, from the case's state (else the update is a comment only). */
function requestedAction(status: Open311ExtendedStatus, current: CaseStatus): CaseAction | undefined {
  if (['IN_PROGRESS', 'ACTION_SCHEDULED', 'INVESTIGATING'].includes(status) && current === 'dispatched')
    return 'accept';
  if (['FIXED', 'CLOSED'].includes(status) && current === 'in_progress') return 'respond';
  return undefined;
}

// ——— jurisdiction ———

export interface Jurisdiction {
  code: string;
  path: string;
}

/**
 * jurisdiction_id is a city code (the root region of level city). Optional while one city is served; required
 * when there are several (400); unknown → 404.
 */
export async function resolveJurisdiction(
  db: Database,
  jurisdictionId: string | undefined,
): Promise<Jurisdiction> {
  const cities = await rows<Jurisdiction>(
    db.orm,
    sql`select code, path from region where level = 'city' order by code`,
  );
  if (jurisdictionId === undefined) {
    if (cities.length === 1) return cities[0]!;
    if (cities.length === 0) throw open311Error(404, '没有可服务的辖区 (no jurisdiction is served)');
    throw open311Error(400, '须提供 jurisdiction_id (jurisdiction_id was not provided)');
  }
  const city = cities.find((c) => c.code === jurisdictionId);
  if (!city) throw open311Error(404, `未找到辖区 (jurisdiction_id not found): ${jurisdictionId}`);
  return city;
}

// ——— services ———

interface ServiceRow {
  code: string;
  name_zh: string;
  name_en: string;
  fields: ExtraField[];
  group_name: string;
  group_en: string;
  handle_working_days: number | null;
}

const serviceColumns = sql`i.code, i.name_zh, i.name_en, i.fields, p.name_zh as group_name, p.name_en as group_en,
  i.handle_working_days`;
const activeItems = sql`case_category i join case_category p on p.code = i.parent_code
  where i.active and p.active`;

/** One service per active item (4-digit leaf category). */
export async function listServices(db: Database): Promise<Open311Record[]> {
  const items = await rows<ServiceRow>(
    db.orm,
    sql`select ${serviceColumns} from ${activeItems} order by p.sort, p.code, i.sort, i.code`,
  );
  return items.map((row) => ({
    service_code: row.code,
    service_name: row.name_zh,
    description: `${row.name_zh} (${row.name_en})`,
    metadata: row.fields.length > 0,
    type: 'realtime',
    keywords: [row.name_zh, row.name_en, row.group_name, row.group_en].join(', '),
    group: row.group_name,
  }));
}

async function findService(db: Database, code: string): Promise<ServiceRow | undefined> {
  return one<ServiceRow>(db.orm, sql`select ${serviceColumns} from ${activeItems} and i.code = ${code}`);
}

const datatypeOf: Record<ExtraField['type'], string> = {
  string: 'string',
  number: 'number',
  date: 'datetime',
  single: 'singlevaluelist',
  multi: 'multivaluelist',
};

/** The service definition: the item's extra fields as attributes. */
export async function serviceDefinition(db: Database, code: string): Promise<Open311Record> {
  const service = await findService(db, code);
  if (!service) throw open311Error(404, `未找到服务代码 (service_code not found): ${code}`);
  return {
    service_code: service.code,
    attributes: service.fields.map((f, index) => ({
      variable: true,
      code: f.code,
      datatype: datatypeOf[f.type],
      required: f.required ?? false,
      datatype_description:
        f.type === 'date'
          ? '日期 YYYY-MM-DD (a date, ISO 8601)'
          : f.type === 'multi'
            ? '可多选 (several values: attribute[code][]=…)'
            : null,
      order: index + 1,
      description: f.en ? `${f.zh} (${f.en})` : f.zh,
      ...(f.options && (f.type === 'single' || f.type === 'multi')
        ? { values: f.options.map((o) => ({ key: o.value, name: o.en ? `${o.zh} (${o.en})` : o.zh })) }
        : {}),
    })),
  };
}

// ——— clients ———

export interface Open311ClientRow {
  id: number;
  name: string;
  user_id: number;
  department_id: number | null;
  department_path: string | null;
}

export const hashApiKey = (apiKey: string): string =>
  crypto.createHash('sha256').update(apiKey).digest('hex');

/** The client app of an api_key; missing or invalid (or revoked) → 403. */
export async function authenticateClient(
  db: Database,
  apiKey: string | undefined,
): Promise<Open311ClientRow> {
  if (!apiKey) throw open311Error(403, '缺少 api_key (api_key is missing)');
  const client = await one<Open311ClientRow>(
    db.orm,
    sql`select c.id::int as id, c.name, c.user_id::int as user_id, c.department_id::int as department_id,
          d.region_path as department_path
        from open311_client c left join department d on d.id = c.department_id
        where c.api_key_hash = ${hashApiKey(apiKey)} and c.revoked_at is null`,
  );
  if (!client) throw open311Error(403, 'api_key 无效 (invalid api_key)');
  return client;
}

/** The client acts as a resident of the city (上报) and, for a department system, as that department's handler. */
function clientActor(client: Open311ClientRow, city: Jurisdiction | undefined): Actor {
  const grants: RoleGrant[] = [];
  if (city)
    grants.push({
      role: 'resident',
      regionCode: city.code,
      regionPath: city.path,
      departmentId: null,
      specialty: null,
    });
  if (client.department_id !== null && client.department_path !== null)
    grants.push({
      role: 'department_handler',
      regionCode: null,
      regionPath: client.department_path,
      departmentId: client.department_id,
      specialty: null,
    });
  return {
    userId: client.user_id,
    username: `open311-client-${client.id}`,
    displayName: `${client.name} (Open311)`,
    sessionId: 0,
    grants,
  };
}

/** Wangge's errors in the specification's list: validation 400, not found 404, permission 403, else 400. */
export function toOpen311Failure(error: DomainError): Open311Failure {
  const status = error.code === 'NOT_FOUND' ? 404 : error.code === 'FORBIDDEN' ? 403 : 400;
  const errors: Open311Error[] = error.fields?.length
    ? error.fields.map((f) => ({
        code: status,
        description: `${f.field.replace(/^extra\.(.+)$/, 'attribute[$1]')}: ${f.message}`,
      }))
    : [{ code: status, description: error.message }];
  return new Open311Failure(status, errors);
}

// ——— POST requests ———

function attributeValue(f: ExtraField, values: string[], list: boolean): unknown {
  if (f.type === 'multi') return values;
  if (list && values.length > 1) return values;
  const value = values[0];
  if (value === undefined) return undefined;
  if (f.type === 'number') return value.trim() === '' || Number.isNaN(Number(value)) ? value : Number(value);
  // datetime in, the item's date out (China time when a time is given).
  if (f.type === 'date' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const at = parseW3cDateTime(value);
    return at ? new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10) : value;
  }
  return value;
}

interface AddressRow {
  id: number;
  grid_code: string;
  road: string;
  road_number: string | null;
  lng: number | null;
  lat: number | null;
  grid_lng: number | null;
  grid_lat: number | null;
}

/**
 * POST requests: creates the case synchronously through the case module's intake (channel `resident`, as the
 * client app's service account), marks it public and keeps what only Open311 carries (sealed reporter details,
 * media_url, address_id, zipcode). Answers the case serial as service_request_id.
 */
export async function createServiceRequest(options: {
  db: Database;
  clock: Clock;
  router: GridRouter;
  secrets: SecretBox;
  fields: FormFields;
  requestId?: string;
}): Promise<Open311Record> {
  const { db, clock, router, secrets, fields } = options;
  const client = await authenticateClient(db, field(fields, 'api_key'));
  const city = await resolveJurisdiction(db, field(fields, 'jurisdiction_id'));

  const serviceCode = field(fields, 'service_code');
  if (!serviceCode) throw open311Error(400, '须提供 service_code (service_code was not provided)');
  const service = await findService(db, serviceCode);
  if (!service) throw open311Error(404, `未找到服务代码 (service_code not found): ${serviceCode}`);
  const item = (await getItem(db.orm, serviceCode))!;

  const errors: Open311Error[] = [];
  const bad = (description: string) => errors.push({ code: 400, description });

  // Where: lat+long (WGS-84), else a standard address (address_id); a free address_string cannot be geocoded.
  const latText = field(fields, 'lat');
  const longText = field(fields, 'long');
  const addressString = field(fields, 'address_string');
  const addressId = field(fields, 'address_id');
  let point: { lng: number; lat: number } | undefined;
  let gridOverride: { gridCode: string; gridOverrideReason: string } | undefined;
  let addressText = addressString;
  if (latText !== undefined || longText !== undefined) {
    const lat = Number(latText);
    const lng = Number(longText);
    if (latText === undefined || longText === undefined)
      bad('lat 与 long 须同时提供 (lat and long must both be sent)');
    else if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180)
      bad('lat/long 不是有效的 WGS-84 坐标 (lat/long are not valid WGS-84 coordinates)');
    else point = { lng, lat };
  } else if (addressId !== undefined) {
    const address = /^\d{1,18}$/.test(addressId)
      ? await one<AddressRow>(
          db.orm,
          sql`select a.id::int as id, a.grid_code, a.road, a.road_number,
                st_x(a.location) as lng, st_y(a.location) as lat,
                st_x(g.centroid) as grid_lng, st_y(g.centroid) as grid_lat
              from address a join region g on g.code = a.grid_code where a.id = ${addressId}`,
        )
      : undefined;
    if (!address) throw open311Error(404, `未找到标准地址 (address_id not found): ${addressId}`);
    const lng = address.lng ?? address.grid_lng;
    const lat = address.lat ?? address.grid_lat;
    if (lng === null || lat === null)
      bad('该标准地址没有坐标,请提供 lat/long (the address has no coordinates: send lat and long)');
    else {
      point = { lng, lat };
      if (router.locate(lng, lat) !== address.grid_code)
        gridOverride = {
          gridCode: address.grid_code,
          gridOverrideReason: '标准地址所在网格 (grid of the address)',
        };
    }
    // Only the road and number: never the building, unit or room of the registry.
    addressText ??= [address.road, address.road_number].filter(Boolean).join(' ');
  } else if (addressString !== undefined) {
    bad(
      '暂不支持按地址文字定位,请提供 lat/long 或 address_id (geocoding is not available: send lat and long, or address_id)',
    );
  } else
    bad('须提供位置:lat 与 long,或 address_id (a location was not provided: lat and long, or address_id)');

  if (point && !gridOverride) {
    const gridCode = router.locate(point.lng, point.lat);
    if (!gridCode) bad('该位置不在任何网格内 (the location is outside every grid)');
    else {
      const grid = await one<{ path: string }>(db.orm, sql`select path from region where code = ${gridCode}`);
      if (!grid || !isInside(city.path, grid.path))
        bad('该位置不在本辖区内 (the location is outside the jurisdiction)');
    }
  }

  const description = field(fields, 'description') ?? '';
  if (description.length > open311DescriptionMax)
    bad(`description 不超过 ${open311DescriptionMax} 字 (at most ${open311DescriptionMax} characters)`);
  const mediaUrl = field(fields, 'media_url');
  if (mediaUrl !== undefined && !isHttpUrl(mediaUrl))
    bad('media_url 须为 http(s) 地址 (media_url must be a URL)');
  const token = field(fields, 'client_request_id') ?? crypto.randomUUID();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(token))
    bad('client_request_id 须为 UUID (client_request_id must be a UUID)');

  const attributes = attributesOf(fields);
  const extra: Record<string, unknown> = {};
  for (const [code, { values, list }] of attributes) {
    const f = item.fields.find((x) => x.code === code);
    if (!f) {
      bad(`attribute[${code}]: 未知属性 (unknown attribute)`);
      continue;
    }
    const value = attributeValue(f, values, list);
    if (value !== undefined) extra[code] = value;
  }
  if (errors.length > 0) throw new Open311Failure(400, errors);

  const phone = field(fields, 'phone');
  const reporter = {
    email: field(fields, 'email') ?? null,
    firstName: field(fields, 'first_name') ?? null,
    lastName: field(fields, 'last_name') ?? null,
    phone: phone ?? null,
    deviceId: field(fields, 'device_id') ?? null,
    accountId: field(fields, 'account_id') ?? null,
  };
  const firstLine = description.split('\n')[0]?.trim() ?? '';
  const title = firstLine ? firstLine.slice(0, 60) : service.name_zh;
  const parsed = CreateCaseRequestSchema.safeParse({
    clientId: token.toLowerCase(),
    title,
    description,
    categoryCode: service.code,
    location: { lng: point!.lng, lat: point!.lat, crs: 'wgs84' },
    ...(addressText ? { address: addressText.slice(0, 300) } : {}),
    ...(gridOverride ?? {}),
    channel: 'resident',
    extra,
    // The case module keeps a valid phone sealed and masked, as for any reporter contact.
    ...(phone && PhoneSchema.safeParse(phone).success ? { contact: phone } : {}),
  } satisfies Partial<CreateCaseRequest> & Record<string, unknown>);
  if (!parsed.success)
    throw new Open311Failure(
      400,
      parsed.error.issues.map((issue) => ({
        code: 400,
        description: `${issue.path.join('.')}: ${issue.message}`,
      })),
    );

  const actor = clientActor(client, city);
  const now = clock.now().toISOString();
  const hasReporter = Object.values(reporter).some((v) => v !== null);
  let created;
  try {
    created = await createCase({
      db,
      clock,
      actor,
      router,
      secrets,
      input: parsed.data,
      ...(options.requestId ? { requestId: options.requestId } : {}),
      // What the client app sent besides the case, and the public mark: committed with the case.
      alsoWrite: async (tx, c) => {
        await tx.execute(sql`insert into open311_request (case_id, client_id, token, reporter_cipher, media_url,
            address_id, zipcode, created_at)
          values (${c.id}, ${client.id}, ${parsed.data.clientId},
            ${hasReporter ? secrets.encrypt(JSON.stringify(reporter)) : null}, ${mediaUrl ?? null},
            ${addressId ?? null}, ${field(fields, 'zipcode') ?? null}, ${now})`);
        await tx.execute(sql`update grid_case set public = true where id = ${c.id}`);
      },
    });
  } catch (error) {
    if (error instanceof DomainError) throw toOpen311Failure(error);
    throw error;
  }

  return {
    service_request_id: created.serial,
    service_notice: serviceNotice(service.handle_working_days),
    account_id: reporter.accountId,
  };
}

function serviceNotice(handleWorkingDays: number | null): string | null {
  return handleWorkingDays
    ? `立案派遣后 ${handleWorkingDays} 个工作日内处置 (handled within ${handleWorkingDays} working days of dispatch)`
    : null;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

// ——— GET requests ———

interface PublicCaseRow {
  id: number;
  serial: string;
  status: CaseStatus;
  description: string;
  category_code: string;
  service_name: string;
  handle_working_days: number | null;
  agency: string | null;
  reported_at: Date | string;
  updated_at: Date | string;
  closed_at: Date | string | null;
  due_at: Date | string | null;
  address: string | null;
  lat: number | null;
  lng: number | null;
  media_url: string | null;
  address_id: string | null;
  zipcode: string | null;
}

/** Only what the specification lists: never the reporter, the registry, staff comments or photos. */
const publicCaseColumns = sql`c.id::int as id, c.serial, c.status, c.description, c.category_code,
  cat.name_zh as service_name, cat.handle_working_days, d.name as agency, c.reported_at, c.updated_at, c.closed_at,
  c.due_at, c.address, st_y(c.location) as lat, st_x(c.location) as lng, r.media_url, r.address_id, r.zipcode`;
const publicCaseFrom = sql`grid_case c join case_category cat on cat.code = c.category_code
  left join department d on d.id = c.lead_department_id
  left join open311_request r on r.case_id = c.id`;

function presentRequest(row: PublicCaseRow, extended: boolean): Open311Record {
  const state = open311StatusOf[row.status];
  const closed = state.status === 'closed';
  return {
    service_request_id: row.serial,
    status: state.status,
    ...(extended ? { extended_status: state.extended } : {}),
    status_notes: state.notes,
    service_name: row.service_name,
    service_code: row.category_code,
    description: row.description === '' ? null : row.description,
    agency_responsible: row.agency,
    service_notice: serviceNotice(row.handle_working_days),
    requested_datetime: w3c(row.reported_at),
    updated_datetime: w3c(closed ? (row.closed_at ?? row.updated_at) : row.updated_at),
    expected_datetime: closed ? null : w3c(row.due_at),
    address: row.address,
    address_id: row.address_id,
    zipcode: row.zipcode,
    lat: row.lat === null ? null : Number(row.lat),
    long: row.lng === null ? null : Number(row.lng),
    media_url: row.media_url,
  };
}

const commaList = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** start_date / end_date: default the latest 90 days; never more than 90 days (400). */
export function dateWindow(query: Record<string, unknown>, now: Date): { start: Date; end: Date } {
  const startText = field(query, 'start_date');
  const endText = field(query, 'end_date');
  const start = startText === undefined ? undefined : parseW3cDateTime(startText);
  const end = endText === undefined ? undefined : parseW3cDateTime(endText);
  const errors: Open311Error[] = [];
  if (startText !== undefined && !start)
    errors.push({
      code: 400,
      description: 'start_date 须为 W3C 日期时间,含时区 (start_date must be a w3 datetime)',
    });
  if (endText !== undefined && !end)
    errors.push({
      code: 400,
      description: 'end_date 须为 W3C 日期时间,含时区 (end_date must be a w3 datetime)',
    });
  if (errors.length > 0) throw new Open311Failure(400, errors);
  const span = open311WindowDays * 86_400_000;
  const to = end ?? (start ? new Date(Math.min(start.getTime() + span, now.getTime())) : now);
  const from = start ?? new Date(to.getTime() - span);
  if (from > to) throw open311Error(400, 'start_date 晚于 end_date (start_date is after end_date)');
  if (to.getTime() - from.getTime() > span)
    throw open311Error(
      400,
      `查询时间跨度不能超过 ${open311WindowDays} 天 (the date range may not span more than ${open311WindowDays} days)`,
    );
  return { start: from, end: to };
}

function pageOf(query: Record<string, unknown>): { limit: number; offset: number } {
  const pageText = field(query, 'page');
  const sizeText = field(query, 'page_size');
  const page = pageText === undefined ? 1 : Number(pageText);
  const size = sizeText === undefined ? open311MaxPageSize : Number(sizeText);
  if (!Number.isInteger(page) || page < 1)
    throw open311Error(400, 'page 须为正整数 (page must be a positive integer)');
  if (!Number.isInteger(size) || size < 1 || size > open311MaxPageSize)
    throw open311Error(
      400,
      `page_size 须为 1–${open311MaxPageSize} (page_size must be 1 to ${open311MaxPageSize})`,
    );
  return { limit: size, offset: (page - 1) * size };
}

const extendedAsked = (query: Record<string, unknown>) =>
  ['true', '1'].includes(field(query, 'extended_statuses') ?? '');

/** GET requests: public cases of the jurisdiction, newest first, at most 1000 (page/page_size extension). */
export async function listServiceRequests(options: {
  db: Database;
  clock: Clock;
  query: Record<string, unknown>;
}): Promise<Open311Record[]> {
  const { db, query } = options;
  const city = await resolveJurisdiction(db, field(query, 'jurisdiction_id'));
  const where: SQL[] = [
    sql`c.public`,
    sql`(c.region_path = ${city.path} or c.region_path like ${`${city.path}.%`})`,
  ];
  const ids = commaList(field(query, 'service_request_id'));
  if (ids.length > 0) {
    // "This overrides all other arguments."
    where.push(
      sql`c.serial in (${sql.join(
        ids.slice(0, open311MaxPageSize).map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );
  } else {
    const codes = commaList(field(query, 'service_code'));
    if (codes.length > 0)
      where.push(
        sql`c.category_code in (${sql.join(
          codes.map((c) => sql`${c}`),
          sql`, `,
        )})`,
      );
    const { start, end } = dateWindow(query, options.clock.now());
    where.push(sql`c.reported_at >= ${start.toISOString()} and c.reported_at <= ${end.toISOString()}`);
    const statuses = commaList(field(query, 'status'));
    const unknown = statuses.filter((s) => s !== 'open' && s !== 'closed');
    if (unknown.length > 0)
      throw open311Error(
        400,
        `status 只能是 open 或 closed (status must be open or closed): ${unknown.join(',')}`,
      );
    const terminal = sql.join(
      terminalCaseStatuses.map((s) => sql`${s}`),
      sql`, `,
    );
    if (statuses.includes('open') && !statuses.includes('closed'))
      where.push(sql`c.status not in (${terminal})`);
    if (statuses.includes('closed') && !statuses.includes('open')) where.push(sql`c.status in (${terminal})`);
  }
  const { limit, offset } = pageOf(query);
  const found = await rows<PublicCaseRow>(
    db.orm,
    sql`select ${publicCaseColumns} from ${publicCaseFrom} where ${sql.join(where, sql` and `)}
        order by c.reported_at desc, c.id desc limit ${limit} offset ${offset}`,
  );
  const extended = extendedAsked(query);
  return found.map((row) => presentRequest(row, extended));
}

/** GET requests/{id}: one public case by its serial (404 when missing or not public). */
export async function getServiceRequest(options: {
  db: Database;
  serial: string;
  query: Record<string, unknown>;
}): Promise<Open311Record[]> {
  const { db, serial, query } = options;
  const city = await resolveJurisdiction(db, field(query, 'jurisdiction_id'));
  const row = await one<PublicCaseRow>(
    db.orm,
    sql`select ${publicCaseColumns} from ${publicCaseFrom}
        where c.serial = ${serial} and c.public
          and (c.region_path = ${city.path} or c.region_path like ${`${city.path}.%`})`,
  );
  if (!row) throw open311Error(404, `未找到服务请求 (service_request_id not found): ${serial}`);
  return [presentRequest(row, extendedAsked(query))];
}

/** GET tokens/{token}: the service_request_id of a token (the client_request_id / the case's clientId). */
export async function getToken(options: {
  db: Database;
  token: string;
  query: Record<string, unknown>;
}): Promise<Open311Record[]> {
  const { db, token, query } = options;
  await resolveJurisdiction(db, field(query, 'jurisdiction_id'));
  const row = /^[0-9a-f-]{36}$/i.test(token)
    ? await one<{ serial: string }>(
        db.orm,
        sql`select c.serial from open311_request r join grid_case c on c.id = r.case_id
            where r.token = ${token.toLowerCase()} and c.public`,
      )
    : undefined;
  if (!row) throw open311Error(404, `未找到令牌 (token not found): ${token}`);
  return [{ service_request_id: row.serial, token }];
}

// ——— servicerequestupdates (FixMyStreet extension) ———

interface UpdateRow {
  id: number;
  serial: string;
  at: Date | string;
  action: string;
  to_status: CaseStatus | null;
  comment: string | null;
  data: { status?: string; mediaUrl?: string | null };
  current: CaseStatus;
}

const updateLabels: Record<string, string> = {
  report: '已收到上报 (report received)',
};

/**
 * GET servicerequestupdates: status changes of public cases and the updates external systems posted, oldest
 * first. A status change carries its state in Chinese, never the staff's comment.
 */
export async function listServiceRequestUpdates(options: {
  db: Database;
  clock: Clock;
  query: Record<string, unknown>;
}): Promise<Open311Record[]> {
  const { db, query } = options;
  const city = await resolveJurisdiction(db, field(query, 'jurisdiction_id'));
  const { start, end } = dateWindow(query, options.clock.now());
  const { limit, offset } = pageOf(query);
  const found = await rows<UpdateRow>(
    db.orm,
    sql`select t.id::int as id, c.serial, t.at, t.action, t.to_status, t.comment, t.data, c.status as current
        from case_timeline t join grid_case c on c.id = t.case_id
        where c.public and (c.region_path = ${city.path} or c.region_path like ${`${city.path}.%`})
          and (t.to_status is not null or t.action = 'open311Update')
          and t.at >= ${start.toISOString()} and t.at <= ${end.toISOString()}
        order by t.at, t.id limit ${limit} offset ${offset}`,
  );
  return found.map((t) => {
    const external = t.action === 'open311Update';
    const status = external
      ? (t.data.status ?? open311StatusOf[t.current].extended)
      : open311StatusOf[t.to_status!].extended;
    return {
      update_id: String(t.id),
      service_request_id: t.serial,
      status,
      updated_datetime: w3c(t.at),
      description: external
        ? (t.comment ?? '')
        : (updateLabels[t.action] ?? open311StatusOf[t.to_status!].notes),
      media_url: external ? (t.data.mediaUrl ?? null) : null,
    };
  });
}

/**
 * POST servicerequestupdates: an external system reports progress. The update is always kept as a timeline entry
 * of the case; when the client is the case's lead department and the workflow allows it, IN_PROGRESS accepts a
 * dispatched case (报到) and FIXED / CLOSED records the reply (处置反馈). Nothing bypasses the workflow: an update
 * the workflow does not allow stays a comment and the answer carries the case's current status.
 * Idempotent by (client, update_id).
 */
export async function postServiceRequestUpdate(options: {
  db: Database;
  clock: Clock;
  fields: FormFields;
  requestId?: string;
}): Promise<Open311Record[]> {
  const { db, clock, fields } = options;
  const client = await authenticateClient(db, field(fields, 'api_key'));
  const city = await resolveJurisdiction(db, field(fields, 'jurisdiction_id'));
  const serial = field(fields, 'service_request_id');
  const updateId = field(fields, 'update_id');
  const updatedText = field(fields, 'updated_datetime');
  const statusText = field(fields, 'status')?.toUpperCase();
  const description = field(fields, 'description') ?? '';
  const mediaUrl = field(fields, 'media_url');
  const errors: Open311Error[] = [];
  const bad = (description: string) => errors.push({ code: 400, description });
  if (!serial) bad('须提供 service_request_id (service_request_id was not provided)');
  if (!updateId) bad('须提供 update_id (update_id was not provided)');
  else if (updateId.length > 100) bad('update_id 过长 (update_id is too long)');
  const updatedAt = updatedText ? parseW3cDateTime(updatedText) : undefined;
  if (!updatedAt) bad('updated_datetime 须为 W3C 日期时间,含时区 (updated_datetime must be a w3 datetime)');
  const status = open311ExtendedStatuses.find((s) => s === statusText);
  if (!status) bad(`status 须为 ${open311ExtendedStatuses.join(', ')} 之一 (unknown status)`);
  if (description.length > 2000) bad('description 不超过 2000 字 (at most 2000 characters)');
  if (mediaUrl !== undefined && !isHttpUrl(mediaUrl))
    bad('media_url 须为 http(s) 地址 (media_url must be a URL)');
  if (errors.length > 0) throw new Open311Failure(400, errors);

  // The client sees the cases it reported and, as a department system, the cases on which its department works.
  const found = await one<{ id: number; status: CaseStatus; region_path: string }>(
    db.orm,
    sql`select c.id::int as id, c.status, c.region_path from grid_case c
        where c.serial = ${serial!}
          and (c.reporter_user_id = ${client.user_id}
            or exists (select 1 from case_department cd
                       where cd.case_id = c.id and cd.department_id = ${client.department_id ?? -1}))`,
  );
  if (!found || !isInside(city.path, found.region_path))
    throw open311Error(404, `未找到服务请求 (service_request_id not found): ${serial!}`);

  const answer = async (timelineId: number) => {
    const now = await one<{ status: CaseStatus }>(
      db.orm,
      sql`select status from grid_case where id = ${found.id}`,
    );
    return [
      {
        update_id: String(timelineId),
        service_request_id: serial!,
        status: open311StatusOf[now!.status].extended,
      },
    ];
  };
  const replay = async () =>
    one<{ timeline_id: number }>(
      db.orm,
      sql`select timeline_id::int as timeline_id from open311_update
          where client_id = ${client.id} and external_id = ${updateId!}`,
    );
  const previous = await replay();
  if (previous) return answer(previous.timeline_id);

  // The workflow decides; a refusal leaves the update a comment.
  const action = requestedAction(status!, found.status);
  let applied: CaseAction | null = null;
  if (action) {
    try {
      await applyAction({
        db,
        clock,
        actor: clientActor(client, undefined),
        caseId: found.id,
        action,
        input:
          action === 'respond'
            ? { result: description || '外部系统报告已处置 (fixed, reported by the external system)' }
            : {},
        requestId: options.requestId ?? null,
      });
      applied = action;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }

  const now = clock.now().toISOString();
  try {
    const timelineId = await db.orm.transaction(async (tx) => {
      const entry = await one<{ id: number }>(
        tx,
        sql`insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status, comment,
              data)
            values (${found.id}, ${now}, ${client.user_id}, 'open311_client', 'open311Update', null, null,
              ${description || null},
              ${JSON.stringify({ client: client.name, clientId: client.id, updateId, status, mediaUrl: mediaUrl ?? null, updatedAt: updatedAt!.toISOString(), applied })}::jsonb)
            returning id::int as id`,
      );
      await tx.execute(sql`insert into open311_update (case_id, client_id, external_id, status, description,
          media_url, timeline_id, updated_at, created_at)
        values (${found.id}, ${client.id}, ${updateId!}, ${status!}, ${description}, ${mediaUrl ?? null},
          ${entry!.id}, ${updatedAt!.toISOString()}, ${now})`);
      return entry!.id;
    });
    return answer(timelineId);
  } catch (error) {
    // A concurrent retry of the same update_id won: its entry is the answer.
    const again = await replay();
    if (again) return answer(again.timeline_id);
    throw error;
  }
}
