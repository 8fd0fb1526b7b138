import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import { loadSecretBox } from '../../platform/crypto.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { auth, countRows, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testConfig, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { buildWorkflowWorld, insertCase, type WorkflowWorld } from '../case/case.workflow.fixtures.ts';
import { open311PublicRoutes } from './index.ts';

// ——— the GeoReport v2 JSON Schemas, loaded with their relative $refs ———
// The GeoReport v2 schemas, kept beside this test (georeport-v2/README.md); the project's shared copy, when this
// checkout has one next to it, must be the same.
const schemaDir = path.resolve(import.meta.dirname, 'georeport-v2');
const sharedSchemaDir = path.resolve(import.meta.dirname, '../../../../../../shared/open311/georeport-v2');
const ajv = new Ajv({ strict: false, allErrors: true });
// CommonJS: the plugin itself at runtime (its type declarations put it under `.default`).
const addFormats = formats as unknown as (instance: Ajv) => Ajv;
addFormats(ajv);
for (const file of fs.readdirSync(schemaDir).filter((f) => f.endsWith('.json')))
  ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, file), 'utf8')) as object, file);
const schema = (name: string): ValidateFunction => ajv.getSchema(name)!;

function expectValid(name: string, body: unknown): void {
  const validate = schema(name);
  const ok = validate(body);
  expect(ok, `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

// ——— XML: well-formed, and the same fields and values as its JSON twin ———
const listTags: Record<string, string> = {
  services: 'service',
  service_requests: 'request',
  attributes: 'attribute',
  values: 'value',
  endpoints: 'endpoint',
  formats: 'format',
  errors: 'error',
  service_request_updates: 'request_update',
};
const itemTagNames = new Set(Object.values(listTags));
const parser = new XMLParser({
  parseTagValue: false,
  ignoreDeclaration: true,
  trimValues: false,
  isArray: (name) => itemTagNames.has(name),
});

/** XML node → the JSON shape (lists unwrapped, every leaf a string, an empty element ''). */
function fromXml(tag: string, node: unknown): unknown {
  const itemTag = listTags[tag];
  if (itemTag !== undefined) {
    if (node === '' || node === undefined) return [];
    const items = (node as Record<string, unknown>)[itemTag] as unknown[];
    return items.map((item) => fromXml(itemTag, item));
  }
  if (node !== null && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fromXml(k, v)]));
  return node;
}

/** JSON value → what its XML twin must read: null '', numbers and booleans as text. */
function asXmlText(value: unknown): unknown {
  if (value === null) return '';
  if (Array.isArray(value)) return value.map(asXmlText);
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asXmlText(v)]));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return value;
}

function expectTwin(xml: string, root: string, json: unknown): void {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  expect(XMLValidator.validate(xml)).toBe(true);
  const parsed = parser.parse(xml) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual([root]);
  expect(fromXml(root, parsed[root])).toEqual(asXmlText(json));
}

// ——— the world ———
let db: Database;
let server: Wangge;
let world: WorkflowWorld;
let admin: TestUser;
let base: string;
let appKey: string;
let urbanKey: string;
let urbanClientId: number;
const clock = fixedClock('2026-11-20T02:00:00Z');
const secrets = loadSecretBox({ dataDir: testConfig().dataDir });
const inA1 = { lat: '46.85', long: '130.35' };
const phone = '13912345678';
const email = 'wang.xiaoming@example.cn';

const get = (url: string) => fetch(`${base}${url}`);
const post = (url: string, form: [string, string][]) =>
  fetch(`${base}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams(form).toString(),
  });

