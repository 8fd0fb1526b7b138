/** A real Wangge server for a benchmark: production configuration, logs at warn, no web apps, on 127.0.0.1. */
import type { Logger } from 'pino';
import { loadConfig } from '../../apps/server/src/platform/config.ts';
import { systemClock } from '../../apps/server/src/platform/clock.ts';
import type { Database } from '../../apps/server/src/platform/db.ts';
import { createWangge, type Wangge } from '../../apps/server/src/server.ts';

export async function listenOnLoopback(options: {
  db: Database;
  databaseUrl: string | undefined;
  dataDir: string;
  logger: Logger;
}): Promise<{ wangge: Wangge; baseUrl: string }> {
  const { db, databaseUrl, dataDir, logger } = options;
  const config = {
    ...loadConfig({}),
    databaseUrl,
    dataDir,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'warn' as const,
    webDir: null,
  };
  const wangge = await createWangge({ config, db, logger, clock: systemClock });
  await wangge.app.listen({ port: 0, host: '127.0.0.1' });
  const address = wangge.app.server.address();
  if (!address || typeof address === 'string') throw new Error('the server has no TCP address');
  return { wangge, baseUrl: `http://127.0.0.1:${address.port}` };
}
