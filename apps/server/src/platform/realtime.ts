import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from './access.ts';
import { one, rows, sql, type Database } from './db.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, type App } from './http.ts';

/**
 * Realtime pushes (实时推送) from the outbox. One hub per process tails the `outbox` table — every row, processed
 * or not; it never claims or marks anything — and fans each new row out to the open streams whose subscriber may
 * see it. The hub knows nothing about cases: a module registers a topic prefix and decides, per batch of rows,
 * which event (if any) each subscriber gets.
 *
 * New rows are found at once: every statement that inserts outbox rows NOTIFYs `wangge_outbox` on commit (a
 * trigger), and the hub LISTENs there from its first subscriber until it stops, so a row committed by any server
 * process wakes the hubs of all of them; a row committed in this process also wakes it directly
 * (`wakeRealtime()`). Polling (every `pollMs` while someone listens) stays as the safety net for a lost
 * notification; after the LISTEN connection comes back the hub looks at once.
 *
 * Ids come from a sequence, and on PostgreSQL a transaction that took id 10 may commit after one that took id 11:
 * an id skipped over is remembered as a hole and asked for again for `holeMs` (hub wall time), so a late commit
 * still goes out (after its successor; its own NOTIFY wakes the hub); a rolled-back id simply expires.
 */

export interface RealtimeRow {
  id: number;
  topic: string;
  payload: Record<string, unknown>;
  /** when the change happened (the outbox row's created_at) */
  createdAt: string;
}

/** What a module sends for one row to one subscriber: an SSE event name and its JSON data. */
export interface RealtimeEvent {
  event: string;
  data: unknown;
}

export interface RealtimeSubscriber {
  readonly actor: Actor;
}

/** Per row and subscriber: the event to send, or null (not theirs to see, or nothing to say). */
export type RealtimeFilter = (row: RealtimeRow, subscriber: RealtimeSubscriber) => RealtimeEvent | null;

/** Called once per batch with the rows of the module's topics; loads what it needs in one go. */
export type RealtimePrepare = (rows: RealtimeRow[]) => Promise<RealtimeFilter>;

/** One event for one subscriber; `id` is the outbox id (the SSE event id). */
export interface RealtimeMessage extends RealtimeEvent {
  id: number;
}

export interface RealtimeSubscription {
  close(): void;
}

export interface RealtimeHub {
  /** A module's filter for the topics that start with `topicPrefix` (`case.`). */
  register(topicPrefix: string, prepare: RealtimePrepare): void;
  /**
   * Adds a subscriber. With `lastEventId`, first replays the visible events after it (at most the newest
   * `replayLimit` rows), then the live ones, without sending an id twice.
   */
  subscribe(options: {
    actor: Actor;
    lastEventId?: number | undefined;
    deliver: (message: RealtimeMessage) => void;
    /** the hub is stopping: end the stream */
    end: () => void;
  }): Promise<RealtimeSubscription>;
  /** Look for new rows now (a change was just committed, in this process or, by NOTIFY, in another). */
  wake(): void;
  /** Ends every subscriber and stops polling (idempotent). */
  stop(): Promise<void>;
  readonly subscriberCount: number;
}

export interface RealtimeOptions {
  db: Database;
  logger: Logger;
  /** the safety-net poll while someone listens; new rows normally come by NOTIFY at once */
  pollMs?: number;
  /** how long an id skipped over is asked for again (a transaction still committing) */
  holeMs?: number;
  batchSize?: number;
  replayLimit?: number;
}

const running = new Set<RealtimeHub>();

/** The channel the outbox trigger (migration 20261126000500_outbox_notify) NOTIFYs on every insert statement. */
export const outboxChannel = 'wangge_outbox';

/** After a commit that wrote outbox rows: every hub in this process looks at once instead of at its next poll. */
export function wakeRealtime(): void {
  for (const hub of running) hub.wake();
}

interface OutboxRecord {
  id: number;
  topic: string;
  payload: Record<string, unknown>;
  created_at: Date | string;
}