/** GETs the .json and .xml twins; checks the XML against the JSON; returns the JSON and both raw bodies. */
async function twins(url: string, root: string, status = 200): Promise<{ json: unknown; raw: string }> {
  const [jsonResponse, xmlResponse] = await Promise.all([
    get(url.replace('{format}', 'json')),
    get(url.replace('{format}', 'xml')),
  ]);
  expect(jsonResponse.status, url).toBe(status);
  expect(xmlResponse.status, url).toBe(status);
  expect(jsonResponse.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(xmlResponse.headers.get('content-type')).toBe('text/xml; charset=utf-8');
  const rawJson = await jsonResponse.text();
  const rawXml = await xmlResponse.text();
  const json = JSON.parse(rawJson) as unknown;
  expectTwin(rawXml, root, json);
  return { json, raw: rawJson + rawXml };
}

function expectErrors(body: unknown, status: number): string {
  expect(Array.isArray(body)).toBe(true);
  const list = body as { code: number; description: string }[];
  expect(list.length).toBeGreaterThan(0);
  for (const e of list) {
    expect(e.code).toBe(status);
    expect(typeof e.description).toBe('string');
  }
  return list.map((e) => e.description).join(' | ');
}

/** Every public read so far, raw, to check nothing private ever leaves. */
const publicBodies: string[] = [];

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  world = await buildWorkflowWorld(db);
  // Item 0501 asks a required single choice and an optional multi choice (the service definition's lists).
  await db.orm.execute(
    sql`update case_category set fields = ${JSON.stringify([
      {
        code: 'size',
        type: 'single',
        zh: '大小',
        en: 'Size',
        required: true,
        options: [
          { value: 'small', zh: '小', en: 'small' },
          { value: 'large', zh: '大', en: 'large' },
        ],
      },
      {
        code: 'hazards',
        type: 'multi',
        zh: '危险',
        options: [
          { value: 'traffic', zh: '影响交通' },
          { value: 'children', zh: '儿童' },
          { value: 'night', zh: '夜间' },
        ],
      },
      { code: 'depth', type: 'number', zh: '深度(厘米)' },
    ])}::jsonb where code = '0501'`,
  );
  server = await testServer(db, { clock });
  admin = await makeUser(db, [{ role: 'admin', regionCode: null }]);
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;

  const created = await server.app.inject({
    method: 'POST',
    url: '/api/open311/clients',
    headers: auth(admin),
    payload: { name: '随手拍 App' },
  });
  expect(created.statusCode).toBe(201);
  appKey = created.json<{ apiKey: string }>().apiKey;
  const urban = await server.app.inject({
    method: 'POST',
    url: '/api/open311/clients',
    headers: auth(admin),
    payload: { name: '城管业务系统', departmentId: world.departments.urban },
  });
  expect(urban.statusCode).toBe(201);
  urbanKey = urban.json<{ apiKey: string }>().apiKey;
  urbanClientId = urban.json<{ id: number }>().id;
});

afterAll(async () => {
  await server.app.close();
});

