import {
  personTagSpecialty,
  type Building,
  type CreateBuildingRequest,
  type GridCounts,
  type GridSizing,
  type CreateHouseholdRequest,
  type CreatePersonRequest,
  type Household,
  type Person,
  type PersonHousehold,
  type PersonList,
  type PersonListQuery,
  type PersonSummary,
  type PersonTag,
  type RegistryStats,
  type RevealRequest,
  type RevealResponse,
  type UpdatePersonRequest,
} from '@wangge/contracts';
import {
  can,
  insideAny,
  isInside,
  requireAccess,
  rolePermissions,
  scopePaths,
  type Actor,
} from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import type { SecretBox } from '../../platform/crypto.ts';
import {
  one,
  pgErrorCode,
  rows,
  sql,
  type Database,
  type Executor,
  type SQL,
  isoOrNull,
} from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { findRegion } from '../region/index.ts';
import {
  birthDateOf,
  idProblemMessages,
  maskIdNumber,
  maskPhoneNumber,
  normaliseIdNumber,
  normalisePhone,
  residentIdProblem,
} from './person-id.ts';
// The hash purposes are shared with the demo seed, so seeded residents are found by the same search.
import { idPurpose, phonePurpose } from './registry.seal.ts';

/**
 * The registry 一标三实: buildings → households (户) → persons (实有人口) → key-population tags (重点人群).
 * "提楼知户、提户知人、提人知情". ID numbers and phones are sealed at rest, found by a keyed hash, and masked in
 * every answer; reveal needs `person.reveal` and a reason. Every read of a person record is an audit row, so an
 * auditor can answer "which records did account X read between T1 and T2" (`listReads`).
 */

const notFound = () => new DomainError('NOT_FOUND', '未找到 (not found)');

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
}

interface Deps {
  db: Database;
  actor: Actor;
}

/* ---------------------------------------------------------------- key-population tags: who sees what */

/**
 * Tags the actor may see, as an SQL condition on a person_tag row `t`: every tag inside the scope of a general
 * grant of `person.tags.read`; only tags of their specialty inside the scope of a professional worker's grant.
 */
function visibleTags(actor: Actor): SQL {
  const general: string[] = [];
  const bySpecialty = new Map<string, string[]>();
  for (const grant of actor.grants) {
    if (!rolePermissions[grant.role].includes('person.tags.read')) continue;
    if (grant.role === 'professional_worker') {
      if (!grant.specialty || !grant.regionPath) continue;
      bySpecialty.set(grant.specialty, [...(bySpecialty.get(grant.specialty) ?? []), grant.regionPath]);
    } else if (grant.regionPath === null) {
      if (grant.role === 'admin' || grant.role === 'auditor') return sql`true`;
    } else general.push(grant.regionPath);
  }
  const parts = [insideAny(sql`t.region_path`, general)];
  for (const [specialty, paths] of bySpecialty)
    parts.push(sql`(t.specialty = ${specialty} and ${insideAny(sql`t.region_path`, paths)})`);
  return sql`(${sql.join(parts, sql` or `)})`;
}

/** May the actor see any key-population tags at all? Without it, tags are left out of answers. */
function readsTags(actor: Actor): boolean {
  return can(actor, 'person.tags.read');
}

async function loadTags(
  ex: Executor,
  actor: Actor,
  personIds: number[],
): Promise<Map<number, PersonTag[]> | undefined> {
  if (!readsTags(actor)) return undefined;
  const byPerson = new Map<number, PersonTag[]>();
  if (personIds.length === 0) return byPerson;
  const list = await rows<{ person_id: number; kind: PersonTag['kind']; specialty: string; fields: unknown }>(
    ex,
    sql`select t.person_id::int as person_id, t.kind, t.specialty, t.fields from person_tag t
        where t.person_id in (${sql.join(
          personIds.map((id) => sql`${id}`),
          sql`, `,
        )}) and ${visibleTags(actor)}
        order by t.person_id, t.kind`,
  );
  for (const row of list) {
    const tags = byPerson.get(row.person_id) ?? [];
    tags.push({
      kind: row.kind,
      specialty: row.specialty as PersonTag['specialty'],
      fields: (row.fields ?? {}) as PersonTag['fields'],
    });
    byPerson.set(row.person_id, tags);
  }
  return byPerson;
}

/* ---------------------------------------------------------------- persons */

interface PersonRow {
  id: number;
  name: string;
  gender: PersonSummary['gender'];
  birth_date: string | null;
  id_type: PersonSummary['idType'];
  id_masked: string;
  phone_masked: string | null;
  status: PersonSummary['status'];
  household_id: number | null;
  relation_to_head: PersonSummary['relationToHead'];
  grid_code: string;
  region_path: string;
}

