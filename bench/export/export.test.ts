import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflowWorld } from '../../apps/server/src/modules/case/case.workflow.fixtures.ts';
import { fixedClock } from '../../apps/server/src/platform/clock.ts';
import { one, sql, type Database } from '../../apps/server/src/platform/db.ts';
import type { Wangge } from '../../apps/server/src/server.ts';
import { makeUser, territory } from '../../apps/server/src/test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../apps/server/src/test/harness.ts';
import { checkRead, exportHeader, rawHeader, rawQuery, readInChild } from './export.ts';
import { RecordCounter, type ReadResult } from './read-child.ts';

const count = (...chunks: string[]) => {
  const counter = new RecordCounter();
  for (const chunk of chunks) counter.push(Buffer.from(chunk));
  return { records: counter.finish(), first: counter.firstLine };
};

const good: ReadResult = {
  status: 200,
  bytes: 100,
  records: 4,
  seconds: 1,
  firstLine: exportHeader,
  bom: true,
};

describe('W7 checks', () => {
  it('counts CSV records, line breaks inside quotes included, across chunk edges', () => {
    expect(count('a,b\r\n1,"x\r\ny"\r\n2,"say ""hi"""\r\n')).toEqual({ records: 3, first: 'a,b' });
    expect(count('a,', 'b\r', '\n1,"x\n', 'y",z\n2,"', '""', '"\n').records).toBe(3);
    expect(() => count('a,b\r\n1,"open\r\n')).toThrow(/inside a quoted field/);
    expect(() => count('a,b\r\n1,2')).toThrow(/line break/);
  });

  it('throws on a short export, a wrong header, a missing BOM or a failed request', () => {
    expect(checkRead('wangge', good, 3, exportHeader)).toEqual({ rows: 3 });
    expect(() => checkRead('wangge', { ...good, records: 3 }, 3, exportHeader)).toThrow(/2 rows, expected 3/);
    expect(() => checkRead('raw', { ...good, records: 5 }, 3, exportHeader)).toThrow(/4 rows, expected 3/);
    expect(() => checkRead('wangge', { ...good, firstLine: 'serial,title' }, 3, exportHeader)).toThrow(
      /header/,
    );
    expect(() => checkRead('wangge', { ...good, bom: false }, 3, exportHeader)).toThrow(/BOM/);
    expect(() => checkRead('wangge', { ...good, status: 500, error: 'boom' }, 3, exportHeader)).toThrow(
      /status 500: boom/,
    );
  });

  it('reads over HTTP in a child process; a short or cut-off export fails the round', async () => {
    const served = http.createServer((request, response) => {
      response.setHeader('content-type', 'text/csv; charset=utf-8');
      if (request.url === '/cut') {
        response.write(`\uFEFF${exportHeader}\r\n1,"never closed`);
        setTimeout(() => response.destroy(), 20);
        return;
      }
      // two rows where three were expected
      response.end(`\uFEFF${exportHeader}\r\nA,"x,y"\r\nB,"multi\r\nline"\r\n`);
    });
    await new Promise<void>((resolve) => served.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(served.address() as AddressInfo).port}`;
    try {
      const short = await readInChild({ kind: 'http', url: `${base}/short` });
      expect(short).toMatchObject({ status: 200, records: 3, bom: true, firstLine: exportHeader });
      expect(() => checkRead('wangge', short, 3, exportHeader)).toThrow(/2 rows, expected 3/);
      await expect(readInChild({ kind: 'http', url: `${base}/cut` })).rejects.toThrow(/W7 reader/);
    } finally {
      served.close();
    }
  });
});

// The raw side is psql against PostgreSQL: PostgreSQL only.
describe.skipIf(!process.env.DATABASE_URL)('W7 both sides on a small database', () => {
  let db: Database;
  let server: Wangge;
  let dataDir: string;
  let databaseUrl: string;
  let token: string;

  beforeAll(async () => {
    db = await testDatabase();
    await resetDatabase(db);
    const world = await buildWorkflowWorld(db);
    const titles = ['=1+1', '他说"井盖,丢了"', '第一行\n第二行', '普通', '@x'];
    for (const [i, title] of titles.entries())
      await db.orm
        .execute(sql`insert into grid_case (client_id, serial, title, category_code, channel, status,
          grid_code, region_path, owner_region_code, owner_region_path, owner_level, reported_at)
        values (${crypto.randomUUID()}, ${`2026-230803-${900000 + i}`}, ${title}, '0501', 'grid_worker', 'reported',
          ${territory.gridA1}, ${world.paths.gridA1}, ${territory.communityA}, ${world.paths.communityA},
          'community', now())`);
    token = (await makeUser(db, [{ role: 'admin' }])).token;
    const name = await one<{ name: string }>(db.orm, sql`select current_database() as name`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name!.name}`;
    databaseUrl = url.toString();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-w7-'));
    server = await testServer(db, { clock: fixedClock('2026-11-20T02:00:00Z'), config: { dataDir } });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await server?.app.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('Wangge and COPY return the same cases, as many as the database holds', async () => {
    const expected = (await one<{ n: number }>(db.orm, sql`select count(*)::int as n from grid_case`))!.n;
    expect(expected).toBe(5);
    const port = (server.app.server.address() as AddressInfo).port;
    const wangge = await readInChild({
      kind: 'http',
      url: `http://127.0.0.1:${port}/api/cases/export.csv?state=all`,
      headers: { authorization: `Bearer ${token}` },
    });
    const raw = await readInChild({ kind: 'psql', databaseUrl, query: rawQuery(null) });
    expect(checkRead('wangge', wangge, expected, exportHeader)).toEqual({ rows: 5 });
    expect(checkRead('raw', raw, expected, rawHeader)).toEqual({ rows: 5 });
    // One more case than counted: both sides fail the check.
    expect(() => checkRead('wangge', wangge, expected + 1, exportHeader)).toThrow(/expected 6/);
    expect(() => checkRead('raw', raw, expected + 1, rawHeader)).toThrow(/expected 6/);
    // A broken raw query fails loudly.
    await expect(
      readInChild({ kind: 'psql', databaseUrl, query: 'select no_such_column from grid_case' }).then((r) =>
        checkRead('raw', r, expected, rawHeader),
      ),
    ).rejects.toThrow(/status 500/);
  });
});
