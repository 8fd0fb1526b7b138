import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError, type api } from './api.ts';
import { alertAckItem, noticeAckItem, sightingItems } from './answers.ts';
import { FieldDb, newItem, type OutboxItem } from './db.ts';
import { backoff, Outbox } from './outbox.ts';

type Call = typeof api;
interface Sent {
  name: string;
  args: Record<string, unknown>;
}

function fakeServer(answer: (name: string, args: Record<string, unknown>, n: number) => unknown) {
  const calls: Sent[] = [];
  const call = ((name: string, args: Record<string, unknown> = {}) => {
    calls.push({ name, args });
    const a = answer(name, args, calls.length);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  }) as unknown as Call;
  return { calls, call };
}

const offline = () => new HttpError(0, 'Failed to fetch', 'NETWORK');
const photo = () => new Blob(['jpeg'], { type: 'image/jpeg' });
const input = (withPhoto: boolean) => ({
  note: '在桥头看到一位穿蓝衣的老人',
  location: { lng: 126.63, lat: 45.75, accuracy: 8 },
  seenAt: '2026-11-24T08:00:00.000Z',
  photo: withPhoto ? photo() : null,
});

describe('field outbox: answers to alerts and notices', () => {
  let db: FieldDb;
  let clock: number;
  let n = 0;
  beforeEach(async () => {
    db = new FieldDb(`answers-${++n}`);
    await db.open();
    clock = 1_000_000;
  });
  afterEach(async () => {
    db.close();
    await db.delete();
  });

  it('sends 确认收到 and 已转达 per grid, retrying after a network failure, once each', async () => {
    let down = true;
    const server = fakeServer((name, args) =>
      down ? offline() : { gridCode: (args.body as { gridCode: string }).gridCode, created: true },
    );
    const sent: OutboxItem[] = [];
    const outbox = new Outbox(db, {
      call: server.call,
      now: () => clock,
      random: () => 1,
      onSent: (i) => sent.push(i),
    });
    await outbox.add(alertAckItem(7, '230803001001001', '走失老人', clock));
    await outbox.add(noticeAckItem(3, '230803001001002', '防汛通知', clock + 1));
    await outbox.sync();
    expect((await db.outbox.toArray()).map((i) => [i.status, i.attempts])).toEqual([
      ['pending', 1],
      ['pending', 0],
    ]);
    down = false;
    clock += backoff.baseMs;
    await outbox.sync();
    expect(server.calls.slice(1).map((c) => [c.name, c.args])).toEqual([
      ['acknowledgeAlert', { params: { id: 7 }, body: { gridCode: '230803001001001' } }],
      ['acknowledgeNotice', { params: { id: 3 }, body: { gridCode: '230803001001002' } }],
    ]);
    expect((await db.outbox.toArray()).map((i) => [i.id, i.status, i.sends])).toEqual([
      ['alert-ack:7:230803001001001', 'sent', 1],
      ['notice-ack:3:230803001001002', 'sent', 1],
    ]);
    expect(sent.map((i) => i.kind)).toEqual(['alertAck', 'noticeAck']);
    // another pass sends nothing again
    await outbox.sync();
    expect(server.calls).toHaveLength(3);
  });

  it('sends a sighting, then its photo to the id the server gave it; the photo waits while the sighting waits', async () => {
    let down = true;
    const server = fakeServer((name, args) => {
      if (name === 'createSighting') return down ? offline() : { id: 55, hasPhoto: false };
      if (name === 'sightingPhoto') return { id: (args.params as { sightingId: number }).sightingId };
      throw new Error(`unexpected ${name}`);
    });
    const outbox = new Outbox(db, { call: server.call, now: () => clock, random: () => 1 });
    const items = sightingItems(7, '走失老人', input(true), 'c-1', 'c-1-photo', clock);
    expect(items.map((i) => [i.kind, i.chain])).toEqual([
      ['sighting', 'c-1'],
      ['sightingPhoto', 'c-1'],
    ]);
    await db.outbox.bulkPut(items);
    await outbox.sync();
    expect(server.calls.map((c) => c.name)).toEqual(['createSighting']);
    expect((await db.outbox.get('c-1-photo'))!.status).toBe('pending');

    down = false;
    clock += backoff.baseMs;
    await outbox.sync();
    expect(server.calls.slice(1).map((c) => [c.name, c.args.params])).toEqual([
      ['createSighting', { id: 7 }],
      ['sightingPhoto', { id: 7, sightingId: 55 }],
    ]);
    expect(server.calls[1]!.args.body).toEqual({
      clientId: 'c-1',
      note: '在桥头看到一位穿蓝衣的老人',
      location: { lng: 126.63, lat: 45.75, accuracy: 8, crs: 'wgs84' },
      seenAt: '2026-11-24T08:00:00.000Z',
    });
    expect(server.calls[2]!.args.body).toBeInstanceOf(Blob);
    expect((await db.outbox.get('c-1'))!.progress).toEqual({ photoIds: [], sightingId: 55 });
    expect((await db.outbox.toArray()).map((i) => i.status)).toEqual(['sent', 'sent']);
  });

  it('replays a sighting with the same clientId; a photo replay after the alert closed counts as done when it had arrived', async () => {
    const server = fakeServer((name) => {
      if (name === 'createSighting') return { id: 56 };
      if (name === 'sightingPhoto') return new HttpError(409, '协查已结束 (the alert is closed)');
      if (name === 'alert') return { sightings: [{ id: 56, hasPhoto: true }] };
      throw new Error(`unexpected ${name}`);
    });
    const outbox = new Outbox(db, { call: server.call, now: () => clock });
    const items = sightingItems(8, '走失儿童', input(true), 'c-2', 'c-2-photo', clock);
    // as if both had been sent before
    await db.outbox.bulkPut(items.map((i) => ({ ...i, status: 'sent' as const, sentAt: clock, sends: 1 })));
    expect(await outbox.resendAll()).toBe(2);
    expect(server.calls.map((c) => c.name)).toEqual(['createSighting', 'sightingPhoto', 'alert']);
    expect((server.calls[0]!.args.body as { clientId: string }).clientId).toBe('c-2');
    expect((await db.outbox.toArray()).map((i) => [i.status, i.sends])).toEqual([
      ['sent', 2],
      ['sent', 2],
    ]);
  });

  it('keeps a sighting the server refused (the alert closed) as failed, and its photo waits', async () => {
    const server = fakeServer(() => new HttpError(409, '协查已结束 (the alert is closed)'));
    const outbox = new Outbox(db, { call: server.call, now: () => clock });
    await db.outbox.bulkPut(sightingItems(9, '走失老人', input(true), 'c-3', 'c-3-photo', clock));
    await outbox.sync();
    expect((await db.outbox.toArray()).map((i) => [i.kind, i.status])).toEqual([
      ['sighting', 'failed'],
      ['sightingPhoto', 'pending'],
    ]);
    expect(server.calls.map((c) => c.name)).toEqual(['createSighting']);
  });

  it('marks a notice opened offline as read later (GET /api/notices/{id})', async () => {
    const server = fakeServer(() => ({ id: 4 }));
    const outbox = new Outbox(db, { call: server.call, now: () => clock });
    await outbox.add(newItem({ id: 'r', kind: 'noticeRead', label: 'r', payload: { noticeId: 4 } }, clock));
    await outbox.sync();
    expect(server.calls).toEqual([{ name: 'notice', args: { params: { id: 4 } } }]);
  });
});
