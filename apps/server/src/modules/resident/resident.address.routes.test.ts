import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, sql, type Database } from '../../platform/db.ts';
import { buildTerritory, territory } from '../../test/factories.ts';
import { capturedLogs, resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { ensureDefaultTaxonomy } from '../taxonomy/index.ts';

/** 随手拍 without GPS (location denied, indoors): a typed address inside the grid of the page. */

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let phoneCounter = 0;
let address = 0;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-resident-address-'));
  server = await testServer(db, { clock, config: { dataDir } });
});

afterAll(async () => {
  await server.app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  address += 1;
  return server.app.inject({
    method: 'POST',
    url,
    headers,
    payload: payload as object,
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

/** A fresh verified phone per test: rate limits of one test do not leak into another. */
async function residentHeaders(): Promise<Record<string, string>> {
  phoneCounter += 1;
  const phone = `1371234${String(1000 + phoneCounter).padStart(4, '0')}`;
  expect((await post('/api/resident/codes', { phone })).statusCode).toBe(200);
  const verified = await post('/api/resident/verify', { phone, code: loggedCode(phone) });
  expect(verified.statusCode).toBe(200);
  return { 'x-resident-token': verified.json<{ token: string }>().token };
}

function addressOnly(overrides: Record<string, unknown> = {}) {
  return {
    clientId: crypto.randomUUID(),
    title: '楼道灯坏了',
    description: '3 号楼 2 单元楼道灯不亮',
    gridCode: territory.gridB2,
    address: '3 号楼 2 单元',
    ...overrides,
  };
}

describe('a report with a typed address instead of a point', () => {
  it('is a case of the page’s grid with the address, placed inside the grid and marked approximate; idempotent', async () => {
    const headers = await residentHeaders();
    const body = addressOnly();
    const created = await post('/api/resident/reports', body, headers);
    expect(created.statusCode).toBe(201);
    const report = created.json<{ caseId: number; gridCode: string }>();
    expect(report.gridCode).toBe(territory.gridB2);

    const row = await one<{ grid_code: string; address: string; reason: string; inside: boolean }>(
      db.orm,
      sql`select c.grid_code, c.address, c.grid_override_reason as reason,
            ST_Covers(b.geom, c.location) as inside
          from grid_case c join region_boundary b on b.region_code = c.grid_code and b.valid_to is null
          where c.id = ${report.caseId}`,
    );
    expect(row).toEqual({
      grid_code: territory.gridB2,
      address: '3 号楼 2 单元',
      reason: '居民未提供定位,按所在网格登记 (no GPS from the resident: placed at the grid)',
      inside: true,
    });
    const timeline = await one<{ data: { approximate?: boolean; gridCode: string } }>(
      db.orm,
      sql`select data from case_timeline where case_id = ${report.caseId} and action = 'report'`,
    );
    expect(timeline!.data).toMatchObject({ approximate: true, gridCode: territory.gridB2 });

    // the same clientId again: the first case, not a second one
    const again = await post('/api/resident/reports', body, headers);
    expect(again.statusCode).toBe(200);
    expect(again.json<{ caseId: number }>().caseId).toBe(report.caseId);
    const count = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from grid_case where client_id = ${body.clientId}`,
    );
    expect(count!.n).toBe(1);

    // a wish too
    const wish = await post('/api/resident/wishes', addressOnly({ gridCode: territory.gridA2 }), headers);
    expect(wish.statusCode).toBe(201);
    expect(wish.json<{ gridCode: string }>().gridCode).toBe(territory.gridA2);
  });

  it('with a point the point still decides the grid (the page’s grid is not an override)', async () => {
    const headers = await residentHeaders();
    const created = await post(
      '/api/resident/reports',
      addressOnly({ location: { lng: 130.35, lat: 46.85 } }),
      headers,
    );
    expect(created.statusCode).toBe(201);
    const report = created.json<{ caseId: number; gridCode: string }>();
    expect(report.gridCode).toBe(territory.gridA1);
    const row = await one<{ reason: string | null }>(
      db.orm,
      sql`select grid_override_reason as reason from grid_case where id = ${report.caseId}`,
    );
    expect(row!.reason).toBeNull();
  });

  it('without a point and without grid or address: 400 with field messages', async () => {
    const headers = await residentHeaders();
    const neither = await post(
      '/api/resident/reports',
      addressOnly({ gridCode: undefined, address: undefined }),
      headers,
    );
    expect(neither.statusCode).toBe(400);
    const fields = neither.json<{ fields: { field: string; message: string }[] }>().fields;
    expect(fields.map((f) => f.field).sort()).toEqual(['body.address', 'body.location']);
    expect(fields.find((f) => f.field === 'body.address')!.message).toContain('未定位时须填写详细地址');

    const short = await post('/api/resident/reports', addressOnly({ address: '3号' }), headers);
    expect(short.statusCode).toBe(400);
    expect(short.json<{ fields: { field: string }[] }>().fields).toEqual([
      expect.objectContaining({ field: 'body.address' }),
    ]);
    const badGrid = await post('/api/resident/reports', addressOnly({ gridCode: '2308' }), headers);
    expect(badGrid.statusCode).toBe(400);
  });

  it('an unknown grid or a grid whose boundary was closed (re-gridded): 404, no case', async () => {
    const headers = await residentHeaders();
    const unknown = await post(
      '/api/resident/reports',
      addressOnly({ gridCode: '230803009009009' }),
      headers,
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ message: string }>().message).toContain('grid not found');

    await db.orm.execute(
      sql`update region_boundary set valid_to = ${clock.now().toISOString()}
          where region_code = ${territory.gridB1} and valid_to is null`,
    );
    const closed = await post('/api/resident/reports', addressOnly({ gridCode: territory.gridB1 }), headers);
    expect(closed.statusCode).toBe(404);
    const cases = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from grid_case where grid_code in (${territory.gridB1}, '230803009009009')`,
    );
    expect(cases!.n).toBe(0);
  });
});