interface PersonDetailRow extends PersonRow {
  grid_name: string;
  ethnicity: string | null;
  registered_residence: string | null;
  current_address: string | null;
  work: string | null;
  moved_out_at: Date | string | null;
  created_at: Date | string;
  version: number;
}

/** The columns an answer may carry: masks only, never the sealed values or their hashes. */
const personColumns = sql`p.id::int as id, p.name, p.gender, to_char(p.birth_date, 'YYYY-MM-DD') as birth_date,
  p.id_type, p.id_masked, p.phone_masked, p.status, p.household_id::int as household_id, p.relation_to_head,
  p.grid_code, p.region_path`;

function presentSummary(row: PersonRow, tags: Map<number, PersonTag[]> | undefined): PersonSummary {
  return {
    id: row.id,
    name: row.name,
    gender: row.gender,
    birthDate: row.birth_date,
    idType: row.id_type,
    idNumberMasked: row.id_masked,
    phoneMasked: row.phone_masked,
    status: row.status,
    householdId: row.household_id,
    relationToHead: row.relation_to_head,
    gridCode: row.grid_code,
    ...(tags ? { tags: tags.get(row.id) ?? [] } : {}),
  };
}

const iso = isoOrNull;

async function loadPersonDetail(ex: Executor, id: number): Promise<PersonDetailRow | undefined> {
  return one<PersonDetailRow>(
    ex,
    sql`select ${personColumns}, r.name as grid_name, p.ethnicity, p.registered_residence, p.current_address,
          p.work, p.moved_out_at, p.created_at, p.version
        from person p join region r on r.code = p.grid_code where p.id = ${id}`,
  );
}

async function presentPerson(ex: Executor, actor: Actor, row: PersonDetailRow): Promise<Person> {
  const tags = await loadTags(ex, actor, [row.id]);
  return {
    ...presentSummary(row, tags),
    gridName: row.grid_name,
    ethnicity: row.ethnicity,
    registeredResidence: row.registered_residence,
    currentAddress: row.current_address,
    work: row.work,
    movedOutAt: iso(row.moved_out_at),
    createdAt: iso(row.created_at)!,
    version: row.version,
  };
}

/** Today in China (UTC+8), `YYYY-MM-DD`: the latest birth date an ID number may carry. */
function chinaToday(now: Date): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

const duplicatePerson = () =>
  new DomainError('CONFLICT', 'body.idNumber: 此证件号码已登记 (this ID number is already registered)', [
    { field: 'body.idNumber', message: '已登记 (already registered)' },
  ]);

/** A grid by its code (404 when there is none); the registry's rows all hang off one. */
export async function loadGrid(
  ex: Executor,
  code: string,
): Promise<{ code: string; path: string; name: string }> {
  const region = await findRegion(ex, code);
  if (!region || region.level !== 'grid') throw notFound();
  return { code: region.code, path: region.path, name: region.name };
}

/**
 * Registers a person (and their tags) in one transaction: the ID number checked (GB 11643 check digit and birth
 * date), the phone checked, both sealed with a keyed hash; one person per ID number (409 otherwise).
 */
