import { describe, expect, it } from 'vitest';
import { SseParser, StaffStream, type SseEvent } from './sse.ts';

function feed(chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const parser = new SseParser();
  const events = chunks.flatMap((c) => parser.push(c));
  return { events, parser };
}

describe('SSE parser', () => {
  const stream =
    'retry: 3000\n\n' +
    ': a comment\n' +
    'id: 41\nevent: alert\ndata: {"alertId":7,"title":"走失老人"}\n\n' +
    'event: ping\ndata: {}\n\n' +
    'id: 42\nevent: notice\ndata: {"noticeId":3}\n\n';

  it('reads events, ids and retry, skipping comments', () => {
    const { events, parser } = feed([stream]);
    expect(events).toEqual([
      { event: 'alert', data: '{"alertId":7,"title":"走失老人"}', id: '41' },
      { event: 'ping', data: '{}', id: '41' },
      { event: 'notice', data: '{"noticeId":3}', id: '42' },
    ]);
    expect(parser.retry).toBe(3000);
    expect(parser.lastEventId).toBe('42');
  });

  it('gives the same events however the frames are split across chunks', () => {
    const whole = feed([stream]).events;
    for (let size = 1; size <= 12; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      expect(feed(chunks).events, `chunks of ${size}`).toEqual(whole);
    }
    // every single split point
    for (let i = 1; i < stream.length; i++)
      expect(feed([stream.slice(0, i), stream.slice(i)]).events, `split at ${i}`).toEqual(whole);
  });

  it('decodes UTF-8 split inside a character', () => {
    const bytes = new TextEncoder().encode('id: 9\nevent: alert\ndata: {"title":"紧急协查"}\n\n');
    const cut = bytes.indexOf(0xe7) + 1; // inside 紧
    const parser = new SseParser();
    const events = [...parser.pushBytes(bytes.slice(0, cut)), ...parser.pushBytes(bytes.slice(cut))];
    expect(events).toEqual([{ event: 'alert', data: '{"title":"紧急协查"}', id: '9' }]);
  });

  it('handles CRLF and CR line ends (also a CR ending one chunk, LF starting the next), multi-line data', () => {
    const { events } = feed(['id: 1\r', '\nevent: a\rdata: x\r\ndata: y\r', '\n\r', '\ndata:z\n\n']);
    expect(events).toEqual([
      { event: 'a', data: 'x\ny', id: '1' },
      { event: 'message', data: 'z', id: '1' },
    ]);
  });

  it('dispatches nothing for an event without data, and keeps an id set by it', () => {
    const { events, parser } = feed(['id: 5\nevent: alert\n\n', ': keepalive\n\n']);
    expect(events).toEqual([]);
    expect(parser.lastEventId).toBe('5');
  });

  it('holds an unfinished event until its blank line', () => {
    const parser = new SseParser();
    expect(parser.push('id: 3\nevent: alert\ndata: {"a":1}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'alert', data: '{"a":1}', id: '3' }]);
  });
});

describe('staff stream reader', () => {
  it('sends the token and the remembered Last-Event-ID, saves ids, and resumes from the last one', async () => {
    const requests: Headers[] = [];
    let saved: string | null = '40';
    const bodies = [
      ['id: 41\nevent: alert\nda', 'ta: {"alertId":1}\n\nevent: ping\ndata: {}\n\n'],
      ['id: 42\nevent: notice\ndata: {"noticeId":2}\n\n'],
    ];
    const seen: SseEvent[] = [];
    let opened = 0;
    let stream: StaffStream | undefined;
    const done = new Promise<void>((resolve) => {
      const fakeFetch = (async (_url: string, init: RequestInit) => {
        requests.push(new Headers(init.headers));
        const chunks = bodies.shift();
        if (!chunks) {
          resolve();
          return new Promise<Response>(() => undefined); // stays open
        }
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
            controller.close(); // the server went away: the reader reconnects
          },
        });
        return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }) as unknown as typeof fetch;
      stream = new StaffStream({
        url: '/api/stream',
        token: () => 'tok',
        loadLastId: () => Promise.resolve(saved),
        saveLastId: (id) => {
          saved = id;
          return Promise.resolve();
        },
        onEvent: (e) => seen.push(e),
        onState: () => undefined,
        onOpen: () => opened++,
        fetch: fakeFetch,
      });
      stream.start();
    });
    // reconnect backoff is 0.5–1 s, then 1–2 s
    await done;
    stream!.stop();
    expect(requests.map((h) => [h.get('authorization'), h.get('last-event-id')])).toEqual([
      ['Bearer tok', '40'],
      ['Bearer tok', '41'],
      ['Bearer tok', '42'],
    ]);
    expect(seen.map((e) => [e.event, e.id])).toEqual([
      ['alert', '41'],
      ['notice', '42'],
    ]);
    expect(opened).toBe(2);
    expect(saved).toBe('42');
  }, 10_000);
});
