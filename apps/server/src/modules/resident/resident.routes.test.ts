import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { loadSecretBox } from '../../platform/crypto.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let operator: TestUser;
let phoneCounter = 0;

/** A fresh demo-looking phone per test, so rate limits of one test do not leak into another. */
function newPhone(): string {
  phoneCounter += 1;
  return `1391234${String(1000 + phoneCounter).padStart(4, '0')}`;
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-resident-'));
  server = await testServer(db, { clock, config: { dataDir } });
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
});

afterAll(async () => {
  await server.app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let address = 0;
/** Each call from its own address unless one is given (fastify's request.ip from x-forwarded-for is off: use remoteAddress). */
async function post(url: string, payload: unknown, headers: Record<string, string> = {}, ip?: string) {
  address += 1;
  return server.app.inject({
    method: 'POST',
    url,
    headers,
    payload: payload as object,
    remoteAddress: ip ?? `10.0.${Math.floor(address / 250)}.${address % 250}`,
  });
}

/** The code the embedded SMS sender wrote to the log for the phone ending in these digits. */
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

async function verifiedToken(phone = newPhone()): Promise<{ phone: string; token: string }> {
  expect((await post('/api/resident/codes', { phone })).statusCode).toBe(200);
  const verified = await post('/api/resident/verify', { phone, code: loggedCode(phone) });
  expect(verified.statusCode).toBe(200);
  return { phone, token: verified.json<{ token: string }>().token };
}

function reportBody(overrides: Record<string, unknown> = {}) {
  return {
    clientId: crypto.randomUUID(),
    title: '路灯不亮',
    description: '西林路 12 号门前路灯连续三晚不亮',
    location: { lng: 130.35, lat: 46.85 },
    ...overrides,
  };
}

describe('phone verification', () => {
  it('sends a code to the log without the phone, verifies it once, and answers a masked phone and a token', async () => {
    const phone = newPhone();
    const sent = await post('/api/resident/codes', { phone });
    expect(sent.statusCode).toBe(200);
    expect(sent.json()).toEqual({ expiresInSeconds: 300, phone: `139****${phone.slice(-4)}` });
    expect(capturedLogs.join('\n')).not.toContain(phone);
    const code = loggedCode(phone);
    expect(code).toMatch(/^\d{6}$/);
    const verified = await post('/api/resident/verify', { phone: `+86${phone}`, code });
    expect(verified.statusCode).toBe(200);
    const body = verified.json<{ token: string; phone: string; expiresAt: string }>();
    expect(body.phone).toBe(`139****${phone.slice(-4)}`);
    // used: not again
    expect((await post('/api/resident/verify', { phone, code })).statusCode).toBe(400);
    // stored hashed and sealed, never in plaintext
    const session = await one<{ token_hash: string; phone_cipher: string; phone_hash: string }>(
      db.orm,
      sql`select token_hash, phone_cipher, phone_hash from resident_session order by id desc limit 1`,
    );
    expect(session!.token_hash).not.toBe(body.token);
    expect(JSON.stringify(session)).not.toContain(phone);
    expect(loadSecretBox({ dataDir }).decrypt(session!.phone_cipher)).toBe(phone);
  });

  it('a wrong code is 400 with the attempts left; after 5 wrong codes even the right one is refused (429)', async () => {
    const phone = newPhone();
    await post('/api/resident/codes', { phone });
    const code = loggedCode(phone);
    const wrong = code === '000000' ? '111111' : '000000';
    const first = await post('/api/resident/verify', { phone, code: wrong });
    expect(first.statusCode).toBe(400);
    expect(first.json<{ message: string; fields: { field: string }[] }>()).toMatchObject({
      fields: [{ field: 'code' }],
    });
    expect(first.json<{ message: string }>().message).toContain('4 attempts left');
    for (let i = 0; i < 4; i++) await post('/api/resident/verify', { phone, code: wrong });
    const locked = await post('/api/resident/verify', { phone, code });
    expect(locked.statusCode).toBe(429);
    expect(locked.json<{ message: string }>().message).toContain('request a new one');
  });

  it('a code expires after 5 minutes', async () => {
    const phone = newPhone();
    await post('/api/resident/codes', { phone });
    const code = loggedCode(phone);
    clock.advance(301_000);
    const late = await post('/api/resident/verify', { phone, code });
    expect(late.statusCode).toBe(400);
    expect(late.json<{ message: string }>().message).toContain('expired');
  });

  it('rate limits: one code a minute and five an hour per phone, twenty an hour per address (429)', async () => {
    const phone = newPhone();
    expect((await post('/api/resident/codes', { phone })).statusCode).toBe(200);
    const soon = await post('/api/resident/codes', { phone });
    expect(soon.statusCode).toBe(429);
    expect(soon.json<{ code: string; message: string }>()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(soon.json<{ message: string }>().message).toContain('try again in 60 s');
    for (let i = 0; i < 4; i++) {
      clock.advance(61_000);
      expect((await post('/api/resident/codes', { phone })).statusCode).toBe(200);
    }
    clock.advance(61_000);
    const hourly = await post('/api/resident/codes', { phone });
    expect(hourly.statusCode).toBe(429);
    expect(hourly.json<{ message: string }>().message).toContain('too many codes for this phone');

    const ip = '10.9.9.9';
    for (let i = 0; i < 20; i++)
      expect((await post('/api/resident/codes', { phone: newPhone() }, {}, ip)).statusCode).toBe(200);
    const fromAddress = await post('/api/resident/codes', { phone: newPhone() }, {}, ip);
    expect(fromAddress.statusCode).toBe(429);
    expect(fromAddress.json<{ message: string }>().message).toContain('from this address');
  });

  it('routes that need a resident token answer 401 without one', async () => {
    const response = await post('/api/resident/reports', reportBody());
    expect(response.statusCode).toBe(401);
    expect((await server.app.inject({ method: 'GET', url: '/api/resident/reports' })).statusCode).toBe(401);
  });
});

describe('reports, wishes and ratings', () => {
  it('随手拍: a case with channel resident, the phone sealed as its contact; idempotent by clientId; listed as mine', async () => {
    const { phone, token } = await verifiedToken();
    const body = reportBody();
    const created = await post('/api/resident/reports', body, { 'x-resident-token': token });
    expect(created.statusCode).toBe(201);
    const report = created.json<{ caseId: number; kind: string; status: string; gridCode: string }>();
    expect(report).toMatchObject({ kind: 'report', status: 'reported', gridCode: territory.gridA1 });
    const again = await post('/api/resident/reports', body, { authorization: `Bearer ${token}` });
    expect(again.statusCode).toBe(200);
    expect(again.json<{ caseId: number }>().caseId).toBe(report.caseId);
    const row = await one<{
      channel: string;
      reporter_contact_cipher: string;
      reporter_contact_masked: string;
    }>(
      db.orm,
      sql`select channel, reporter_contact_cipher, reporter_contact_masked from grid_case where id = ${report.caseId}`,
    );
    expect(row!.channel).toBe('resident');
    expect(row!.reporter_contact_masked).toBe(`139****${phone.slice(-4)}`);
    expect(row!.reporter_contact_cipher).not.toContain(phone);
    expect(loadSecretBox({ dataDir }).decrypt(row!.reporter_contact_cipher)).toBe(phone);

    const wish = await post('/api/resident/wishes', reportBody({ title: '希望增设健身器材' }), {
      'x-resident-token': token,
    });
    expect(wish.statusCode).toBe(201);
    const wishCase = await one<{ channel: string }>(
      db.orm,
      sql`select channel from grid_case where id = ${wish.json<{ caseId: number }>().caseId}`,
    );
    expect(wishCase!.channel).toBe('wish');

    const mine = await server.app.inject({
      method: 'GET',
      url: '/api/resident/reports',
      headers: { 'x-resident-token': token },
    });
    expect(
      mine
        .json<{ items: { kind: string }[] }>()
        .items.map((i) => i.kind)
        .sort(),
    ).toEqual(['report', 'wish']);
    // another phone sees none of them
    const other = await verifiedToken();
    const theirs = await server.app.inject({
      method: 'GET',
      url: '/api/resident/reports',
      headers: { 'x-resident-token': other.token },
    });
    expect(theirs.json<{ items: unknown[] }>().items).toEqual([]);
    expect(capturedLogs.join('\n')).not.toContain(phone);

    // a photo for my report; not for another phone's
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#3c3' } })
      .png()
      .toBuffer();
    const photo = await server.app.inject({
      method: 'POST',
      url: `/api/resident/reports/${report.caseId}/photos`,
      headers: { 'x-resident-token': token, 'content-type': 'image/png' },
      payload: png,
    });
    expect(photo.statusCode).toBe(201);
    // a retry after a lost answer: the same clientId returns the first photo and stores nothing new
    const clientId = crypto.randomUUID();
    const upload = () =>
      server.app.inject({
        method: 'POST',
        url: `/api/resident/reports/${report.caseId}/photos?clientId=${clientId}`,
        headers: { 'x-resident-token': token, 'content-type': 'image/png' },
        payload: png,
      });
    const firstUpload = await upload();
    const retried = await upload();
    expect([firstUpload.statusCode, retried.statusCode]).toEqual([201, 200]);
    expect(retried.json<{ id: number }>().id).toBe(firstUpload.json<{ id: number }>().id);
    const photos = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from case_photo where case_id = ${report.caseId}`,
    );
    expect(photos?.n).toBe(2);
    const foreign = await server.app.inject({
      method: 'POST',
      url: `/api/resident/reports/${report.caseId}/photos`,
      headers: { 'x-resident-token': other.token, 'content-type': 'image/png' },
      payload: png,
    });
    expect(foreign.statusCode).toBe(404);
  });

  it('rates a closed report of mine (the workflow evaluate); another phone gets 404, not 403', async () => {
    const mine = await verifiedToken();
    const other = await verifiedToken();
    const caseId = (
      await post('/api/resident/reports', reportBody(), { 'x-resident-token': mine.token })
    ).json<{ caseId: number }>().caseId;
    // not closed yet: the workflow refuses
    const early = await post(
      `/api/resident/reports/${caseId}/rate`,
      { evaluation: 'satisfied' },
      { 'x-resident-token': mine.token },
    );
    expect(early.statusCode).toBe(409);
    await db.orm.execute(sql`update grid_case set status = 'closed' where id = ${caseId}`);
    const foreign = await post(
      `/api/resident/reports/${caseId}/rate`,
      { evaluation: 'dissatisfied' },
      { 'x-resident-token': other.token },
    );
    expect(foreign.statusCode).toBe(404);
    const rated = await post(
      `/api/resident/reports/${caseId}/rate`,
      { evaluation: 'basically_satisfied', comment: '修好了,但慢了点' },
      { 'x-resident-token': mine.token },
    );
    expect(rated.statusCode).toBe(200);
    expect(rated.json()).toMatchObject({ status: 'evaluated', evaluation: 'basically_satisfied' });
    const timeline = await one<{ action: string; actor_role: string }>(
      db.orm,
      sql`select action, actor_role from case_timeline where case_id = ${caseId} order by id desc limit 1`,
    );
    expect(timeline).toEqual({ action: 'evaluate', actor_role: 'reporter' });
    // a staff case: 404 too
    expect(
      (
        await post(
          `/api/resident/reports/999999/rate`,
          { evaluation: 'satisfied' },
          { 'x-resident-token': mine.token },
        )
      ).statusCode,
    ).toBe(404);
  });

  it('reports are rate-limited per phone a day (429)', async () => {
    const { token } = await verifiedToken();
    for (let i = 0; i < 10; i++)
      expect(
        (await post('/api/resident/reports', reportBody(), { 'x-resident-token': token })).statusCode,
      ).toBe(201);
    const limited = await post('/api/resident/reports', reportBody(), { 'x-resident-token': token });
    expect(limited.statusCode).toBe(429);
    expect(limited.json<{ message: string }>().message).toContain('daily limit');
  });
});

describe('polls', () => {
  it('a centre creates a poll; each verified phone votes once (second vote 409); results are public', async () => {
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/polls',
      headers: auth(operator),
      payload: {
        clientId: crypto.randomUUID(),
        question: '小区健身广场开放时间?',
        options: ['6:00-21:00', '7:00-22:00'],
        regionCode: territory.communityA,
        openUntil: '2026-12-20T00:00:00Z',
      },
    });
    expect(created.statusCode).toBe(201);
    const pollId = created.json<{ id: number }>().id;
    const voter = await verifiedToken();
    const vote = await post(
      `/api/resident/polls/${pollId}/votes`,
      { option: 1, gridCode: territory.gridA1 },
      { 'x-resident-token': voter.token },
    );
    expect(vote.statusCode).toBe(200);
    expect(vote.json()).toMatchObject({ counts: [0, 1], total: 1 });
    const twice = await post(
      `/api/resident/polls/${pollId}/votes`,
      { option: 0, gridCode: territory.gridA2 },
      { 'x-resident-token': voter.token },
    );
    expect(twice.statusCode).toBe(409);
    expect(twice.json<{ message: string }>().message).toContain('already voted');
    // outside the poll's area
    const outside = await post(
      `/api/resident/polls/${pollId}/votes`,
      { option: 0, gridCode: territory.gridB1 },
      { 'x-resident-token': (await verifiedToken()).token },
    );
    expect(outside.statusCode).toBe(404);
    const results = await server.app.inject({ method: 'GET', url: `/api/public/polls/${pollId}` });
    expect(results.json()).toMatchObject({ counts: [0, 1], total: 1, open: true });
    const page = await server.app.inject({ method: 'GET', url: `/api/public/grids/${territory.gridA1}` });
    expect(page.json<{ polls: { id: number }[] }>().polls.map((p) => p.id)).toContain(pollId);
  });
});

describe('the public grid page', () => {
  it('shows the grid, its workers by display name only; unknown or non-grid codes are 404', async () => {
    await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridB2 }], 'worker-b2-public');
    const page = await server.app.inject({ method: 'GET', url: `/api/public/grids/${territory.gridB2}` });
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({
      grid: { code: territory.gridB2, name: '东林二网格', communityName: '东林社区' },
      workers: [{ displayName: 'worker-b2-public' }],
    });
    expect(
      (await server.app.inject({ method: 'GET', url: `/api/public/grids/${territory.street}` })).statusCode,
    ).toBe(404);
  });
});