interface SubscriberState extends RealtimeSubscriber {
  deliver: (message: RealtimeMessage) => void;
  end: () => void;
  /** live messages held back while the replay runs; null once live */
  pending: RealtimeMessage[] | null;
  /** ids sent by the replay (at most replayLimit), so the live tail does not send them again */
  replayed: Set<number>;
}

const maxHoles = 1000;

function toRow(record: OutboxRecord): RealtimeRow {
  return {
    id: record.id,
    topic: record.topic,
    payload: record.payload,
    createdAt: new Date(record.created_at).toISOString(),
  };
}

export function createRealtimeHub(options: RealtimeOptions): RealtimeHub {
  const { db, logger } = options;
  const pollMs = options.pollMs ?? 2000;
  const holeMs = options.holeMs ?? 5000;
  const batchSize = options.batchSize ?? 500;
  const replayLimit = options.replayLimit ?? 1000;

  const handlers: { prefix: string; prepare: RealtimePrepare }[] = [];
  const subscribers = new Set<SubscriberState>();
  /** ids skipped over → when to stop asking (performance.now()) */
  const holes = new Map<number, number>();
  let last = 0;
  /** bumped on every (re)start and stop, so a poll begun before it delivers nothing after it */
  let generation = 0;
  let starting: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  /** the LISTEN on the outbox channel (its unlisten), from the first subscriber until stop; null when it failed */
  let listening: Promise<(() => Promise<void>) | null> | null = null;

  /** The events each subscriber gets for these rows, in id order. */
  async function eventsFor(
    found: RealtimeRow[],
    targets: Iterable<SubscriberState>,
  ): Promise<Map<SubscriberState, RealtimeMessage[]>> {
    const result = new Map<SubscriberState, RealtimeMessage[]>();
    const filters: { prefix: string; filter: RealtimeFilter }[] = [];
    for (const handler of handlers) {
      const mine = found.filter((row) => row.topic.startsWith(handler.prefix));
      if (mine.length === 0) continue;
      try {
        filters.push({ prefix: handler.prefix, filter: await handler.prepare(mine) });
      } catch (error) {
        logger.error({ err: error, prefix: handler.prefix }, 'realtime filter failed');
      }
    }
    for (const subscriber of targets) {
      const messages: RealtimeMessage[] = [];
      for (const row of found)
        for (const { prefix, filter } of filters) {
          if (!row.topic.startsWith(prefix)) continue;
          try {
            const event = filter(row, subscriber);
            if (event) messages.push({ id: row.id, ...event });
          } catch (error) {
            logger.error({ err: error, prefix, outboxId: row.id }, 'realtime filter failed');
          }
        }
      if (messages.length > 0) result.set(subscriber, messages);
    }
    return result;
  }

  function send(subscriber: SubscriberState, message: RealtimeMessage): void {
    if (subscriber.pending) subscriber.pending.push(message);
    else if (!subscriber.replayed.has(message.id)) subscriber.deliver(message);
  }

  /** One look at the outbox: new rows after `last`, and the holes still worth asking for. True when full. */
  async function pollOnce(): Promise<boolean> {
    const started = generation;
    const now = performance.now();
    for (const [id, until] of holes) if (until < now) holes.delete(id);
    const holeIds = [...holes.keys()];
    const orHoles =
      holeIds.length === 0
        ? sql``
        : sql`or id in (${sql.join(
            holeIds.map((id) => sql`${id}`),
            sql`, `,
          )})`;
    const found = await rows<OutboxRecord>(
      db.orm,
      sql`select id::int as id, topic, payload, created_at from outbox
          where id > ${last} ${orHoles}
          order by id limit ${batchSize}`,
    );
    if (started !== generation || stopped) return false;
    const fresh: RealtimeRow[] = [];
    let next = last;
    for (const record of found) {
      if (record.id <= last) {
        if (holes.delete(record.id)) fresh.push(toRow(record));
        continue;
      }
      // Every id between the last one seen and this one is a transaction not (yet) committed.
      for (let id = Math.max(next + 1, record.id - maxHoles); id < record.id; id++)
        holes.set(id, now + holeMs);
      next = record.id;
      fresh.push(toRow(record));
    }
    last = next;
    while (holes.size > maxHoles) holes.delete(holes.keys().next().value!);
    if (fresh.length > 0) {
      const events = await eventsFor(fresh, [...subscribers]);
      if (started !== generation || stopped) return false;
      for (const [subscriber, messages] of events)
        if (subscribers.has(subscriber)) for (const message of messages) send(subscriber, message);
    }
    return found.length === batchSize;
  }

  function schedule(delay: number): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped || subscribers.size === 0 || starting === null) return;
    timer = setTimeout(tick, delay);
    timer.unref();
  }

  function tick(): void {
    timer = undefined;
    if (polling) {
      again = true;
      return;
    }
    polling = (async () => {
      try {
        do {
          again = false;
          if (await pollOnce()) again = true;
        } while (again && !stopped && subscribers.size > 0);
      } catch (error) {
        logger.warn({ err: error }, 'realtime poll failed');
      } finally {
        polling = null;
        schedule(pollMs);
      }
    })();
  }

  /** LISTENs on the outbox channel once; a failure leaves the poll alone and is tried again by the next start. */
  function listen(): Promise<unknown> {
    if (stopped) return Promise.resolve();
    listening ??= db
      .listen(outboxChannel, () => hub.wake())
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'realtime listen failed; polling only');
        listening = null;
        return null;
      });
    return listening;
  }

  /** Starts tailing from the newest row (earlier ones come only by replay). */
  function start(): Promise<void> {
    starting ??= (async () => {
      generation += 1;
      holes.clear();
      // Listening before reading the newest id: a row committed after that read wakes the hub.
      await listen();
      const row = await one<{ max: number | null }>(db.orm, sql`select max(id)::int as max from outbox`);
      last = row?.max ?? 0;
    })().catch((error: unknown) => {
      starting = null;
      throw error;
    });
    return starting;
  }

  function unsubscribe(subscriber: SubscriberState): void {
    if (!subscribers.delete(subscriber) || subscribers.size > 0) return;
    // Nobody listens: stop polling; the next subscriber starts again from the newest row.
    if (timer) clearTimeout(timer);
    timer = undefined;
    starting = null;
    generation += 1;
  }

  async function replay(subscriber: SubscriberState, after: number): Promise<void> {
    const found = await rows<OutboxRecord>(
      db.orm,
      sql`select id, topic, payload, created_at from (
            select id::int as id, topic, payload, created_at from outbox
            where id > ${after} order by id desc limit ${replayLimit}
          ) newest order by id`,
    );
    const events = await eventsFor(found.map(toRow), [subscriber]);
    for (const message of events.get(subscriber) ?? []) {
      subscriber.replayed.add(message.id);
      subscriber.deliver(message);
    }
  }

  const hub: RealtimeHub = {
    register(topicPrefix, prepare) {
      handlers.push({ prefix: topicPrefix, prepare });
    },

    async subscribe(subscription) {
      if (stopped) throw new Error('realtime hub stopped');
      const subscriber: SubscriberState = {
        actor: subscription.actor,
        deliver: subscription.deliver,
        end: subscription.end,
        pending: subscription.lastEventId === undefined ? null : [],
        replayed: new Set(),
      };
      // Counted before the start finishes, so another subscriber leaving meanwhile does not stop the tail.
      subscribers.add(subscriber);
      try {
        await start();
        if (!timer && !polling) schedule(pollMs);
        if (subscription.lastEventId !== undefined) await replay(subscriber, subscription.lastEventId);
      } catch (error) {
        unsubscribe(subscriber);
        throw error;
      }
      const held = subscriber.pending ?? [];
      subscriber.pending = null;
      for (const message of held) send(subscriber, message);
      return { close: () => unsubscribe(subscriber) };
    },

    wake() {
      if (stopped || starting === null || subscribers.size === 0) return;
      if (polling) again = true;
      else schedule(0);
    },

    async stop() {
      if (!stopped) {
        stopped = true;
        running.delete(hub);
        if (timer) clearTimeout(timer);
        timer = undefined;
        generation += 1;
        const ending = [...subscribers];
        subscribers.clear();
        for (const subscriber of ending) subscriber.end();
      }
      await polling;
      const current = listening;
      listening = null;
      const unlisten = await current;
      await unlisten?.().catch((error: unknown) => logger.warn({ err: error }, 'realtime unlisten failed'));
    },

    get subscriberCount() {
      return subscribers.size;
    },
  };
  running.add(hub);
  return hub;
}