export async function createPerson(
  options: Deps & { clock: Clock; secrets: SecretBox; input: CreatePersonRequest; requestId: string },
): Promise<Person> {
  const { db, actor, input, secrets } = options;
  const now = options.clock.now();
  const idNumber = input.idType === 'resident_id' ? normaliseIdNumber(input.idNumber) : input.idNumber.trim();
  let birthDate = input.birthDate ?? null;
  if (input.idType === 'resident_id') {
    const problem = residentIdProblem(idNumber, { today: chinaToday(now), birthDate });
    if (problem === 'birth_date_mismatch') throw invalid('body.birthDate', idProblemMessages[problem]);
    if (problem) throw invalid('body.idNumber', idProblemMessages[problem]);
    birthDate = birthDateOf(idNumber);
  }
  let phone: string | null = null;
  if (input.phone !== undefined) {
    phone = normalisePhone(input.phone);
    if (!phone)
      throw invalid('body.phone', '手机号或带区号的固定电话 (a mobile or a landline with area code)');
  }
  const idHash = secrets.lookupHash(idPurpose, idNumber);
  const phoneHash = phone ? secrets.lookupHash(phonePurpose, phone) : null;

  const id = await db.orm.transaction(async (tx) => {
    const grid = await loadGrid(tx, input.gridCode);
    requireAccess(actor, 'person.write', { regionPath: grid.path });
    if (input.householdId !== undefined) {
      const household = await one<{ grid_code: string; region_path: string }>(
        tx,
        sql`select grid_code, region_path from household where id = ${input.householdId}`,
      );
      if (!household) throw invalid('body.householdId', '户不存在 (no such household)');
      requireAccess(actor, 'person.write', { regionPath: household.region_path });
      if (household.grid_code !== grid.code)
        throw invalid('body.householdId', '户不在该网格 (the household is in another grid)');
    }
    if (await one(tx, sql`select 1 from person where id_type = ${input.idType} and id_hash = ${idHash}`))
      throw duplicatePerson();
    let created: { id: number } | undefined;
    try {
      created = await one<{ id: number }>(
        tx,
        sql`insert into person (name, gender, birth_date, id_type, id_cipher, id_key_id, id_hash, id_masked,
              phone_cipher, phone_key_id, phone_hash, phone_masked, ethnicity, registered_residence, current_address,
              work, household_id, relation_to_head, grid_code, region_path, created_at, updated_at)
            values (${input.name}, ${input.gender}, ${birthDate}, ${input.idType}, ${secrets.encrypt(idNumber)},
              ${secrets.keyId}, ${idHash}, ${maskIdNumber(idNumber)}, ${phone ? secrets.encrypt(phone) : null},
              ${phone ? secrets.keyId : null}, ${phoneHash}, ${phone ? maskPhoneNumber(phone) : null},
              ${input.ethnicity ?? null}, ${input.registeredResidence ?? null}, ${input.currentAddress ?? null},
              ${input.work ?? null}, ${input.householdId ?? null}, ${input.relationToHead ?? null}, ${grid.code},
              ${grid.path}, ${now.toISOString()}, ${now.toISOString()})
            returning id::int as id`,
      );
    } catch (error) {
      // Two registrations of one ID number at once: the unique index decides.
      if (pgErrorCode(error) === '23505') throw duplicatePerson();
      throw error;
    }
    const personId = created!.id;
    const kinds = new Set<string>();
    for (const tag of input.tags) {
      if (kinds.has(tag.kind)) continue;
      kinds.add(tag.kind);
      await tx.execute(sql`insert into person_tag (person_id, kind, specialty, fields, region_path, created_at)
        values (${personId}, ${tag.kind}, ${personTagSpecialty[tag.kind]}, ${JSON.stringify(tag.fields)}::jsonb,
          ${grid.path}, ${now.toISOString()})`);
    }
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'person.created',
        objectType: 'person',
        objectId: String(personId),
        result: 'success',
        requestId: options.requestId,
        detail: { gridCode: grid.code, tags: kinds.size },
      },
      now,
    );
    return personId;
  });
  return presentPerson(db.orm, actor, (await loadPersonDetail(db.orm, id))!);
}

/** One audit row for what the actor did to a registry record (reads, reveals, changes): never values. */
export async function auditRead(
  ex: Executor,
  options: { actor: Actor; clock: Clock; requestId: string },
  action: string,
  objectType: string,
  objectId: string | null,
  detail: Record<string, string | number | boolean | null> = {},
): Promise<void> {
  await appendAudit(
    ex,
    {
      actorId: options.actor.userId,
      actorRole: null,
      action,
      objectType,
      objectId,
      result: 'success',
      requestId: options.requestId,
      detail,
    },
    options.clock.now(),
  );
}

/** One person, masked; out of scope answers 404. The read itself is an audit row (`person.read`). */
export async function getPerson(
  options: Deps & { clock: Clock; personId: number; requestId: string },
): Promise<Person> {
  const { db, actor } = options;
  return db.orm.transaction(async (tx) => {
    const row = await loadPersonDetail(tx, options.personId);
    if (!row) throw notFound();
    requireAccess(actor, 'person.read', { regionPath: row.region_path });
    await auditRead(tx, options, 'person.read', 'person', String(row.id));
    return presentPerson(tx, actor, row);
  });
}

/** May the actor change a tag of this specialty on a person at this path? (Same rule as `visibleTags`.) */
export function mayTouchTag(actor: Actor, specialty: string, regionPath: string): boolean {
  return actor.grants.some((grant) => {
    if (!rolePermissions[grant.role].includes('person.tags.read')) return false;
    if (grant.role === 'professional_worker')
      return (
        grant.specialty === specialty && grant.regionPath !== null && isInside(grant.regionPath, regionPath)
      );
    if (grant.regionPath === null) return grant.role === 'admin' || grant.role === 'auditor';
    return isInside(grant.regionPath, regionPath);
  });
}

const stalePerson = () =>
  new DomainError('CONFLICT', 'body.expectedVersion: 该记录已被他人修改 (changed by someone else; reload)', [
    { field: 'body.expectedVersion', message: '版本已过期 (stale version)' },
  ]);

