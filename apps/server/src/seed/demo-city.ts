// Being written: demo city generator (see helper task). Temporary signatures only.
import type { Logger } from 'pino';
import type { Database } from '../platform/db.ts';
export async function isTerritoryEmpty(_db: Database): Promise<boolean> { return Promise.resolve(false); }
export async function seedDemoCity(_db: Database, _o: { now: Date; logger: Logger }): Promise<Record<string, number>> { return Promise.reject(new Error('not yet')); }
export async function seedScale(_db: Database, _o: { scale: 'city' | 'province'; now: Date; logger: Logger }): Promise<Record<string, number>> { return Promise.reject(new Error('not yet')); }
