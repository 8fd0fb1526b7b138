// The staff stream (`GET /api/stream`) read with fetch: the field app signs in with a bearer token, which
// EventSource cannot send. A small SSE parser (the WHATWG event-stream rules) and a reader that reconnects with
// backoff and resumes from the last event id it saw (kept by the caller, in Dexie).

export interface SseEvent {
  /** `event:`; 'message' when absent */
  event: string;
  data: string;
  /** the last event id in effect when the event was dispatched ('' when none yet) */
  id: string;
}

/** Feeds on text or bytes split anywhere (inside a line, between \r and \n, inside a UTF-8 character). */
export class SseParser {
  /** the stream's last event id (set by `id:` lines, kept across events) */
  lastEventId = '';
  /** `retry:` in ms, when the server sent one */
  retry: number | null = null;
  private buffer = '';
  private afterCr = false;
  private data: string[] = [];
  private event = '';
  private readonly decoder = new TextDecoder();

  pushBytes(bytes: Uint8Array): SseEvent[] {
    return this.push(this.decoder.decode(bytes, { stream: true }));
  }

  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let s = text;
    // a \r that ended the last chunk already ended its line: a \n starting this one is part of that line break
    if (this.afterCr && s.startsWith('\n')) s = s.slice(1);
    this.afterCr = false;
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer + s.slice(start, i), out);
      this.buffer = '';
      if (c === 13) {
        if (i + 1 === s.length) this.afterCr = true;
        else if (s.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer += s.slice(start);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0)
        out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastEventId });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return; // a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

export type StreamState = 'off' | 'connecting' | 'live';

const offline = (): boolean => typeof navigator !== 'undefined' && navigator.onLine === false;

export interface StreamOptions {
  url: string;
  token: () => string | null;
  /** the last id seen before (Dexie), sent as Last-Event-ID */
  loadLastId: () => Promise<string | null>;
  saveLastId: (id: string) => Promise<void>;
  onEvent: (event: SseEvent) => void;
  onState: (state: StreamState) => void;
  /** the stream opened (first time or again): a good moment to refresh what may have been missed */
  onOpen?: () => void;
  /** 401: the token expired */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
  /** no byte for this long (the server pings every 25 s): the connection is dead, reconnect */
  idleMs?: number;
}

/** One stream, open while started and online; reconnects after 1 s, 2 s, 4 s … (at most 30 s, with jitter). */
export class StaffStream {
  state: StreamState = 'off';
  private running = false;
  private controller: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;

  constructor(private readonly o: StreamOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.cancel();
    this.setState('off');
  }

  /** The network came back (or a test wants it now): connect at once. */
  reconnectNow(): void {
    if (!this.running) return;
    this.cancel();
    this.failures = 0;
    void this.connect();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.controller?.abort();
    this.controller = null;
  }

  private setState(state: StreamState): void {
    if (state === this.state) return;
    this.state = state;
    this.o.onState(state);
  }

  private later(): void {
    if (!this.running) return;
    this.setState(offline() ? 'off' : 'connecting');
    if (offline()) return; // `online` calls reconnectNow
    const d = Math.min(30_000, 1000 * 2 ** Math.min(this.failures, 5));
    this.failures++;
    this.timer = setTimeout(() => void this.connect(), d / 2 + (Math.random() * d) / 2);
  }

  private async connect(): Promise<void> {
    const token = this.o.token();
    if (!this.running || !token) return this.stop();
    if (offline()) return this.later();
    this.setState('connecting');
    const controller = new AbortController();
    this.controller = controller;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), this.o.idleMs ?? 60_000);
    };
    try {
      const last = await this.o.loadLastId();
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: 'text/event-stream',
      };
      if (last) headers['last-event-id'] = last;
      touch();
      const response = await (this.o.fetch ?? fetch)(this.o.url, {
        headers,
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      if (response.status === 401) {
        this.o.onUnauthorized?.();
        return this.stop();
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      this.failures = 0;
      this.setState('live');
      this.o.onOpen?.();
      const parser = new SseParser();
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        touch();
        for (const e of parser.pushBytes(value)) {
          if (e.id) await this.o.saveLastId(e.id);
          if (e.event !== 'ping') this.o.onEvent(e);
        }
      }
    } catch {
      // offline, aborted, or the server went away: try again below
    } finally {
      clearTimeout(idle);
    }
    if (this.controller === controller) {
      this.controller = null;
      this.later();
    }
  }
}