/**
 * Changes a person in the caller's scope (`person.write`): name, phone (re-sealed and re-hashed), address,
 * work, status (moved out stamps `moved_out_at`), household (another household in scope; the person follows it
 * to its grid), and tags (with `person.tags.read`; a professional worker only their specialty). With
 * `expectedVersion`, a stale version is 409. Audited as `person.updated` with the names of the changed fields.
 */
export async function updatePerson(
  options: Deps & {
    clock: Clock;
    secrets: SecretBox;
    personId: number;
    input: UpdatePersonRequest;
    requestId: string;
  },
): Promise<Person> {
  const { db, actor, input, secrets } = options;
  const now = options.clock.now();
  let phone: string | null | undefined = input.phone;
  if (typeof input.phone === 'string') {
    phone = normalisePhone(input.phone);
    if (!phone)
      throw invalid('body.phone', '手机号或带区号的固定电话 (a mobile or a landline with area code)');
  }
  await db.orm.transaction(async (tx) => {
    const current = await one<{
      region_path: string;
      grid_code: string;
      version: number;
      status: Person['status'];
      household_id: number | null;
      anonymised_at: Date | string | null;
    }>(
      tx,
      sql`select region_path, grid_code, version, status, household_id::int as household_id, anonymised_at
          from person where id = ${options.personId} for update`,
    );
    if (!current) throw notFound();
    requireAccess(actor, 'person.write', { regionPath: current.region_path });
    if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) throw stalePerson();
    if (current.anonymised_at !== null)
      throw new DomainError('CONFLICT', '该人员已匿名化 (this person has been anonymised)');

    const sets: SQL[] = [];
    const changed: string[] = [];
    const set = (field: string, assignment: SQL) => {
      sets.push(assignment);
      if (!changed.includes(field)) changed.push(field);
    };
    if (input.name !== undefined) set('name', sql`name = ${input.name}`);
    if (phone !== undefined) {
      if (phone === null)
        set('phone', sql`phone_cipher = null, phone_key_id = null, phone_hash = null, phone_masked = null`);
      else
        set(
          'phone',
          sql`phone_cipher = ${secrets.encrypt(phone)}, phone_key_id = ${secrets.keyId},
            phone_hash = ${secrets.lookupHash(phonePurpose, phone)}, phone_masked = ${maskPhoneNumber(phone)}`,
        );
    }
    if (input.currentAddress !== undefined)
      set('currentAddress', sql`current_address = ${input.currentAddress}`);
    if (input.work !== undefined) set('work', sql`work = ${input.work}`);
    if (input.status !== undefined && input.status !== current.status)
      set(
        'status',
        sql`status = ${input.status}, moved_out_at = ${input.status === 'moved_out' ? now.toISOString() : null}`,
      );

    let regionPath = current.region_path;
    if (input.householdId !== undefined) {
      if (input.householdId === null) {
        set('householdId', sql`household_id = null, relation_to_head = null`);
      } else {
        const target = await one<{ grid_code: string; region_path: string; status: string }>(
          tx,
          sql`select grid_code, region_path, status from household where id = ${input.householdId}`,
        );
        if (!target) throw notFound();
        requireAccess(actor, 'person.write', { regionPath: target.region_path });
        if (target.status !== 'active')
          throw invalid('body.householdId', '该户已不在册 (the household is no longer active)');
        regionPath = target.region_path;
        set(
          'householdId',
          sql`household_id = ${input.householdId}, grid_code = ${target.grid_code},
            region_path = ${target.region_path}`,
        );
        if (regionPath !== current.region_path)
          await tx.execute(
            sql`update person_tag set region_path = ${regionPath} where person_id = ${options.personId}`,
          );
      }
    }
    if (input.relationToHead !== undefined && input.householdId !== null) {
      if (input.householdId === undefined && current.household_id === null && input.relationToHead !== null)
        throw invalid('body.relationToHead', '未入户 (the person belongs to no household)');
      set('relationToHead', sql`relation_to_head = ${input.relationToHead}`);
    }

    const tagChanges = input.tags;
    if (tagChanges && (tagChanges.add.length > 0 || tagChanges.remove.length > 0)) {
      requireAccess(actor, 'person.tags.read', { regionPath });
      for (const kind of [...tagChanges.add.map((t) => t.kind), ...tagChanges.remove])
        if (!mayTouchTag(actor, personTagSpecialty[kind], regionPath))
          throw new DomainError('FORBIDDEN', `body.tags: ${kind}: 不属于您的条线 (not of your specialty)`, [
            { field: 'body.tags', message: '没有权限 (permission denied)' },
          ]);
      for (const kind of tagChanges.remove)
        await tx.execute(
          sql`delete from person_tag where person_id = ${options.personId} and kind = ${kind}`,
        );
      for (const tag of tagChanges.add)
        await tx.execute(sql`insert into person_tag (person_id, kind, specialty, fields, region_path, created_at)
          values (${options.personId}, ${tag.kind}, ${personTagSpecialty[tag.kind]},
            ${JSON.stringify(tag.fields)}::jsonb, ${regionPath}, ${now.toISOString()})
          on conflict (person_id, kind) do update set fields = excluded.fields`);
      changed.push('tags');
    }

    if (changed.length === 0) return;
    sets.push(sql`version = version + 1, updated_at = ${now.toISOString()}`);
    try {
      await tx.execute(sql`update person set ${sql.join(sets, sql`, `)} where id = ${options.personId}`);
    } catch (error) {
      if (pgErrorCode(error) === '23514') throw invalid('body', '数据不一致 (inconsistent change)');
      throw error;
    }
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'person.updated',
        objectType: 'person',
        objectId: String(options.personId),
        result: 'success',
        requestId: options.requestId,
        detail: { fields: changed.join(',') },
      },
      now,
    );
  });
  return presentPerson(db.orm, actor, (await loadPersonDetail(db.orm, options.personId))!);
}

