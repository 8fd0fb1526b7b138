import { api, describeError, HttpError } from './api.ts';
import { maskPhone, type Conflict, type FieldDb, type OutboxItem, type PersonFields } from './db.ts';

/** First retry after 2 s, doubling to at most 5 minutes; each delay drawn from [d/2, d] (jitter). */
export const backoff = { baseMs: 2_000, maxMs: 5 * 60_000 } as const;

export function backoffDelay(attempts: number, random: number): number {
  const d = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(d / 2 + (random * d) / 2);
}

/** Sent items stay this long so that 全部重新发送 can replay them (then they are pruned). */
export const keepSentMs = 7 * 24 * 3600_000;

export interface SyncState {
  running: boolean;
  /** false after a network failure, until a request goes through */
  online: boolean;
  /** a 401 answered: the outbox waits for a new login */
  needLogin: boolean;
  lastRunAt: number | null;
}

type Call = typeof api;

export interface OutboxOptions {
  call?: Call;
  now?: () => number;
  random?: () => number;
  /** after an item went out (to refresh what it changed, e.g. an alert's acknowledgements) */
  onSent?: (item: OutboxItem) => void;
}

class AuthRequired extends Error {}

/**
 * The outbox: every submission waits here until the server has it. Items go out oldest first; within a chain (a
 * patrol: start → batches → stop) a later item waits for the earlier. A case report is several steps (create → each
 * photo → fixOnSpot) whose progress is saved after each step, so a retry resumes where it stopped. Every request
 * carries an id made on the phone, so sending again adds nothing on the server.
 */
export class Outbox {
  readonly state: SyncState = { running: false, online: true, needLogin: false, lastRunAt: null };
  private readonly listeners = new Set<() => void>();
  private current: Promise<void> | null = null;
  private readonly call: Call;
  private readonly now: () => number;
  private readonly random: () => number;
  onSent: ((item: OutboxItem) => void) | undefined;

  constructor(
    readonly db: FieldDb,
    options: OutboxOptions = {},
  ) {
    this.call = options.call ?? api;
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.onSent = options.onSent;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<SyncState>): void {
    Object.assign(this.state, patch);
    for (const fn of this.listeners) fn();
  }

  async add(item: OutboxItem): Promise<void> {
    await this.db.outbox.put(item);
  }

  /** A 401 outside the outbox (refreshing the caches): the outbox waits for a new login too. */
  requireLogin(): void {
    this.set({ needLogin: true });
  }

  /** After a new login: the paused outbox goes on. */
  resume(): void {
    this.set({ needLogin: false });
  }

  /** The network came back: whatever waits is due now. */
  async networkReturned(): Promise<void> {
    this.set({ online: true });
    await this.db.outbox.where('status').equals('pending').modify({ nextAttemptAt: 0 });
    await this.sync();
  }

  networkLost(): void {
    this.set({ online: false });
  }

  /** One pass over the due items; concurrent calls share the pass. */
  sync(): Promise<void> {
    if (this.current) return this.current;
    this.current = this.pass().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  private async pass(): Promise<void> {
    if (this.state.needLogin) return;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      if (this.state.online) this.set({ online: false });
      return;
    }
    this.set({ running: true });
    try {
      const items = await this.db.outbox
        .where('status')
        .anyOf('pending', 'failed', 'conflict')
        .sortBy('createdAt');
      const blocked = new Set<string>();
      for (const item of items) {
        if (blocked.has(item.chain)) continue;
        if (item.status !== 'pending' || item.nextAttemptAt > this.now()) {
          blocked.add(item.chain);
          continue;
        }
        const ok = await this.send(item);
        if (ok === 'stop') break;
        if (!ok) blocked.add(item.chain);
      }
    } finally {
      this.set({ running: false, lastRunAt: this.now() });
    }
  }

  /** true: done (or settled); false: this chain waits; 'stop': the pass ends (no network, no login). */
  private async send(item: OutboxItem): Promise<boolean | 'stop'> {
    try {
      await this.perform(item);
      await this.db.outbox.update(item.id, {
        status: item.status === 'conflict' ? 'conflict' : 'sent',
        sentAt: item.status === 'conflict' ? null : this.now(),
        sends: item.sends + (item.status === 'conflict' ? 0 : 1),
        attempts: 0,
        nextAttemptAt: 0,
        lastError: null,
        payload: scrub(item),
        conflict: item.conflict,
        progress: item.progress,
      });
      if (!this.state.online) this.set({ online: true });
      if (item.status !== 'conflict') this.onSent?.(item);
      return item.status !== 'conflict';
    } catch (e) {
      if (e instanceof AuthRequired || (e instanceof HttpError && e.status === 401)) {
        this.set({ needLogin: true });
        return 'stop';
      }
      const status = e instanceof HttpError ? e.status : -1;
      if (
        status === 400 ||
        status === 403 ||
        status === 404 ||
        status === 409 ||
        status === 413 ||
        status === 422
      ) {
        // refused as it is: kept for the worker to fix or delete, never dropped
        await this.db.outbox.update(item.id, {
          status: 'failed',
          attempts: item.attempts + 1,
          lastError: describeError(e),
          progress: item.progress,
        });
        return false;
      }
      const attempts = item.attempts + 1;
      await this.db.outbox.update(item.id, {
        attempts,
        nextAttemptAt: this.now() + backoffDelay(attempts, this.random()),
        lastError: describeError(e),
        progress: item.progress,
      });
      if (status === 0) {
        this.set({ online: false });
        return 'stop';
      }
      return false;
    }
  }

