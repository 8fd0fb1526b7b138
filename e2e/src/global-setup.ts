import type { TestProject } from 'vitest/node';
import { chromiumPath } from './browser.ts';
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
  await running?.stop();
}
