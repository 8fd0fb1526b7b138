/**
 * W7 — CSV export of 1M cases (`GET /api/cases/export.csv`) against `COPY (select …) TO STDOUT WITH CSV` of the
 * same columns, plain, in the same run.
 *
 * Wangge: a real server on the scale database in this process (startScaleServer); a child process GETs the export
 * as the system-wide administrator `demo-admin` (no single non-admin scope holds the 1M cases: they lie in the 11
 * cities of the province territory and the demo city, which have no common parent region) and counts its bytes and
 * CSV records; this process samples its own RSS every 100 ms meanwhile (it is the server's process).
 * Raw: a child process runs `psql -c "\copy (select …) to stdout with csv header"` over the same joins and counts
 * the same way. Rounds alternate. Both sides must return exactly the number of cases in the scope, else it throws.
 *
 * `--rounds n` (default 2), `--region <code>` to export one region's subtree instead of everything (a bounded
 * subset), `--result-file` (the runner).
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { caseExportColumns } from '@wangge/contracts';
import { one, sql } from '../../apps/server/src/platform/db.ts';
import {
  alternate,
  atLeast,
  below,
  loadAverage,
  machine,
  medianFigures,
  options,
  finish,
  ratioOf,
  round2,
  type Figures,
  type WorkloadResult,
} from '../common/result.ts';
import { signIn, startScaleServer, type ScaleServer } from '../common/scale.ts';
import type { ReadRequest, ReadResult } from './read-child.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const readChild = path.join(here, 'read-child.ts');

/** The region filter of the export as plain SQL (the same as `insideAny`), or true for everything. */
export function regionCondition(regionPath: string | null): string {
  if (regionPath === null) return 'true';
  if (!/^[0-9.]+$/.test(regionPath)) throw new Error(`not a region path: ${regionPath}`);
  return `(c.region_path = '${regionPath}' or (c.region_path >= '${regionPath}.' and c.region_path < '${regionPath}/'))`;
}

/** The raw reference: the export's columns, plain (no labels, quoting rules of COPY, no order). */
export function rawQuery(regionPath: string | null): string {
  return `select c.serial, c.title, c.description, kc.name_zh as category_class, k.name_zh as category, c.channel,
      c.status, c.urgent, c.supervision, c.overdue, g.name as grid, c.grid_code, c.address,
      st_x(c.location) as lng, st_y(c.location) as lat, d.name as lead_department, c.reporter_name,
      c.reporter_contact_masked, c.reported_at, c.due_at, c.closed_at
    from grid_case c
    join region g on g.code = c.grid_code
    join case_category k on k.code = c.category_code
    left join case_category kc on kc.code = k.parent_code
    left join department d on d.id = c.lead_department_id
    where ${regionCondition(regionPath)}`.replace(/\s+/g, ' ');
}

export const exportHeader = caseExportColumns.map((c) => c.zh).join(',');
export const rawHeader =
  'serial,title,description,category_class,category,channel,status,urgent,supervision,overdue,grid,grid_code,' +
  'address,lng,lat,lead_department,reporter_name,reporter_contact_masked,reported_at,due_at,closed_at';

/**
 * Checks one side's read: a 200, the expected header, and exactly `expected` records besides it. Throws otherwise
 * (a short or failed export must never be timed as a fast one).
 */
export function checkRead(
  side: 'wangge' | 'raw',
  result: ReadResult,
  expected: number,
  header: string,
): { rows: number } {
  if (result.status !== 200) throw new Error(`W7 ${side}: status ${result.status}: ${result.error ?? ''}`);
  if (side === 'wangge' && !result.bom) throw new Error('W7 wangge: the export has no UTF-8 BOM');
  if (result.firstLine !== header)
    throw new Error(`W7 ${side}: unexpected header ${JSON.stringify(result.firstLine.slice(0, 200))}`);
  const rows = result.records - 1;
  if (rows !== expected)
    throw new Error(`W7 ${side}: ${rows} rows, expected ${expected} (the cases in scope)`);
  return { rows };
}

/** Runs one read in a child process (the reading never burdens the server's process). */
export function readInChild(request: ReadRequest): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(readChild, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    let settled = false;
    child.once('message', (message: { result?: ReadResult; error?: string }) => {
      settled = true;
      child.kill();
      if (message.error !== undefined) reject(new Error(`W7 reader: ${message.error}`));
      else resolve(message.result!);
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`W7 reader exited with ${code} before answering`));
    });
    child.send(request);
  });
}

/** RSS of this process, sampled every 100 ms while `work` runs: the peak in MB. */
export async function peakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakMb: peak / 1024 ** 2 };
  } finally {
    clearInterval(timer);
  }
}

