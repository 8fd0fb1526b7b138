import type { Logger } from 'pino';

export interface Job {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

export interface RunningJobs {
  /** Stops the timers and waits for runs in flight. */
  stop(): Promise<void>;
}

/**
 * A tiny in-process job runner: each job runs every `everyMs`; a run still going when the next tick comes is not
 * started again (no overlap), and errors are logged, never thrown.
 */
export function startJobs(options: { jobs: Job[]; logger: Logger }): RunningJobs {
  const { logger } = options;
  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  for (const job of options.jobs) {
    let running = false;
    const tick = (): void => {
      if (running || stopped) return;
      running = true;
      const run = (async () => {
        const started = Date.now();
        try {
          await job.run();
        } catch (error) {
          logger.error({ err: error, job: job.name }, 'job failed');
        } finally {
          running = false;
          const ms = Date.now() - started;
          if (ms > job.everyMs) logger.warn({ job: job.name, ms }, 'job ran longer than its interval');
        }
      })();
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    };
    const timer = setInterval(tick, job.everyMs);
    timer.unref();
    timers.push(timer);
  }

  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      await Promise.all([...inFlight]);
    },
  };
}
