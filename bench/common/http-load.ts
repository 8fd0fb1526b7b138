/**
 * HTTP load from its own process: autocannon runs in a forked child (`load-child.ts`), so the load generator never
 * shares an event loop with the server it measures. Requests may be plain (method, path, body) or built per request
 * by a factory module the child imports (for unique bodies and idempotency keys).
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LoadOptions {
  url: string;
  /** concurrent connections (default 10) */
  connections?: number;
  /** seconds to run; or `amount` requests */
  duration?: number;
  amount?: number;
  /** a fixed overall rate in requests per second (for latency at a given load); unset = as fast as possible */
  overallRate?: number;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  /** a module exporting `makeRequests(args)` → autocannon's `requests` array (functions allowed, built in the child) */
  requests?: { module: string; args: unknown };
  /** per-request timeout in seconds (default 10) */
  timeout?: number;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  bytesPerSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  seconds: number;
}

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load-child.ts');

/**
 * Runs one load and returns its figures. Throws when any request failed, timed out or answered other than 2xx (unless
 * `allowFailures`): a workload whose requests fail measures nothing, and must not print a flattering rate.
 */
export async function runLoad(options: LoadOptions, allowFailures = false): Promise<LoadResult> {
  const result = await new Promise<LoadResult>((resolve, reject) => {
    const worker = fork(child, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let answered = false;
    worker.on('message', (message: { result?: LoadResult; error?: string }) => {
      answered = true;
      if (message.error) reject(new Error(`load generator: ${message.error}`));
      else resolve(message.result!);
      worker.disconnect();
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (!answered) reject(new Error(`load generator exited with ${code} before answering`));
    });
    worker.send(options);
  });
  if (!allowFailures && (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0))
    throw new Error(
      `load on ${options.url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx ` +
        `(${JSON.stringify(result.statusCodes)}) of ${result.requests}`,
    );
  if (result.requests === 0) throw new Error(`load on ${options.url}: no request completed`);
  return result;
}
