import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError, type api } from './api.ts';
import { FieldDb, newItem, type OutboxItem } from './db.ts';
import { backoff, backoffDelay, keepSentMs, Outbox } from './outbox.ts';

type Call = typeof api;
interface Sent {
  name: string;
  args: Record<string, unknown>;
}

/** A fake server: records every call and answers by a script the test sets. */
function fakeServer(answer: (name: string, args: Record<string, unknown>, n: number) => unknown) {
  const calls: Sent[] = [];
  const call = ((name: string, args: Record<string, unknown> = {}) => {
    calls.push({ name, args });
    const a = answer(name, args, calls.length);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  }) as unknown as Call;
  return { calls, call };
}

function caseItem(id: string, photos: number, fixOnSpot: boolean, now: number): OutboxItem {
  const photoClientIds = Array.from({ length: photos }, (_, i) => `${id}-p${i}`);
  return newItem(
    {
      id,
      kind: 'case',
      label: id,
      payload: { create: { clientId: id, title: id }, photoClientIds, fixOnSpot, result: 'done' },
      photos: photoClientIds.map(() => new Blob(['jpeg'], { type: 'image/jpeg' })),
      progress: { photoIds: photoClientIds.map(() => null) },
    },
    now,
  );
}

describe('field outbox', () => {
  let db: FieldDb;
  let clock: number;
  let n = 0;
  beforeEach(async () => {
    db = new FieldDb(`test-${++n}`);
    await db.open();
    clock = 1_000_000;
  });
  afterEach(async () => {
    db.close();
    await db.delete();
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelay(1, 0)).toBe(backoff.baseMs / 2);
    expect(backoffDelay(1, 1)).toBe(backoff.baseMs);
    expect(backoffDelay(2, 1)).toBe(backoff.baseMs * 2);
    expect(backoffDelay(4, 1)).toBe(backoff.baseMs * 8);
    expect(backoffDelay(5, 0.5)).toBe(Math.round(backoff.baseMs * 16 * 0.75));
    expect(backoffDelay(30, 1)).toBe(backoff.maxMs);
    expect(backoffDelay(30, 0)).toBe(backoff.maxMs / 2);
  });

  it('resumes a case report at the step where the network failed, and schedules the retry', async () => {
    let failAt = 3; // create ok, photo 1 ok, photo 2 fails
    const server = fakeServer((name, _args, count) => {
      if (count === failAt) return new HttpError(0, 'Failed to fetch', 'NETWORK');
      if (name === 'createCase') return { id: 42 };
      if (name === 'casePhotos') return { id: 100 + count };
      if (name === 'caseAction') return { id: 42, status: 'closed' };
      throw new Error(`unexpected ${name}`);
    });
    const outbox = new Outbox(db, { call: server.call, now: () => clock, random: () => 1 });
    await outbox.add(caseItem('c1', 2, true, clock));
    await outbox.sync();
    let item = (await db.outbox.get('c1'))!;
    expect(item.status).toBe('pending');
    expect(item.progress).toEqual({ caseId: 42, photoIds: [102, null] });
    expect(item.attempts).toBe(1);
    expect(item.nextAttemptAt).toBe(clock + backoff.baseMs);
    expect(outbox.state.online).toBe(false);

    // not due yet: nothing goes out
    await outbox.sync();
    expect(server.calls).toHaveLength(3);

    failAt = -1;
    clock += backoff.baseMs;
    await outbox.sync();
    item = (await db.outbox.get('c1'))!;
    expect(server.calls.slice(3).map((c) => c.name)).toEqual(['casePhotos', 'caseAction']);
    expect(server.calls[3]!.args.query).toEqual({ clientId: 'c1-p1' });
    expect(server.calls[4]!.args.body).toEqual({ result: 'done', attachments: [102, 104] });
    expect(item.status).toBe('sent');
    expect(item.progress).toEqual({ caseId: 42, photoIds: [102, 104], fixed: true });
    expect(outbox.state.online).toBe(true);
  });

  it('treats a fixOnSpot replay answered 409 as done when the case is closed', async () => {
    const server = fakeServer((name) => {
      if (name === 'createCase') return { id: 7 };
      if (name === 'caseAction') return new HttpError(409, '状态已变化 (conflict)');
      if (name === 'case') return { id: 7, status: 'closed', version: 3 };
      return null;
    });
    const outbox = new Outbox(db, { call: server.call, now: () => clock });
    await outbox.add(caseItem('c2', 0, true, clock));
    await outbox.sync();
    expect((await db.outbox.get('c2'))!.status).toBe('sent');
    expect(server.calls.map((c) => c.name)).toEqual(['createCase', 'caseAction', 'case']);
  });

  it('keeps an item the server refused (400) as failed with its message, and the next items still go', async () => {
    const server = fakeServer((name, args) => {
      if ((args.body as { clientId?: string } | undefined)?.clientId === 'v1')
        return new HttpError(400, '校验失败 (invalid)', 'VALIDATION', [
          { field: 'notes', message: '太长 (too long)' },
        ]);
      return { id: 1 };
    });
    const outbox = new Outbox(db, { call: server.call, now: () => clock });
    await outbox.add(
      newItem({ id: 'v1', kind: 'visit', label: 'v1', payload: { visit: { clientId: 'v1' } } }, clock),
    );
    await outbox.add(
      newItem({ id: 'v2', kind: 'visit', label: 'v2', payload: { visit: { clientId: 'v2' } } }, clock + 1),
    );
    await outbox.sync();
    const failed = (await db.outbox.get('v1'))!;
    expect(failed.status).toBe('failed');
    expect(failed.lastError).toBe('校验失败 (invalid)（notes: 太长 (too long)）');
    expect((await db.outbox.get('v2'))!.status).toBe('sent');
    // never dropped by a later pass
    await outbox.sync();
    expect((await db.outbox.get('v1'))!.status).toBe('failed');
  });

  it('pauses on 401 without losing anything, until a new login', async () => {
    let signedIn = false;
    const server = fakeServer(() => (signedIn ? { id: 1 } : new HttpError(401, '请登录 (sign in)')));
    const outbox = new Outbox(db, { call: server.call, now: () => clock });
    await outbox.add(newItem({ id: 'v1', kind: 'visit', label: 'v1', payload: { visit: {} } }, clock));
    await outbox.add(newItem({ id: 'v2', kind: 'visit', label: 'v2', payload: { visit: {} } }, clock + 1));
    await outbox.sync();
    expect(outbox.state.needLogin).toBe(true);
    expect(server.calls).toHaveLength(1);
    expect((await db.outbox.toArray()).map((i) => [i.status, i.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
    ]);
    await outbox.sync();
    expect(server.calls).toHaveLength(1);
    signedIn = true;
    outbox.resume();
    await outbox.sync();
    expect((await db.outbox.toArray()).map((i) => i.status)).toEqual(['sent', 'sent']);
  });

  it('sends a chain in order: a later batch waits while an earlier one of the same patrol waits', async () => {
    let down = true;
    const server = fakeServer((name) =>
      name === 'startPatrol' && down ? new HttpError(503, 'busy') : { id: 'p' },
    );
    const outbox = new Outbox(db, { call: server.call, now: () => clock, random: () => 0 });
    const chain = 'patrol:p';
    await outbox.add(
      newItem({ id: 's', kind: 'patrolStart', chain, label: 's', payload: { start: {} } }, clock),
    );
    await outbox.add(
      newItem(
        { id: 'b', kind: 'patrolPoints', chain, label: 'b', payload: { patrolId: 'p', points: [] } },
        clock + 1,
      ),
    );
    await outbox.add(newItem({ id: 'v', kind: 'visit', label: 'v', payload: { visit: {} } }, clock + 2));
    await outbox.sync();
    expect(server.calls.map((c) => c.name)).toEqual(['startPatrol', 'createVisit']);
    down = false;
    clock += backoff.baseMs;
    await outbox.sync();
    expect(server.calls.map((c) => c.name).slice(2)).toEqual(['startPatrol', 'patrolPoints']);
    expect(server.calls[3]!.args).toMatchObject({ params: { id: 'p' }, body: { batchId: 'b' } });
  });

  it('resends everything sent in the last 7 days from the first step, with the same ids', async () => {
    const server = fakeServer((name) =>
      name === 'createCase' ? { id: 9 } : name === 'casePhotos' ? { id: 90 } : {},
    );
    const outbox = new Outbox(db, { call: server.call, now: () => clock });
    await outbox.add(caseItem('old', 1, false, clock));
    await outbox.sync();
    clock += keepSentMs + 1;
    await outbox.add(caseItem('c', 1, false, clock));
    await outbox.add(
      newItem({ id: 'v', kind: 'visit', label: 'v', payload: { visit: { clientId: 'v' } } }, clock),
    );
    await outbox.sync();
    server.calls.length = 0;
    expect(await outbox.resendAll()).toBe(2);
    expect(
      server.calls.map((c) => [c.name, (c.args.body as { clientId?: string }).clientId ?? c.args.query]),
    ).toEqual([
      ['createCase', 'c'],
      ['casePhotos', { clientId: 'c-p0' }],
      ['createVisit', 'v'],
    ]);
    const c = (await db.outbox.get('c'))!;
    expect([c.status, c.sends]).toEqual(['sent', 2]);
    await outbox.prune();
    expect(await db.outbox.get('old')).toBeUndefined();
  });

  it('turns a stale registry edit into a conflict, or into done when my earlier send had arrived', async () => {
    let server = {
      phoneMasked: '138****0000',
      currentAddress: 'A',
      work: 'theirs',
      status: 'active',
      version: 5,
    };
    const api = fakeServer((name) => {
      if (name === 'updatePerson') return new HttpError(409, '已被修改 (changed meanwhile)');
      if (name === 'person') return server;
      return null;
    });
    const outbox = new Outbox(db, { call: api.call, now: () => clock });
    const edit = (id: string, changes: Record<string, unknown>) =>
      newItem(
        { id, kind: 'personEdit', label: id, payload: { personId: 1, expectedVersion: 3, changes } },
        clock,
      );
    await outbox.add(edit('arrived', { phone: '13812340000', work: 'theirs' }));
    server = { ...server, phoneMasked: '138****0000' };
    await outbox.sync();
    const arrived = (await db.outbox.get('arrived'))!;
    expect(arrived.status).toBe('sent');
    expect(JSON.stringify(arrived.payload)).not.toContain('13812340000');

    await outbox.add(edit('stale', { phone: '13912345678', work: 'mine' }));
    await outbox.sync();
    const stale = (await db.outbox.get('stale'))!;
    expect(stale.status).toBe('conflict');
    expect(stale.conflict).toEqual({
      server: { phoneMasked: '138****0000', currentAddress: 'A', work: 'theirs', status: 'active' },
      version: 5,
    });
    const sent: unknown[] = [];
    (outbox as unknown as { call: Call }).call = ((name: string, args: { body: unknown }) => {
      sent.push([name, args.body]);
      return Promise.resolve({});
    }) as unknown as Call;
    await outbox.resolveConflict('stale', {
      work: 'mine',
      phone: 'server',
      currentAddress: 'mine',
      status: 'mine',
    });
    expect(sent).toEqual([['updatePerson', { expectedVersion: 5, work: 'mine' }]]);
    expect((await db.outbox.get('stale'))!.status).toBe('sent');
  });
});
