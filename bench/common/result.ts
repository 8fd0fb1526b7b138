/**
 * The shape every workload reports in, and the small statistics they share. A workload is a script that measures
 * Wangge and its raw reference in the same run (alternating rounds) and ends with `finish(result)`: the summary is
 * printed and written to the file given as `--result-file` (the runner, `bench/run.ts`, collects them into
 * `bench/results.json` and `bench/RESULTS.md`).
 */
import fs from 'node:fs';
import os from 'node:os';

export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6' | 'W7' | 'W8' | 'W9';

/** One goal of the table, checked against the measured figure. */
export interface Goal {
  /** what is checked, e.g. "throughput vs raw" or "p99 at 200 req/s" */
  label: string;
  /** the goal as written, e.g. "≥ 50%" or "< 50 ms" */
  target: string;
  /** the measured figure, null when it could not be measured (which is never met) */
  value: number | null;
  unit: string;
  met: boolean;
}

/** Figures of one side (Wangge or the raw reference): medians over its rounds, named with their unit. */
export type Figures = Record<string, number | null>;

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
}

export interface WorkloadResult {
  id: WorkloadId;
  title: string;
  at: string;
  database: 'postgres' | 'pglite';
  /** the data it ran on, e.g. "41,130 grids, 1,000,000 cases" */
  data: string;
  wangge: { what: string; figures: Figures };
  raw: { what: string; figures: Figures };
  /** Wangge ÷ raw for the workload's headline figure (a rate: higher is better for Wangge; or a time ratio) */
  ratio: { label: string; value: number | null };
  goals: Goal[];
  /** every round, in the order run (alternating) */
  rounds: { round: number; system: 'wangge' | 'raw'; figures: Figures }[];
  notes: string[];
  machine: Machine;
  seconds: number;
}

export const loadAverage = (): number[] => os.loadavg().map((l) => Number(l.toFixed(2)));

export function machine(loadAverageAtStart: number[]): Machine {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
  };
}

/** Nearest-rank percentile (p in 0…100) of finite values; null for none. Infinity counts as a value (never reached). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  const value = sorted[rank - 1]!;
  return Number.isFinite(value) ? value : null;
}

export function median(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (known.length === 0) return null;
  const sorted = [...known].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** a ÷ b rounded to 3 places; null when either is unknown or b is 0. */
export function ratioOf(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  return Math.round((a / b) * 1000) / 1000;
}

export const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Medians per figure name over the rounds of one system. */
export function medianFigures(rounds: WorkloadResult['rounds'], system: 'wangge' | 'raw'): Figures {
  const mine = rounds.filter((r) => r.system === system);
  const names = [...new Set(mine.flatMap((r) => Object.keys(r.figures)))];
  return Object.fromEntries(names.map((n) => [n, median(mine.map((r) => r.figures[n] ?? null))]));
}

/**
 * Runs `rounds` pairs alternating Wangge, raw, Wangge, raw … (so drift in the machine's load hits both alike) and
 * returns every round's figures in order.
 */
export async function alternate(
  rounds: number,
  wangge: (round: number) => Promise<Figures>,
  raw: (round: number) => Promise<Figures>,
  say: (line: string) => void = () => {},
): Promise<WorkloadResult['rounds']> {
  const out: WorkloadResult['rounds'] = [];
  for (let round = 1; round <= rounds; round++) {
    const w = await wangge(round);
    say(`  round ${round} wangge ${JSON.stringify(w)}`);
    out.push({ round, system: 'wangge', figures: w });
    const r = await raw(round);
    say(`  round ${round} raw    ${JSON.stringify(r)}`);
    out.push({ round, system: 'raw', figures: r });
  }
  return out;
}

/** A goal "value ≥ min" (or "value ≤ max" / "< max"); unknown values are not met. */
export function atLeast(
  label: string,
  value: number | null,
  min: number,
  unit: string,
  shown?: string,
): Goal {
  return { label, target: shown ?? `≥ ${min}${unit}`, value, unit, met: value !== null && value >= min };
}
export function below(label: string, value: number | null, max: number, unit: string, shown?: string): Goal {
  return { label, target: shown ?? `< ${max} ${unit}`, value, unit, met: value !== null && value < max };
}
export function atMost(label: string, value: number | null, max: number, unit: string, shown?: string): Goal {
  return { label, target: shown ?? `≤ ${max} ${unit}`, value, unit, met: value !== null && value <= max };
}

/** Command-line options of a workload script: `--name value`. */
export function options(argv = process.argv.slice(2)) {
  const get = (name: string) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  return {
    string: (name: string, fallback: string) => get(name) ?? fallback,
    int: (name: string, fallback: number) => {
      const value = Number(get(name));
      return Number.isInteger(value) && value > 0 ? value : fallback;
    },
    flag: (name: string) => argv.includes(`--${name}`),
    resultFile: get('result-file'),
  };
}

/**
 * Checks the result is whole (both sides measured, every goal has a value or says why not) and writes it.
 * Throws — the workload fails loudly — when a side has no figures at all.
 */
export function finish(result: WorkloadResult, resultFile: string | undefined): WorkloadResult {
  for (const side of ['wangge', 'raw'] as const)
    if (Object.values(result[side].figures).every((v) => v === null))
      throw new Error(`${result.id}: no ${side} figures were measured`);
  if (result.goals.length === 0) throw new Error(`${result.id}: no goals checked`);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`\n${result.id} ${result.title} (${result.database}; ${result.data})`);
  say(`  wangge: ${result.wangge.what} ${JSON.stringify(result.wangge.figures)}`);
  say(`  raw:    ${result.raw.what} ${JSON.stringify(result.raw.figures)}`);
  say(`  ratio:  ${result.ratio.label} = ${result.ratio.value ?? 'n/a'}`);
  for (const g of result.goals)
    say(`  goal:   ${g.label} ${g.target}: ${g.value ?? 'n/a'} ${g.unit} → ${g.met ? 'met' : 'NOT met'}`);
  if (resultFile) fs.writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/**
 * The usual comparison: `rounds` alternating rounds of `measure(side)`, each side's medians, and the ratio of one
 * figure (Wangge ÷ raw).
 */
export async function compareSides(
  rounds: number,
  measure: (side: 'wangge' | 'raw') => Promise<Figures>,
  ratioOfFigure: string,
  say: (line: string) => void = () => {},
): Promise<{ rounds: WorkloadResult['rounds']; wangge: Figures; raw: Figures; ratio: number | null }> {
  const measured = await alternate(
    rounds,
    () => measure('wangge'),
    () => measure('raw'),
    say,
  );
  const wangge = medianFigures(measured, 'wangge');
  const raw = medianFigures(measured, 'raw');
  return { rounds: measured, wangge, raw, ratio: ratioOf(wangge[ratioOfFigure], raw[ratioOfFigure]) };
}
