import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { insertRegion } from '../region/region.store.ts';

/** The centres' side of polls (issue 7): list and results in scope, counts from residents' votes, close once. */

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
/** 西林街道's centre, another street's centre, the city centre, a grid worker of the street */
let streetCentre: TestUser;
let otherStreetCentre: TestUser;
let cityCentre: TestUser;
let worker: TestUser;
const otherStreet = '230803002';
let phoneCounter = 0;
let address = 0;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await db.orm.transaction(async (tx) => {
    await insertRegion(tx, {
      code: otherStreet,
      level: 'street',
      name: '长安街道',
      parentCode: territory.district,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [130.5, 46.8],
            [130.6, 46.8],
            [130.6, 46.9],
            [130.5, 46.9],
            [130.5, 46.8],
          ],
        ],
      },
      validFrom: new Date('2026-01-01T00:00:00Z'),
    });
  });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-polls-'));
  server = await testServer(db, { clock, config: { dataDir } });
  streetCentre = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
  otherStreetCentre = await makeUser(db, [{ role: 'centre_operator', regionCode: otherStreet }]);
  cityCentre = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.city }]);
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
});

afterAll(async () => {
  await server.app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Each resident call from its own address, so the per-address limits of one test do not touch another. */
async function residentPost(url: string, payload: object, headers: Record<string, string> = {}) {
  address += 1;
  return server.app.inject({
    method: 'POST',
    url,
    headers,
    payload,
    remoteAddress: `10.1.${Math.floor(address / 250)}.${address % 250}`,
  });
}

function loggedCode(phone: string): string {
  const tail = `*******${phone.slice(-4)}`;
  for (let i = capturedLogs.length - 1; i >= 0; i--) {
    const line = capturedLogs[i]!;
    if (!line.includes('resident verification code')) continue;
    const parsed = JSON.parse(line) as { to: string; verificationCode: string };
    if (parsed.to === tail) return parsed.verificationCode;
  }
  throw new Error('no code logged');
}

/** A verified phone's resident token, through the resident API. */
async function residentToken(): Promise<string> {
  phoneCounter += 1;
  const phone = `1372345${String(1000 + phoneCounter).padStart(4, '0')}`;
  expect((await residentPost('/api/resident/codes', { phone })).statusCode).toBe(200);
  const verified = await residentPost('/api/resident/verify', { phone, code: loggedCode(phone) });
  expect(verified.statusCode).toBe(200);
  return verified.json<{ token: string }>().token;
}

async function vote(pollId: number, token: string, option: number, gridCode: string = territory.gridA1) {
  return residentPost(
    `/api/resident/polls/${pollId}/votes`,
    { option, gridCode },
    { 'x-resident-token': token },
  );
}

async function createPoll(
  by: TestUser,
  regionCode: string,
  question = '小区健身广场开放时间?',
  openUntil = '2026-12-20T00:00:00Z',
) {
  const created = await server.app.inject({
    method: 'POST',
    url: '/api/polls',
    headers: auth(by),
    payload: {
      clientId: crypto.randomUUID(),
      question,
      options: ['6:00-21:00', '7:00-22:00', '全天开放'],
      regionCode,
      openUntil,
    },
  });
  expect(created.statusCode).toBe(201);
  return created.json<{ id: number }>().id;
}

async function get(by: TestUser | null, url: string) {
  return server.app.inject({ method: 'GET', url, headers: by ? auth(by) : {} });
}

interface StaffPollBody {
  id: number;
  open: boolean;
  counts: number[];
  total: number;
  regionName: string;
  closedAt: string | null;
}

describe('GET /api/polls and /api/polls/{id}', () => {
  it('401 without a session, 403 without notice.send, 400 on an unknown status', async () => {
    expect((await get(null, '/api/polls')).statusCode).toBe(401);
    expect((await get(worker, '/api/polls')).statusCode).toBe(403);
    expect((await get(worker, '/api/polls/1')).statusCode).toBe(403);
    const bad = await get(streetCentre, '/api/polls?status=maybe');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ fields: { field: string }[] }>().fields[0]!.field).toContain('status');
  });

  it("lists the polls of the caller's scope newest first; another street's centre neither lists nor opens them (404)", async () => {
    const first = await createPoll(streetCentre, territory.street, '街道第一次征集');
    clock.advance(60_000);
    const second = await createPoll(streetCentre, territory.communityA, '社区第二次征集');
    const cityWide = await createPoll(cityCentre, territory.city, '全市征集');
    const elsewhere = await createPoll(otherStreetCentre, otherStreet, '长安街道征集');

    const mine = await get(streetCentre, '/api/polls');
    expect(mine.statusCode).toBe(200);
    const ids = mine.json<{ items: StaffPollBody[] }>().items.map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining([first, second, cityWide]));
    expect(ids).not.toContain(elsewhere);
    expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(first));

    const theirs = (await get(otherStreetCentre, '/api/polls')).json<{ items: StaffPollBody[] }>();
    expect(theirs.items.map((p) => p.id)).toContain(elsewhere);
    expect(theirs.items.map((p) => p.id)).not.toContain(first);
    expect(theirs.items.map((p) => p.id)).not.toContain(second);

    const hidden = await get(otherStreetCentre, `/api/polls/${first}`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json<{ message: string }>().message).toContain('poll not found');
    expect((await get(streetCentre, '/api/polls/999999')).statusCode).toBe(404);

    const detail = await get(streetCentre, `/api/polls/${second}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({
      id: second,
      question: '社区第二次征集',
      regionCode: territory.communityA,
      regionName: '西林社区',
      open: true,
      counts: [0, 0, 0],
      total: 0,
      closedAt: null,
      canClose: true,
      createdAt: clock.now().toISOString(),
    });
  });

  it('counts per option and the total are the votes cast through the resident API', async () => {
    const pollId = await createPoll(streetCentre, territory.street);
    const choices = [2, 0, 2, 1, 2];
    for (const [i, option] of choices.entries()) {
      const grid = i % 2 === 0 ? territory.gridA1 : territory.gridB2;
      expect((await vote(pollId, await residentToken(), option, grid)).statusCode).toBe(200);
    }
    const stored = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from poll_vote where poll_id = ${pollId}`,
    );
    expect(stored!.n).toBe(5);
    const detail = await get(streetCentre, `/api/polls/${pollId}`);
    expect(detail.json()).toMatchObject({ counts: [1, 1, 3], total: 5, open: true });
    const listed = (await get(streetCentre, '/api/polls?status=open')).json<{ items: StaffPollBody[] }>();
    expect(listed.items.find((p) => p.id === pollId)).toMatchObject({ counts: [1, 1, 3], total: 5 });
  });
});