/** The full ID number or phone, for a stated reason: `person.reveal`, audited with the reason (never the value). */
export async function revealPerson(
  options: Deps & {
    clock: Clock;
    secrets: SecretBox;
    personId: number;
    input: RevealRequest;
    requestId: string;
  },
): Promise<RevealResponse> {
  const { db, actor, input } = options;
  return db.orm.transaction(async (tx) => {
    const row = await one<{ region_path: string; id_cipher: string; phone_cipher: string | null }>(
      tx,
      sql`select region_path, id_cipher, phone_cipher from person where id = ${options.personId}`,
    );
    if (!row) throw notFound();
    requireAccess(actor, 'person.reveal', { regionPath: row.region_path });
    const sealed = input.field === 'idNumber' ? row.id_cipher : row.phone_cipher;
    await auditRead(tx, options, 'person.revealed', 'person', String(options.personId), {
      field: input.field,
      reason: input.reason,
    });
    return { field: input.field, value: sealed === null ? null : options.secrets.decrypt(sealed) };
  });
}

const idLike = /^\d{17}[\dXx]$|^\d{15}$/;

/**
 * Persons in the caller's scope, masked, by grid, name prefix or an exact ID number / phone (through the keyed
 * hash: the plain value is never compared or stored), and key-population tag. Keyset paging by id.
 */
export async function listPersons(
  options: Deps & { clock: Clock; secrets: SecretBox; query: PersonListQuery; requestId: string },
): Promise<PersonList> {
  const { db, actor, query, secrets } = options;
  requireAccess(actor, 'person.read');
  const where: SQL[] = [insideAny(sql`p.region_path`, scopePaths(actor, 'person.read'))];
  if (query.grid) {
    const grid = await findRegion(db.orm, query.grid);
    if (!grid) throw notFound();
    requireAccess(actor, 'person.read', { regionPath: grid.path });
    where.push(insideAny(sql`p.region_path`, [grid.path]));
  }
  let byIdentifier = false;
  if (query.q) {
    const alternatives: SQL[] = [];
    if (idLike.test(query.q)) {
      alternatives.push(sql`p.id_hash = ${secrets.lookupHash(idPurpose, normaliseIdNumber(query.q))}`);
      byIdentifier = true;
    }
    const phone = /^[\d\s+()-]+$/.test(query.q) ? normalisePhone(query.q) : null;
    if (phone) {
      alternatives.push(sql`p.phone_hash = ${secrets.lookupHash(phonePurpose, phone)}`);
      byIdentifier = true;
    }
    if (!byIdentifier) {
      const prefix = query.q.replace(/[\\%_]/g, (c) => `\\${c}`);
      alternatives.push(sql`p.name like ${`${prefix}%`}`);
    }
    where.push(sql`(${sql.join(alternatives, sql` or `)})`);
  }
  if (query.tag) {
    requireAccess(actor, 'person.tags.read');
    where.push(sql`exists (select 1 from person_tag t where t.person_id = p.id and t.kind = ${query.tag}
      and ${visibleTags(actor)})`);
  }
  if (query.cursor) {
    const after = Number(query.cursor);
    if (!Number.isInteger(after) || after < 0) throw invalid('query.cursor', '无效的游标 (invalid cursor)');
    where.push(sql`p.id > ${after}`);
  }
  return db.orm.transaction(async (tx) => {
    const list = await rows<PersonRow>(
      tx,
      sql`select ${personColumns} from person p where ${sql.join(where, sql` and `)}
          order by p.id limit ${query.limit + 1}`,
    );
    const page = list.slice(0, query.limit);
    const tags = await loadTags(
      tx,
      actor,
      page.map((p) => p.id),
    );
    // A search is a read too: recorded without the query (it may be an ID number), with what it returned.
    await auditRead(tx, options, 'person.searched', 'person', null, {
      grid: query.grid ?? null,
      tag: query.tag ?? null,
      byIdentifier,
      results: page.length,
    });
    return {
      items: page.map((row) => presentSummary(row, tags)),
      nextCursor: list.length > query.limit ? String(page[page.length - 1]!.id) : null,
    };
  });
}

