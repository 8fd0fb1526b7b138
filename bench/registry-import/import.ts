/**
 * Registry import benchmark (issue 5: "importing 10,000 persons from xlsx takes ≤ 30 s on PostgreSQL").
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:import [-- --rows 10000 --rounds 3]
 *   npm run bench:import                       # PGlite (in a temporary directory)
 *
 * On a fresh database (PostgreSQL: a new database `wangge_bench_import_<pid>` on the server of DATABASE_URL,
 * dropped at the end) seeded with the demo city, it generates an xlsx of 10,000 persons (valid GB 11643 ID numbers,
 * mobile phones, Chinese names, spread over the demo city's grids and their buildings, some key-population tags),
 * then runs N rounds, alternating:
 *   (a) Wangge: the file POSTed to a real Wangge server listening on loopback (started in this process with the
 *       production config, PostgreSQL pool and all), all-or-nothing mode; the request is timed end to end
 *       (parse, validate, seal, households, persons, tags, audit, commit);
 *   (b) raw reference: the same 10,000 person rows, already sealed, sent with `COPY person (…) FROM STDIN`
 *       (PostgreSQL: a minimal COPY-in over the `pg` wire protocol; PGlite: `COPY … FROM '/dev/blob'`).
 * Both are cleaned up between rounds. Prints both times, rows/s and the ratio; writes results.json beside it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import type { PGlite } from '@electric-sql/pglite';
import {
  personExcelColumns,
  registryExcelSheetNames,
  type ImportResult,
} from '../../packages/contracts/src/index.ts';
import type pg from 'pg';
import { one, rows, sql } from '../../apps/server/src/platform/db.ts';
import { startDemoServer } from '../common/demo-server.ts';
import { demoPassword } from '../../apps/server/src/seed/demo-accounts.ts';
import { personName } from '../../apps/server/src/seed/names.ts';
import { checkCharOf } from '../../apps/server/src/modules/registry/person-id.ts';
import { idPurpose, sealIdNumber, sealPhone } from '../../apps/server/src/modules/registry/registry.seal.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  const value = at >= 0 ? Number(argv[at + 1]) : NaN;
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const personCount = option('--rows', 10_000);
const rounds = option('--rounds', 3);
const here = path.dirname(fileURLToPath(import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);

/* ---------------------------------------------------------------- a fresh demo city, Wangge on loopback */

const server = await startDemoServer('import');
const { db, secrets } = server;
say(`database: ${db.kind}; demo city seeded in ${server.seedSeconds.toFixed(1)} s`);

/* ---------------------------------------------------------------- 10,000 persons */

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
const rand = random(20261126);
const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;

const buildings = await rows<{ grid_code: string; region_path: string; name: string }>(
  db.orm,
  sql`select b.grid_code, b.region_path, b.name from building b order by b.grid_code, b.name`,
);
if (buildings.length === 0) throw new Error('the demo city has no buildings');
const grids = new Set(buildings.map((b) => b.grid_code));
// Area codes of Jiamusi's districts and counties and a few elsewhere (registered residence of migrants).
const areas = ['230803', '230804', '230805', '230811', '230822', '230826', '230828', '110105', '370102'];
const ethnicities = ['汉族', '汉族', '汉族', '汉族', '满族', '朝鲜族', '回族', '赫哲族'];
const works = ['佳木斯市第一中学', '向阳区人民医院', '个体经营', '退休', '务农', '佳木斯电机厂', '学生', ''];
const tags = ['', '', '', '', '', '', '', '', '', '', '', '', '', '独居老人', '空巢老人', '残疾人', '低保'];

interface GeneratedPerson {
  name: string;
  gender: 'male' | 'female';
  idNumber: string;
  phone: string;
  ethnicity: string;
  work: string;
  gridCode: string;
  regionPath: string;
  building: string;
  unit: string;
  room: string;
  relation: string;
  tag: string;
  birthDate: string;
}

// Homes (building, unit, room): about 2.5 persons each, as in a census household.
const homes = Array.from({ length: Math.ceil(personCount / 2.5) }, () => ({
  building: pick(buildings),
  unit: String(1 + Math.floor(rand() * 4)),
  room: String((1 + Math.floor(rand() * 12)) * 100 + 1 + Math.floor(rand() * 4)),
}));
const heads = new Set<string>();

