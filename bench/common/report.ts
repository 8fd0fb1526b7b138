/** bench/results.json → bench/RESULTS.md: one table of every workload's figures, ratio and goals, then details. */
import type { Figures, WorkloadId, WorkloadResult } from './result.ts';

export interface ResultsFile {
  updated: string;
  /** the last full `npm run bench:all`, if any: when, how long, and whether every workload completed */
  lastFullRun: {
    at: string;
    minutes: number;
    completed: WorkloadId[];
    failed: { id: WorkloadId; error: string }[];
  } | null;
  workloads: Partial<Record<WorkloadId, WorkloadResult>>;
}

const order: WorkloadId[] = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8', 'W9'];

const show = (value: number | null | undefined) =>
  value === null || value === undefined
    ? 'n/a'
    : Number.isInteger(value)
      ? value.toLocaleString('en-US')
      : String(value);

function figures(f: Figures): string {
  return Object.entries(f)
    .map(([name, value]) => `${name} ${show(value)}`)
    .join('; ');
}

export function renderResults(file: ResultsFile): string {
  const lines: string[] = ['# Benchmark results', ''];
  lines.push(
    'Written by `npm run bench:all` / `npm run bench -- <W1…W9>` (see `bench/README.md`); the same figures are in',
    '`bench/results.json`. Every workload measures Wangge and its raw reference in the same run, alternating rounds;',
    'figures are medians over the rounds. Loopback only; the load generator runs in its own process.',
    '',
  );
  if (file.lastFullRun) {
    const run = file.lastFullRun;
    lines.push(
      `Last full run: ${run.at}, ${run.minutes} minutes, ${run.completed.length} of ${order.length} workloads completed` +
        (run.failed.length ? `; failed: ${run.failed.map((f) => `${f.id} (${f.error})`).join(', ')}` : '') +
        '.',
      '',
    );
  }
  const first = order.map((id) => file.workloads[id]).find((w) => w);
  if (first) {
    const m = first.machine;
    lines.push(`Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}.`, '');
  }
  lines.push(
    '| # | Workload | Date | DB | Wangge | Raw reference | Ratio | Goals |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const id of order) {
    const w = file.workloads[id];
    if (!w) {
      lines.push(`| ${id} | (not run) | | | | | | |`);
      continue;
    }
    const goals = w.goals
      .map((g) => `${g.met ? '✅' : '❌'} ${g.label} ${g.target}: ${show(g.value)} ${g.unit}`)
      .join('<br>');
    lines.push(
      `| ${id} | ${w.title} | ${w.at.slice(0, 16).replace('T', ' ')} | ${w.database} | ${figures(w.wangge.figures)} | ` +
        `${figures(w.raw.figures)} | ${w.ratio.label}: **${show(w.ratio.value)}** | ${goals} |`,
    );
  }
  lines.push('');
  for (const id of order) {
    const w = file.workloads[id];
    if (!w) continue;
    lines.push(`## ${id} ${w.title}`, '');
    lines.push(
      `- Data: ${w.data}; ${w.database}; ${w.seconds} s; load average ${w.machine.loadAverageAtStart.join(' ')} → ${w.machine.loadAverageAtEnd.join(' ')}.`,
    );
    lines.push(`- Wangge: ${w.wangge.what}.`, `- Raw reference: ${w.raw.what}.`);
    for (const note of w.notes) lines.push(`- ${note}`);
    lines.push('', '| Round | System | Figures |', '|---|---|---|');
    for (const r of w.rounds) lines.push(`| ${r.round} | ${r.system} | ${figures(r.figures)} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