/* ---------------------------------------------------------------- buildings and households */

interface BuildingRow {
  id: number;
  grid_code: string;
  region_path: string;
  name: string;
  kind: Building['kind'];
  floors: number | null;
  lng: number | null;
  lat: number | null;
  households: number;
}

const buildingColumns = sql`b.id::int as id, b.grid_code, b.region_path, b.name, b.kind, b.floors,
  ST_X(b.location) as lng, ST_Y(b.location) as lat,
  (select count(*)::int from household h where h.building_id = b.id and h.status = 'active') as households`;

function presentBuilding(row: BuildingRow): Building {
  return {
    id: row.id,
    gridCode: row.grid_code,
    name: row.name,
    kind: row.kind,
    floors: row.floors,
    location: row.lng === null || row.lat === null ? null : { lng: row.lng, lat: row.lat },
    households: row.households,
  };
}

async function loadBuilding(ex: Executor, id: number): Promise<BuildingRow | undefined> {
  return one<BuildingRow>(ex, sql`select ${buildingColumns} from building b where b.id = ${id}`);
}

const buildingTaken = () =>
  new DomainError('CONFLICT', 'body.name: 该网格已有同名楼栋 (a building of this name exists in the grid)', [
    { field: 'body.name', message: '已存在 (already exists)' },
  ]);

export async function createBuilding(
  options: Deps & { clock: Clock; input: CreateBuildingRequest; requestId: string },
): Promise<Building> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  const id = await db.orm.transaction(async (tx) => {
    const grid = await loadGrid(tx, input.gridCode);
    requireAccess(actor, 'person.write', { regionPath: grid.path });
    if (await one(tx, sql`select 1 from building where grid_code = ${grid.code} and name = ${input.name}`))
      throw buildingTaken();
    const point = input.location
      ? sql`ST_SetSRID(ST_MakePoint(${input.location.lng}, ${input.location.lat}), 4326)`
      : sql`null`;
    let created: { id: number } | undefined;
    try {
      created = await one<{ id: number }>(
        tx,
        sql`insert into building (grid_code, region_path, name, kind, floors, location, created_at)
            values (${grid.code}, ${grid.path}, ${input.name}, ${input.kind}, ${input.floors ?? null}, ${point},
              ${now.toISOString()})
            returning id::int as id`,
      );
    } catch (error) {
      if (pgErrorCode(error) === '23505') throw buildingTaken();
      throw error;
    }
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'building.created',
        objectType: 'building',
        objectId: String(created!.id),
        result: 'success',
        requestId: options.requestId,
        detail: { gridCode: grid.code },
      },
      now,
    );
    return created!.id;
  });
  return presentBuilding((await loadBuilding(db.orm, id))!);
}

/** 提楼: the buildings of a grid with their household counts. */
export async function listGridBuildings(options: Deps & { gridCode: string }): Promise<Building[]> {
  const { db, actor } = options;
  const grid = await loadGrid(db.orm, options.gridCode);
  requireAccess(actor, 'person.read', { regionPath: grid.path });
  const list = await rows<BuildingRow>(
    db.orm,
    sql`select ${buildingColumns} from building b where b.grid_code = ${grid.code} order by b.name, b.id limit 2000`,
  );
  return list.map(presentBuilding);
}

interface HouseholdRow {
  id: number;
  kind: Household['kind'];
  status: Household['status'];
  building_id: number | null;
  unit: string | null;
  room: string | null;
  grid_code: string;
  region_path: string;
}

const householdColumns = sql`h.id::int as id, h.kind, h.status, h.building_id::int as building_id, h.unit, h.room,
  h.grid_code, h.region_path`;

