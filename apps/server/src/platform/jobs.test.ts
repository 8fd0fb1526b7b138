import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { startJobs } from './jobs.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recordingLogger() {
  const errors: unknown[] = [];
  const logger = {
    error: (object: unknown) => errors.push(object),
    warn: () => undefined,
  } as unknown as Logger;
  return { logger, errors };
}

describe('startJobs', () => {
  it('never overlaps a slow run with itself, and stop() waits for the run in flight', async () => {
    const { logger } = recordingLogger();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let finished = 0;
    const jobs = startJobs({
      logger,
      jobs: [
        {
          name: 'slow',
          everyMs: 5,
          run: async () => {
            running += 1;
            runs += 1;
            maxRunning = Math.max(maxRunning, running);
            await sleep(40);
            running -= 1;
            finished += 1;
          },
        },
      ],
    });
    await sleep(150);
    await jobs.stop();
    expect(maxRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(finished).toBe(runs);
    const after = runs;
    await sleep(30);
    expect(runs).toBe(after);
  });

  it('logs a failing run and keeps running the job', async () => {
    const { logger, errors } = recordingLogger();
    let calls = 0;
    const jobs = startJobs({
      logger,
      jobs: [
        {
          name: 'flaky',
          everyMs: 5,
          run: () => {
            calls += 1;
            return Promise.reject(new Error('boom'));
          },
        },
      ],
    });
    await sleep(60);
    await jobs.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBe(calls);
    expect(errors[0]).toMatchObject({ job: 'flaky' });
  });
});
