import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from '../run.ts';
import { runLoad } from './http-load.ts';
import { renderResults } from './report.ts';
import {
  alternate,
  atLeast,
  below,
  finish,
  machine,
  median,
  medianFigures,
  percentile,
  ratioOf,
  type WorkloadResult,
} from './result.ts';

const sample = (overrides: Partial<WorkloadResult> = {}): WorkloadResult => ({
  id: 'W3',
  title: 'a grid worker’s queue',
  at: '2026-11-24T12:00:00.000Z',
  database: 'postgres',
  data: '41,130 grids, 1,000,000 cases',
  wangge: { what: 'GET /api/queues/mine', figures: { requestsPerSecond: 900, p99Ms: 12 } },
  raw: { what: 'the same SQL', figures: { requestsPerSecond: 1500, p99Ms: 6 } },
  ratio: { label: 'throughput Wangge ÷ raw', value: 0.6 },
  goals: [atLeast('throughput vs raw', 0.6, 0.4, ''), below('p99 at 500 req/s', 25, 20, 'ms')],
  rounds: [],
  notes: [],
  machine: machine([0, 0, 0]),
  seconds: 30,
  ...overrides,
});

describe('bench statistics', () => {
  it('takes nearest-rank percentiles and treats a never-reached value as unknown', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([], 99)).toBeNull();
    // one stream in a hundred never got the event: p99 is that stream, not a good number
    expect(percentile([...values.slice(0, 99), Infinity], 100)).toBeNull();
    expect(percentile([...values.slice(0, 98), Infinity, Infinity], 99)).toBeNull();
  });

  it('medians ignore unknowns; ratios of unknowns are unknown', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([null, 5])).toBe(5);
    expect(median([null])).toBeNull();
    expect(ratioOf(1, 3)).toBe(0.333);
    expect(ratioOf(1, 0)).toBeNull();
    expect(ratioOf(null, 3)).toBeNull();
  });

  it('alternates Wangge and raw, round by round, and takes medians per side', async () => {
    const order: string[] = [];
    const rounds = await alternate(
      3,
      (r) => (order.push(`w${r}`), Promise.resolve({ rps: r * 10 })),
      (r) => (order.push(`r${r}`), Promise.resolve({ rps: r * 100 })),
    );
    expect(order).toEqual(['w1', 'r1', 'w2', 'r2', 'w3', 'r3']);
    expect(medianFigures(rounds, 'wangge')).toEqual({ rps: 20 });
    expect(medianFigures(rounds, 'raw')).toEqual({ rps: 200 });
  });

  it('goals with no measured value are not met', () => {
    expect(atLeast('x', null, 0.5, '').met).toBe(false);
    expect(below('x', null, 50, 'ms').met).toBe(false);
    expect(below('x', 50, 50, 'ms').met).toBe(false);
    expect(atLeast('x', 0.5, 0.5, '').met).toBe(true);
  });

  it('refuses a result where one side measured nothing or no goal was checked', () => {
    expect(() => finish(sample({ raw: { what: 'x', figures: { rps: null } } }), undefined)).toThrow(
      /no raw figures/,
    );
    expect(() => finish(sample({ wangge: { what: 'x', figures: {} } }), undefined)).toThrow(
      /no wangge figures/,
    );
    expect(() => finish(sample({ goals: [] }), undefined)).toThrow(/no goals/);
  });

  it('renders every workload, with unmet goals marked and missing ones listed as not run', () => {
    const text = renderResults({
      updated: '2026-11-24T12:00:00.000Z',
      lastFullRun: null,
      workloads: { W3: sample() },
    });
    expect(text).toContain('| W3 | a grid worker’s queue |');
    expect(text).toContain('✅ throughput vs raw ≥ 0.4: 0.6');
    expect(text).toContain('❌ p99 at 500 req/s < 20 ms: 25 ms');
    expect(text).toContain('| W1 | (not run) |');
  });
});

describe('bench runner', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-bench-runner-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, body: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, body);
    return file;
  };
  const writer = (result: unknown) =>
    `import fs from 'node:fs';\nconst at = process.argv.indexOf('--result-file');\n` +
    `fs.writeFileSync(process.argv[at + 1], ${JSON.stringify(JSON.stringify(result))});\n`;

  it('collects the result a workload wrote', async () => {
    const result = await runScript('W3', script('good.mjs', writer(sample())), 30_000);
    expect(result.ratio.value).toBe(0.6);
  });

  it('fails loudly when a workload crashes, writes nothing, reports another id, or hangs', async () => {
    await expect(
      runScript('W3', script('crash.mjs', 'throw new Error("broken workload")'), 30_000),
    ).rejects.toThrow(/exit code 1/);
    await expect(runScript('W3', script('silent.mjs', 'process.exit(0)'), 30_000)).rejects.toThrow(
      /no result written/,
    );
    await expect(runScript('W3', script('other.mjs', writer(sample({ id: 'W4' }))), 30_000)).rejects.toThrow(
      /result is for W4/,
    );
    await expect(runScript('W3', script('hang.mjs', 'setInterval(() => {}, 1000)'), 1_500)).rejects.toThrow(
      /killed after/,
    );
  }, 60_000);
});

describe('load generator', () => {
  const serve = async (handler: http.RequestListener) => {
    const server = http.createServer(handler).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
  };

  it('measures from its own process and refuses a run where requests failed', async () => {
    let served = 0;
    const good = await serve((_req, res) => res.end(String(++served)));
    const result = await runLoad({ url: good.url, duration: 1, connections: 2 });
    expect(result.requests).toBeGreaterThan(10);
    expect(result.requests).toBeLessThanOrEqual(served); // every counted answer was served here
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
    good.server.close();

    let n = 0;
    const flaky = await serve((_req, res) => {
      res.statusCode = ++n % 50 === 0 ? 500 : 200;
      res.end();
    });
    await expect(runLoad({ url: flaky.url, duration: 1, connections: 2 })).rejects.toThrow(/non-2xx/);
    flaky.server.close();
  }, 30_000);
});
