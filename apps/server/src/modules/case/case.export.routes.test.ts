import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { caseExportColumns, type CaseList } from '@wangge/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { defuseCell } from '../../platform/spreadsheet.ts';
import { auth, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { exportCases } from './case.export.ts';
import { actorOfUser, buildWorkflowWorld, type WorkflowWorld } from './case.workflow.fixtures.ts';

let db: Database;
let server: Wangge;
let world: WorkflowWorld;
let dataDir: string;
let admin: TestUser;
const clock = fixedClock('2026-11-20T02:00:00Z');
const ids: Record<string, number> = {};
const sealed = 'SEALED-CIPHER-13812345678';

interface Fixture {
  key: string;
  grid: 'gridA1' | 'gridA2' | 'gridB1' | 'gridB2';
  status: string;
  channel?: string;
  title?: string;
  description?: string;
  reportedAt: string;
  lead?: 'urban' | 'water' | 'eastOnly';
  phone?: boolean;
}

/** Titles a spreadsheet must not run, and text CSV must quote. */
const tricky = {
  formula: '=HYPERLINK("http://evil","点我")',
  plus: '+86 138 0000 0000 来电',
  minus: '-2+3',
  at: '@SUM(A1:A9)',
  spaced: '  =1+1',
  wide: '\u3000-1',
  quoteComma: '他说"井盖,丢了"',
  newline: '第一行\n第二行\r\n第三行',
};

const fixtures: Fixture[] = [
  {
    key: 'a1',
    grid: 'gridA1',
    status: 'dispatched',
    channel: 'hotline',
    title: tricky.formula,
    description: tricky.newline,
    reportedAt: '2026-11-18T16:30:00Z', // China 2026-11-19 00:30
    lead: 'urban',
    phone: true,
  },
  {
    key: 'a2',
    grid: 'gridA1',
    status: 'in_progress',
    title: tricky.plus,
    reportedAt: '2026-11-18T02:00:00Z',
    lead: 'water',
  },
  { key: 'a3', grid: 'gridA2', status: 'closed', title: tricky.minus, reportedAt: '2026-11-10T02:00:00Z' },
  { key: 'a4', grid: 'gridA2', status: 'reported', title: tricky.at, reportedAt: '2026-11-11T02:00:00Z' },
  { key: 'b1', grid: 'gridB1', status: 'filed', title: tricky.spaced, reportedAt: '2026-11-12T02:00:00Z' },
  {
    key: 'b2',
    grid: 'gridB2',
    status: 'in_progress',
    title: tricky.wide,
    reportedAt: '2026-11-13T02:00:00Z',
    lead: 'eastOnly',
  },
  {
    key: 'b3',
    grid: 'gridB2',
    status: 'reported',
    title: tricky.quoteComma,
    reportedAt: '2026-11-14T02:00:00Z',
  },
];

let serial = 0;
async function insert(f: Fixture): Promise<number> {
  serial += 1;
  const owner = f.grid.startsWith('gridA') ? ('communityA' as const) : ('communityB' as const);
  const lead = f.lead ? world.departments[f.lead] : null;
  const id = (await one<{ id: number }>(
    db.orm,
    sql`insert into grid_case (client_id, serial, title, description, category_code, channel, status, location,
          grid_code, region_path, owner_region_code, owner_region_path, owner_level, lead_department_id,
          reporter_name, reporter_contact_cipher, reporter_contact_masked, reported_at)
        values (${crypto.randomUUID()}, ${`2026-230803-${String(800000 + serial)}`}, ${f.title ?? `事件 ${f.key}`},
          ${f.description ?? '描述'}, '0501', ${f.channel ?? 'grid_worker'}, ${f.status},
          st_setsrid(st_makepoint(130.35::float8, 46.85::float8), 4326),
          ${territory[f.grid]}, ${world.paths[f.grid]}, ${territory[owner]}, ${world.paths[owner]}, 'community',
          ${lead}, ${f.phone ? '王女士' : null}, ${f.phone ? sealed : null}, ${f.phone ? '138****5678' : null},
          ${f.reportedAt})
        returning id::int as id`,
  ))!.id;
  if (f.lead)
    await db.orm.execute(sql`insert into case_department (case_id, department_id, role, status, assigned_at)
      values (${id}, ${lead}, 'lead', 'pending', ${f.reportedAt})`);
  return id;
}

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  admin = await makeUser(db, [{ role: 'admin' }]);
  for (const f of fixtures) ids[f.key] = await insert(f);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-case-export-'));
  server = await testServer(db, { clock, config: { dataDir } });
});

