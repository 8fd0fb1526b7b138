import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from './audit.ts';
import { one, openDatabase, sql, type Database } from './db.ts';
import { migrate } from './migrate.ts';
import { resetDatabase, testDatabase } from '../test/harness.ts';

let db: Database;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
});

async function appendSome(count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await db.orm.transaction((tx) =>
      appendAudit(
        tx,
        {
          actorId: i,
          actorRole: 'admin',
          action: 'test.did',
          objectType: 'thing',
          objectId: String(i),
          result: 'success',
          requestId: `r${i}`,
          // Chinese, quotes, backslashes, nulls and fractions: the database hashes what TypeScript verifies.
          detail: { n: i, z: 'a', a: true, 区域: `西林街道 "第${i}网格" \\ 测试`, none: null, f: 1.5 },
        },
        new Date(Date.UTC(2026, 10, 20, 0, 0, i)),
      ),
    );
}

describe('audit chain', () => {
  it('verifies a clean chain, and concurrent appends never fork it', async () => {
    await appendSome(5);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.orm.transaction((tx) =>
          appendAudit(
            tx,
            { actorId: 99, actorRole: null, action: 'test.parallel', result: 'success', detail: { i } },
            new Date(),
          ),
        ),
      ),
    );
    const result = await verifyAuditChain(db.orm);
    expect(result).toEqual({ ok: true, checked: 15, problems: [] });
  });

  it('refuses UPDATE and DELETE through the append-only trigger', async () => {
    await expect(db.orm.execute(sql`update audit_log set result = 'failure' where id = 1`)).rejects.toThrow();
    await expect(db.orm.execute(sql`delete from audit_log where id = 1`)).rejects.toThrow();
  });

  it('a rolled-back transaction leaves no audit row', async () => {
    const before = await one<{ n: number }>(db.orm, sql`select count(*)::int as n from audit_log`);
    await expect(
      db.orm.transaction(async (tx) => {
        await appendAudit(
          tx,
          { actorId: 1, actorRole: null, action: 'test.rollback', result: 'success' },
          new Date(),
        );
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const after = await one<{ n: number }>(db.orm, sql`select count(*)::int as n from audit_log`);
    expect(after?.n).toBe(before?.n);
    expect((await verifyAuditChain(db.orm)).ok).toBe(true);
  });

  it('detects an edited row and a deleted row (by someone who disabled the trigger)', async () => {
    await db.execScript('alter table audit_log disable trigger audit_log_no_update');
    try {
      await db.orm.execute(sql`update audit_log set object_id = 'tampered' where id = 3`);
      let result = await verifyAuditChain(db.orm);
      expect(result.ok).toBe(false);
      expect(result.problems.join('\n')).toContain('row 3: content does not match its hash');
      // Restore row 3's content; now delete row 7 instead.
      await db.orm.execute(sql`update audit_log set object_id = '2' where id = 3`);
      expect((await verifyAuditChain(db.orm)).ok).toBe(true);
      await db.orm.execute(sql`delete from audit_log where id = 7`);
      result = await verifyAuditChain(db.orm);
      expect(result.ok).toBe(false);
      expect(result.problems.join('\n')).toMatch(/row 7 missing/);
    } finally {
      await db.execScript('alter table audit_log enable trigger audit_log_no_update');
    }
  });
});

describe('npm run wangge -- audit-verify', () => {
  it('exits 0 on a clean database and 1 after a row is edited by hand', async () => {
    // The CLI opens the database the way an operator would: DATABASE_URL, or a PGlite data dir.
    let target: Database;
    let env: NodeJS.ProcessEnv;
    let reopen: () => Promise<Database>;
    if (process.env.DATABASE_URL) {
      const url = new URL(process.env.DATABASE_URL);
      url.pathname = `/${(await one<{ db: string }>(db.orm, sql`select current_database() as db`))!.db}`;
      await resetDatabase(db);
      target = db;
      env = { ...process.env, DATABASE_URL: url.toString() };
      reopen = () => Promise.resolve(db);
    } else {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-audit-'));
      target = await openDatabase({ dataDir });
      await migrate(target);
      env = { ...process.env, WANGGE_DATA_DIR: dataDir };
      reopen = () => openDatabase({ dataDir });
    }
    for (let i = 0; i < 4; i++)
      await target.orm.transaction((tx) =>
        appendAudit(tx, { actorId: i, actorRole: null, action: 'test.cli', result: 'success' }, new Date()),
      );
    if (target !== db) await target.close();

    const run = promisify(execFile);
    const ok = await run('npx', ['tsx', 'apps/server/src/cli.ts', 'audit-verify'], { env });
    expect(ok.stdout).toContain('audit chain ok: 4 rows verified');

    const editable = await reopen();
    await editable.execScript('alter table audit_log disable trigger audit_log_no_update');
    await editable.orm.execute(sql`update audit_log set action = 'edited' where id = 2`);
    await editable.execScript('alter table audit_log enable trigger audit_log_no_update');
    if (editable !== db) await editable.close();

    const broken = await run('npx', ['tsx', 'apps/server/src/cli.ts', 'audit-verify'], { env }).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('row 2: content does not match its hash');
  }, 240_000);
});