  private async saveProgress(item: OutboxItem): Promise<void> {
    await this.db.outbox.update(item.id, { progress: item.progress });
  }

  private async perform(item: OutboxItem): Promise<void> {
    const p = item.payload;
    switch (item.kind) {
      case 'case':
        return this.sendCase(item);
      case 'visit':
        await this.call('createVisit', { body: p.visit as never });
        return;
      case 'patrolStart':
        await this.call('startPatrol', { body: p.start as never });
        return;
      case 'patrolPoints':
        await this.call('patrolPoints', {
          params: { id: p.patrolId as string },
          body: { batchId: item.id, points: p.points as never },
        });
        return;
      case 'patrolStop':
        try {
          await this.call('stopPatrol', {
            params: { id: p.patrolId as string },
            body: { endedAt: p.endedAt as string },
          });
        } catch (e) {
          if (!(e instanceof HttpError && e.status === 409)) throw e;
          const patrol = await this.call('patrol', { params: { id: p.patrolId as string } });
          if (!patrol.endedAt) throw e;
        }
        return;
      case 'personEdit':
        return this.sendPersonEdit(item);
      case 'alertAck':
        await this.call('acknowledgeAlert', {
          params: { id: p.alertId as number },
          body: { gridCode: p.gridCode as string },
        });
        return;
      case 'noticeAck':
        await this.call('acknowledgeNotice', {
          params: { id: p.noticeId as number },
          body: { gridCode: p.gridCode as string },
        });
        return;
      case 'noticeRead':
        await this.call('notice', { params: { id: p.noticeId as number } });
        return;
      case 'sighting': {
        const sighting = await this.call('createSighting', {
          params: { id: p.alertId as number },
          body: p.sighting as never,
        });
        item.progress = { photoIds: [], sightingId: sighting.id };
        return;
      }
      case 'sightingPhoto':
        return this.sendSightingPhoto(item);
    }
  }

  /** The photo of a sighting: after the sighting (same chain), to the id the server gave it. */
  private async sendSightingPhoto(item: OutboxItem): Promise<void> {
    const p = item.payload as { alertId: number; sightingClientId: string };
    const sightingId = (await this.db.outbox.get(p.sightingClientId))?.progress?.sightingId;
    if (sightingId === undefined) throw new HttpError(400, '线索未发送 (the sighting was not sent)');
    const blob = item.photos[0];
    if (!blob) throw new HttpError(400, '照片丢失 (photo missing on the phone)');
    try {
      const done = await this.call('sightingPhoto', { params: { id: p.alertId, sightingId }, body: blob });
      item.progress = { photoIds: [], sightingId: done.id };
    } catch (e) {
      // a replay after the alert closed: fine when the photo had arrived
      if (!(e instanceof HttpError && e.status === 409)) throw e;
      const alert = await this.call('alert', { params: { id: p.alertId } });
      if (!alert.sightings.some((s) => s.id === sightingId && s.hasPhoto)) throw e;
    }
  }

  private async sendCase(item: OutboxItem): Promise<void> {
    const p = item.payload as {
      create: Record<string, unknown>;
      photoClientIds: string[];
      fixOnSpot: boolean;
      result?: string;
    };
    const progress = item.progress ?? { photoIds: p.photoClientIds.map(() => null) };
    item.progress = progress;
    if (progress.caseId === undefined) {
      const created = await this.call('createCase', { body: p.create as never });
      progress.caseId = created.id;
      await this.saveProgress(item);
    }
    const caseId = progress.caseId;
    for (let i = 0; i < p.photoClientIds.length; i++) {
      if (progress.photoIds[i] != null) continue;
      const blob = item.photos[i];
      if (!blob) throw new HttpError(400, '照片丢失 (photo missing on the phone)');
      const photo = await this.call('casePhotos', {
        params: { id: caseId },
        query: { clientId: p.photoClientIds[i]! },
        body: blob,
      });
      progress.photoIds[i] = photo.id;
      await this.saveProgress(item);
    }
    if (p.fixOnSpot && !progress.fixed) {
      try {
        await this.call('caseAction', {
          params: { id: caseId, action: 'fixOnSpot' },
          body: {
            result: p.result ?? '',
            attachments: progress.photoIds.filter((x): x is number => x != null),
          },
        });
      } catch (e) {
        // a replay of a step that had arrived: the case is closed already
        if (!(e instanceof HttpError && e.status === 409)) throw e;
        const current = await this.call('case', { params: { id: caseId } });
        if (current.status !== 'closed') throw e;
      }
      progress.fixed = true;
      await this.saveProgress(item);
    }
  }