function vmHwmMb(): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The workload; `start` is the scale server (startScaleServer; a test or a dev run may pass another). */
export async function main(start: () => Promise<ScaleServer> = startScaleServer): Promise<void> {
  const opts = options();
  const rounds = opts.int('rounds', 2);
  const regionCode = opts.string('region', '');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const loadAtStart = loadAverage();
  const started = performance.now();

  const server = await start();
  try {
    // (scaleFacts of common/scale.ts reads region.valid_to, which the schema does not have: counted here.)
    const grids = (await one<{ n: number }>(
      server.db.orm,
      sql`select count(*)::int as n from region where level = 'grid'`,
    ))!.n;
    const region = regionCode
      ? await one<{ path: string; name: string }>(
          server.db.orm,
          sql`select path, name from region where code = ${regionCode}`,
        )
      : null;
    if (regionCode && !region) throw new Error(`W7: no region ${regionCode}`);
    const regionPath = region?.path ?? null;
    const counted = await one<{ n: number }>(
      server.db.orm,
      sql`select count(*)::int as n from grid_case c where ${sql.raw(regionCondition(regionPath))}`,
    );
    const expected = counted!.n;
    if (expected === 0) throw new Error('W7: no cases to export');
    say(
      `W7: exporting ${expected.toLocaleString('en-US')} cases (${region ? region.name : 'the whole territory'})`,
    );

    const token = await signIn(server.baseUrl, 'demo-admin', 'demo12345');
    const url = `${server.baseUrl}/api/cases/export.csv?state=all${regionCode ? `&region=${regionCode}` : ''}`;
    const rssBefore = process.memoryUsage.rss() / 1024 ** 2;
    say(`  server RSS before the first export: ${Math.round(rssBefore)} MB`);

    const wangge = async (): Promise<Figures> => {
      const { value, peakMb } = await peakRss(() =>
        readInChild({ kind: 'http', url, headers: { authorization: `Bearer ${token}` } }),
      );
      const { rows } = checkRead('wangge', value, expected, exportHeader);
      return {
        rowsPerSecond: Math.round(rows / value.seconds),
        mbPerSecond: round2(value.bytes / 1024 ** 2 / value.seconds),
        seconds: round2(value.seconds),
        mb: round2(value.bytes / 1024 ** 2),
        peakRssMb: Math.round(peakMb),
      };
    };
    const raw = async (): Promise<Figures> => {
      const value = await readInChild({
        kind: 'psql',
        databaseUrl: server.databaseUrl,
        query: rawQuery(regionPath),
      });
      const { rows } = checkRead('raw', value, expected, rawHeader);
      return {
        rowsPerSecond: Math.round(rows / value.seconds),
        mbPerSecond: round2(value.bytes / 1024 ** 2 / value.seconds),
        seconds: round2(value.seconds),
        mb: round2(value.bytes / 1024 ** 2),
      };
    };

    const measured = await alternate(rounds, wangge, raw, say);
    const w = medianFigures(measured, 'wangge');
    const r = medianFigures(measured, 'raw');
    const ratio = ratioOf(w.rowsPerSecond, r.rowsPerSecond);
    const peak = Math.max(
      ...measured.filter((m) => m.system === 'wangge').map((m) => m.figures.peakRssMb ?? 0),
    );
    const result: WorkloadResult = {
      id: 'W7',
      title: 'CSV export of the cases',
      at: new Date().toISOString(),
      database: 'postgres',
      data: `${grids.toLocaleString('en-US')} grids, ${expected.toLocaleString('en-US')} cases exported${
        region ? ` (${region.name} ${regionCode})` : ''
      }`,
      wangge: {
        what: 'GET /api/cases/export.csv?state=all as demo-admin, read and counted in a child process',
        figures: { ...w, peakRssMb: peak },
      },
      raw: {
        what: 'psql \\copy (select the same columns, plain, same joins) to stdout with csv, counted the same way',
        figures: r,
      },
      ratio: { label: 'Wangge rows/s ÷ COPY rows/s', value: ratio },
      goals: [
        atLeast('rate vs COPY', ratio === null ? null : round2(ratio * 100), 30, '%', '≥ 30%'),
        below('peak RSS of the server process during the export', peak, 300, 'MB'),
      ],
      rounds: measured,
      notes: [
        'One server process: the bench process is the server (RSS sampled every 100 ms during each Wangge round).',
        `RSS before the first export ${Math.round(rssBefore)} MB; VmHWM of the process at the end ${Math.round(vmHwmMb() ?? 0)} MB (includes start-up).`,
        'Every round checks the status, the header (and the BOM) and that each side returned exactly the cases in scope.',
        'The scope is the system-wide administrator: no single non-admin scope holds all the cases (they lie in 12 cities without a common parent).',
      ],
      machine: machine(loadAtStart),
      seconds: Math.round((performance.now() - started) / 1000),
    };
    finish(result, opts.resultFile);
  } finally {
    await server.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
