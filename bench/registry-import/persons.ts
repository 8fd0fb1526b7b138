/**
 * W9's data: N generated persons of the demo city (valid GB 11643 ID numbers, mobile phones, Chinese names, spread
 * over the city's grids and their buildings, about 2.5 per home, some key-population tags), the xlsx a district
 * would upload, and — for the raw reference — the very rows the import writes (households, persons, tags), already
 * sealed, as COPY text.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import {
  personExcelColumns,
  personTagLabels,
  personTagSpecialty,
  registryExcelSheetNames,
  relationToHeadLabels,
  type PersonTagKind,
} from '../../packages/contracts/src/index.ts';
import type { SecretBox } from '../../apps/server/src/platform/crypto.ts';
import { rows, sql, type Database } from '../../apps/server/src/platform/db.ts';
import { personName } from '../../apps/server/src/seed/names.ts';
import { checkCharOf } from '../../apps/server/src/modules/registry/person-id.ts';
import { idPurpose, sealIdNumber, sealPhone } from '../../apps/server/src/modules/registry/registry.seal.ts';

export interface Building {
  id: number;
  grid_code: string;
  region_path: string;
  name: string;
}

export interface GeneratedPerson {
  name: string;
  gender: 'male' | 'female';
  idNumber: string;
  phone: string;
  ethnicity: string;
  work: string;
  building: Building;
  unit: string;
  room: string;
  /** label, e.g. 户主 */
  relation: string;
  /** label or '' */
  tag: string;
  birthDate: string;
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Area codes of Jiamusi's districts and counties and a few elsewhere (registered residence of migrants).
const areas = ['230803', '230804', '230805', '230811', '230822', '230826', '230828', '110105', '370102'];
const ethnicities = ['汉族', '汉族', '汉族', '汉族', '满族', '朝鲜族', '回族', '赫哲族'];
const works = ['佳木斯市第一中学', '向阳区人民医院', '个体经营', '退休', '务农', '佳木斯电机厂', '学生', ''];
const tags = ['', '', '', '', '', '', '', '', '', '', '', '', '', '独居老人', '空巢老人', '残疾人', '低保'];

