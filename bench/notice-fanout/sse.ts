/**
 * The pieces of the fan-out benchmark that decide its figures, kept apart so they are tested on their own: an SSE
 * frame parser (the text/event-stream format of the HTML standard, as a browser's EventSource reads it) and the
 * percentiles of a round.
 */

export interface SseEvent {
  /** the last `id:` seen on this stream (it carries over to later events, as in EventSource) */
  id: string;
  /** `event:` (default "message") */
  event: string;
  /** `data:` lines joined with "\n" */
  data: string;
}

/**
 * Incremental parser: feed it the decoded chunks as they arrive (a frame, even a line, may be split across them);
 * it returns the events completed by each chunk. Comments (`:`), `retry:` and unknown fields are skipped; an event
 * with no data line is not dispatched.
 */
export class SseParser {
  private buffer = '';
  private lastId = '';
  private eventType = '';
  private data: string[] = [];
  /** a `\r` ended the previous chunk: a `\n` starting this one belongs to it */
  private pendingCr = false;

  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 < this.buffer.length) next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        else {
          next = cr + 1;
          this.pendingCr = true;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end), events);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0)
        events.push({ id: this.lastId, event: this.eventType || 'message', data: this.data.join('\n') });
      this.data = [];
      this.eventType = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // retry: and unknown fields
        break;
    }
  }
}

/** Nearest-rank percentile (p in 0–100) of the values; Infinity in them (a subscriber not reached) counts as the worst. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile out of range: ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1]!;
}

export interface RoundFigures {
  /** subscribers asked for */
  subscribers: number;
  /** connections whose stream had started (first bytes) when the notice was sent */
  connected: number;
  /** subscribers that received the notice within the time limit */
  received: number;
  /** received / subscribers */
  reach: number;
  /** milliseconds from the send to delivery, over all subscribers: one not reached counts as Infinity (→ null) */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** among the subscribers reached only */
  minMs: number | null;
}

const finite = (value: number) => (Number.isFinite(value) ? Number(value.toFixed(2)) : null);

/**
 * The figures of one round from each subscriber's delivery latency (null: not reached). A subscriber missing makes
 * every percentile at or above its rank null, so a broken fan-out cannot print a flattering p99.
 */
export function summarise(latencies: readonly (number | null)[], connected: number): RoundFigures {
  const values = latencies.map((l) => (l === null ? Infinity : l));
  const reached = latencies.filter((l): l is number => l !== null);
  return {
    subscribers: latencies.length,
    connected,
    received: reached.length,
    reach: latencies.length === 0 ? 0 : reached.length / latencies.length,
    p50Ms: finite(percentile(values, 50)),
    p95Ms: finite(percentile(values, 95)),
    p99Ms: finite(percentile(values, 99)),
    maxMs: finite(percentile(values, 100)),
    minMs: reached.length === 0 ? null : finite(Math.min(...reached)),
  };
}

/** A monotonic clock shared by every process on this machine (CLOCK_MONOTONIC), in milliseconds. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
