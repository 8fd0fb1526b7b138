/**
 * The load generator, in its own process (forked with IPC by harness.ts). It opens one SSE connection per URL with
 * `http.request` (a keep-alive agent without a socket limit: one socket per stream), at most `concurrency` opening
 * at a time; a connection counts as connected once its first body bytes arrived (Wangge and the raw server both
 * start a stream with `retry: 3000`, written after the subscriber is registered). Then it says `ready`; the parent
 * sends the notice and tells it the send instant (`sent`, on the machine's monotonic clock); every stream parses
 * SSE frames and notes when an `event: notice` whose title is the round's marker arrives. It reports the figures
 * when every connected stream has it, or `timeoutMs` after the send (those missing count as not reached).
 *
 *   parent → { type: 'start', urls, marker, concurrency, timeoutMs }   child → { type: 'ready', connected, failed, … }
 *   parent → { type: 'sent', sentAt }                                    child → { type: 'result', figures, … }
 */
import http from 'node:http';
import { monotonicMs, SseParser, summarise, type RoundFigures } from './sse.ts';

export interface StartMessage {
  type: 'start';
  urls: string[];
  marker: string;
  concurrency: number;
  timeoutMs: number;
}
export interface ReadyMessage {
  type: 'ready';
  connected: number;
  failed: number;
  /** the first few reasons a connection failed */
  errors: string[];
  connectMs: number;
}
export interface ResultMessage {
  type: 'result';
  figures: RoundFigures;
  /** connections that closed after they were connected, before the end of the round */
  closedEarly: number;
  /** events other than the marker notice received during the round (ignored) */
  otherEvents: number;
  /** a stream that got the marker more than once */
  duplicates: number;
}

interface Stream {
  connected: boolean;
  closed: boolean;
  receivedAt: number | null;
  request?: http.ClientRequest;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const streams: Stream[] = [];
let marker = '';
let sentAt: number | null = null;
let deadline: NodeJS.Timeout | undefined;
let received = 0;
let connected = 0;
let otherEvents = 0;
let duplicates = 0;
let closedEarly = 0;
let reported = false;

function send(message: ReadyMessage | ResultMessage): void {
  process.send!(message);
}

function open(url: string, stream: Stream): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error: string | null) => {
      if (settled) return;
      settled = true;
      resolve(error);
    };
    const parser = new SseParser();
    const request = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (response) => {
      if (
        response.statusCode !== 200 ||
        !/^text\/event-stream/.test(response.headers['content-type'] ?? '')
      ) {
        settle(`HTTP ${response.statusCode} ${response.headers['content-type']}`);
        response.resume();
        return;
      }
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (!stream.connected) {
          stream.connected = true;
          settle(null);
        }
        for (const event of parser.push(chunk)) {
          if (event.event !== 'notice' || !event.data.includes(marker)) {
            otherEvents += 1;
            continue;
          }
          const data = JSON.parse(event.data) as { title?: unknown };
          if (data.title !== marker) {
            otherEvents += 1;
            continue;
          }
          if (stream.receivedAt !== null) {
            duplicates += 1;
            continue;
          }
          stream.receivedAt = monotonicMs();
          received += 1;
          if (received === connected && sentAt !== null) report();
        }
      });
      response.on('close', () => {
        if (!stream.closed && stream.connected && !reported) closedEarly += 1;
        stream.closed = true;
        settle('closed before the first bytes');
      });
    });
    stream.request = request;
    request.on('error', (error) => settle(error.message));
  });
}

async function start(message: StartMessage): Promise<void> {
  marker = message.marker;
  const began = monotonicMs();
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < message.urls.length) {
      const url = message.urls[next++]!;
      const stream: Stream = { connected: false, closed: false, receivedAt: null };
      streams.push(stream);
      const error = await open(url, stream);
      if (error === null) connected += 1;
      else {
        failed += 1;
        if (errors.length < 5) errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(message.concurrency, message.urls.length) }, worker));
  send({ type: 'ready', connected, failed, errors, connectMs: Math.round(monotonicMs() - began) });
  process.on('message', (m: { type: string; sentAt?: number }) => {
    if (m.type !== 'sent' || typeof m.sentAt !== 'number') return;
    sentAt = m.sentAt;
    if (received === connected) report();
    else deadline = setTimeout(report, Math.max(0, sentAt + message.timeoutMs - monotonicMs()));
  });
}

function report(): void {
  if (reported || sentAt === null) return;
  reported = true;
  if (deadline) clearTimeout(deadline);
  const at = sentAt;
  // Not connected, or not reached in time: null (counted as not reached).
  const latencies = streams.map((s) => (s.connected && s.receivedAt !== null ? s.receivedAt - at : null));
  send({ type: 'result', figures: summarise(latencies, connected), closedEarly, otherEvents, duplicates });
  for (const stream of streams) stream.request?.destroy();
  agent.destroy();
}

process.once('message', (message: StartMessage) => {
  if (message.type === 'start') void start(message);
});
process.on('disconnect', () => process.exit(0));