/** `count` persons whose ID numbers are not registered yet (checked through the keyed hash, as the import does). */
export async function generatePersons(
  db: Database,
  secrets: SecretBox,
  count: number,
  seed = 20261126,
): Promise<{ persons: GeneratedPerson[]; buildings: Building[] }> {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const buildings = await rows<Building>(
    db.orm,
    sql`select b.id::int as id, b.grid_code, b.region_path, b.name from building b order by b.grid_code, b.name`,
  );
  if (buildings.length === 0) throw new Error('the demo city has no buildings');
  // Homes (building, unit, room): about 2.5 persons each, as in a census household. Units 5–8: the demo city's
  // own households are in units 1–4, so every home of the file is a new household.
  const homes = Array.from({ length: Math.ceil(count / 2.5) }, () => ({
    building: pick(buildings),
    unit: String(5 + Math.floor(rand() * 4)),
    room: String((1 + Math.floor(rand() * 12)) * 100 + 1 + Math.floor(rand() * 4)),
  }));
  const heads = new Set<string>();
  const taken = new Set<string>();
  const generate = (n: number): GeneratedPerson[] => {
    const list: GeneratedPerson[] = [];
    while (list.length < n) {
      const year = 1935 + Math.floor(rand() * 85);
      const month = 1 + Math.floor(rand() * 12);
      const day = 1 + Math.floor(rand() * 28);
      const birth = `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
      const sequence = Math.floor(rand() * 1000);
      const first17 = `${pick(areas)}${birth}${String(sequence).padStart(3, '0')}`;
      const idNumber = `${first17}${checkCharOf(first17)}`;
      if (taken.has(idNumber)) continue;
      taken.add(idNumber);
      const { building, unit, room } = pick(homes);
      const home = `${building.id}|${unit}|${room}`;
      const relation = heads.has(home) ? pick(['配偶', '子女', '子女', '父母', '孙子女']) : '户主';
      heads.add(home);
      list.push({
        name: personName(`bench:${idNumber}`),
        gender: sequence % 2 === 1 ? 'male' : 'female',
        idNumber,
        phone: `1${pick(['3', '5', '8', '9'])}${String(Math.floor(rand() * 1e9)).padStart(9, '0')}`,
        ethnicity: pick(ethnicities),
        work: pick(works),
        building,
        unit,
        room,
        relation,
        tag: pick(tags),
        birthDate: `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`,
      });
    }
    return list;
  };
  let persons = generate(count);
  for (;;) {
    const hashes = new Map(persons.map((p) => [secrets.lookupHash(idPurpose, p.idNumber), p.idNumber]));
    const clash = await rows<{ id_hash: string }>(
      db.orm,
      sql`select id_hash from person where id_hash in (select jsonb_array_elements_text(${JSON.stringify([...hashes.keys()])}::jsonb))`,
    );
    if (clash.length === 0) break;
    const bad = new Set(clash.map((c) => hashes.get(c.id_hash)));
    persons = [...persons.filter((p) => !bad.has(p.idNumber)), ...generate(bad.size)];
  }
  return { persons, buildings };
}

/** The upload: the persons template's sheet, shared strings as Excel writes them. */
export async function personWorkbook(persons: GeneratedPerson[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: true });
  const sheet = workbook.addWorksheet(registryExcelSheetNames.persons);
  sheet.addRow(personExcelColumns.map((c) => c.header)).commit();
  for (const p of persons) {
    const byField: Record<string, string> = {
      name: p.name,
      gender: p.gender === 'male' ? '男' : '女',
      idType: '居民身份证',
      idNumber: p.idNumber,
      phone: p.phone,
      ethnicity: p.ethnicity,
      work: p.work,
      gridCode: p.building.grid_code,
      building: p.building.name,
      unit: p.unit,
      room: p.room,
      householdKind: '户籍',
      relationToHead: p.relation,
      tags: p.tag,
    };
    sheet.addRow(personExcelColumns.map((c) => byField[c.field] || null)).commit();
  }
  sheet.commit();
  await workbook.commit();
  return Buffer.concat(chunks);
}

/** What one import of the persons writes: the rows of each table. */
export interface ExpectedWrites {
  persons: number;
  households: number;
  tags: number;
}

export function expectedWrites(persons: GeneratedPerson[]): ExpectedWrites {
  return {
    persons: persons.length,
    households: new Set(persons.map((p) => `${p.building.id}|${p.unit}|${p.room}`)).size,
    tags: persons.filter((p) => p.tag !== '').length,
  };
}

const copyEscape = (value: string | number | null) =>
  value === null || value === ''
    ? '\\N'
    : String(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const line = (values: (string | number | null)[]) => `${values.map(copyEscape).join('\t')}\n`;

export const householdCopyColumns = ['id', 'kind', 'building_id', 'unit', 'room', 'grid_code', 'region_path'];
export const personCopyColumns = [
  'id',
  'name',
  'gender',
  'birth_date',
  'id_type',
  'id_cipher',
  'id_key_id',
  'id_hash',
  'id_masked',
  'phone_cipher',
  'phone_key_id',
  'phone_hash',
  'phone_masked',
  'ethnicity',
  'work',
  'household_id',
  'relation_to_head',
  'grid_code',
  'region_path',
];
export const tagCopyColumns = ['person_id', 'kind', 'specialty', 'region_path'];

const relationOf = new Map(Object.entries(relationToHeadLabels).map(([value, label]) => [label, value]));
const tagOf = new Map(
  (Object.entries(personTagLabels) as [PersonTagKind, string][]).map(([kind, label]) => [label, kind]),
);

export interface SealedPerson {
  person: GeneratedPerson;
  id: ReturnType<typeof sealIdNumber>;
  phone: ReturnType<typeof sealPhone>;
}

/** Sealed once, before any timing: the raw reference measures the database writes alone. */
export function sealPersons(secrets: SecretBox, persons: GeneratedPerson[]): SealedPerson[] {
  return persons.map((person) => ({
    person,
    id: sealIdNumber(secrets, person.idNumber),
    phone: sealPhone(secrets, person.phone),
  }));
}

/**
 * The COPY text of the three tables, with ids from `base` + 1 on (households, persons and tags reference each other
 * as the import's do: each person its home's household, each tag its person).
 */
export function copyTexts(
  sealed: SealedPerson[],
  base: { household: number; person: number },
): { household: string; person: string; tag: string } {
  const householdOf = new Map<string, number>();
  const household: string[] = [];
  const person: string[] = [];
  const tag: string[] = [];
  sealed.forEach(({ person: p, id, phone }, index) => {
    const home = `${p.building.id}|${p.unit}|${p.room}`;
    let householdId = householdOf.get(home);
    if (householdId === undefined) {
      householdId = base.household + householdOf.size + 1;
      householdOf.set(home, householdId);
      household.push(
        line([
          householdId,
          'registered',
          p.building.id,
          p.unit,
          p.room,
          p.building.grid_code,
          p.building.region_path,
        ]),
      );
    }
    const personId = base.person + index + 1;
    person.push(
      line([
        personId,
        p.name,
        p.gender,
        p.birthDate,
        'resident_id',
        id.cipher,
        id.keyId,
        id.hash,
        id.masked,
        phone.cipher,
        phone.keyId,
        phone.hash,
        phone.masked,
        p.ethnicity,
        p.work,
        householdId,
        relationOf.get(p.relation) ?? null,
        p.building.grid_code,
        p.building.region_path,
      ]),
    );
    if (p.tag) {
      const kind = tagOf.get(p.tag)!;
      tag.push(line([personId, kind, personTagSpecialty[kind], p.building.region_path]));
    }
  });
  return { household: household.join(''), person: person.join(''), tag: tag.join('') };
}
