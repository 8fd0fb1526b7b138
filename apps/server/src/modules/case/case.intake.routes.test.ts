import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { loadSecretBox } from '../../platform/crypto.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { auth, buildTerritory, countRows, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { wgs84ToGcj02 } from '../region/gcj02.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let worker: TestUser;
let outsider: TestUser;
let resident: TestUser;
let hotline: TestUser;
let operator: TestUser;

/** Points inside the factory grids (squares of 0.1°) and one inside the city but in no grid. */
const inA1 = { lng: 130.35, lat: 46.85 };
const inB1 = { lng: 130.45, lat: 46.85 };
const nowhere = { lng: 130.1, lat: 46.7 };

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-intake-'));
  server = await testServer(db, { clock, config: { dataDir } });
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
  outsider = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridB2 }]);
  resident = await makeUser(db, [{ role: 'resident', regionCode: territory.gridA1 }]);
  hotline = await makeUser(db, [{ role: 'hotline_operator', regionCode: territory.street }]);
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.communityA }]);
});

afterAll(async () => {
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function caseBody(overrides: Record<string, unknown> = {}) {
  return {
    clientId: crypto.randomUUID(),
    title: '楼道堆放杂物',
    description: '三单元楼道堆满纸箱,堵塞消防通道',
    categoryCode: '0101',
    location: inA1,
    channel: 'grid_worker',
    extra: { parties: 2 },
    ...overrides,
  };
}

const post = (user: TestUser | null, payload: unknown) =>
  server.app.inject({
    method: 'POST',
    url: '/api/cases',
    payload: payload as Record<string, unknown>,
    ...(user ? { headers: auth(user) } : {}),
  });

interface Created {
  id: number;
  serial: string;
  status: string;
  gridCode: string;
  ownerRegionCode: string;
  ownerLevel: string;
  created: boolean;
}

describe('POST /api/cases', () => {
  it('401 without a session, 400 on a malformed body', async () => {
    expect((await post(null, caseBody())).statusCode).toBe(401);
    const response = await post(worker, { ...caseBody(), clientId: 'not-a-uuid' });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
  });

  it('201: a grid worker report is routed to its grid, owned by the community, with a serial, timeline and outbox', async () => {
    const response = await post(worker, caseBody());
    expect(response.statusCode).toBe(201);
    const body = response.json<Created>();
    expect(body).toMatchObject({
      status: 'reported',
      gridCode: territory.gridA1,
      ownerRegionCode: territory.communityA,
      ownerLevel: 'community',
      created: true,
    });
    expect(body.serial).toMatch(/^2026-230803-\d{6}$/);

    const timeline = await rows<{
      action: string;
      from_status: string | null;
      to_status: string;
      actor_role: string;
    }>(
      db.orm,
      sql`select action, from_status, to_status, actor_role from case_timeline where case_id = ${body.id}`,
    );
    expect(timeline).toEqual([
      { action: 'report', from_status: null, to_status: 'reported', actor_role: 'grid_worker' },
    ]);
    const outbox = await rows<{ topic: string; case_id: number }>(
      db.orm,
      sql`select topic, (payload->>'caseId')::int as case_id from outbox where (payload->>'caseId')::int = ${body.id}`,
    );
    expect(outbox).toEqual([{ topic: 'case.created', case_id: body.id }]);
    const stored = await one<{ region_path: string; lng: number }>(
      db.orm,
      sql`select region_path, ST_X(location) as lng from grid_case where id = ${body.id}`,
    );
    expect(stored?.region_path).toBe('230800.230803.001.001.001');
    expect(stored?.lng).toBeCloseTo(inA1.lng, 9);
  });

  it('serials count up per district and year', async () => {
    const a = (await post(worker, caseBody())).json<Created>();
    const b = (await post(worker, caseBody())).json<Created>();
    expect(Number(b.serial.slice(-6))).toBe(Number(a.serial.slice(-6)) + 1);
  });

  it('the same clientId twice returns the first case (200), and a stranger replaying it gets 409', async () => {
    const body = caseBody();
    const first = await post(worker, body);
    const second = await post(worker, { ...body, title: '另一个标题' });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json<Created>().id).toBe(first.json<Created>().id);
    expect(second.json<Created>().created).toBe(false);
    const count = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from grid_case where client_id = ${body.clientId}`,
    );
    expect(count?.n).toBe(1);
    expect((await post(resident, { ...body, channel: 'resident' })).statusCode).toBe(409);
  });

  it('the same clientId sent concurrently stores one case', async () => {
    const body = caseBody();
    const responses = await Promise.all([post(worker, body), post(worker, body), post(worker, body)]);
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 200, 201]);
    expect(new Set(responses.map((r) => r.json<Created>().id)).size).toBe(1);
    const count = await one<{ n: number; timeline: number; outbox: number }>(
      db.orm,
      sql`select count(*)::int as n,
            (select count(*)::int from case_timeline t where t.case_id = max(c.id)) as timeline,
            (select count(*)::int from outbox o where (o.payload->>'caseId')::bigint = max(c.id)) as outbox
          from grid_case c where client_id = ${body.clientId}`,
    );
    expect(count).toEqual({ n: 1, timeline: 1, outbox: 1 });
  });

  it('a point in no grid is refused unless a grid is chosen with a reason', async () => {
    const outside = await post(worker, caseBody({ location: nowhere }));
    expect(outside.statusCode).toBe(400);
    expect(outside.json<{ code: string }>().code).toBe('CASE_OUTSIDE_GRIDS');
    const noReason = await post(worker, caseBody({ location: nowhere, gridCode: territory.gridA1 }));
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json<{ fields: { field: string }[] }>().fields[0]?.field).toBe('gridOverrideReason');
    const withReason = await post(
      worker,
      caseBody({
        location: nowhere,
        gridCode: territory.gridA1,
        gridOverrideReason: '定位漂移,现场在一网格',
      }),
    );
    expect(withReason.statusCode).toBe(201);
    expect(withReason.json<Created>().gridCode).toBe(territory.gridA1);
  });

  it('404 for a grid outside the reporter’s scope, by point or by override', async () => {
    expect((await post(outsider, caseBody())).statusCode).toBe(404);
    const override = await post(
      outsider,
      caseBody({ location: inB1, gridCode: territory.gridA1, gridOverrideReason: '就在隔壁' }),
    );
    expect(override.statusCode).toBe(404);
  });

  it('channels follow the role: a resident may not file a hotline order; a resident report goes to the community', async () => {
    const wrong = await post(resident, caseBody({ channel: 'hotline' }));
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json<{ code: string }>().code).toBe('CASE_CHANNEL_NOT_ALLOWED');
    const ok = await post(
      resident,
      caseBody({ channel: 'resident', anonymous: true, contact: '13812345678' }),
    );
    expect(ok.statusCode).toBe(201);
    expect(ok.json<Created>().ownerRegionCode).toBe(territory.communityA);
    const stored = await one<{ reporter_name: string | null; cipher: string; masked: string }>(
      db.orm,
      sql`select reporter_name, reporter_contact_cipher as cipher, reporter_contact_masked as masked
          from grid_case where id = ${ok.json<Created>().id}`,
    );
    expect(stored?.reporter_name).toBeNull();
    expect(stored?.masked).toBe('138****5678');
    expect(stored?.cipher).toMatch(/^v1:[\w-]{8}:/);
    expect(stored?.cipher).not.toContain('13812345678');

    // Staff see an anonymous report as anonymous: no name in the detail, no reporter on the timeline.
    const id = ok.json<Created>().id;
    const read = (user: TestUser, url: string) =>
      server.app.inject({ method: 'GET', url, headers: auth(user) });
    const detail = await read(operator, `/api/cases/${id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json<{ reporter: unknown }>().reporter).toEqual({
      anonymous: true,
      name: null,
      contact: '138****5678',
    });
    const timeline = await read(operator, `/api/cases/${id}/timeline`);
    expect(timeline.statusCode).toBe(200);
    expect(timeline.json<{ items: { action: string; actor: unknown }[] }>().items[0]).toMatchObject({
      action: 'report',
      actor: null,
    });
    expect(timeline.body).not.toContain(resident.username);
    const own = await read(resident, `/api/cases/${id}/timeline`);
    expect(own.json<{ items: { actor: { id: number } | null }[] }>().items[0]?.actor?.id).toBe(resident.id);
  });

  it('a hotline work order starts at the street; the caller’s phone is stored sealed and masked, never logged', async () => {
    const missing = await post(hotline, caseBody({ channel: 'hotline' }));
    expect(missing.statusCode).toBe(400);
    const phone = '13998765432';
    const response = await post(
      hotline,
      caseBody({
        channel: 'hotline',
        hotline: {
          callerName: '王先生',
          callerPhone: phone,
          callTime: '2026-11-20T09:30:00+08:00',
          workOrderNumber: '12345-20261120-0007',
        },
      }),
    );
    expect(response.statusCode).toBe(201);
    const body = response.json<Created>();
    expect(body).toMatchObject({ ownerRegionCode: territory.street, ownerLevel: 'street' });
    const stored = await one<{ hotline: Record<string, string>; reporter_name: string; text: string }>(
      db.orm,
      sql`select hotline, reporter_name, hotline::text as text from grid_case where id = ${body.id}`,
    );
    expect(stored?.text).not.toContain(phone);
    expect(stored?.hotline.callerPhoneMasked).toBe('139****5432');
    expect(loadSecretBox({ dataDir }).decrypt(stored!.hotline.callerPhoneCipher!)).toBe(phone);
    expect(stored?.reporter_name).toBe('王先生');
    const detail = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${body.id}`,
      headers: auth(hotline),
    });
    expect(detail.json<{ hotline: unknown }>().hotline).toEqual({
      workOrderNumber: '12345-20261120-0007',
      callerName: '王**',
      callerPhoneMasked: '139****5432',
      callTime: '2026-11-20T01:30:00.000Z',
    });
    expect(detail.body).not.toContain(phone);
    expect(detail.body).not.toContain('Cipher');
    expect(capturedLogs.join('\n')).not.toContain(phone);
    expect(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('400 for an unknown or inactive item and for bad extra fields', async () => {
    const unknown = await post(worker, caseBody({ categoryCode: '9999' }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ code: string }>().code).toBe('CASE_INVALID_CATEGORY');
    const extra = await post(worker, caseBody({ extra: { parties: 'many' } }));
    expect(extra.statusCode).toBe(400);
    expect(extra.json<{ fields: { field: string }[] }>().fields.map((f) => f.field)).toContain(
      'extra.parties',
    );
  });

  it('GCJ-02 points (Chinese web maps) are converted before routing', async () => {
    const [lng, lat] = wgs84ToGcj02(inA1.lng, inA1.lat);
    const response = await post(worker, caseBody({ location: { lng, lat, crs: 'gcj02', accuracy: 8 } }));
    expect(response.statusCode).toBe(201);
    const stored = await one<{ lng: number }>(
      db.orm,
      sql`select ST_X(location) as lng from grid_case where id = ${response.json<Created>().id}`,
    );
    expect(stored?.lng).toBeCloseTo(inA1.lng, 5);
  });
});

function multipart(filename: string, contentType: string, bytes: Buffer) {
  const boundary = `----wangge${crypto.randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** The GPS IFD pointer tag (0x8825) in a little-endian EXIF block. */
const hasGps = (exif: Buffer | undefined) => exif !== undefined && exif.includes(Buffer.from([0x25, 0x88]));

describe('case photos', () => {
  let caseId: number;

  beforeAll(async () => {
    caseId = (await post(worker, caseBody())).json<Created>().id;
  });

  it('a JPEG with GPS EXIF is stored re-encoded without any EXIF, and read back in scope only', async () => {
    const original = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'TestCam' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '46/1 51/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '130/1 21/1 0/1',
        },
      })
      .toBuffer();
    expect(hasGps((await sharp(original).metadata()).exif)).toBe(true);

    const upload = multipart('scene.jpg', 'image/jpeg', original);
    const response = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${caseId}/photos`,
      payload: upload.payload,
      headers: { ...upload.headers, ...auth(worker) },
    });
    expect(response.statusCode).toBe(201);
    const photo = response.json<{ id: number; width: number; height: number; contentType: string }>();
    expect(photo).toMatchObject({ width: 64, height: 48, contentType: 'image/jpeg' });

    const read = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${caseId}/photos/${photo.id}`,
      headers: auth(operator),
    });
    expect(read.statusCode).toBe(200);
    expect(read.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(read.rawPayload).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect(read.rawPayload.includes(Buffer.from('TestCam'))).toBe(false);
    // No EXIF (APP1 "Exif\0\0") or XMP block anywhere in the bytes served.
    expect(read.rawPayload.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false);
    expect(read.rawPayload.includes(Buffer.from('http://ns.adobe.com/xap/'))).toBe(false);

    const files = fs.readdirSync(path.join(dataDir, 'photos'), { recursive: true }).map(String);
    expect(files.some((f) => f.endsWith('.jpg'))).toBe(true);

    const stranger = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${caseId}/photos/${photo.id}`,
      headers: auth(outsider),
    });
    expect(stranger.statusCode).toBe(404);
    const anonymous = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${caseId}/photos/${photo.id}`,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('an upload replayed with the same clientId returns the first photo (200) and stores nothing new', async () => {
    const png = await sharp({ create: { width: 16, height: 12, channels: 3, background: '#39c' } })
      .png()
      .toBuffer();
    const clientId = crypto.randomUUID();
    const send = (bytes: Buffer, id: string = clientId) =>
      server.app.inject({
        method: 'POST',
        url: `/api/cases/${caseId}/photos?clientId=${id}`,
        payload: bytes,
        headers: { 'content-type': 'image/png', ...auth(worker) },
      });
    const first = await send(png);
    expect(first.statusCode, first.body).toBe(201);
    const photos = await countRows(db, 'case_photo');
    const files = fs.readdirSync(path.join(dataDir, 'photos'), { recursive: true }).length;
    const again = await send(png);
    expect(again.statusCode).toBe(200);
    expect(again.json<{ id: number }>().id).toBe(first.json<{ id: number }>().id);
    // Even other bytes under the same id are the same upload (the phone re-sent it).
    const other = await sharp({ create: { width: 9, height: 9, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const third = await send(other);
    expect(third.statusCode).toBe(200);
    expect(third.json()).toEqual(first.json());
    expect(await countRows(db, 'case_photo')).toBe(photos);
    expect(fs.readdirSync(path.join(dataDir, 'photos'), { recursive: true }).length).toBe(files);
    // Two uploads racing with a new id: one row.
    const racing = crypto.randomUUID();
    const [a, b] = await Promise.all([send(png, racing), send(png, racing)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 201]);
    expect(a.json<{ id: number }>().id).toBe(b.json<{ id: number }>().id);
    expect(await countRows(db, 'case_photo')).toBe(photos + 1);
    const bad = await send(png, 'not-a-uuid');
    expect(bad.statusCode).toBe(400);
  });

  it('a raw PNG body is accepted and large images are capped at 4096 px', async () => {
    const png = await sharp({ create: { width: 5000, height: 100, channels: 3, background: '#3c3' } })
      .png()
      .toBuffer();
    const response = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${caseId}/photos`,
      payload: png,
      headers: { 'content-type': 'image/png', ...auth(worker) },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json<{ width: number }>().width).toBe(4096);
  });

  it('a text file named .jpg is refused with a clear message', async () => {
    const upload = multipart('photo.jpg', 'image/jpeg', Buffer.from('this is not a picture\n'));
    const response = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${caseId}/photos`,
      payload: upload.payload,
      headers: { ...upload.headers, ...auth(worker) },
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ code: string; message: string }>();
    expect(body.code).toBe('CASE_PHOTO_INVALID');
    expect(body.message).toContain('JPEG');
    expect(body.message).toMatch(/图片/);
  });

  it('429 once the uploader reached the daily quota (China day)', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#cc3' } })
      .png()
      .toBuffer();
    const quotaUser = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
    await db.orm
      .execute(sql`insert into case_photo (case_id, storage_key, content_type, bytes, uploaded_by, created_at)
      select ${caseId}, 'quota/' || n || '.jpg', 'image/jpeg', 1, ${quotaUser.id}, ${clock.now().toISOString()}
      from generate_series(1, 200) as n`);
    const response = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${caseId}/photos`,
      payload: png,
      headers: { 'content-type': 'image/png', ...auth(quotaUser) },
    });
    expect(response.statusCode).toBe(429);
    expect(response.json<{ code: string }>().code).toBe('CASE_PHOTO_QUOTA');
  });

  it('404 for someone out of scope, 401 without a session', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#33c' } })
      .png()
      .toBuffer();
    const headers = { 'content-type': 'image/png' };
    const outside = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${caseId}/photos`,
      payload: png,
      headers: { ...headers, ...auth(outsider) },
    });
    expect(outside.statusCode).toBe(404);
    const missing = await server.app.inject({
      method: 'POST',
      url: `/api/cases/999999/photos`,
      payload: png,
      headers: { ...headers, ...auth(worker) },
    });
    expect(missing.statusCode).toBe(404);
    const anonymous = await server.app.inject({
      method: 'POST',
      url: `/api/cases/${caseId}/photos`,
      payload: png,
      headers,
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