  private async sendPersonEdit(item: OutboxItem): Promise<void> {
    const p = item.payload as { personId: number; expectedVersion: number; changes: PersonFields };
    try {
      await this.call('updatePerson', {
        params: { id: p.personId },
        body: { expectedVersion: p.expectedVersion, ...p.changes } as never,
      });
      item.conflict = null;
    } catch (e) {
      if (!(e instanceof HttpError && e.status === 409)) throw e;
      const person = await this.call('person', { params: { id: p.personId } });
      const server: Conflict['server'] = {
        phoneMasked: person.phoneMasked,
        currentAddress: person.currentAddress,
        work: person.work,
        status: person.status,
      };
      if (sameAs(p.changes, server)) {
        item.conflict = null; // my earlier send had arrived
        return;
      }
      item.conflict = { server, version: person.version };
      item.status = 'conflict';
    }
  }

  /** The worker's choice on the conflict screen: each field mine or the server's; then sent with the new version. */
  async resolveConflict(id: string, choice: Partial<Record<string, 'mine' | 'server'>>): Promise<void> {
    const item = await this.db.outbox.get(id);
    if (!item?.conflict) return;
    const p = item.payload as { personId: number; expectedVersion: number; changes: PersonFields };
    const changes: PersonFields = {};
    for (const key of Object.keys(p.changes) as (keyof PersonFields)[])
      if (choice[key] !== 'server') (changes as Record<string, unknown>)[key] = p.changes[key];
    if (Object.keys(changes).length === 0) {
      await this.db.outbox.update(id, {
        status: 'sent',
        sentAt: this.now(),
        conflict: null,
        payload: { ...p, changes: {} },
        lastError: null,
      });
      return;
    }
    await this.db.outbox.update(id, {
      status: 'pending',
      conflict: null,
      attempts: 0,
      nextAttemptAt: 0,
      lastError: null,
      payload: { ...p, changes, expectedVersion: item.conflict.version },
    });
    await this.sync();
  }

  /** 重新发送 a failed item (after the worker fixed it) or 删除 it. */
  async retry(id: string): Promise<void> {
    await this.db.outbox.update(id, { status: 'pending', attempts: 0, nextAttemptAt: 0 });
    await this.sync();
  }

  async remove(id: string): Promise<void> {
    await this.db.outbox.delete(id);
  }

  /**
   * 全部重新发送: every item sent in the last 7 days goes out again from its first step. Each request carries the id it
   * had, so the server answers with what it has and adds nothing. Registry edits are versioned, not replayed.
   */
  async resendAll(): Promise<number> {
    const since = this.now() - keepSentMs;
    const n = await this.db.outbox
      .where('status')
      .equals('sent')
      .filter((i) => (i.sentAt ?? 0) >= since && i.kind !== 'personEdit')
      .modify((i) => {
        i.status = 'pending';
        i.attempts = 0;
        i.nextAttemptAt = 0;
        i.lastError = null;
        if (i.progress) i.progress = { photoIds: i.progress.photoIds.map(() => null) };
      });
    await this.sync();
    return n;
  }

  /** Sent items older than 7 days go (with their photos). */
  async prune(): Promise<void> {
    const before = this.now() - keepSentMs;
    await this.db.outbox
      .where('status')
      .equals('sent')
      .filter((i) => (i.sentAt ?? 0) < before)
      .delete();
  }
}

/** What an item keeps once sent: a registry edit's phone in plaintext is dropped (only its mask stays). */
function scrub(item: OutboxItem): Record<string, unknown> {
  if (item.kind !== 'personEdit' || item.status === 'conflict') return item.payload;
  const p = item.payload as { changes: PersonFields };
  if (typeof p.changes.phone !== 'string') return item.payload;
  return { ...item.payload, changes: { ...p.changes, phone: maskPhone(p.changes.phone) }, phoneSent: true };
}

function sameAs(mine: PersonFields, server: Conflict['server']): boolean {
  if ('phone' in mine) {
    const m = mine.phone == null ? null : maskPhone(mine.phone);
    if (m !== server.phoneMasked) return false;
  }
  if ('currentAddress' in mine && (mine.currentAddress ?? null) !== server.currentAddress) return false;
  if ('work' in mine && (mine.work ?? null) !== server.work) return false;
  if ('status' in mine && mine.status !== server.status) return false;
  return true;
}
