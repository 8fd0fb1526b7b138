/**
 * The fan-out benchmark's processes: the raw reference server and one round of the load generator, each a child
 * process of the caller (fanout.ts, or the tests).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadyMessage, ResultMessage, StartMessage } from './loadgen.ts';
import { monotonicMs } from './sse.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

function child(file: string, args: string[] = []): ChildProcess {
  return fork(path.join(here, file), args, {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T>(process: ChildProcess, type: string, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`${what}: no '${type}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: { type?: string }) => {
      if (message.type === type) done(null, message as T);
    };
    const onExit = (code: number | null) => done(new Error(`${what}: exited (${code}) before '${type}'`));
    function done(error: Error | null, value?: T) {
      clearTimeout(timer);
      process.off('message', onMessage);
      process.off('exit', onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    process.on('message', onMessage);
    process.on('exit', onExit);
  });
}

export interface RawServer {
  base: string;
  pid: number;
  close(): Promise<void>;
}

/** The plain Node SSE server in its own process; `skipEvery` breaks it on purpose (tests). */
export async function startRawServer(options: { skipEvery?: number } = {}): Promise<RawServer> {
  const server = child('raw-server.ts', options.skipEvery ? ['--skip-every', String(options.skipEvery)] : []);
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    server.once('message', (m: { port: number }) => resolve(m));
    server.once('exit', (code) => reject(new Error(`raw server exited (${code})`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    pid: server.pid!,
    close: () =>
      new Promise((resolve) => {
        if (server.exitCode !== null) return resolve();
        server.once('exit', () => resolve());
        server.kill();
      }),
  };
}

export interface RoundOutcome {
  ready: ReadyMessage;
  result: ResultMessage;
  /** from the send to the answer of the send request (the notice committed / the raw loop done) */
  sendAnsweredMs: number;
}

/**
 * One round: a fresh load generator opens `urls.length` streams; once all are up, `send` is called (the instant
 * before it is the send time) and the generator measures every stream's delivery of the notice titled `marker`.
 */
export async function runRound(options: {
  urls: string[];
  marker: string;
  send: () => Promise<unknown>;
  concurrency?: number;
  timeoutMs?: number;
  /** how long the connections may take to open */
  connectTimeoutMs?: number;
}): Promise<RoundOutcome> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const generator = child('loadgen.ts');
  try {
    const start: StartMessage = {
      type: 'start',
      urls: options.urls,
      marker: options.marker,
      concurrency: options.concurrency ?? 200,
      timeoutMs,
    };
    const ready = nextMessage<ReadyMessage>(
      generator,
      'ready',
      options.connectTimeoutMs ?? 180_000,
      'load generator',
    );
    generator.send(start);
    const readyMessage = await ready;
    const resulted = nextMessage<ResultMessage>(generator, 'result', timeoutMs + 30_000, 'load generator');
    resulted.catch(() => {}); // awaited below; not unhandled meanwhile
    const sentAt = monotonicMs();
    await options.send();
    const sendAnsweredMs = monotonicMs() - sentAt;
    generator.send({ type: 'sent', sentAt });
    const result = await resulted;
    return { ready: readyMessage, result, sendAnsweredMs };
  } finally {
    if (generator.exitCode === null) {
      const exited = new Promise((resolve) => generator.once('exit', resolve));
      generator.kill();
      await exited;
    }
  }
}