// ---------------------------------------------------------------------------------------------------------------
// GET /api/stream

const StreamQuerySchema = z.object({
  /** the id of the last event received (when the `Last-Event-ID` header cannot be set) */
  lastEventId: z.coerce.number().int().min(0).optional(),
});

/** A stream whose client reads slower than this many bytes behind is dropped (it reconnects and replays). */
const maxBufferedBytes = 1024 * 1024;

export function lastEventIdOf(
  header: string | string[] | undefined,
  query: number | undefined,
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return query;
}

/**
 * Serves one server-sent-event stream of `hub` to `actor` on a hijacked reply: the headers, a `retry` hint, pings,
 * the events the hub delivers from `lastEventId` on, and the end — when the client goes, the hub stops, or the client
 * reads too slowly (over 1 MB waiting: the stream is closed and the client resumes with `Last-Event-ID`). Used by the
 * staff stream here and by the residents' grid streams.
 */
export async function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { hub: RealtimeHub; actor: Actor; lastEventId: number | undefined; pingMs: number },
): Promise<void> {
  const { hub, actor, lastEventId, pingMs } = options;
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    'x-request-id': request.id,
  });
  response.write('retry: 3000\n\n');

  let subscription: RealtimeSubscription | undefined;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearInterval(ping);
    subscription?.close();
    if (!response.writableEnded) response.end();
  };
  const write = (chunk: string): void => {
    if (finished) return;
    response.write(chunk);
    if (response.writableLength > maxBufferedBytes) {
      request.log.warn({ userId: actor.userId }, 'realtime stream too slow; closing it');
      finish();
    }
  };
  const ping = setInterval(() => write('event: ping\ndata: {}\n\n'), pingMs);
  ping.unref();
  response.on('close', finish);

  try {
    subscription = await hub.subscribe({
      actor,
      lastEventId,
      deliver: (message) => write(formatServerSentEvent(message)),
      end: finish,
    });
    if (finished) subscription.close();
  } catch (error) {
    request.log.warn({ err: error }, 'realtime subscribe failed');
    finish();
  }
}

