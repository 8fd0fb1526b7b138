/**
 * The benchmark runner (issue 9).
 *
 *   npm run bench -- W3 [-- workload options]   one workload
 *   npm run bench:all                           every workload, in order (W1 … W9)
 *
 * Against PostgreSQL: DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres); the city-scale
 * database is prepared first (bench/common/scale.ts) and reused. Each workload runs as its own process with a time
 * limit; its summary goes into bench/results.json and bench/RESULTS.md. Exit 1 when a workload failed (threw,
 * timed out or reported nothing); goals not met are reported, not hidden, and do not fail the run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderResults, type ResultsFile } from './common/report.ts';
import type { WorkloadId, WorkloadResult } from './common/result.ts';
import * as prettier from 'prettier';
import { benchRoot, prepareScale, serverUrl } from './common/scale.ts';

interface Workload {
  script: string;
  /** needs the city-scale database */
  scale: boolean;
  minutes: number;
  args?: string[];
}

export const workloads: Record<WorkloadId, Workload> = {
  W1: { script: 'api/create-case.ts', scale: true, minutes: 4 },
  W2: { script: 'locate/locate.ts', scale: true, minutes: 3 },
  W3: { script: 'api/queue.ts', scale: true, minutes: 4 },
  W4: { script: 'api/transition.ts', scale: true, minutes: 4 },
  W5: { script: 'tiles/tiles.ts', scale: true, minutes: 4 },
  W6: { script: 'kpi/kpi.ts', scale: true, minutes: 4 },
  W7: { script: 'export/export.ts', scale: true, minutes: 5 },
  W8: { script: 'notice-fanout/fanout.ts', scale: false, minutes: 4 },
  W9: { script: 'registry-import/import.ts', scale: false, minutes: 5 },
};

const say = (line: string) => process.stdout.write(`${line}\n`);
const resultsJson = path.join(benchRoot, 'results.json');
const resultsMd = path.join(benchRoot, 'RESULTS.md');

function readResults(): ResultsFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(resultsJson, 'utf8')) as ResultsFile;
    if (parsed && typeof parsed === 'object' && parsed.workloads) return parsed;
  } catch {
    // none yet
  }
  return { updated: new Date().toISOString(), lastFullRun: null, workloads: {} };
}

/** Written as the repository's prettier check wants them, so a run's output can be committed as it is. */
async function save(file: ResultsFile): Promise<void> {
  file.updated = new Date().toISOString();
  const format = async (target: string, text: string, parser: 'json' | 'markdown') =>
    fs.writeFileSync(
      target,
      await prettier.format(text, { ...(await prettier.resolveConfig(target)), parser }),
    );
  await format(resultsJson, JSON.stringify(file), 'json');
  await format(resultsMd, renderResults(file), 'markdown');
}

/** Runs one workload script in its own process; resolves with its result or rejects with why it failed. */
export async function runWorkload(id: WorkloadId, extra: string[] = []): Promise<WorkloadResult> {
  const workload = workloads[id];
  return runScript(id, path.join(benchRoot, workload.script), workload.minutes * 60_000 * 2, extra);
}

/**
 * Runs `script` with `--result-file <tmp>` and reads the WorkloadResult it wrote. Rejects — the workload failed —
 * when it exits non-zero, is killed at `limitMs`, writes no result, or writes another workload's result.
 */
export async function runScript(
  id: WorkloadId,
  script: string,
  limitMs: number,
  extra: string[] = [],
): Promise<WorkloadResult> {
  const resultFile = path.join(os.tmpdir(), `wangge-bench-${id}-${process.pid}-${Date.now()}.json`);
  fs.rmSync(resultFile, { force: true });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, '--result-file', resultFile, ...extra],
    // Every workload runs against PostgreSQL, the production database (W8 makes its own database on that server).
    { stdio: 'inherit', env: { ...process.env, DATABASE_URL: serverUrl() } },
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  try {
    if (code !== 0)
      throw new Error(code === null ? `killed after ${Math.round(limitMs / 1000)} s` : `exit code ${code}`);
    if (!fs.existsSync(resultFile)) throw new Error('no result written');
    const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as WorkloadResult;
    if (result.id !== id) throw new Error(`result is for ${result.id}, not ${id}`);
    return result;
  } finally {
    fs.rmSync(resultFile, { force: true });
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const all = argv[0] === 'all';
  const ids = (all ? Object.keys(workloads) : [argv[0]?.toUpperCase()]) as WorkloadId[];
  if (!ids[0] || !ids.every((id) => id in workloads)) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(workloads).join('|')}|all> [options]\n`);
    return 2;
  }
  const extra = all ? [] : argv.slice(1);
  const started = Date.now();
  if (ids.some((id) => workloads[id].scale)) {
    const facts = await prepareScale({ fresh: argv.includes('--fresh') });
    say(
      `scale database: ${facts.grids.toLocaleString('en-US')} grids, ${facts.cases.toLocaleString('en-US')} cases, ` +
        `${facts.persons.toLocaleString('en-US')} persons${facts.seedSeconds ? ` (seeded in ${facts.seedSeconds} s)` : ' (reused)'}`,
    );
  }
  const failed: { id: WorkloadId; error: string }[] = [];
  const completed: WorkloadId[] = [];
  for (const id of ids) {
    say(`\n=== ${id} (${workloads[id].script}) ===`);
    try {
      const result = await runWorkload(id, extra);
      const file = readResults();
      file.workloads[id] = result;
      await save(file);
      completed.push(id);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      say(`${id} FAILED: ${message}`);
      failed.push({ id, error: message });
    }
  }
  const minutes = Math.round(((Date.now() - started) / 60_000) * 10) / 10;
  if (all) {
    const file = readResults();
    file.lastFullRun = { at: new Date(started).toISOString(), minutes, completed, failed };
    await save(file);
  }
  say(`\n${completed.length} completed, ${failed.length} failed in ${minutes} min; see bench/RESULTS.md`);
  return failed.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname))
  process.exitCode = await main();
