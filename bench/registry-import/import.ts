/**
 * W9 (issue 9): import 100,000 persons from xlsx, against `COPY` of the same rows into the same tables.
 *
 *   npm run bench -- W9 [--rows 100000 --rounds 3]        through the runner (PostgreSQL), into bench/RESULTS.md
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:import [-- --rows 20000 --rounds 2]
 *   npm run bench:import                                  PGlite (in a temporary directory)
 *
 * On a fresh database seeded with the demo city (PostgreSQL: a throw-away database `wangge_bench_import_<pid>` on
 * DATABASE_URL's server; see bench/common/demo-server.ts) it generates the persons (persons.ts: valid GB 11643 ID
 * numbers, phones, names, homes of ~2.5 persons in units of the city's buildings, some key-population tags) and
 * their xlsx, then alternates rounds:
 *   (a) Wangge: the file POSTed to a real Wangge server on loopback (production configuration), all-or-nothing;
 *       timed end to end (read the workbook, check every row, seal ID numbers and phones, households, persons,
 *       tags, import record, audit, commit);
 *   (b) raw: the rows the import writes — households, persons (already sealed), tags — in one transaction of three
 *       `COPY … FROM STDIN` (PGlite: `COPY … FROM '/dev/blob'`).
 * After each side the database must hold exactly the expected rows (else the workload fails); they are removed
 * before the next. Figure: persons per second; goal: Wangge ≥ 25% of COPY's rate.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../common/demo-server.ts';
import { signIn } from '../common/scale.ts';
import {
  alternate,
  atLeast,
  finish,
  loadAverage,
  machine,
  medianFigures,
  options,
  ratioOf,
  round2,
  type WorkloadResult,
} from '../common/result.ts';
import { demoPassword } from '../../apps/server/src/seed/demo-accounts.ts';
import { copyTexts, expectedWrites, generatePersons, personWorkbook, sealPersons } from './persons.ts';
import { baselineOf, cleanUp, rawCopy, wanggeImport } from './workload.ts';

const startedAt = new Date();
const loadAtStart = loadAverage();
const opts = options();
const personCount = opts.int('rows', 100_000);
const rounds = opts.int('rounds', 3);
const say = (line: string) => process.stdout.write(`${line}\n`);

const server = await startDemoServer('import');
try {
  const { db, secrets } = server;
  say(`W9: ${db.kind}; demo city seeded in ${server.seedSeconds.toFixed(1)} s`);

  let step = performance.now();
  const { persons } = await generatePersons(db, secrets, personCount);
  const file = await personWorkbook(persons);
  const expected = expectedWrites(persons);
  const baseline = await baselineOf(db);
  const texts = copyTexts(sealPersons(secrets, persons), baseline);
  say(
    `generated ${persons.length.toLocaleString('en-US')} persons (${expected.households.toLocaleString('en-US')} ` +
      `households, ${expected.tags.toLocaleString('en-US')} tags); xlsx ${(file.length / 1024 / 1024).toFixed(1)} MiB ` +
      `in ${((performance.now() - step) / 1000).toFixed(1)} s`,
  );
  const token = await signIn(server.baseUrl, 'demo-admin', demoPassword);

  const perSecond = (ms: number) => Math.round((persons.length / ms) * 1000);
  const all = await alternate(
    rounds,
    async () => {
      const { ms } = await wanggeImport({ db, baseUrl: server.baseUrl, token, file, expected, baseline });
      await cleanUp(db, baseline);
      return { seconds: round2(ms / 1000), personsPerSecond: perSecond(ms) };
    },
    async () => {
      const { ms } = await rawCopy({ db, texts, expected, baseline });
      await cleanUp(db, baseline);
      return { seconds: round2(ms / 1000), personsPerSecond: perSecond(ms) };
    },
    say,
  );
  step = performance.now();

  const wangge = medianFigures(all, 'wangge');
  const raw = medianFigures(all, 'raw');
  const ratio = ratioOf(wangge.personsPerSecond, raw.personsPerSecond);
  const percent = ratio === null ? null : Math.round(ratio * 1000) / 10;
  const result: WorkloadResult = {
    id: 'W9',
    title: `import ${persons.length.toLocaleString('en-US')} persons`,
    at: startedAt.toISOString(),
    database: db.kind,
    data:
      `demo city (fresh), ${persons.length.toLocaleString('en-US')} persons in ${expected.households.toLocaleString('en-US')} ` +
      `new households with ${expected.tags.toLocaleString('en-US')} tags; xlsx ${(file.length / 1024 / 1024).toFixed(1)} MiB`,
    wangge: {
      what:
        'POST /api/registry/imports (xlsx, all-or-nothing): read, check every row, seal ID numbers and phones, ' +
        'households, persons, tags, audit, one transaction; end to end on loopback',
      figures: wangge,
    },
    raw: {
      what:
        db.kind === 'postgres'
          ? 'the same households, persons (already sealed) and tags by COPY … FROM STDIN, one transaction'
          : "the same households, persons (already sealed) and tags by COPY … FROM '/dev/blob', one transaction",
      figures: raw,
    },
    ratio: { label: 'persons/s Wangge ÷ COPY', value: ratio },
    goals: [atLeast('rate vs COPY', percent, 25, '%', '≥ 25%')],
    rounds: all,
    notes: [
      'Both sides write the same rows into person, household and person_tag; each side is checked to have written exactly those before its rows are removed.',
      "The raw side's sealing (AES-256-GCM, HMAC) and text building happen before its timer; Wangge's import does them inside its request.",
    ],
    machine: machine(loadAtStart),
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  };
  finish(result, opts.resultFile);
  if (!opts.resultFile) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    fs.writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
    say(`wrote ${path.relative(process.cwd(), path.join(here, 'results.json'))}`);
  }
} finally {
  await server.close();
}
