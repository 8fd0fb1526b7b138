import { afterEach, describe, expect, it } from 'vitest';
import { runRound, startRawServer, type RawServer } from './harness.ts';
import { percentile, SseParser, summarise } from './sse.ts';

describe('SseParser', () => {
  it('parses frames split anywhere across chunks, with comments, ids and multi-line data', () => {
    const text =
      'retry: 3000\n\n' +
      ': a comment\n' +
      'id: 7\nevent: notice\ndata: {"title":"一"}\n\n' +
      'event: ping\ndata: {}\n\n' +
      'data: line one\ndata: line two\n\n' +
      'id: 9\r\nevent: notice\r\ndata:{"title":"二"}\r\n\r\n';
    const expected = [
      { id: '7', event: 'notice', data: '{"title":"一"}' },
      { id: '7', event: 'ping', data: '{}' },
      { id: '7', event: 'message', data: 'line one\nline two' },
      { id: '9', event: 'notice', data: '{"title":"二"}' },
    ];
    // whole, then split at every position into two chunks, then one character at a time
    expect(new SseParser().push(text)).toEqual(expected);
    for (let at = 0; at <= text.length; at++) {
      const parser = new SseParser();
      expect([...parser.push(text.slice(0, at)), ...parser.push(text.slice(at))]).toEqual(expected);
    }
    const parser = new SseParser();
    expect([...text].flatMap((c) => parser.push(c))).toEqual(expected);
  });

  it('dispatches nothing for comments, retry or an unfinished frame', () => {
    const parser = new SseParser();
    expect(parser.push(': hello\nretry: 10\n\nevent: notice\n\n')).toEqual([]);
    expect(parser.push('data: half')).toEqual([]);
    expect(parser.push('\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '', event: 'message', data: 'half' }]);
  });

  it('handles a CR line end split from its LF', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    // "data: a" ends with CR LF; the lone CR is the blank line that dispatches; the LF after it belongs to it
    expect(parser.push('\n\r')).toEqual([{ id: '', event: 'message', data: 'a' }]);
    expect(parser.push('\ndata: b\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '', event: 'message', data: 'b' }]);
  });
});

describe('percentile and summarise', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(() => percentile([], 50)).toThrow();
    expect(() => percentile([1], 0)).toThrow();
  });

  it('counts a subscriber not reached as the worst, so p99 cannot flatter a broken fan-out', () => {
    const all = summarise(
      Array.from({ length: 200 }, (_, i) => i + 1),
      200,
    );
    expect(all).toMatchObject({
      subscribers: 200,
      received: 200,
      reach: 1,
      p50Ms: 100,
      p99Ms: 198,
      maxMs: 200,
    });
    const missing = summarise(
      Array.from({ length: 200 }, (_, i) => (i % 50 === 0 ? null : i + 1)), // 4 of 200 missing
      200,
    );
    expect(missing.reach).toBe(0.98);
    expect(missing.received).toBe(196);
    expect(missing.p50Ms).not.toBeNull();
    expect(missing.p99Ms).toBeNull();
    expect(missing.maxMs).toBeNull();
  });
});

describe('load generator against the raw server', () => {
  let server: RawServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const round = (base: string, n: number, timeoutMs: number) => {
    const marker = `fan-out test ${Math.random()}`;
    return runRound({
      urls: Array.from({ length: n }, (_, i) => `${base}/stream?grid=${i % 7}`),
      marker,
      timeoutMs,
      send: async () => {
        const response = await fetch(`${base}/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: marker }),
        });
        if (response.status !== 204) throw new Error(`send: ${response.status}`);
      },
    });
  };

  it('reaches every one of 50 subscribers', async () => {
    server = await startRawServer();
    const { ready, result } = await round(server.base, 50, 10_000);
    expect(ready).toMatchObject({ connected: 50, failed: 0 });
    expect(result.figures).toMatchObject({ subscribers: 50, connected: 50, received: 50, reach: 1 });
    expect(result.figures.p99Ms).toBeGreaterThan(0);
    expect(result.figures.p99Ms).toBeLessThan(10_000);
    expect(result.duplicates).toBe(0);
    expect(result.closedEarly).toBe(0);
  });

  it('reports reach below 100% and no p99 when the server skips subscribers', async () => {
    server = await startRawServer({ skipEvery: 10 });
    const started = performance.now();
    const { ready, result } = await round(server.base, 50, 1500);
    expect(ready.connected).toBe(50);
    expect(result.figures.received).toBe(45);
    expect(result.figures.reach).toBe(0.9);
    expect(result.figures.p99Ms).toBeNull();
    // it gave up at the time limit rather than waiting for ever
    expect(performance.now() - started).toBeGreaterThanOrEqual(1500);
  });

  it('counts a stream that never connects as not reached', async () => {
    server = await startRawServer();
    const marker = 'never sent';
    const { ready, result } = await runRound({
      urls: [`${server.base}/stream`, `${server.base}/nowhere`],
      marker,
      timeoutMs: 500,
      send: () => Promise.resolve(),
    });
    expect(ready).toMatchObject({ connected: 1, failed: 1 });
    expect(ready.errors[0]).toMatch(/HTTP 404/);
    expect(result.figures).toMatchObject({ subscribers: 2, received: 0, reach: 0, p50Ms: null });
  });
});
