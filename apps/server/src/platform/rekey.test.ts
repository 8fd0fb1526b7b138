import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from '@wangge/contracts';
import { ensureDefaultTaxonomy } from '../modules/taxonomy/index.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../test/harness.ts';
import type { Wangge } from '../server.ts';
import { fixedClock } from './clock.ts';
import { createSecretBox, keyIdOf, loadSecretBox } from './crypto.ts';
import { one, rows, sql, type Database } from './db.ts';
import { resealAll, sealedColumns } from './rekey.ts';

/**
 * Key rotation end to end: values sealed with the old key are re-sealed with the new one, after which a server
 * that knows only the new key still reveals them; the lookup hashes keep finding them.
 */

const clock = fixedClock('2026-11-20T02:00:00Z');
const person = { id: '11010519491231002X', phone: '13812345678' };
const callerPhone = '13987654321';
const contact = '13700001111';

let db: Database;
let dataDir: string;
let server: Wangge;
let worker: TestUser;
let operator: TestUser;
let personId: number;
let caseId: number;
const oldKey = () => fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8').trim();
const newKey = crypto.randomBytes(32).toString('base64');
const saved = { ...process.env };

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  await ensureDefaultTaxonomy(db.orm);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-rekey-'));
  delete process.env.WANGGE_SECRET_KEY;
  delete process.env.WANGGE_SECRET_KEYS_PREVIOUS;
  server = await testServer(db, { clock, config: { dataDir } });
  worker = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA1 }]);
  operator = await makeUser(db, [
    { role: 'centre_operator', regionCode: territory.street },
    { role: 'hotline_operator', regionCode: territory.street },
  ]);
  const created = await server.app.inject({
    method: 'POST',
    url: '/api/persons',
    headers: auth(worker),
    payload: {
      name: '周大姐',
      gender: 'female',
      idNumber: person.id,
      phone: person.phone,
      gridCode: territory.gridA1,
      tags: [],
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  personId = created.json<Person>().id;
  const reported = await server.app.inject({
    method: 'POST',
    url: '/api/cases',
    headers: auth(operator),
    payload: {
      clientId: crypto.randomUUID(),
      title: '井盖缺失',
      description: '胜利路口井盖缺失',
      categoryCode: '0101',
      location: { lng: 130.35, lat: 46.85 },
      channel: 'hotline',
      contact,
      extra: { parties: 1 },
      hotline: {
        callerName: '王先生',
        callerPhone,
        callTime: '2026-11-20T09:30:00+08:00',
        workOrderNumber: '12345-20261120-0009',
      },
    },
  });
  expect(reported.statusCode, reported.body).toBe(201);
  caseId = reported.json<{ id: number }>().id;
  const old = loadSecretBox({ dataDir, env: {} });
  await db.orm
    .execute(sql`insert into organisation (name, kind, safety_name, safety_phone_cipher, safety_phone_key_id,
      safety_phone_hash, safety_phone_masked, grid_code, region_path)
    select '好运来超市', 'shop', '钱老板', ${old.encrypt('13600002222')}, ${old.keyId}, 'h', '136****2222', code, path
    from region where code = ${territory.gridA1}`);
  await db.orm
    .execute(sql`insert into webhook_endpoint (url, secret, event_types, allow_private, created_by, created_at)
    values ('https://hooks.example.cn/in', ${old.encrypt('whsec_test')}, '{case.created}', false, ${operator.id},
      now())`);
  await db.orm.execute(sql`with c as (insert into open311_client (name, api_key_hash, user_id, created_at)
      values ('随手拍 App', 'hash', ${operator.id}, now()) returning id)
    insert into open311_request (case_id, client_id, token, reporter_cipher, created_at)
    select ${caseId}, c.id, ${crypto.randomUUID()}, ${old.encrypt('{"email":"a@b.cn"}')}, now() from c`);
  await db.orm
    .execute(sql`insert into hotline_triage (dedupe_key, source, "order", reason, message, created_at)
    values ('12345:W-1', '12345', ${JSON.stringify({ callerName: '王先生', callerPhoneCipher: old.encrypt(callerPhone) })}::jsonb,
      'unmapped_classification', '未映射', now())`);
  await db.orm.execute(sql`insert into registry_import (kind, mode, client_id, created_by, status, total_rows,
      imported_rows, rejected_rows, file, file_key_id)
    values ('persons', 'all_or_nothing', ${crypto.randomUUID()}, ${operator.id}, 'rejected', 1, 0, 1,
      convert_to(${old.encrypt(Buffer.from('PK-workbook').toString('base64'))}, 'UTF8'), ${old.keyId})`);
  await server.app.close();
});

afterAll(() => {
  process.env = saved;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('wangge rekey (re-sealing after a key rotation)', () => {
  it('covers every sealed column of the schema', async () => {
    const stored = await rows<{ name: string }>(
      db.orm,
      sql`select table_name || '.' || column_name as name from information_schema.columns
          where table_schema = current_schema() and (column_name like '%\\_cipher' or
            (table_name = 'webhook_endpoint' and column_name = 'secret'))
          order by 1`,
    );
    const covered = new Set(sealedColumns.map((c) => c.covers));
    expect(stored.map((s) => s.name).filter((name) => !covered.has(name))).toEqual([]);
    // a key id column means a sealed value beside it, whatever its name
    const keyed = await rows<{ name: string }>(
      db.orm,
      sql`select distinct table_name as name from information_schema.columns
          where table_schema = current_schema() and column_name like '%key\_id' order by 1`,
    );
    const tables = new Set(sealedColumns.map((c) => c.table));
    expect(keyed.map((k) => k.name).filter((table) => !tables.has(table))).toEqual([]);
  });

  it('re-seals every value with the new key; a server with only the new key reveals them', async () => {
    const rotated = loadSecretBox({
      dataDir,
      env: { WANGGE_SECRET_KEY: newKey, WANGGE_SECRET_KEYS_PREVIOUS: oldKey() },
    });
    const newId = keyIdOf(Buffer.from(newKey, 'base64'));
    expect(rotated.keyId).toBe(newId);
    const report = await resealAll(db, rotated, { batchSize: 1 });
    expect(report.resealed).toMatchObject({
      'person.id': 1,
      'person.phone': 1,
      'organisation.safety_phone': 1,
      'case.reporter_contact': 1,
      'case.hotline_caller_phone': 1,
      'webhook_endpoint.secret': 1,
      'registry_import.file': 1,
      'open311_request.reporter': 1,
      'hotline_triage.caller_phone': 1,
    });
    expect(Object.values(report.unreadable).reduce((a, b) => a + b, 0)).toBe(0);
    // nothing left under another key, key id columns follow
    const onlyNew = createSecretBox(Buffer.from(newKey, 'base64'));
    const p = await one<Record<string, string>>(
      db.orm,
      sql`select id_cipher, id_key_id, phone_cipher, phone_key_id from person where id = ${personId}`,
    );
    expect(p).toMatchObject({ id_key_id: newId, phone_key_id: newId });
    expect(onlyNew.decrypt(p!.id_cipher!)).toBe(person.id);
    expect(onlyNew.decrypt(p!.phone_cipher!)).toBe(person.phone);
    const c = await one<{ contact: string; caller: string }>(
      db.orm,
      sql`select reporter_contact_cipher as contact, hotline ->> 'callerPhoneCipher' as caller from grid_case
          where id = ${caseId}`,
    );
    expect(onlyNew.decrypt(c!.contact)).toBe(contact);
    expect(onlyNew.decrypt(c!.caller)).toBe(callerPhone);
    const o = await one<{ cipher: string; key: string }>(
      db.orm,
      sql`select safety_phone_cipher as cipher, safety_phone_key_id as key from organisation`,
    );
    expect(o).toMatchObject({ key: newId });
    expect(onlyNew.decrypt(o!.cipher)).toBe('13600002222');
    const w = await one<{ secret: string }>(db.orm, sql`select secret from webhook_endpoint`);
    expect(onlyNew.decrypt(w!.secret)).toBe('whsec_test');

    const f = await one<{ file: string; key: string }>(
      db.orm,
      sql`select convert_from(file, 'UTF8') as file, file_key_id as key from registry_import`,
    );
    expect(f!.key).toBe(newId);
    const r = await one<{ cipher: string }>(
      db.orm,
      sql`select reporter_cipher as cipher from open311_request`,
    );
    expect(onlyNew.decrypt(r!.cipher)).toBe('{"email":"a@b.cn"}');
    expect(Buffer.from(onlyNew.decrypt(f!.file), 'base64').toString()).toBe('PK-workbook');

    const h = await one<{ cipher: string }>(
      db.orm,
      sql`select "order" ->> 'callerPhoneCipher' as cipher from hotline_triage`,
    );
    expect(onlyNew.decrypt(h!.cipher)).toBe(callerPhone);

    // Again: nothing to do.
    const again = await resealAll(db, rotated);
    expect(Object.values(again.resealed).reduce((a, b) => a + b, 0)).toBe(0);

    // The old key retired: a server that has only the new key reveals and finds the person.
    process.env.WANGGE_SECRET_KEY = newKey;
    delete process.env.WANGGE_SECRET_KEYS_PREVIOUS;
    const fresh = await testServer(db, { clock, config: { dataDir } });
    try {
      const reveal = await fresh.app.inject({
        method: 'POST',
        url: `/api/persons/${personId}/reveal`,
        headers: auth(operator),
        payload: { field: 'idNumber', reason: '核实身份信息' },
      });
      expect(reveal.statusCode, reveal.body).toBe(200);
      expect(reveal.json<{ value: string }>().value).toBe(person.id);
      const found = await fresh.app.inject({
        method: 'GET',
        url: `/api/persons?q=${person.phone}`,
        headers: auth(operator),
      });
      expect(found.json<{ items: { id: number }[] }>().items.map((i) => i.id)).toEqual([personId]);
    } finally {
      await fresh.app.close();
    }
  });

  it('counts values sealed with a key it does not have, and leaves them as they were', async () => {
    const unknown = createSecretBox(crypto.randomBytes(32));
    const sealed = unknown.encrypt('whsec_lost');
    await db.orm.execute(sql`update webhook_endpoint set secret = ${sealed}`);
    // an anonymised person (the retention job empties the sealed columns) is not a value to re-seal
    await db.orm.execute(sql`update person set id_cipher = '', id_key_id = 'none', phone_cipher = null,
      phone_key_id = null, phone_hash = null`);
    const rotated = loadSecretBox({ dataDir, env: { WANGGE_SECRET_KEY: newKey } });
    const report = await resealAll(db, rotated);
    expect(report.unreadable).toMatchObject({
      'webhook_endpoint.secret': 1,
      'person.id': 0,
      'person.phone': 0,
    });
    expect((await one<{ secret: string }>(db.orm, sql`select secret from webhook_endpoint`))!.secret).toBe(
      sealed,
    );
  });
});