export function formatServerSentEvent(message: RealtimeMessage): string {
  return `id: ${message.id}\nevent: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`;
}

/**
 * `GET /api/stream` (text/event-stream) for any signed-in user: the events the hub's modules let them see, each
 * with the outbox id as its SSE id; `Last-Event-ID` (or `?lastEventId=`) replays what was missed; a `ping` event
 * every `pingMs` keeps proxies from closing an idle stream. Streams end when the app closes (before the server
 * waits for open connections), so a graceful shutdown is never held up by them.
 */
export function registerRealtimeRoutes(app: App, hub: RealtimeHub, options: { pingMs?: number } = {}): void {
  const pingMs = options.pingMs ?? 25_000;
  app.addHook('preClose', async () => {
    await hub.stop();
  });
  app.addHook('onClose', async () => {
    await hub.stop();
  });

  app.get(
    '/api/stream',
    {
      config: { access: { authenticated: true } },
      schema: {
        summary: 'Realtime events (server-sent events)',
        description:
          'text/event-stream. `event: case` with `id` = outbox id and `data` = CaseStreamEvent JSON ' +
          '({ topic, caseId, serial, status, at }) for every change to a case the caller may see; `event: ping` ' +
          'every 25 s. Send `Last-Event-ID` (or `?lastEventId=`) to replay what was missed (newest 1000 events).',
        querystring: StreamQuerySchema,
        response: {
          200: {
            description: 'An endless stream of server-sent events',
            content: { 'text/event-stream': { schema: z.string() } },
          },
        },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      await streamEvents(request, reply, {
        hub,
        actor,
        pingMs,
        lastEventId: lastEventIdOf(request.headers['last-event-id'], request.query.lastEventId),
      });
    },
  );
}
