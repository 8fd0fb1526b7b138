/**
 * W9's two sides and their checks. Each side writes the same rows into the same tables and is checked to have
 * written exactly what was expected — persons, households and tags counted in the database — so a side that
 * dropped, added or refused rows fails the workload instead of reporting a rate.
 */
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { ImportResult } from '../../packages/contracts/src/index.ts';
import { one, sql, type Database } from '../../apps/server/src/platform/db.ts';
import { householdCopyColumns, personCopyColumns, tagCopyColumns, type ExpectedWrites } from './persons.ts';

/** The largest ids before the workload: everything above them is the workload's, removed between rounds. */
export interface Baseline {
  person: number;
  household: number;
}

export async function baselineOf(db: Database): Promise<Baseline> {
  return (await one<Baseline>(
    db.orm,
    sql`select coalesce((select max(id) from person), 0)::int as person,
               coalesce((select max(id) from household), 0)::int as household`,
  ))!;
}

/** The rows written since the baseline. */
export async function writesSince(db: Database, baseline: Baseline): Promise<ExpectedWrites> {
  return (await one<ExpectedWrites>(
    db.orm,
    sql`select (select count(*)::int from person where id > ${baseline.person}) as persons,
               (select count(*)::int from household where id > ${baseline.household}) as households,
               (select count(*)::int from person_tag where person_id > ${baseline.person}) as tags`,
  ))!;
}

/** Throws unless `found` is exactly `expected`, naming the side and the tables that differ. */
export function checkWrites(side: string, found: ExpectedWrites, expected: ExpectedWrites): void {
  const wrong = (Object.keys(expected) as (keyof ExpectedWrites)[]).filter((k) => found[k] !== expected[k]);
  if (wrong.length > 0)
    throw new Error(
      `${side} wrote ${wrong.map((k) => `${found[k]} ${k} (expected ${expected[k]})`).join(', ')}: the workload is broken`,
    );
}

export async function cleanUp(db: Database, baseline: Baseline): Promise<void> {
  await db.orm.execute(sql`delete from person_tag where person_id > ${baseline.person}`);
  await db.orm.execute(sql`delete from person where id > ${baseline.person}`);
  await db.orm.execute(sql`delete from household where id > ${baseline.household}`);
  await db.orm.execute(sql`delete from registry_import`);
  if (db.kind === 'postgres') await db.execScript('vacuum analyze person, household, person_tag');
}

/**
 * Wangge: the xlsx POSTed to /api/registry/imports (all-or-nothing), timed from the request to the answer. Throws
 * unless it answers 201 `imported` with every row and the database holds exactly the expected rows.
 */
export async function wanggeImport(options: {
  db: Database;
  baseUrl: string;
  token: string;
  file: Buffer;
  expected: ExpectedWrites;
  baseline: Baseline;
}): Promise<{ ms: number; result: ImportResult }> {
  const started = performance.now();
  const response = await fetch(
    `${options.baseUrl}/api/registry/imports?kind=persons&mode=all_or_nothing&clientId=${randomUUID()}`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.token}`,
        'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      },
      body: options.file,
    },
  );
  const result = (await response.json()) as ImportResult;
  const ms = performance.now() - started;
  if (
    response.status !== 201 ||
    result.status !== 'imported' ||
    result.importedRows !== options.expected.persons
  )
    throw new Error(
      `Wangge's import answered ${response.status} ${result.status} with ${result.importedRows} of ` +
        `${options.expected.persons} rows: ${JSON.stringify(result).slice(0, 300)}`,
    );
  checkWrites('Wangge', await writesSince(options.db, options.baseline), options.expected);
  return { ms, result };
}

/** COPY … FROM STDIN over the pg wire protocol (what pg-copy-streams does, in its simplest form). */
class CopyIn {
  private done!: (error?: Error) => void;
  readonly finished = new Promise<void>((resolve, reject) => {
    this.done = (error) => (error ? reject(error) : resolve());
  });
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
  // pg stops treating this as the active query on an error (no ReadyForQuery reaches it after one): settle now.
  handleError(error: Error): void {
    this.done(error);
  }
  handleReadyForQuery(): void {
    this.done();
  }
}

export interface CopyTexts {
  household: string;
  person: string;
  tag: string;
}

const tables = [
  ['household', householdCopyColumns],
  ['person', personCopyColumns],
  ['person_tag', tagCopyColumns],
] as const;
const textOf = (texts: CopyTexts, table: (typeof tables)[number][0]) =>
  table === 'household' ? texts.household : table === 'person' ? texts.person : texts.tag;

/**
 * The raw reference: the same households, persons and tags, already sealed, in one transaction of three
 * `COPY … FROM STDIN` (PGlite: `COPY … FROM '/dev/blob'`). Timed from BEGIN to COMMIT; throws unless the database
 * then holds exactly the expected rows.
 */
export async function rawCopy(options: {
  db: Database;
  texts: CopyTexts;
  expected: ExpectedWrites;
  baseline: Baseline;
}): Promise<{ ms: number }> {
  const { db, texts } = options;
  const client = (db.orm as unknown as { $client: pg.Pool | PGlite }).$client;
  const started = performance.now();
  if (db.kind === 'postgres') {
    const session = await (client as pg.Pool).connect();
    try {
      await session.query('begin');
      for (const [table, columns] of tables) {
        const copy = new CopyIn(
          `copy ${table} (${columns.join(', ')}) from stdin`,
          Buffer.from(textOf(texts, table), 'utf8'),
        );
        (session as unknown as { query(q: CopyIn): void }).query(copy);
        await copy.finished;
      }
      await session.query('commit');
    } catch (error) {
      await session.query('rollback');
      throw error;
    } finally {
      session.release();
    }
  } else {
    const lite = client as PGlite;
    await lite.transaction(async (tx) => {
      for (const [table, columns] of tables)
        await tx.query(`copy ${table} (${columns.join(', ')}) from '/dev/blob'`, [], {
          blob: new Blob([textOf(texts, table)]),
        });
    });
  }
  const ms = performance.now() - started;
  checkWrites('the raw COPY', await writesSince(db, options.baseline), options.expected);
  return { ms };
}