function generate(count: number, taken: Set<string>): GeneratedPerson[] {
  const list: GeneratedPerson[] = [];
  while (list.length < count) {
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
    const home = `${building.grid_code}|${building.name}|${unit}|${room}`;
    const relation = heads.has(home) ? pick(['配偶', '子女', '子女', '父母', '孙子女']) : '户主';
    heads.add(home);
    list.push({
      name: personName(`bench:${idNumber}`),
      gender: sequence % 2 === 1 ? 'male' : 'female',
      idNumber,
      phone: `1${pick(['3', '5', '8', '9'])}${String(Math.floor(rand() * 1e9)).padStart(9, '0')}`,
      ethnicity: pick(ethnicities),
      work: pick(works),
      gridCode: building.grid_code,
      regionPath: building.region_path,
      building: building.name,
      unit,
      room,
      relation,
      tag: pick(tags),
      birthDate: `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`,
    });
  }
  return list;
}

// Generated ID numbers must not meet the demo residents': checked through the keyed hash, as the import does.
const taken = new Set<string>();
let persons = generate(personCount, taken);
for (;;) {
  const hashes = new Map(persons.map((p) => [secrets.lookupHash(idPurpose, p.idNumber), p.idNumber]));
  const clash = await rows<{ id_hash: string }>(
    db.orm,
    sql`select id_hash from person where id_hash in (select jsonb_array_elements_text(${JSON.stringify([...hashes.keys()])}::jsonb))`,
  );
  if (clash.length === 0) break;
  const bad = new Set(clash.map((c) => hashes.get(c.id_hash)));
  persons = [...persons.filter((p) => !bad.has(p.idNumber)), ...generate(bad.size, taken)];
}

const workbook = new ExcelJS.Workbook();
const sheet = workbook.addWorksheet(registryExcelSheetNames.persons);
sheet.addRow(personExcelColumns.map((c) => c.header));
for (const p of persons) {
  const byField: Record<string, string> = {
    name: p.name,
    gender: p.gender === 'male' ? '男' : '女',
    idType: '居民身份证',
    idNumber: p.idNumber,
    phone: p.phone,
    ethnicity: p.ethnicity,
    work: p.work,
    gridCode: p.gridCode,
    building: p.building,
    unit: p.unit,
    room: p.room,
    householdKind: '户籍',
    relationToHead: p.relation,
    tags: p.tag,
  };
  sheet.addRow(personExcelColumns.map((c) => byField[c.field] || null));
}
const file = Buffer.from(await workbook.xlsx.writeBuffer());
say(
  `generated ${persons.length} persons in ${grids.size} grids / ${new Set(persons.map((p) => `${p.gridCode}|${p.building}`)).size} buildings; xlsx ${(file.length / 1024).toFixed(0)} KiB`,
);

/* ---------------------------------------------------------------- the server on loopback */

