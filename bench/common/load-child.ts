/** The load generator's process (see http-load.ts): one autocannon run per message, figures sent back. */
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './http-load.ts';

process.once('message', (options: LoadOptions) => {
  void run(options).then(
    (result) => process.send!({ result }),
    (error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }),
  );
});

async function run(options: LoadOptions): Promise<LoadResult> {
  const requests = options.requests
    ? (
        (await import(options.requests.module)) as { makeRequests: (args: unknown) => autocannon.Request[] }
      ).makeRequests(options.requests.args)
    : undefined;
  const started = performance.now();
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 10,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(requests ? { requests } : {}),
    timeout: options.timeout ?? 10,
  });
  const seconds = (performance.now() - started) / 1000;
  const statusCodes: Record<string, number> = {};
  for (const [code, n] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = n?.count ?? 0;
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / seconds,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    bytesPerSecond: result.throughput.average,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    seconds,
  };
}