describe('POST /api/polls/{id}/close', () => {
  it('closes once (second: 409); votes are refused after; lists and the public poll say closed', async () => {
    const pollId = await createPoll(streetCentre, territory.communityB);
    const token = await residentToken();
    expect((await vote(pollId, token, 1, territory.gridB1)).statusCode).toBe(200);

    const outside = await server.app.inject({
      method: 'POST',
      url: `/api/polls/${pollId}/close`,
      headers: auth(otherStreetCentre),
    });
    expect(outside.statusCode).toBe(404);

    clock.advance(60_000);
    const closed = await server.app.inject({
      method: 'POST',
      url: `/api/polls/${pollId}/close`,
      headers: auth(streetCentre),
    });
    expect(closed.statusCode).toBe(200);
    expect(closed.json()).toMatchObject({
      open: false,
      canClose: false,
      closedAt: clock.now().toISOString(),
      counts: [0, 1, 0],
    });

    const again = await server.app.inject({
      method: 'POST',
      url: `/api/polls/${pollId}/close`,
      headers: auth(streetCentre),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ message: string }>().message).toContain('already closed');

    const late = await vote(pollId, await residentToken(), 0, territory.gridB1);
    expect(late.statusCode).toBe(409);
    expect((await get(null, `/api/public/polls/${pollId}`)).json()).toMatchObject({ open: false, total: 1 });

    const open = (await get(streetCentre, '/api/polls?status=open')).json<{ items: StaffPollBody[] }>();
    expect(open.items.map((p) => p.id)).not.toContain(pollId);
    const done = (await get(streetCentre, '/api/polls?status=closed')).json<{ items: StaffPollBody[] }>();
    expect(done.items.map((p) => p.id)).toContain(pollId);

    const audit = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from audit_log where action = 'poll.closed' and object_id = ${String(pollId)}`,
    );
    expect(audit!.n).toBe(1);
  });

  it('a poll past its deadline is closed already (409), and a street centre cannot close the city’s poll (403)', async () => {
    const deadline = new Date(clock.now().getTime() + 60_000).toISOString();
    const cityPoll = await createPoll(cityCentre, territory.city, '一分钟征集', deadline);
    const forbidden = await server.app.inject({
      method: 'POST',
      url: `/api/polls/${cityPoll}/close`,
      headers: auth(streetCentre),
    });
    expect(forbidden.statusCode).toBe(403);
    const seen = (await get(streetCentre, `/api/polls/${cityPoll}`)).json<{ canClose: boolean }>();
    expect(seen.canClose).toBe(false);
    clock.advance(120_000);
    const expired = await server.app.inject({
      method: 'POST',
      url: `/api/polls/${cityPoll}/close`,
      headers: auth(cityCentre),
    });
    expect(expired.statusCode).toBe(409);
  });
});