afterAll(async () => {
  await server?.app.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** RFC 4180: fields, quoted fields with "" and line breaks; lines end in CRLF. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field !== '' || row.length > 0)
    throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(field)}`);
  return out;
}

async function exportAs(user: TestUser, query: string, headers: Record<string, string> = {}) {
  const response = await server.app.inject({
    method: 'GET',
    url: `/api/cases/export.csv?${query}`,
    headers: { ...auth(user), ...headers },
  });
  return response;
}

async function exported(user: TestUser, query: string) {
  const response = await exportAs(user, query);
  expect(response.statusCode, response.body).toBe(200);
  const [header, ...lines] = parseCsv(response.body.replace(/^\uFEFF/, ''));
  return { response, header: header!, lines };
}

const serialOf = (key: string) =>
  `2026-230803-${String(800000 + fixtures.findIndex((f) => f.key === key) + 1)}`;
const keysOf = (lines: string[][]) =>
  lines.map((l) => fixtures.find((f) => serialOf(f.key) === l[0])?.key ?? l[0]).sort();
const column = (key: (typeof caseExportColumns)[number]['key']) =>
  caseExportColumns.findIndex((c) => c.key === key);

describe('GET /api/cases/export.csv', () => {
  it('401 without a session, 403 without case.read (a resident), 400 for a bad filter, 404 out of scope', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/api/cases/export.csv' })).statusCode).toBe(401);
    expect((await exportAs(world.users.resident, '')).statusCode).toBe(403);
    for (const query of ['state=late', 'from=2026-02-30', 'categoryCode=5', 'lang=fr'])
      expect((await exportAs(admin, query)).statusCode, query).toBe(400);
    for (const region of [territory.communityB, territory.street, '230803009']) {
      const response = await exportAs(world.users.operatorA, `region=${region}`);
      expect(response.statusCode, region).toBe(404);
      expect(response.json()).toEqual({ code: 'NOT_FOUND', message: '未找到 (not found)' });
    }
  });

  it('UTF-8 with a BOM, a Chinese header, CRLF lines, a Chinese file name; English on request', async () => {
    const { response, header, lines } = await exported(admin, 'state=all');
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(header).toEqual(caseExportColumns.map((c) => c.zh));
    expect(lines).toHaveLength(fixtures.length);
    expect(response.headers['x-total-count']).toBe(String(fixtures.length));
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="cases-all-2026-11-20.csv"; filename*=UTF-8''${encodeURIComponent('案件导出-全部-2026-11-20.csv')}`,
    );
    const grid = await exported(admin, `region=${territory.gridA1}&state=all`);
    expect(grid.response.headers['content-disposition']).toContain(
      encodeURIComponent('案件导出-西林一网格-2026-11-20.csv'),
    );
    // newest first
    expect(lines.map((l) => l[0])).toEqual(
      [...fixtures].sort((a, b) => ids[b.key]! - ids[a.key]!).map((f) => serialOf(f.key)),
    );

    const english = await exported(admin, 'state=all&lang=en');
    expect(english.header).toEqual(caseExportColumns.map((c) => c.en));
    const byHeader = await exportAs(admin, 'state=all', { 'accept-language': 'en-GB,en;q=0.9' });
    expect(byHeader.body.split('\r\n')[0]).toBe(`\uFEFF${caseExportColumns.map((c) => c.en).join(',')}`);
    expect(byHeader.headers['content-disposition']).toContain("filename*=UTF-8''cases-all-2026-11-20.csv");
  });

  it('presents each case: labels, China time, the masked phone (never the sealed value)', async () => {
    const { response, lines } = await exported(admin, 'state=all');
    expect(response.body).not.toContain(sealed);
    const a1 = lines.find((l) => l[0] === serialOf('a1'))!;
    const cell = (key: Parameters<typeof column>[0]) => a1[column(key)];
    expect(cell('status')).toBe('已派遣');
    expect(cell('channel')).toBe('热线工单');
    expect(cell('categoryClass')).toBe('公共设施');
    expect(cell('category')).toBe('道路与井盖损坏');
    expect(cell('urgent')).toBe('否');
    expect(cell('overdue')).toBe('否');
    expect(cell('grid')).toBe('西林一网格');
    expect(cell('gridCode')).toBe(territory.gridA1);
    expect(cell('lng')).toBe('130.35');
    expect(cell('lat')).toBe('46.85');
    expect(cell('leadDepartment')).toBe('城管');
    expect(cell('reporter')).toBe('王女士');
    expect(cell('reporterPhone')).toBe('138****5678');
    expect(cell('reportedAt')).toBe('2026-11-19 00:30:00');
    expect(cell('dueAt')).toBe('');
    const english = (await exported(admin, 'state=all&lang=en')).lines.find((l) => l[0] === serialOf('a1'))!;
    expect(english[column('status')]).toBe('Dispatched');
    expect(english[column('channel')]).toBe('Hotline');
    expect(english[column('urgent')]).toBe('No');
  });

  it('quotes commas, quotes and line breaks, and defuses formulas like defuseCell', async () => {
    const { response, lines } = await exported(admin, 'state=all');
    for (const f of fixtures) {
      const line = lines.find((l) => l[0] === serialOf(f.key))!;
      expect(line, f.key).toHaveLength(caseExportColumns.length);
      expect(line[column('title')], f.key).toBe(defuseCell(f.title!));
      expect(line[column('description')], f.key).toBe(defuseCell(f.description ?? '描述'));
    }
    // the guard itself, as bytes
    expect(response.body).toContain(`"'=HYPERLINK(""http://evil"",""点我"")"`);
    expect(response.body).toContain(`"'  =1+1"`);
    expect(response.body).toContain(`"'\u3000-1"`);
    expect(response.body).toContain(`"'+86 138 0000 0000 来电"`);
    expect(response.body).toContain(`"第一行\n第二行\r\n第三行"`);
  });

  it('exports exactly what the list shows each caller: a department handler only their department’s cases', async () => {
    const users = Object.entries(world.users).filter(([name]) => !name.toLowerCase().includes('resident'));
    for (const [name, user] of [...users, ['admin', admin] as const]) {
      const listed = await server.app.inject({
        method: 'GET',
        url: '/api/cases?state=all&limit=5000',
        headers: auth(user),
      });
      const serials = listed
        .json<CaseList>()
        .items.map((i) => i.serial)
        .sort();
      const { lines } = await exported(user, 'state=all');
      expect(lines.map((l) => l[0]).sort(), name).toEqual(serials);
    }
    expect(keysOf((await exported(world.users.handlerWater, 'state=all')).lines)).toEqual(['a2']);
    expect(keysOf((await exported(world.users.handlerUrban, 'state=all')).lines)).toEqual(['a1']);
    expect(keysOf((await exported(world.users.operatorB, 'state=all')).lines)).toEqual(['b1', 'b2', 'b3']);
    // filters that leave the scope's cases out give the header alone
    const none = await exported(world.users.handlerWater, `region=${territory.communityB}&state=all`);
    expect(none.lines).toEqual([]);
    expect(none.response.headers['x-total-count']).toBe('0');
    expect((await exported(world.users.operatorA, 'status=filed')).lines).toEqual([]);
    // the list's filters
    expect(keysOf((await exported(admin, '')).lines)).toEqual(['a1', 'a2', 'a4', 'b1', 'b2', 'b3']);
    expect(keysOf((await exported(admin, 'state=closed')).lines)).toEqual(['a3']);
    expect(keysOf((await exported(admin, 'channel=hotline')).lines)).toEqual(['a1']);
    expect(keysOf((await exported(admin, 'state=all&from=2026-11-12&to=2026-11-14')).lines)).toEqual([
      'b1',
      'b2',
    ]);
  });

  it('reads in windows of ids: every case once, in order, at any batch size, dense or sparse', async () => {
    const whole = async (user: TestUser, batchSize: number) => {
      const result = await exportCases({
        db,
        clock,
        actor: await actorOfUser(db, user),
        query: { state: 'all' },
        language: 'zh',
        requestId: 'test',
        batchSize,
      });
      let text = '';
      for await (const chunk of result.stream) text += String(chunk);
      return text;
    };
    for (const user of [admin, world.users.operatorB, world.users.handlerWater]) {
      const reference = await whole(user, 1000);
      expect(parseCsv(reference.slice(1)).length).toBeGreaterThan(1);
      for (const size of [1, 2, 3, fixtures.length, fixtures.length + 1])
        expect(await whole(user, size), `${user.username} ${size}`).toBe(reference);
    }
    expect(parseCsv((await whole(admin, 2)).slice(1))).toHaveLength(fixtures.length + 1);
  });

  it('stops reading when the client goes away', async () => {
    const actor = await actorOfUser(db, admin);
    // The same database; only its queries are counted.
    let queries = 0;
    const counting: Database = {
      ...db,
      orm: new Proxy(db.orm, {
        get(target, name, receiver) {
          if (name === 'execute')
            return (...args: Parameters<typeof target.execute>) => {
              queries += 1;
              return target.execute(...args);
            };
          return Reflect.get(target, name, receiver) as unknown;
        },
      }),
    };
    const result = await exportCases({
      db: counting,
      clock,
      actor,
      query: { state: 'all' },
      language: 'zh',
      requestId: 'test',
      batchSize: 1,
    });
    const atStart = queries;
    const iterator = result.stream[Symbol.asyncIterator]();
    expect(String((await iterator.next()).value)).toMatch(/^\uFEFF案件编号,/);
    expect(String((await iterator.next()).value)).toMatch(/^2026-230803-/);
    result.stream.destroy();
    await expect(iterator.next()).rejects.toThrow(/premature close/i);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // One case a window: reading it all takes 7 queries; two windows are read ahead of the reader at most.
    expect(queries - atStart).toBeLessThanOrEqual(3);

    // A reader that keeps reading gets every batch.
    queries = 0;
    const again = await exportCases({
      db: counting,
      clock,
      actor,
      query: { state: 'all' },
      language: 'zh',
      requestId: 'test',
      batchSize: 1,
    });
    for await (const chunk of again.stream) expect(chunk).toBeTruthy();
    expect(queries).toBeGreaterThanOrEqual(fixtures.length);
  });

  it('audits each export with its filters and row count, without the search text', async () => {
    await exported(
      world.users.operatorA,
      `region=${territory.gridA1}&state=all&q=${encodeURIComponent('王女士')}`,
    );
    const audit = await rows<{ detail: Record<string, unknown>; actor_id: number; object_id: string }>(
      db.orm,
      sql`select detail, actor_id::int as actor_id, object_id from audit_log
          where action = 'case.exported' order by id desc limit 1`,
    );
    expect(audit[0]).toMatchObject({
      actor_id: world.users.operatorA.id,
      object_id: territory.gridA1,
      detail: { format: 'csv', region: territory.gridA1, state: 'all', searched: true },
    });
    expect(JSON.stringify(audit[0]!.detail)).not.toContain('王女士');
  });
});
