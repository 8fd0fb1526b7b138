import { defineConfig } from 'vitest/config';

/**
 * Browser flows (issue 4 onward): one Wangge server with the demo city for the whole run (globalSetup), Debian's
 * Chromium driven by playwright-core, files one after another.
 */
export default defineConfig({
  test: {
    include: ['e2e/src/**/*.e2e.ts'],
    globalSetup: ['e2e/src/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
