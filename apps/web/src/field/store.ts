import { liveQuery } from 'dexie';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { FieldTasks, OfflineGrid, TaxonomyTree } from '@wangge/contracts';
import { api, configureApi, HttpError, type Me } from './api.ts';
import { FieldDb } from './db.ts';
import { language } from './i18n.ts';
import { Outbox } from './outbox.ts';

export const db = new FieldDb();
export const outbox = new Outbox(db);

const tokenKey = 'wangge.field.token';
export function getToken(): string | null {
  try {
    return localStorage.getItem(tokenKey);
  } catch {
    return null;
  }
}
export function setToken(token: string | null): void {
  if (token) localStorage.setItem(tokenKey, token);
  else localStorage.removeItem(tokenKey);
}
configureApi({ token: getToken, language });

/** A Dexie query as React state, live. */
export function useLive<T>(query: () => Promise<T>, deps: unknown[], initial: T): T {
  const [value, setValue] = useState<T>(initial);
  useEffect(() => {
    const sub = liveQuery(query).subscribe({ next: setValue, error: () => undefined });
    return () => sub.unsubscribe();
  }, deps);
  return value;
}

let syncVersion = 0;
outbox.subscribe(() => {
  syncVersion++;
});
export function useSyncState() {
  useSyncExternalStore(
    (fn) => outbox.subscribe(fn),
    () => syncVersion,
  );
  return outbox.state;
}

export interface Counts {
  pending: number;
  failed: number;
  conflict: number;
}
/** What the outbox holds; null until IndexedDB has answered (never claim "all synced" before knowing). */
export function useCounts(): Counts | null {
  return useLive<Counts | null>(
    async () => {
      const all = await db.outbox.where('status').anyOf('pending', 'failed', 'conflict').toArray();
      return {
        pending: all.filter((i) => i.status === 'pending').length,
        failed: all.filter((i) => i.status === 'failed').length,
        conflict: all.filter((i) => i.status === 'conflict').length,
      };
    },
    [],
    null,
  );
}

export const cacheKeys = {
  me: 'me',
  tasks: 'tasks',
  taxonomy: 'taxonomy',
  offline: (grid: string) => `offline:${grid}`,
  plan: (grid: string) => `plan:${grid}`,
  patrol: 'patrol:current',
  lastTrack: 'patrol:last',
} as const;

export function useCache<T>(key: string): T | undefined {
  return useLive(() => db.getCache<T>(key), [key], undefined);
}

/** Fills the caches the app needs offline: me, tasks, the category tree, each grid's households and visit plan. */
export async function refreshCaches(): Promise<boolean> {
  try {
    const me = await api('me');
    await db.setCache(cacheKeys.me, me);
    const [tasks, taxonomy] = await Promise.all([api('fieldTasks'), api('taxonomy')]);
    await db.setCache(cacheKeys.tasks, tasks);
    await db.setCache(cacheKeys.taxonomy, taxonomy);
    for (const grid of tasks.grids.slice(0, 5)) {
      const [offline, plan] = await Promise.all([
        api('offlineGrid', { params: { code: grid.code } }),
        api('visitPlan', { params: { code: grid.code } }).catch(() => null),
      ]);
      await db.setCache(cacheKeys.offline(grid.code), offline);
      if (plan) await db.setCache(cacheKeys.plan(grid.code), plan);
    }
    await db.setCache('ready', true);
    return true;
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) outbox.requireLogin();
    return false;
  }
}

/**
 * Another account signs in on this phone: the previous account's offline copy, caches, track and outbox (sent
 * history included) are removed, so the new account neither sees the previous one's households nor sends its items.
 */
export async function forgetPreviousUser(): Promise<void> {
  await db.transaction('rw', db.outbox, db.cache, db.track, async () => {
    await db.outbox.clear();
    await db.cache.clear();
    await db.track.clear();
  });
}

export type { FieldTasks, OfflineGrid, TaxonomyTree, Me };

export function isLeader(me: Me | undefined): boolean {
  return !!me?.roles.some((r) => r.role === 'grid_leader');
}

/** Today as a China date (YYYY-MM-DD). */
export function chinaToday(now = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}
