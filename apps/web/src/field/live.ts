import { useSyncExternalStore } from 'react';
import type { AlertDetail, AlertSummary } from '@wangge/contracts';
import { api, fetchImage, HttpError, type MyNotice } from './api.ts';
import { alertAckItem, noticeAckItem, sightingItems, type SightingInput } from './answers.ts';
import { newItem, uuid } from './db.ts';
import { StaffStream, type StreamState } from './sse.ts';
import { db, getToken, outbox } from './store.ts';

/**
 * Alerts (紧急协查) and notices (通知) on the phone: cached in Dexie (shown offline), refreshed when the staff stream
 * says something changed, and the outbox items that answer them (确认收到, 线索, 已转达).
 */
export const liveKeys = {
  alerts: 'alerts:open',
  alert: (id: number) => `alert:${id}`,
  alertPhoto: (id: number) => `alert-photo:${id}`,
  notices: 'notices:mine',
  notice: (id: number) => `notice:${id}`,
  lastEventId: 'stream:last-id',
} as const;

export type { AlertDetail, AlertSummary, MyNotice };
export interface MyNotices {
  items: MyNotice[];
  unread: number;
}

function unauthorized(e: unknown): boolean {
  if (e instanceof HttpError && e.status === 401) outbox.requireLogin();
  return false;
}

/** The open alerts of my area, each with its detail and photo, for the banner and offline use. */
export async function refreshAlerts(): Promise<boolean> {
  try {
    const { items } = await api('alerts', { query: { status: 'open' } });
    const before = (await db.getCache<AlertSummary[]>(liveKeys.alerts)) ?? [];
    for (const a of items) await keep(await api('alert', { params: { id: a.id } }));
    // closed since: their detail now carries the outcome; the photo goes
    for (const gone of before.filter((b) => !items.some((a) => a.id === b.id))) {
      await db.cache.delete(liveKeys.alertPhoto(gone.id));
      await refreshAlert(gone.id);
    }
    await db.setCache(liveKeys.alerts, items);
    return true;
  } catch (e) {
    return unauthorized(e);
  }
}

/** Caches an alert's detail, and its photo while it is open (a closed alert shows no photo). */
async function keep(detail: AlertDetail): Promise<AlertDetail> {
  await db.setCache(liveKeys.alert(detail.id), detail);
  const key = liveKeys.alertPhoto(detail.id);
  if (detail.status !== 'open' || !detail.hasPhoto) await db.cache.delete(key);
  else if (!(await db.getCache(key))) {
    const photo = await fetchImage(`/api/alerts/${detail.id}/photo`);
    if (photo) await db.setCache(key, photo);
  }
  return detail;
}

export async function refreshAlert(id: number): Promise<AlertDetail | null> {
  try {
    return await keep(await api('alert', { params: { id } }));
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) await db.cache.delete(liveKeys.alert(id));
    unauthorized(e);
    return null;
  }
}

export async function refreshNotices(): Promise<boolean> {
  try {
    const mine = await api('myNotices');
    await db.setCache(liveKeys.notices, mine);
    return true;
  } catch (e) {
    return unauthorized(e);
  }
}

/** Opens a notice: GET /api/notices/{id} marks it read; offline, an outbox item does it later. */
export async function openNotice(id: number): Promise<void> {
  try {
    const notice = await api('notice', { params: { id } });
    await db.setCache(liveKeys.notice(id), notice);
    await refreshNotices();
  } catch (e) {
    if (e instanceof HttpError && e.status === 0) {
      const already = await db.outbox
        .where('status')
        .equals('pending')
        .filter((i) => i.kind === 'noticeRead' && i.payload.noticeId === id)
        .count();
      if (already === 0)
        await outbox.add(
          newItem({ id: uuid(), kind: 'noticeRead', label: `已读通知 #${id}`, payload: { noticeId: id } }),
        );
    } else unauthorized(e);
  }
}

// ---- outbox items

/** 确认收到 for one of my grids (idempotent on the server; one item per alert and grid on the phone). */
export async function acknowledgeAlert(alertId: number, gridCode: string, title: string): Promise<void> {
  const item = alertAckItem(alertId, gridCode, title);
  if (!(await db.outbox.get(item.id))) await outbox.add(item);
  void outbox.sync();
}

/** 已转达 for one of my grids. */
export async function acknowledgeNotice(noticeId: number, gridCode: string, title: string): Promise<void> {
  const item = noticeAckItem(noticeId, gridCode, title);
  if (!(await db.outbox.get(item.id))) await outbox.add(item);
  void outbox.sync();
}

/** 报告线索: the sighting, then its photo (an outbox chain); idempotent by the clientId made here. */
export async function reportSighting(alertId: number, title: string, input: SightingInput): Promise<string> {
  const clientId = uuid();
  await db.outbox.bulkPut(sightingItems(alertId, title, input, clientId, uuid()));
  void outbox.sync();
  return clientId;
}

/** What an item that just went out changed: the alert or notice it answered is fetched again. */
outbox.onSent = (item) => {
  const p = item.payload;
  if (item.kind === 'alertAck' || item.kind === 'sighting' || item.kind === 'sightingPhoto')
    void refreshAlert(p.alertId as number);
  else if (item.kind === 'noticeAck' || item.kind === 'noticeRead') void refreshNotices();
};

// ---- the stream

let streamState: StreamState = 'off';
const stateListeners = new Set<() => void>();
let refreshTimer: { alerts?: ReturnType<typeof setTimeout>; notices?: ReturnType<typeof setTimeout> } = {};

/** Coalesces a burst of events (many grids acknowledging) into one refresh. */
function soon(what: 'alerts' | 'notices'): void {
  if (refreshTimer[what]) return;
  refreshTimer[what] = setTimeout(() => {
    refreshTimer[what] = undefined;
    void (what === 'alerts' ? refreshAlerts() : refreshNotices());
  }, 150);
}

export const stream = new StaffStream({
  url: '/api/stream',
  token: getToken,
  loadLastId: async () => (await db.getCache<string>(liveKeys.lastEventId)) ?? null,
  saveLastId: (id) => db.setCache(liveKeys.lastEventId, id),
  onEvent: (e) => {
    if (e.event === 'alert') soon('alerts');
    else if (e.event === 'notice') soon('notices');
  },
  onState: (state) => {
    streamState = state;
    for (const fn of stateListeners) fn();
  },
  onOpen: () => {
    soon('alerts');
    soon('notices');
  },
  onUnauthorized: () => outbox.requireLogin(),
});

let wired = false;
/** Keeps one stream open while signed in and online (called by the shell; stopped on sign-out). */
export function startLive(): void {
  stream.start();
  if (wired) return;
  wired = true;
  window.addEventListener('online', () => stream.reconnectNow());
  window.addEventListener('offline', () => stream.reconnectNow());
}

export function stopLive(): void {
  stream.stop();
  refreshTimer = {};
}

export function useStreamState(): StreamState {
  return useSyncExternalStore(
    (fn) => {
      stateListeners.add(fn);
      return () => stateListeners.delete(fn);
    },
    () => streamState,
  );
}