describe('the GeoReport v2 schemas', () => {
  it.runIf(fs.existsSync(sharedSchemaDir))("are the project's shared copy, unchanged", () => {
    const names = fs.readdirSync(sharedSchemaDir).filter((f) => f.endsWith('.json'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names)
      expect(fs.readFileSync(path.join(schemaDir, name), 'utf8'), name).toBe(
        fs.readFileSync(path.join(sharedSchemaDir, name), 'utf8'),
      );
  });
});

describe('Open311 admin routes', () => {
  it('answers 401 without a session, 403 without webhook.admin; lists without keys; audits', async () => {
    const operator = world.users.operatorA;
    expect((await server.app.inject({ method: 'GET', url: '/api/open311/clients' })).statusCode).toBe(401);
    for (const [method, url] of [
      ['GET', '/api/open311/clients'],
      ['POST', '/api/open311/clients'],
      ['DELETE', '/api/open311/clients/1'],
    ] as const) {
      const response = await server.app.inject({
        method,
        url,
        headers: auth(operator),
        payload: { name: 'x' },
      });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
    }
    const bad = await server.app.inject({
      method: 'POST',
      url: '/api/open311/clients',
      headers: auth(admin),
      payload: { name: '' },
    });
    expect(bad.statusCode).toBe(400);
    const list = await server.app.inject({
      method: 'GET',
      url: '/api/open311/clients',
      headers: auth(admin),
    });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(appKey);
    expect(list.json<{ items: { name: string }[] }>().items.map((c) => c.name)).toEqual([
      '随手拍 App',
      '城管业务系统',
    ]);
    const stored = await rows<{ api_key_hash: string }>(db.orm, sql`select api_key_hash from open311_client`);
    expect(
      stored.every((s) => !s.api_key_hash.includes(appKey) && /^[0-9a-f]{64}$/.test(s.api_key_hash)),
    ).toBe(true);
    const audit = await rows<{ action: string }>(
      db.orm,
      sql`select action from audit_log where object_type = 'open311_client' order by id`,
    );
    expect(audit.map((a) => a.action)).toEqual(['open311.client.create', 'open311.client.create']);
  });

  it('the Open311 routes are the listed public ones and are not in the Wangge OpenAPI document', async () => {
    const open311 = server.routes.filter((r) => r.url.startsWith('/open311/'));
    expect(open311.map((r) => `${r.method} ${r.url}`).sort()).toEqual([...open311PublicRoutes].sort());
    for (const route of open311) expect(route.access).toEqual({ public: true });
    const document = (await server.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    expect(Object.keys(document.paths).filter((p) => p.startsWith('/open311'))).toEqual([]);
    expect(document.paths['/api/open311/clients']).toBeDefined();
    expect(document.paths['/api/cases/{id}/public']).toBeDefined();
  });
});

describe('discovery, services, service definitions', () => {
  it('discovery lists the GeoReport v2 endpoint with both formats', async () => {
    const { json } = await twins('/open311/v2/discovery.{format}', 'discovery');
    expect(json).toMatchObject({
      endpoints: [
        {
          specification: 'http://wiki.open311.org/GeoReport_v2',
          url: `${base}/open311/v2`,
          type: 'production',
          formats: ['text/xml', 'application/json'],
        },
      ],
    });
  });

  it('services: one per active item, valid against services.json, XML twin', async () => {
    const { json, raw } = await twins('/open311/v2/services.{format}', 'services');
    publicBodies.push(raw);
    expectValid('services.json', json);
    const services = json as { service_code: string; metadata: boolean; group: string; type: string }[];
    const items = await one<{ n: number }>(
      db.orm,
      sql`select count(*)::int as n from case_category where parent_code is not null and active`,
    );
    expect(services).toHaveLength(items!.n);
    expect(services.find((s) => s.service_code === '0501')).toMatchObject({
      metadata: true,
      type: 'realtime',
    });
    expect(services.find((s) => s.service_code === '0101')?.metadata).toBe(true);
    expect(services.filter((s) => !s.metadata).length).toBeGreaterThan(0);
    // An inactive item is no service.
    await db.orm.execute(sql`update case_category set active = false where code = '0102'`);
    const after = (await (await get('/open311/v2/services.json')).json()) as { service_code: string }[];
    expect(after.map((s) => s.service_code)).not.toContain('0102');
    expect(after).toHaveLength(items!.n - 1);
    await db.orm.execute(sql`update case_category set active = true where code = '0102'`);
  });

  it('service definition: attributes from the extra fields, lists with values; unknown → 404', async () => {
    const { json } = await twins('/open311/v2/services/0501.{format}', 'service_definition');
    expectValid('service-definition.json', json);
    expect(json).toMatchObject({
      service_code: '0501',
      attributes: [
        {
          code: 'size',
          datatype: 'singlevaluelist',
          required: true,
          order: 1,
          values: [
            { key: 'small', name: '小 (small)' },
            { key: 'large', name: '大 (large)' },
          ],
        },
        { code: 'hazards', datatype: 'multivaluelist', required: false, order: 2 },
        { code: 'depth', datatype: 'number', order: 3 },
      ],
    });
    const none = await twins('/open311/v2/services/9999.{format}', 'errors', 404);
    expectErrors(none.json, 404);
    const city = await twins(`/open311/v2/services.{format}?jurisdiction_id=${territory.city}`, 'services');
    expectValid('services.json', city.json);
    const wrong = await twins('/open311/v2/services.{format}?jurisdiction_id=110000', 'errors', 404);
    expect(expectErrors(wrong.json, 404)).toContain('jurisdiction_id');
  });
});

describe('POST requests: the specification errors', () => {
  const valid = (): [string, string][] => [
    ['service_code', '0501'],
    ['lat', inA1.lat],
    ['long', inA1.long],
    ['attribute[size]', 'small'],
    ['description', '井盖缺失'],
  ];

  it('no api_key or an invalid one → 403; revoked → 403', async () => {
    const none = await post('/open311/v2/requests.json', valid());
    expect(none.status).toBe(403);
    expect(expectErrors(await none.json(), 403)).toContain('api_key');
    const wrong = await post('/open311/v2/requests.xml', [['api_key', 'nope'], ...valid()]);
    expect(wrong.status).toBe(403);
    const xml = await wrong.text();
    expectTwin(xml, 'errors', [{ code: 403, description: 'api_key 无效 (invalid api_key)' }]);

    const revocable = await server.app.inject({
      method: 'POST',
      url: '/api/open311/clients',
      headers: auth(admin),
      payload: { name: '临时' },
    });
    const { id, apiKey } = revocable.json<{ id: number; apiKey: string }>();
    const revoke = await server.app.inject({
      method: 'DELETE',
      url: `/api/open311/clients/${id}`,
      headers: auth(admin),
    });
    expect(revoke.statusCode).toBe(204);
    expect((await post('/open311/v2/requests.json', [['api_key', apiKey], ...valid()])).status).toBe(403);
    expect(
      (await server.app.inject({ method: 'DELETE', url: `/api/open311/clients/${id}`, headers: auth(admin) }))
        .statusCode,
    ).toBe(404);
  });

  it('unknown service_code → 404, missing → 400; nothing is created', async () => {
    const before = await countRows(db, 'grid_case');
    const unknown = await post('/open311/v2/requests.json', [
      ['api_key', appKey],
      ['service_code', '9999'],
      ['lat', inA1.lat],
      ['long', inA1.long],
    ]);
    expect(unknown.status).toBe(404);
    expect(expectErrors(await unknown.json(), 404)).toContain('service_code');
    const missing = await post('/open311/v2/requests.json', [
      ['api_key', appKey],
      ['lat', inA1.lat],
      ['long', inA1.long],
    ]);
    expect(missing.status).toBe(400);
    expect(expectErrors(await missing.json(), 400)).toContain('service_code');
    expect(await countRows(db, 'grid_case')).toBe(before);
  });

  it.each([
    [
      'outside every grid',
      [
        ['lat', '46.62'],
        ['long', '130.02'],
      ],
      'outside every grid',
    ],
    [
      'far away',
      [
        ['lat', '39.9'],
        ['long', '116.4'],
      ],
      'outside every grid',
    ],
    ['lat without long', [['lat', '46.85']], 'lat and long'],
    ['address_string only (no geocoder)', [['address_string', '西林路 1 号']], 'geocoding is not available'],
    ['no location', [], 'location was not provided'],
  ])('%s → 400', async (_name, location, message) => {
    const before = await countRows(db, 'grid_case');
    const response = await post('/open311/v2/requests.json', [
      ['api_key', appKey],
      ['service_code', '0501'],
      ['attribute[size]', 'small'],
      ...(location as [string, string][]),
    ]);
    expect(response.status).toBe(400);
    expect(expectErrors(await response.json(), 400)).toContain(message);
    expect(await countRows(db, 'grid_case')).toBe(before);
  });

  it('attributes are checked against the service definition (400 per attribute)', async () => {
    const response = await post('/open311/v2/requests.json', [
      ['api_key', appKey],
      ['service_code', '0501'],
      ['lat', inA1.lat],
      ['long', inA1.long],
      ['attribute[hazards][]', 'lava'],
      ['attribute[colour]', 'red'],
    ]);
    expect(response.status).toBe(400);
    const text = expectErrors(await response.json(), 400);
    expect(text).toContain('attribute[colour]');
    const required = await post('/open311/v2/requests.json', [
      ['api_key', appKey],
      ['service_code', '0501'],
      ['lat', inA1.lat],
      ['long', inA1.long],
    ]);
    expect(required.status).toBe(400);
    expect(expectErrors(await required.json(), 400)).toContain('attribute[size]');
  });

  it('a wrong jurisdiction_id → 404, a JSON body → 400', async () => {
    const wrong = await post('/open311/v2/requests.json', [
      ['api_key', appKey],
      ['jurisdiction_id', 'sfgov.org'],
      ...valid(),
    ]);
    expect(wrong.status).toBe(404);
    const json = await fetch(`${base}/open311/v2/requests.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: appKey }),
    });
    expect(json.status).toBe(400);
    expectErrors(await json.json(), 400);
  });
});

describe('create → id / token → fetch → update → fetch', () => {
  let serial: string;
  const token = '5b0c7d3e-8f61-4c57-9a3b-2f1e0d9c8b7a';

  it('creates a public case through the intake, idempotent by client_request_id', async () => {
    const form: [string, string][] = [
      ['api_key', appKey],
      ['jurisdiction_id', territory.city],
      ['service_code', '0501'],
      ['lat', inA1.lat],
      ['long', inA1.long],
      ['address_string', '西林路 & 解放街 <路口>'],
      ['email', email],
      ['first_name', '小明'],
      ['last_name', '王'],
      ['phone', phone],
      ['device_id', 'dev-1'],
      ['account_id', 'acc-9'],
      ['description', '井盖缺失 <b>危险</b> & 夜间无灯\n第二行'],
      ['media_url', 'https://img.example.cn/p/1.jpg?a=1&b=2'],
      ['attribute[size]', 'large'],
      ['attribute[hazards][]', 'traffic'],
      ['attribute[hazards][]', 'night'],
      ['attribute[depth]', '35'],
      ['client_request_id', token],
    ];
    const response = await post('/open311/v2/requests.json', form);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { service_request_id: string; service_notice: string | null }[];
    expect(body).toHaveLength(1);
    expect(body[0]).not.toHaveProperty('token');
    serial = body[0]!.service_request_id;
    expect(serial).toMatch(/^2026-230803-\d{6}$/);

    const stored = await one<{
      id: number;
      public: boolean;
      channel: string;
      status: string;
      extra: Record<string, unknown>;
      reporter_contact_cipher: string | null;
      reporter_contact_masked: string | null;
      reporter_name: string | null;
      client_id: string;
    }>(
      db.orm,
      sql`select id::int as id, public, channel, status, extra, reporter_contact_cipher, reporter_contact_masked,
            reporter_name, client_id::text as client_id
          from grid_case where serial = ${serial}`,
    );
    expect(stored).toMatchObject({
      public: true,
      channel: 'resident',
      status: 'reported',
      client_id: token,
      reporter_name: '随手拍 App (Open311)',
      extra: { size: 'large', hazards: ['traffic', 'night'], depth: 35 },
    });
    // The phone sealed as a reporter contact; all reporter details sealed in open311_request.
    expect(stored!.reporter_contact_cipher).not.toContain(phone);
    expect(secrets.decrypt(stored!.reporter_contact_cipher!)).toBe(phone);
    expect(stored!.reporter_contact_masked).not.toBe(phone);
    const extra = await one<{ reporter_cipher: string; media_url: string }>(
      db.orm,
      sql`select reporter_cipher, media_url from open311_request where case_id = ${stored!.id}`,
    );
    expect(extra!.reporter_cipher).not.toContain(email);
    expect(extra!.reporter_cipher).not.toContain(phone);
    expect(JSON.parse(secrets.decrypt(extra!.reporter_cipher))).toMatchObject({
      email,
      firstName: '小明',
      lastName: '王',
      phone,
    });

    // The same client_request_id again: the same request, no second case.
    const cases = await countRows(db, 'grid_case');
    const again = await post('/open311/v2/requests.xml', form);
    expect(again.status).toBe(200);
    const xml = await again.text();
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain(`<service_request_id>${serial}</service_request_id>`);
    expect(await countRows(db, 'grid_case')).toBe(cases);
  });

  it('tokens/{token} answers the service_request_id; unknown → 404', async () => {
    const { json, raw } = await twins(`/open311/v2/tokens/${token}.{format}`, 'service_requests');
    publicBodies.push(raw);
    expect(json).toEqual([{ service_request_id: serial, token }]);
    await twins('/open311/v2/tokens/00000000-0000-4000-8000-000000000000.{format}', 'errors', 404);
  });

  it('requests/{id}: every field of the specification, valid, XML twin, escaped', async () => {
    const { json, raw } = await twins(`/open311/v2/requests/${serial}.{format}`, 'service_requests');
    publicBodies.push(raw);
    expectValid('requests.json', json);
    expect((json as unknown[])[0]).toEqual({
      service_request_id: serial,
      status: 'open',
      status_notes: '已上报,待受理 (reported)',
      service_name: expect.any(String),
      service_code: '0501',
      description: '井盖缺失 <b>危险</b> & 夜间无灯\n第二行',
      agency_responsible: null,
      service_notice: expect.stringContaining('working days'),
      requested_datetime: '2026-11-20T02:00:00Z',
      updated_datetime: '2026-11-20T02:00:00Z',
      expected_datetime: null,
      address: '西林路 & 解放街 <路口>',
      address_id: null,
      zipcode: null,
      lat: 46.85,
      long: 130.35,
      media_url: 'https://img.example.cn/p/1.jpg?a=1&b=2',
    });
    const xml = await (await get(`/open311/v2/requests/${serial}.xml`)).text();
    expect(xml).toContain('&lt;b&gt;危险&lt;/b&gt; &amp; 夜间无灯');
    await twins('/open311/v2/requests/2026-230803-999999.{format}', 'errors', 404);
  });

  it('servicerequestupdates: the workflow decides; a refused update stays a comment', async () => {
    const caseId = (await one<{ id: number }>(
      db.orm,
      sql`select id::int as id from grid_case where serial = ${serial}`,
    ))!.id;
    // Not the department's case yet: the urban system cannot see it (404).
    const early = await post('/open311/v2/servicerequestupdates.json', [
      ['api_key', urbanKey],
      ['service_request_id', serial],
      ['update_id', 'u-0'],
      ['updated_datetime', '2026-11-20T03:00:00+08:00'],
      ['status', 'IN_PROGRESS'],
      ['description', '已收到'],
    ]);
    expect(early.status).toBe(404);

    // The centre files and dispatches it to urban management (城管).
    for (const [action, payload] of [
      ['file', {}],
      ['dispatch', { leadDepartmentId: world.departments.urban }],
    ] as const) {
      const response = await server.app.inject({
        method: 'POST',
        url: `/api/cases/${caseId}/actions/${action}`,
        headers: auth(world.users.operatorA),
        payload,
      });
      expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
    }
    const dispatched = await twins(
      `/open311/v2/requests/${serial}.{format}?extended_statuses=true`,
      'service_requests',
    );
    expect((dispatched.json as Record<string, unknown>[])[0]).toMatchObject({
      status: 'open',
      extended_status: 'ACTION_SCHEDULED',
      agency_responsible: '城管',
      expected_datetime: expect.stringMatching(/Z$/),
    });

    // The department system accepts (报到) by posting IN_PROGRESS.
    const missing = await post('/open311/v2/servicerequestupdates.json', [['api_key', urbanKey]]);
    expect(missing.status).toBe(400);
    const text = expectErrors(await missing.json(), 400);
    expect(text).toContain('service_request_id');
    expect(text).toContain('update_id');
    expect(
      (await post('/open311/v2/servicerequestupdates.json', [['service_request_id', serial]])).status,
    ).toBe(403);
    const accepted = await post('/open311/v2/servicerequestupdates.json', [
      ['api_key', urbanKey],
      ['service_request_id', serial],
      ['update_id', 'u-1'],
      ['updated_datetime', '2026-11-20T10:00:00+08:00'],
      ['status', 'IN_PROGRESS'],
      ['description', '已派人前往'],
    ]);
    expect(accepted.status).toBe(200);
    const acceptedBody = (await accepted.json()) as { update_id: string; status: string }[];
    expect(acceptedBody[0]).toMatchObject({ service_request_id: serial, status: 'IN_PROGRESS' });
    // A retry of the same update_id: the same answer, nothing twice.
    const timeline = await countRows(db, 'case_timeline');
    const retry = await post('/open311/v2/servicerequestupdates.json', [
      ['api_key', urbanKey],
      ['service_request_id', serial],
      ['update_id', 'u-1'],
      ['updated_datetime', '2026-11-20T10:00:00+08:00'],
      ['status', 'IN_PROGRESS'],
      ['description', '已派人前往'],
    ]);
    expect(((await retry.json()) as { update_id: string }[])[0]!.update_id).toBe(acceptedBody[0]!.update_id);
    expect(await countRows(db, 'case_timeline')).toBe(timeline);

    let fetched = await twins(
      `/open311/v2/requests/${serial}.{format}?extended_statuses=true`,
      'service_requests',
    );
    expectValid('requests.json', fetched.json);
    expect((fetched.json as Record<string, unknown>[])[0]).toMatchObject({
      status: 'open',
      extended_status: 'IN_PROGRESS',
      status_notes: '处置中 (in progress)',
    });

    // The reporting app may not reply for the department: its CLOSED stays a comment, answered with the status.
    const refused = await post('/open311/v2/servicerequestupdates.xml', [
      ['api_key', appKey],
      ['service_request_id', serial],
      ['update_id', 'a-1'],
      ['updated_datetime', '2026-11-20T11:00:00Z'],
      ['status', 'CLOSED'],
      ['description', '居民说已经修好了'],
    ]);
    expect(refused.status).toBe(200);
    const refusedXml = await refused.text();
    expect(refusedXml).toContain('<status>IN_PROGRESS</status>');
    expect(XMLValidator.validate(refusedXml)).toBe(true);

    // FIXED from the department records the reply (处置反馈).
    const fixed = await post('/open311/v2/servicerequestupdates.json', [
      ['api_key', urbanKey],
      ['service_request_id', serial],
      ['update_id', 'u-2'],
      ['updated_datetime', '2026-11-20T12:00:00Z'],
      ['status', 'FIXED'],
      ['description', '已更换井盖'],
      ['media_url', 'https://img.example.cn/after.jpg'],
    ]);
    expect(fixed.status).toBe(200);
    const state = await one<{ status: string }>(
      db.orm,
      sql`select status from grid_case where id = ${caseId}`,
    );
    expect(state!.status).toBe('responded');
    const steps = await rows<{ action: string; actor_role: string }>(
      db.orm,
      sql`select action, actor_role from case_timeline where case_id = ${caseId} order by id`,
    );
    expect(steps.map((s) => s.action)).toEqual([
      'report',
      'file',
      'dispatch',
      'accept',
      'open311Update',
      'open311Update',
      'respond',
      'open311Update',
    ]);
    fetched = await twins(`/open311/v2/requests/${serial}.{format}`, 'service_requests');
    expect((fetched.json as Record<string, unknown>[])[0]).toMatchObject({
      status: 'open',
      status_notes: '部门已反馈处置结果,待核查 (handled, to be inspected)',
    });
    expect((fetched.json as Record<string, unknown>[])[0]).not.toHaveProperty('extended_status');

    const updates = await twins('/open311/v2/servicerequestupdates.{format}', 'service_request_updates');
    publicBodies.push(updates.raw);
    const list = updates.json as { status: string; description: string; media_url: string | null }[];
    expect(list.map((u) => u.status)).toEqual([
      'OPEN',
      'ACTION_SCHEDULED',
      'ACTION_SCHEDULED',
      'IN_PROGRESS',
      'IN_PROGRESS',
      'CLOSED',
      'IN_PROGRESS',
      'FIXED',
    ]);
    expect(list.map((u) => u.description)).toContain('已更换井盖');
    expect(list.at(-1)!.media_url).toBe('https://img.example.cn/after.jpg');
  });
});

describe('GET requests', () => {
  it('lists only public cases, newest first, valid and twinned; the window is 90 days at most', async () => {
    const hidden = await insertCase(db, world, { status: 'reported' });
    const shown = await insertCase(db, world, { status: 'closed' });
    await db.orm
      .execute(sql`update grid_case set reported_at = '2026-11-19T05:00:00Z', closed_at = '2026-11-19T09:00:00Z'
      where id = ${shown}`);
    const serialOf = async (id: number) =>
      (await one<{ serial: string }>(db.orm, sql`select serial from grid_case where id = ${id}`))!.serial;
    const hiddenSerial = await serialOf(hidden);
    const shownSerial = await serialOf(shown);

    // Staff mark a case public: case.verify in scope; out of scope 404; audited.
    const other = await server.app.inject({
      method: 'PUT',
      url: `/api/cases/${shown}/public`,
      headers: auth(world.users.operatorB),
      payload: { public: true },
    });
    expect(other.statusCode).toBe(404);
    const handler = await server.app.inject({
      method: 'PUT',
      url: `/api/cases/${shown}/public`,
      headers: auth(world.users.handlerUrban),
      payload: { public: true },
    });
    expect(handler.statusCode).toBe(403);
    expect(
      (
        await server.app.inject({
          method: 'PUT',
          url: `/api/cases/${shown}/public`,
          payload: { public: true },
        })
      ).statusCode,
    ).toBe(401);
    const marked = await server.app.inject({
      method: 'PUT',
      url: `/api/cases/${shown}/public`,
      headers: auth(world.users.operatorA),
      payload: { public: true },
    });
    expect(marked.statusCode).toBe(200);
    expect(marked.json()).toEqual({ id: shown, public: true });
    const audit = await rows<{ action: string }>(
      db.orm,
      sql`select action from audit_log where object_type = 'case' and object_id = ${String(shown)}`,
    );
    expect(audit.map((a) => a.action)).toEqual(['case.publish']);

    const all = await twins('/open311/v2/requests.{format}', 'service_requests');
    publicBodies.push(all.raw);
    expectValid('requests.json', all.json);
    const ids = (all.json as { service_request_id: string }[]).map((r) => r.service_request_id);
    expect(ids).toContain(shownSerial);
    expect(ids).not.toContain(hiddenSerial);
    expect(ids.indexOf(shownSerial)).toBe(ids.length - 1); // reported earlier: listed after the Open311 case
    const closed = (all.json as Record<string, unknown>[]).find((r) => r.service_request_id === shownSerial)!;
    expect(closed).toMatchObject({
      status: 'closed',
      updated_datetime: '2026-11-19T09:00:00Z',
      agency_responsible: '城管',
      expected_datetime: null,
    });

    // Filters: status, service_code, service_request_id (overrides the rest), page/page_size.
    const open = (await (await get('/open311/v2/requests.json?status=open')).json()) as { status: string }[];
    expect(open.every((r) => r.status === 'open')).toBe(true);
    const closedOnly = (await (await get('/open311/v2/requests.json?status=closed')).json()) as {
      service_request_id: string;
    }[];
    expect(closedOnly.map((r) => r.service_request_id)).toEqual([shownSerial]);
    expect((await get('/open311/v2/requests.json?status=pending')).status).toBe(400);
    const bothStatuses = (await (
      await get('/open311/v2/requests.json?status=open,closed')
    ).json()) as unknown[];
    expect(bothStatuses).toHaveLength(ids.length);
    const byCode = (await (
      await get('/open311/v2/requests.json?service_code=0101,0102')
    ).json()) as unknown[];
    expect(byCode).toEqual([]);
    const byId = await twins(
      `/open311/v2/requests.{format}?service_request_id=${shownSerial},${hiddenSerial}&status=open`,
      'service_requests',
    );
    expect((byId.json as { service_request_id: string }[]).map((r) => r.service_request_id)).toEqual([
      shownSerial,
    ]);
    const page2 = (await (await get('/open311/v2/requests.json?page=2&page_size=1')).json()) as {
      service_request_id: string;
    }[];
    expect(page2.map((r) => r.service_request_id)).toEqual([shownSerial]);
    expect((await get('/open311/v2/requests.json?page_size=1001')).status).toBe(400);

    // The 90-day window: at most 90 days (400), default the latest 90 days.
    const tooLong = await twins(
      '/open311/v2/requests.{format}?start_date=2026-01-01T00:00:00Z&end_date=2026-11-20T00:00:00Z',
      'errors',
      400,
    );
    expect(expectErrors(tooLong.json, 400)).toContain('90');
    expect((await get('/open311/v2/requests.json?start_date=2026-11-20')).status).toBe(400);
    const inWindow = (await (
      await get(
        '/open311/v2/requests.json?start_date=2026-11-19T00:00:00Z&end_date=2026-11-19T23:59:59%2B08:00',
      )
    ).json()) as { service_request_id: string }[];
    expect(inWindow.map((r) => r.service_request_id)).toEqual([shownSerial]);
    await db.orm.execute(sql`update grid_case set reported_at = '2026-08-01T00:00:00Z' where id = ${shown}`);
    const recent = (await (await get('/open311/v2/requests.json')).json()) as {
      service_request_id: string;
    }[];
    expect(recent.map((r) => r.service_request_id)).not.toContain(shownSerial);
    const old = (await (
      await get('/open311/v2/requests.json?start_date=2026-07-15T00:00:00Z&end_date=2026-08-15T00:00:00Z')
    ).json()) as { service_request_id: string }[];
    expect(old.map((r) => r.service_request_id)).toEqual([shownSerial]);
    // Not public: 404 on the single read too.
    await twins(`/open311/v2/requests/${hiddenSerial}.{format}`, 'errors', 404);
  });

  it('never reveals the reporter: no phone, email or name in any public body', () => {
    expect(publicBodies.length).toBeGreaterThan(4);
    for (const body of publicBodies) {
      expect(body).not.toContain(phone);
      expect(body).not.toContain(phone.slice(-4) + '"');
      expect(body).not.toContain(email);
      expect(body).not.toContain('小明');
      expect(body).not.toContain('张三丰'); // the fixture cases' reporter
      expect(body).not.toContain('dev-1');
    }
  });

  it('unknown paths and formats answer the specification error list', async () => {
    const unknown = await get('/open311/v2/nothing.json');
    expect(unknown.status).toBe(404);
    expectErrors(await unknown.json(), 404);
    // Without a format suffix it is no Open311 resource: Wangge's JSON 404.
    for (const url of ['/open311/v2/services', '/open311/v2/x', '/open311/v2/requests/1']) {
      const noFormat = await get(url);
      expect(noFormat.status, url).toBe(404);
      expect(((await noFormat.json()) as { code: string }).code).toBe('NOT_FOUND');
    }
    const deep = await get('/open311/v2/a/b/c.xml');
    expect(deep.status).toBe(404);
    expect(XMLValidator.validate(await deep.text())).toBe(true);
    expect(urbanClientId).toBeGreaterThan(0);
  });
});
