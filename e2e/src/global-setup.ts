import type { TestProject } from 'vitest/node';
import { chromiumPath } from './browser.ts';
import { findLogLeaks } from './log-privacy.ts';
import { startWangge, type RunningWangge } from './server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

let running: RunningWangge | null = null;

export async function setup(project: TestProject): Promise<void> {
  if (!chromiumPath()) {
    project.provide('baseUrl', '');
    return;
  }
  running = await startWangge();
  project.provide('baseUrl', running.baseUrl);
}

export async function teardown(): Promise<void> {
  if (!running) return;
  await running.stop();
  const leaks = findLogLeaks(running.logFile, running.startedAt);
  if (leaks.length > 0)
    throw new Error(
      `personal data in the server log of the browser flows:\n${leaks.slice(0, 20).join('\n')}`,
    );
}
