import { Dexie, type EntityTable } from 'dexie';

/** What the outbox can carry; each kind is one request (or, for a case, a chain of steps). */
export type OutboxKind =
  | 'case'
  | 'visit'
  | 'patrolStart'
  | 'patrolPoints'
  | 'patrolStop'
  | 'personEdit'
  /** 确认收到 of an alert for one grid */
  | 'alertAck'
  /** 报告线索: a sighting (its id is the clientId); its photo follows in the same chain */
  | 'sighting'
  | 'sightingPhoto'
  /** 已转达 of a notice for one grid */
  | 'noticeAck'
  /** a notice opened offline: marked read when the network returns */
  | 'noticeRead';

/** pending: waiting to be sent; failed: the server refused it (400), kept for the worker; conflict: a stale edit. */
export type OutboxStatus = 'pending' | 'failed' | 'conflict' | 'sent';

export interface CaseProgress {
  caseId?: number;
  /** one per photo, filled as each upload succeeds */
  photoIds: (number | null)[];
  fixed?: boolean;
  /** a sent sighting's id on the server (its photo is uploaded to it) */
  sightingId?: number;
}

export interface PersonFields {
  phone?: string | null;
  currentAddress?: string | null;
  work?: string | null;
  status?: string;
}

export interface Conflict {
  /** the person as the server holds it now (phone masked) */
  server: { phoneMasked: string | null; currentAddress: string | null; work: string | null; status: string };
  version: number;
}

export interface OutboxItem {
  /** generated on the phone: the clientId / id / batchId the server deduplicates on */
  id: string;
  kind: OutboxKind;
  /** items of one chain go out in order (a patrol's start, batches, stop); otherwise the item's own id */
  chain: string;
  /** for the lists: what it is, in the worker's words */
  label: string;
  createdAt: number;
  payload: Record<string, unknown>;
  /** photos of a case report, compressed JPEG */
  photos: Blob[];
  progress: CaseProgress | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  sentAt: number | null;
  /** how many times it went out in full (a resend counts again) */
  sends: number;
  conflict: Conflict | null;
}

export interface CacheEntry {
  key: string;
  value: unknown;
  savedAt: number;
}

export interface TrackPoint {
  seq?: number;
  patrolId: string;
  at: number;
  lng: number;
  lat: number;
  accuracy?: number;
}

export class FieldDb extends Dexie {
  outbox!: EntityTable<OutboxItem, 'id'>;
  cache!: EntityTable<CacheEntry, 'key'>;
  track!: EntityTable<TrackPoint, 'seq'>;

  constructor(name = 'wangge-field') {
    super(name);
    this.version(1).stores({
      outbox: 'id, status, chain, createdAt, sentAt',
      cache: 'key',
      track: '++seq, patrolId, at',
    });
  }

  async getCache<T>(key: string): Promise<T | undefined> {
    return (await this.cache.get(key))?.value as T | undefined;
  }

  async setCache(key: string, value: unknown): Promise<void> {
    await this.cache.put({ key, value, savedAt: Date.now() });
  }
}

export function newItem(
  fields: Pick<OutboxItem, 'id' | 'kind' | 'label' | 'payload'> &
    Partial<Pick<OutboxItem, 'chain' | 'photos' | 'progress'>>,
  now = Date.now(),
): OutboxItem {
  return {
    chain: fields.chain ?? fields.id,
    photos: [],
    progress: null,
    ...fields,
    createdAt: now,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: 0,
    lastError: null,
    sentAt: null,
    sends: 0,
    conflict: null,
  };
}

export function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The server's phone mask (first 3, last 4), to compare my value with what the server shows. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '');
  if (digits.length <= 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}
