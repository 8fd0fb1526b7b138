import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecretBox, type SecretBox } from '../../apps/server/src/platform/crypto.ts';
import { rows, sql, type Database } from '../../apps/server/src/platform/db.ts';
import type { Wangge } from '../../apps/server/src/server.ts';
import {
  buildTerritory,
  makeUser,
  territory as t,
  type TestUser,
} from '../../apps/server/src/test/factories.ts';
import { resetDatabase, testConfig, testDatabase, testServer } from '../../apps/server/src/test/harness.ts';
import {
  copyTexts,
  expectedWrites,
  generatePersons,
  personWorkbook,
  sealPersons,
  type ExpectedWrites,
  type GeneratedPerson,
} from './persons.ts';
import {
  baselineOf,
  checkWrites,
  cleanUp,
  rawCopy,
  wanggeImport,
  writesSince,
  type Baseline,
  type CopyTexts,
} from './workload.ts';

// W9 on a small territory (300 persons): both sides write the same rows, and each side's check fails loudly when
// a side wrote fewer (or other) rows than it was given.
let db: Database;
let server: Wangge;
let baseUrl: string;
let admin: TestUser;
let secrets: SecretBox;
let persons: GeneratedPerson[];
let file: Buffer;
let expected: ExpectedWrites;
let baseline: Baseline;
let texts: CopyTexts;

/** What a side stored, in a form both sides must match exactly (ids aside). */
async function stored(): Promise<string[]> {
  const list = await rows<{ line: string }>(
    db.orm,
    sql`select concat_ws('|', p.name, p.gender, p.birth_date::text, p.id_type, p.id_hash, p.id_masked,
              p.id_key_id, p.phone_hash, p.phone_masked, p.ethnicity, p.work, p.relation_to_head, p.grid_code,
              p.region_path, h.kind, h.building_id, h.unit, h.room, h.grid_code, h.status,
              (select string_agg(concat_ws(':', g.kind, g.specialty, g.region_path), ',' order by g.kind)
               from person_tag g where g.person_id = p.id)) as line
        from person p left join household h on h.id = p.household_id
        where p.id > ${baseline.person}
        order by p.id_hash`,
  );
  return list.map((r) => r.line);
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  for (const [grid, name] of [
    [t.gridA1, '1号楼'],
    [t.gridA1, '2号楼'],
    [t.gridA2, '7号楼'],
    [t.gridB1, '3号楼'],
  ])
    await db.orm.execute(sql`insert into building (grid_code, region_path, name, kind)
      select code, path, ${name}, 'residential' from region where code = ${grid}`);
  server = await testServer(db);
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const address = server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  baseUrl = `http://127.0.0.1:${address.port}`;
  admin = await makeUser(db, [{ role: 'admin' }]);
  // the server's keys: the same data directory
  secrets = loadSecretBox({ dataDir: testConfig().dataDir });
  ({ persons } = await generatePersons(db, secrets, 300));
  file = await personWorkbook(persons);
  expected = expectedWrites(persons);
  baseline = await baselineOf(db);
  texts = copyTexts(sealPersons(secrets, persons), baseline);
});

afterAll(async () => {
  await server?.app.close();
});

describe('W9 registry import', () => {
  it('has both sides write the same persons, households and tags, each checked by count', async () => {
    expect(expected.persons).toBe(300);
    expect(expected.households).toBeGreaterThan(50);
    expect(expected.households).toBeLessThan(300);
    expect(expected.tags).toBeGreaterThan(0);

    const { result } = await wanggeImport({ db, baseUrl, token: admin.token, file, expected, baseline });
    expect(result.importedRows).toBe(300);
    const byWangge = await stored();
    await cleanUp(db, baseline);
    expect(await writesSince(db, baseline)).toEqual({ persons: 0, households: 0, tags: 0 });

    await rawCopy({ db, texts, expected, baseline });
    const byCopy = await stored();
    await cleanUp(db, baseline);

    expect(byWangge).toHaveLength(300);
    expect(byCopy).toEqual(byWangge);
  });

  it('fails when Wangge imported fewer rows than were sent', async () => {
    // the file lacks one person the workload counts on
    const short = await personWorkbook(persons.slice(1));
    await expect(
      wanggeImport({ db, baseUrl, token: admin.token, file: short, expected, baseline }),
    ).rejects.toThrow(/Wangge's import answered 201 imported with 299 of 300 rows/);
    await cleanUp(db, baseline);

    // or one bad row: all-or-nothing stores nothing, the import is rejected
    const first = persons[0]!;
    const wrongCheck = `${first.idNumber.slice(0, 17)}${first.idNumber.endsWith('0') ? '1' : '0'}`;
    const bad = await personWorkbook([{ ...first, idNumber: wrongCheck }, ...persons.slice(1)]);
    await expect(
      wanggeImport({ db, baseUrl, token: admin.token, file: bad, expected, baseline }),
    ).rejects.toThrow(/answered 201 rejected with 0 of 300 rows/);
    await cleanUp(db, baseline);
  });

  it('fails when the raw COPY wrote a different count', async () => {
    const withoutLast = {
      ...texts,
      person: texts.person.split('\n').slice(0, -2).join('\n').concat('\n'),
      // the tags of the person left out go too, or the COPY itself would fail on its foreign key
      tag: texts.tag
        .split('\n')
        .filter((line) => line !== '' && Number(line.split('\t')[0]) !== baseline.person + 300)
        .join('\n')
        .concat('\n'),
    };
    await expect(rawCopy({ db, texts: withoutLast, expected, baseline })).rejects.toThrow(
      /the raw COPY wrote 299 persons \(expected 300\)/,
    );
    await cleanUp(db, baseline);
    // a COPY that fails outright writes nothing and throws
    const broken = { ...texts, person: texts.person.replace('\tresident_id\t', '\tnot_an_id_type\t') };
    await expect(rawCopy({ db, texts: broken, expected, baseline })).rejects.toThrow();
    expect(await writesSince(db, baseline)).toEqual({ persons: 0, households: 0, tags: 0 });
  });

  it('names every table that differs', () => {
    expect(() =>
      checkWrites('X', { persons: 3, households: 2, tags: 0 }, { persons: 3, households: 1, tags: 1 }),
    ).toThrow('X wrote 2 households (expected 1), 0 tags (expected 1): the workload is broken');
    expect(() => checkWrites('X', expected, { ...expected })).not.toThrow();
  });
});
