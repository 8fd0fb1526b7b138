import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { publishDueNotices, remindNotices } from './index.ts';

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let operator: TestUser;
let communityOperatorA: TestUser;
let workerA1: TestUser;
let workerA2: TestUser;
let workerB1: TestUser;
let leaderA: TestUser;
let professional: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-notice-'));
  server = await testServer(db, { clock, config: { dataDir } });
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
  communityOperatorA = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.communityA }]);
  workerA1 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
  workerA2 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA2 }]);
  workerB1 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridB1 }]);
  leaderA = await makeUser(db, [{ role: 'grid_leader', regionCode: territory.communityA }]);
  professional = await makeUser(db, [{ role: 'professional_worker', regionCode: territory.gridB1 }]);
});

afterAll(async () => {
  await server.app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function noticeBody(target: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    clientId: crypto.randomUUID(),
    title: '冬季防火通知',
    body: '请各网格提醒居民注意用电用气安全。',
    target,
    ...overrides,
  };
}

async function post(user: TestUser | null, url: string, payload: unknown) {
  return server.app.inject({
    method: 'POST',
    url,
    headers: user ? auth(user) : {},
    payload: payload as object,
  });
}

async function get(user: TestUser | null, url: string) {
  return server.app.inject({ method: 'GET', url, headers: user ? auth(user) : {} });
}

async function recipientsOf(noticeId: number): Promise<number[]> {
  const found = await rows<{ user_id: number }>(
    db.orm,
    sql`select user_id::int as user_id from notice_recipient where notice_id = ${noticeId} order by user_id`,
  );
  return found.map((r) => r.user_id);
}

async function gridsOf(noticeId: number): Promise<string[]> {
  const found = await rows<{ grid_code: string }>(
    db.orm,
    sql`select grid_code from notice_grid where notice_id = ${noticeId} order by grid_code`,
  );
  return found.map((r) => r.grid_code);
}

describe('notice targeting', () => {
  it('a region subtree: every grid of it and the staff in it', async () => {
    const created = await post(
      operator,
      '/api/notices',
      noticeBody({ kind: 'region', regionCode: territory.communityA }),
    );
    expect(created.statusCode).toBe(201);
    const notice = created.json<{ id: number; status: string; gridCount: number; recipientCount: number }>();
    expect(notice.status).toBe('published');
    expect(await gridsOf(notice.id)).toEqual([territory.gridA1, territory.gridA2]);
    expect(await recipientsOf(notice.id)).toEqual(
      [communityOperatorA.id, workerA1.id, workerA2.id, leaderA.id].sort((a, b) => a - b),
    );
    expect(notice).toMatchObject({ gridCount: 2, recipientCount: 4 });
  });

  it('chosen grids: those grids and their staff only', async () => {
    const created = await post(
      operator,
      '/api/notices',
      noticeBody({ kind: 'grids', gridCodes: [territory.gridA2, territory.gridB1] }),
    );
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: number }>();
    expect(await gridsOf(id)).toEqual([territory.gridA2, territory.gridB1]);
    expect(await recipientsOf(id)).toEqual([workerA2.id, workerB1.id, professional.id].sort((a, b) => a - b));
    // a region that is not a grid, and grids outside the sender
    const notGrid = await post(
      operator,
      '/api/notices',
      noticeBody({ kind: 'grids', gridCodes: [territory.street] }),
    );
    expect(notGrid.statusCode).toBe(400);
    const outside = await post(
      communityOperatorA,
      '/api/notices',
      noticeBody({ kind: 'grids', gridCodes: [territory.gridB1] }),
    );
    expect(outside.statusCode).toBe(404);
  });

  it('roles in a region: only those roles, no grid relay', async () => {
    const created = await post(
      operator,
      '/api/notices',
      noticeBody({
        kind: 'roles',
        regionCode: territory.street,
        roles: ['grid_leader', 'professional_worker'],
      }),
    );
    const { id } = created.json<{ id: number }>();
    expect(await gridsOf(id)).toEqual([]);
    expect(await recipientsOf(id)).toEqual([leaderA.id, professional.id].sort((a, b) => a - b));
  });

  it('is idempotent by clientId, validates, and is refused to workers (403) and outside the sender (404)', async () => {
    const body = noticeBody({ kind: 'region', regionCode: territory.gridA1 });
    const first = await post(operator, '/api/notices', body);
    const second = await post(operator, '/api/notices', body);
    expect(second.statusCode).toBe(200);
    expect(second.json<{ id: number }>().id).toBe(first.json<{ id: number }>().id);
    const invalid = await post(operator, '/api/notices', { ...noticeBody({ kind: 'nope' }), title: '' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json<{ fields: { field: string }[] }>().fields.length).toBeGreaterThan(0);
    expect(
      (await post(workerA1, '/api/notices', noticeBody({ kind: 'region', regionCode: territory.gridA1 })))
        .statusCode,
    ).toBe(403);
    expect(
      (
        await post(
          communityOperatorA,
          '/api/notices',
          noticeBody({ kind: 'region', regionCode: territory.street }),
        )
      ).statusCode,
    ).toBe(404);
  });
});

describe('reading, relaying and statistics', () => {
  it('my notices: unread first, delivered on listing, read on opening; relay (已转达) idempotent; live stats', async () => {
    const older = (
      await post(
        operator,
        '/api/notices',
        noticeBody({ kind: 'region', regionCode: territory.gridA1 }, { title: '旧通知' }),
      )
    ).json<{ id: number }>().id;
    clock.advance(60_000);
    const newer = (
      await post(
        operator,
        '/api/notices',
        noticeBody({ kind: 'region', regionCode: territory.gridA1 }, { title: '新通知' }),
      )
    ).json<{ id: number }>().id;
    expect((await get(workerA1, `/api/notices/${older}`)).statusCode).toBe(200); // read
    const mine = await get(workerA1, '/api/notices/mine');
    expect(mine.statusCode).toBe(200);
    const list = mine.json<{
      items: { id: number; readAt: string | null; deliveredAt: string }[];
      unread: number;
    }>();
    const ids = list.items.map((i) => i.id);
    expect(ids.indexOf(newer)).toBeLessThan(ids.indexOf(older));
    expect(list.items.find((i) => i.id === older)?.readAt).not.toBeNull();
    expect(list.items.find((i) => i.id === newer)?.readAt).toBeNull();
    // another grid's worker does not see it
    expect((await get(workerB1, `/api/notices/${newer}`)).statusCode).toBe(404);

    const ack = await post(workerA1, `/api/notices/${newer}/acknowledge`, { gridCode: territory.gridA1 });
    expect(ack.json<{ created: boolean }>().created).toBe(true);
    const ackAgain = await post(workerA1, `/api/notices/${newer}/acknowledge`, {
      gridCode: territory.gridA1,
    });
    expect(ackAgain.json<{ created: boolean }>().created).toBe(false);
    expect(
      (await post(workerB1, `/api/notices/${newer}/acknowledge`, { gridCode: territory.gridA1 })).statusCode,
    ).toBe(404);

    const stats = await get(operator, `/api/notices/${newer}/stats`);
    expect(stats.statusCode).toBe(200);
    expect(stats.json()).toMatchObject({ grids: 1, acknowledged: 1, recipients: 1, delivered: 1, read: 1 });
    expect((await get(workerA1, `/api/notices/${newer}/stats`)).statusCode).toBe(403);
  });

  it('images attached to a notice are re-encoded and readable by its recipients', async () => {
    const { id } = (
      await post(operator, '/api/notices', noticeBody({ kind: 'region', regionCode: territory.gridA2 }))
    ).json<{ id: number }>();
    const png = await sharp({ create: { width: 12, height: 8, channels: 3, background: '#39c' } })
      .png()
      .toBuffer();
    const uploaded = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments`,
      headers: { ...auth(operator), 'content-type': 'image/png' },
      payload: png,
    });
    expect(uploaded.statusCode).toBe(200);
    const attachment = uploaded.json<{ attachments: { id: number; contentType: string }[] }>()
      .attachments[0]!;
    expect(attachment.contentType).toBe('image/jpeg');
    expect((await get(workerA2, `/api/notices/${id}/attachments/${attachment.id}`)).statusCode).toBe(200);
    expect((await get(workerB1, `/api/notices/${id}/attachments/${attachment.id}`)).statusCode).toBe(404);
    // not public: not on the residents' route
    expect((await get(null, `/api/public/notices/${id}/attachments/${attachment.id}`)).statusCode).toBe(404);
    // a notice to the residents of grid A2: its images are public
    const publicNotice = (
      await post(operator, '/api/notices', noticeBody({ kind: 'residents', regionCode: territory.gridA2 }))
    ).json<{ id: number }>().id;
    const publicImage = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${publicNotice}/attachments`,
      headers: { ...auth(operator), 'content-type': 'image/png' },
      payload: png,
    });
    const publicId = publicImage.json<{ attachments: { id: number }[] }>().attachments[0]!.id;
    const page = (await get(null, `/api/public/grids/${territory.gridA2}`)).json<{
      notices: { id: number; attachmentUrls: string[] }[];
    }>();
    const url = page.notices.find((n) => n.id === publicNotice)!.attachmentUrls[0]!;
    expect(url).toBe(`/api/public/notices/${publicNotice}/attachments/${publicId}`);
    expect((await get(null, url)).statusCode).toBe(200);

    const bad = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments`,
      headers: { ...auth(operator), 'content-type': 'application/octet-stream' },
      payload: Buffer.from('not an image'),
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('scheduling, reminders and escalation (frozen clock)', () => {
  it('a scheduled notice is published by the job once, at its time', async () => {
    const at = new Date(clock.now().getTime() + 30 * 60_000).toISOString();
    const created = await post(
      operator,
      '/api/notices',
      noticeBody({ kind: 'residents', regionCode: territory.communityB }, { publishAt: at }),
    );
    const notice = created.json<{ id: number; status: string; publishAt: string }>();
    expect(notice.status).toBe('scheduled');
    expect(await recipientsOf(notice.id)).toEqual([]);
    expect(
      (await get(null, `/api/public/grids/${territory.gridB1}`))
        .json<{ notices: { id: number }[] }>()
        .notices.map((n) => n.id),
    ).not.toContain(notice.id);
    expect(await publishDueNotices({ db, clock })).toBe(0);
    clock.advance(30 * 60_000);
    expect(await publishDueNotices({ db, clock })).toBe(1);
    expect(await publishDueNotices({ db, clock })).toBe(0);
    expect(await gridsOf(notice.id)).toEqual([territory.gridB1, territory.gridB2]);
    const events = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from outbox where topic = 'notice.published'
          and (payload ->> 'noticeId')::int = ${notice.id}`,
    );
    expect(events!.n).toBe(1);
    const page = await get(null, `/api/public/grids/${territory.gridB1}`);
    expect(page.json<{ notices: { id: number }[] }>().notices.map((n) => n.id)).toContain(notice.id);
    // not on the page of a grid outside its area
    const other = await get(null, `/api/public/grids/${territory.gridA1}`);
    expect(other.json<{ notices: { id: number }[] }>().notices.map((n) => n.id)).not.toContain(notice.id);
  });

  it('reminds grids that have not relayed after m minutes, then the grid leader (2m), then the community (3m), once each', async () => {
    // drain reminders due for earlier notices (none have remindAfterMinutes)
    await remindNotices({ db, clock });
    const { id } = (
      await post(
        operator,
        '/api/notices',
        noticeBody({ kind: 'region', regionCode: territory.communityA }, { remindAfterMinutes: 30 }),
      )
    ).json<{ id: number }>();
    await post(workerA1, `/api/notices/${id}/acknowledge`, { gridCode: territory.gridA1 });

    clock.advance(29 * 60_000);
    expect(await remindNotices({ db, clock })).toEqual({
      reminded: 0,
      escalatedLeader: 0,
      escalatedCommunity: 0,
    });
    clock.advance(60_000);
    expect(await remindNotices({ db, clock })).toEqual({
      reminded: 1,
      escalatedLeader: 0,
      escalatedCommunity: 0,
    });
    expect(await remindNotices({ db, clock })).toEqual({
      reminded: 0,
      escalatedLeader: 0,
      escalatedCommunity: 0,
    });
    const reminded = await one<{ payload: { gridCodes: string[] } }>(
      db.orm,
      sql`select payload from outbox where topic = 'notice.reminded' and (payload ->> 'noticeId')::int = ${id}`,
    );
    expect(reminded!.payload.gridCodes).toEqual([territory.gridA2]);

    // the grid leader already receives it as staff of the community; a leader of another community does not
    const leaderB = await makeUser(db, [{ role: 'grid_leader', regionCode: territory.communityB }]);
    clock.advance(30 * 60_000);
    expect(await remindNotices({ db, clock })).toEqual({
      reminded: 0,
      escalatedLeader: 1,
      escalatedCommunity: 0,
    });
    const leaderEvent = await one<{ payload: { userIds: number[] } }>(
      db.orm,
      sql`select payload from outbox where topic = 'notice.escalated' and (payload ->> 'noticeId')::int = ${id}
            and payload ->> 'step' = 'escalatedLeader'`,
    );
    expect(leaderEvent!.payload.userIds).toEqual([]); // leaderA was a recipient from the start
    expect(await recipientsOf(id)).not.toContain(leaderB.id);

    clock.advance(30 * 60_000);
    expect(await remindNotices({ db, clock })).toEqual({
      reminded: 0,
      escalatedLeader: 0,
      escalatedCommunity: 1,
    });
    expect(await remindNotices({ db, clock })).toEqual({
      reminded: 0,
      escalatedLeader: 0,
      escalatedCommunity: 0,
    });
    const stats = (await get(operator, `/api/notices/${id}/stats`)).json<{
      byGrid: {
        gridCode: string;
        remindedAt: string | null;
        escalatedLeaderAt: string | null;
        escalatedCommunityAt: string | null;
      }[];
    }>();
    const a2 = stats.byGrid.find((g) => g.gridCode === territory.gridA2)!;
    const a1 = stats.byGrid.find((g) => g.gridCode === territory.gridA1)!;
    expect(a2.remindedAt && a2.escalatedLeaderAt && a2.escalatedCommunityAt).toBeTruthy();
    expect(a1).toMatchObject({ remindedAt: null, escalatedLeaderAt: null, escalatedCommunityAt: null });
  });

  it('escalation adds the grid leader and the community operators who were not recipients', async () => {
    // a notice to chosen grids reaches only the grid's worker; escalation adds the leader, then the community
    const { id } = (
      await post(
        operator,
        '/api/notices',
        noticeBody({ kind: 'grids', gridCodes: [territory.gridA2] }, { remindAfterMinutes: 10 }),
      )
    ).json<{ id: number }>();
    expect(await recipientsOf(id)).toEqual([workerA2.id]);
    clock.advance(20 * 60_000);
    expect(await remindNotices({ db, clock })).toMatchObject({ reminded: 1, escalatedLeader: 1 });
    expect(await recipientsOf(id)).toEqual([workerA2.id, leaderA.id].sort((a, b) => a - b));
    clock.advance(10 * 60_000);
    expect(await remindNotices({ db, clock })).toMatchObject({ escalatedCommunity: 1 });
    expect(await recipientsOf(id)).toEqual(
      [communityOperatorA.id, workerA2.id, leaderA.id].sort((a, b) => a - b),
    );
    const mine = (await get(leaderA, '/api/notices/mine')).json<{
      items: { id: number; reason: string }[];
    }>();
    expect(mine.items.find((i) => i.id === id)?.reason).toBe('escalation_leader');
  });
});