/** Households with their members (masked; tags as the caller may see them). */
async function presentHouseholds(ex: Executor, actor: Actor, list: HouseholdRow[]): Promise<Household[]> {
  if (list.length === 0) return [];
  const members = await rows<PersonRow>(
    ex,
    sql`select ${personColumns} from person p
        where p.household_id in (${sql.join(
          list.map((h) => sql`${h.id}`),
          sql`, `,
        )})
        order by p.household_id, (p.relation_to_head = 'head') desc, p.birth_date nulls last, p.id`,
  );
  const tags = await loadTags(
    ex,
    actor,
    members.map((m) => m.id),
  );
  return list.map((h) => ({
    id: h.id,
    kind: h.kind,
    status: h.status,
    buildingId: h.building_id,
    unit: h.unit,
    room: h.room,
    gridCode: h.grid_code,
    members: members.filter((m) => m.household_id === h.id).map((m) => presentSummary(m, tags)),
  }));
}

export async function createHousehold(
  options: Deps & { clock: Clock; input: CreateHouseholdRequest; requestId: string },
): Promise<Household> {
  const { db, actor, input } = options;
  const now = options.clock.now();
  const id = await db.orm.transaction(async (tx) => {
    const building = await loadBuilding(tx, input.buildingId);
    if (!building) throw notFound();
    requireAccess(actor, 'person.write', { regionPath: building.region_path });
    const created = await one<{ id: number }>(
      tx,
      sql`insert into household (kind, building_id, unit, room, grid_code, region_path, created_at)
          values (${input.kind}, ${building.id}, ${input.unit ?? null}, ${input.room ?? null}, ${building.grid_code},
            ${building.region_path}, ${now.toISOString()})
          returning id::int as id`,
    );
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'household.created',
        objectType: 'household',
        objectId: String(created!.id),
        result: 'success',
        requestId: options.requestId,
        detail: { buildingId: building.id },
      },
      now,
    );
    return created!.id;
  });
  const row = await one<HouseholdRow>(
    db.orm,
    sql`select ${householdColumns} from household h where h.id = ${id}`,
  );
  return (await presentHouseholds(db.orm, actor, [row!]))[0]!;
}

/** 提楼知户、提户知人: a building's households with their members; the read is audited. */
export async function listBuildingHouseholds(
  options: Deps & { clock: Clock; buildingId: number; requestId: string },
): Promise<Household[]> {
  const { db, actor } = options;
  return db.orm.transaction(async (tx) => {
    const building = await loadBuilding(tx, options.buildingId);
    if (!building) throw notFound();
    requireAccess(actor, 'person.read', { regionPath: building.region_path });
    const list = await rows<HouseholdRow>(
      tx,
      sql`select ${householdColumns} from household h where h.building_id = ${building.id}
          order by h.unit nulls first, h.room nulls first, h.id limit 2000`,
    );
    await auditRead(tx, options, 'building.households.read', 'building', String(building.id), {
      households: list.length,
    });
    return presentHouseholds(tx, actor, list);
  });
}

/** 提人知户: person → household (with members) → building; the read is audited. */
export async function getPersonHousehold(
  options: Deps & { clock: Clock; personId: number; requestId: string },
): Promise<PersonHousehold> {
  const { db, actor } = options;
  return db.orm.transaction(async (tx) => {
    const person = await one<{ region_path: string; household_id: number | null }>(
      tx,
      sql`select region_path, household_id::int as household_id from person where id = ${options.personId}`,
    );
    if (!person) throw notFound();
    requireAccess(actor, 'person.read', { regionPath: person.region_path });
    await auditRead(tx, options, 'person.household.read', 'person', String(options.personId));
    if (person.household_id === null) return { household: null, building: null };
    const row = await one<HouseholdRow>(
      tx,
      sql`select ${householdColumns} from household h where h.id = ${person.household_id}`,
    );
    const [household] = await presentHouseholds(tx, actor, [row!]);
    const building = row!.building_id === null ? undefined : await loadBuilding(tx, row!.building_id);
    return { household: household!, building: building ? presentBuilding(building) : null };
  });
}

/* ---------------------------------------------------------------- counts and the read log */

/**
 * Households and people (active) in a region's subtree, and people by tag — tags only for callers who may read
 * them, and only the tags they may see.
 */