const base = server.baseUrl;
const login = await fetch(`${base}/api/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'demo-admin', password: demoPassword }),
});
if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
const { token } = (await login.json()) as { token: string };

/* ---------------------------------------------------------------- the raw reference: COPY */

const copyColumns = [
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
  'grid_code',
  'region_path',
];
const copyEscape = (value: string | null) =>
  value === null || value === ''
    ? '\\N'
    : value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
// Sealed once, before any timing: the reference measures the database write alone.
const copyText = persons
  .map((p) => {
    const id = sealIdNumber(secrets, p.idNumber);
    const phone = sealPhone(secrets, p.phone);
    return [
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
      p.gridCode,
      p.regionPath,
    ]
      .map(copyEscape)
      .join('\t');
  })
  .join('\n')
  .concat('\n');
const copySql = `copy person (${copyColumns.join(', ')}) from stdin`;

/** COPY … FROM STDIN over the pg wire protocol (what pg-copy-streams does, in its simplest form). */
class CopyIn {
  private done!: (error?: Error) => void;
  readonly finished = new Promise<void>((resolve, reject) => {
    this.done = (error) => (error ? reject(error) : resolve());
  });
  private failure: Error | undefined;
  constructor(
    private readonly text: string,
    private readonly data: Buffer,
  ) {}
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    for (let i = 0; i < this.data.length; i += 64 * 1024)
      connection.sendCopyFromChunk(this.data.subarray(i, i + 64 * 1024));
    connection.endCopyFrom();
  }
  handleCommandComplete(): void {}
  handleError(error: Error): void {
    this.failure = error;
  }
  handleReadyForQuery(): void {
    this.done(this.failure);
  }
}

async function rawCopy(): Promise<void> {
  const client = (db.orm as unknown as { $client: pg.Pool | PGlite }).$client;
  if (db.kind === 'postgres') {
    const session = await (client as pg.Pool).connect();
    try {
      const copy = new CopyIn(copySql, Buffer.from(copyText, 'utf8'));
      (session as unknown as { query(q: CopyIn): void }).query(copy);
      await copy.finished;
    } finally {
      session.release();
    }
  } else {
    await (client as PGlite).query(`copy person (${copyColumns.join(', ')}) from '/dev/blob'`, [], {
      blob: new Blob([copyText]),
    });
  }
}

/* ---------------------------------------------------------------- rounds */

const maxIds = async () =>
  (await one<{ person: number; household: number }>(
    db.orm,
    sql`select coalesce((select max(id) from person), 0)::int as person,
               coalesce((select max(id) from household), 0)::int as household`,
  ))!;
const baseline = await maxIds();
const cleanUp = async () => {
  await db.orm.execute(sql`delete from person_tag where person_id > ${baseline.person}`);
  await db.orm.execute(sql`delete from person where id > ${baseline.person}`);
  await db.orm.execute(sql`delete from household where id > ${baseline.household}`);
  await db.orm.execute(sql`delete from registry_import`);
  if (db.kind === 'postgres') await db.execScript('vacuum analyze person, household, person_tag');
};
const countNew = async () =>
  (await one<{ n: number }>(
    db.orm,
    sql`select count(*)::int as n from person where id > ${baseline.person}`,
  ))!.n;

interface Round {
  round: number;
  wanggeMs: number;
  rawMs: number;
  importedRows: number;
  householdsCreated: number;
}
const results: Round[] = [];
for (let round = 1; round <= rounds; round++) {
  let started = performance.now();
  const response = await fetch(
    `${base}/api/registry/imports?kind=persons&mode=all_or_nothing&clientId=${randomUUID()}`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      },
      body: file,
    },
  );
  const result = (await response.json()) as ImportResult;
  const wanggeMs = performance.now() - started;
  if (response.status !== 201 || result.status !== 'imported' || result.importedRows !== persons.length)
    throw new Error(`import failed: ${response.status} ${JSON.stringify(result).slice(0, 500)}`);
  const householdsCreated = (await one<{ n: number }>(
    db.orm,
    sql`select count(*)::int as n from household where id > ${baseline.household}`,
  ))!.n;
  if ((await countNew()) !== persons.length) throw new Error('the import did not store every row');
  await cleanUp();

  started = performance.now();
  await rawCopy();
  const rawMs = performance.now() - started;
  if ((await countNew()) !== persons.length) throw new Error('the COPY did not store every row');
  await cleanUp();

  results.push({ round, wanggeMs, rawMs, importedRows: result.importedRows, householdsCreated });
  say(
    `round ${round}: Wangge ${(wanggeMs / 1000).toFixed(2)} s (${Math.round((persons.length / wanggeMs) * 1000)} rows/s, ` +
      `${householdsCreated} households created) · COPY ${(rawMs / 1000).toFixed(2)} s ` +
      `(${Math.round((persons.length / rawMs) * 1000)} rows/s) · ratio ${(wanggeMs / rawMs).toFixed(1)}×`,
  );
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const wanggeMedian = median(results.map((r) => r.wanggeMs));
const rawMedian = median(results.map((r) => r.rawMs));
const summary = {
  benchmark: 'registry-import',
  database: db.kind,
  rows: persons.length,
  rounds: results.map((r) => ({
    ...r,
    wanggeMs: Math.round(r.wanggeMs),
    rawMs: Math.round(r.rawMs),
  })),
  fileBytes: file.length,
  wanggeMedianMs: Math.round(wanggeMedian),
  wanggeRowsPerSecond: Math.round((persons.length / wanggeMedian) * 1000),
  rawMethod:
    db.kind === 'postgres'
      ? 'COPY person (…) FROM STDIN (pg wire protocol)'
      : "COPY person (…) FROM '/dev/blob' (PGlite)",
  rawMedianMs: Math.round(rawMedian),
  rawRowsPerSecond: Math.round((persons.length / rawMedian) * 1000),
  ratio: Number((wanggeMedian / rawMedian).toFixed(2)),
  goal: { maxSeconds: 30, met: db.kind === 'postgres' ? wanggeMedian <= 30_000 : null },
  node: process.version,
  cpus: os.cpus().length,
  at: new Date().toISOString(),
};
say(
  `median: Wangge ${(wanggeMedian / 1000).toFixed(2)} s (${summary.wanggeRowsPerSecond} rows/s) · ` +
    `COPY ${(rawMedian / 1000).toFixed(2)} s (${summary.rawRowsPerSecond} rows/s) · ratio ${summary.ratio}×`,
);
fs.writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
say(`wrote ${path.relative(process.cwd(), path.join(here, 'results.json'))}`);

await server.close();
