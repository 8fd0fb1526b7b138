import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'apps/server/src/**/*.test.ts',
      'apps/web/src/**/*.test.ts',
      'packages/**/src/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    pool: 'forks',
    // One PGlite (+PostGIS, ~1 GB, seconds to start) per worker, reused by every file that worker runs.
    isolate: false,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