export async function registryStats(
  options: Deps & { regionCode: string; byGrid?: boolean },
): Promise<RegistryStats> {
  const { db, actor } = options;
  const region = await findRegion(db.orm, options.regionCode);
  if (!region) throw notFound();
  requireAccess(actor, 'region.stats', { regionPath: region.path });
  const counts = await one<{ households: number; people: number }>(
    db.orm,
    sql`select
          (select count(*)::int from household h where ${insideAny(sql`h.region_path`, [region.path])}
             and h.status = 'active') as households,
          (select count(*)::int from person p where ${insideAny(sql`p.region_path`, [region.path])}
             and p.status = 'active') as people`,
  );
  let byTag: RegistryStats['byTag'] = null;
  if (readsTags(actor))
    byTag = await rows<{ kind: PersonTag['kind']; count: number }>(
      db.orm,
      sql`select t.kind, count(*)::int as count from person_tag t join person p on p.id = t.person_id
          where ${insideAny(sql`t.region_path`, [region.path])} and p.status = 'active' and ${visibleTags(actor)}
          group by t.kind order by t.kind`,
    );
  return {
    regionCode: region.code,
    households: counts!.households,
    people: counts!.people,
    byTag,
    ...(options.byGrid ? { grids: await gridCounts(db.orm, region.path) } : {}),
  };
}

interface GridCountRow {
  grid_code: string;
  grid_name: string;
  households: number;
  people: number;
}

/** Active households and people of every grid in a subtree, in one query. */
function gridCountsQuery(path: string): SQL {
  return sql`select g.code as grid_code, g.name as grid_name,
      (select count(*)::int from household h where h.region_path = g.path and h.status = 'active') as households,
      (select count(*)::int from person p where p.region_path = g.path and p.status = 'active') as people
    from region g where g.level = 'grid' and ${insideAny(sql`g.path`, [path])}`;
}

async function gridCounts(ex: Executor, path: string): Promise<GridCounts[]> {
  const list = await rows<GridCountRow>(ex, sql`${gridCountsQuery(path)} order by g.code`);
  return list.map((row) => ({
    gridCode: row.grid_code,
    gridName: row.grid_name,
    households: row.households,
    people: row.people,
  }));
}

export type GridGuidance = GridSizing['guidance'];

/**
 * The guidance is 300–500 households OR 1000–1500 people: a grid within either range is `ok`; flagged only when
 * both measures are outside — `over` when its households are above the range, else `under`.
 */
export function gridSizingFlag(
  counts: { households: number; people: number },
  guidance: GridGuidance,
): 'under' | 'over' | 'ok' {
  const householdsOk =
    counts.households >= guidance.householdsMin && counts.households <= guidance.householdsMax;
  const peopleOk = counts.people >= guidance.peopleMin && counts.people <= guidance.peopleMax;
  if (householdsOk || peopleOk) return 'ok';
  return counts.households > guidance.householdsMax ? 'over' : 'under';
}

/** The grid sizing check of a subtree (`region.stats`), flagged grids first, in one query. */
export async function gridSizing(
  options: Deps & { regionCode: string; guidance: GridGuidance },
): Promise<GridSizing> {
  const { db, actor, guidance } = options;
  const region = await findRegion(db.orm, options.regionCode);
  if (!region) throw notFound();
  requireAccess(actor, 'region.stats', { regionPath: region.path });
  const list = await rows<GridCountRow>(db.orm, gridCountsQuery(region.path));
  const items = list.map((row) => ({
    gridCode: row.grid_code,
    gridName: row.grid_name,
    households: row.households,
    people: row.people,
    flag: gridSizingFlag(row, guidance),
  }));
  items.sort(
    (a, b) =>
      Number(a.flag === 'ok') - Number(b.flag === 'ok') ||
      (a.gridCode < b.gridCode ? -1 : a.gridCode > b.gridCode ? 1 : 0),
  );
  return { regionCode: region.code, guidance, items };
}

/** Reads of records (and reveals) by one account in [from, to): what an auditor asks. */
export async function listReads(options: {
  db: Database;
  actor: Actor;
  accountId: number;
  from: string;
  to: string;
  limit: number;
}): Promise<
  {
    at: string;
    action: string;
    objectType: string | null;
    objectId: string | null;
    requestId: string | null;
    reason: string | null;
  }[]
> {
  requireAccess(options.actor, 'audit.read');
  const from = new Date(options.from);
  const to = new Date(options.to);
  if (!(from < to)) throw invalid('query.to', '结束时间须晚于开始时间 (to must be after from)');
  const list = await rows<{
    at: Date | string;
    action: string;
    object_type: string | null;
    object_id: string | null;
    request_id: string | null;
    reason: string | null;
  }>(
    options.db.orm,
    sql`select at, action, object_type, object_id, request_id, detail ->> 'reason' as reason from audit_log
        where actor_id = ${options.accountId} and at >= ${from.toISOString()} and at < ${to.toISOString()}
          and (action like '%.read' or action like '%.revealed'
            or action in ('person.searched', 'registry.exported'))
        order by at, id limit ${options.limit}`,
  );
  return list.map((row) => ({
    at: new Date(row.at).toISOString(),
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    requestId: row.request_id,
    reason: row.reason,
  }));
}
