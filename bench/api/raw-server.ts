/**
 * The raw reference of W1, W3 and W4: a plain `node:http` server and a `pg` Pool of Wangge's size (10), doing the same
 * SQL work as Wangge's case API without its framework (no auth, no schemas, no domain layer). Run as a child process
 * (forked with IPC, `startRawServer` in shared.ts), so it never shares an event loop with the Wangge server it is
 * compared with; it sends `{ port }` once listening on 127.0.0.1.
 *
 *   POST /w1/cases             the same case row, its timeline row and its outbox row, in one transaction
 *   GET  /w3/queue?...         a grid worker's queue: the same count and page statements as `listMyQueue`
 *   POST /w4/cases/:id/file    guarded UPDATE (status, version) + timeline + outbox, in one transaction
 *
 * Statements are named (prepared once per connection), the raw limit of what a hand-written server does.
 */
import http from 'node:http';
import pg from 'pg';
import { rawQueue, type RawQueueQuery } from './raw-queue.ts';

export interface RawCaseBody {
  clientId: string;
  title: string;
  description: string;
  categoryCode: string;
  channel: string;
  urgent: boolean;
  location: { lng: number; lat: number };
  address?: string;
  extra: Record<string, unknown>;
  /** what Wangge derives per request (routing, ancestry, actor), given to the raw side ready-made */
  place: {
    gridCode: string;
    gridPath: string;
    ownerCode: string;
    ownerPath: string;
    ownerLevel: string;
    districtCode: string;
  };
  reporter: { userId: number; role: string; name: string };
}

const chinaYear = (at: Date) => new Date(at.getTime() + 8 * 3600_000).getUTCFullYear();

/** W1: what `createCase` writes, in one transaction (counter, case, timeline, outbox). */
export async function rawCreateCase(
  pool: pg.Pool,
  body: RawCaseBody,
): Promise<{ id: number; serial: string }> {
  if (typeof body.clientId !== 'string' || typeof body.title !== 'string' || !body.place || !body.reporter)
    throw new Error('bad request');
  const now = new Date();
  const nowIso = now.toISOString();
  const year = chinaYear(now);
  const client = await pool.connect();
  try {
    await client.query('begin');
    const counter = await client.query<{ last_value: number }>({
      name: 'w1-counter',
      text: `insert into case_serial_counter (year, region_code, last_value) values ($1, $2, 1)
             on conflict (year, region_code) do update set last_value = case_serial_counter.last_value + 1
             returning last_value`,
      values: [year, body.place.districtCode],
    });
    const serial = `${year}-${body.place.districtCode}-${String(counter.rows[0]!.last_value).padStart(6, '0')}`;
    const p = body.place;
    const inserted = await client.query<{ id: number }>({
      name: 'w1-case',
      text: `insert into grid_case (client_id, serial, title, description, category_code, channel, urgent, status,
               location, address, grid_code, region_path, grid_override_reason, owner_region_code, owner_region_path,
               owner_level, reporter_user_id, reporter_name, reporter_contact_cipher, reporter_contact_masked,
               hotline, people_involved, extra, reported_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, 'reported', ST_SetSRID(ST_MakePoint($8::float8, $9::float8), 4326),
               $10, $11, $12, null, $13, $14, $15, $16, $17, null, null, null, null, $18::jsonb, $19, $19, $19)
             returning id::int as id`,
      values: [
        body.clientId,
        serial,
        body.title,
        body.description,
        body.categoryCode,
        body.channel,
        body.urgent,
        body.location.lng,
        body.location.lat,
        body.address ?? null,
        p.gridCode,
        p.gridPath,
        p.ownerCode,
        p.ownerPath,
        p.ownerLevel,
        body.reporter.userId,
        body.reporter.name,
        JSON.stringify(body.extra),
        nowIso,
      ],
    });
    const id = inserted.rows[0]!.id;
    await client.query({
      name: 'w1-timeline',
      text: `insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status, comment, data)
             values ($1, $2, $3, $4, 'report', null, 'reported', null, $5::jsonb)`,
      values: [
        id,
        nowIso,
        body.reporter.userId,
        body.reporter.role,
        JSON.stringify({ channel: body.channel, gridCode: p.gridCode }),
      ],
    });
    await client.query({
      name: 'w1-outbox',
      text: `insert into outbox (topic, payload, created_at, available_at) values ('case.created', $1::jsonb, $2, $2)`,
      values: [
        JSON.stringify({ caseId: id, serial, actorId: body.reporter.userId, ownerRegionCode: p.ownerCode }),
        nowIso,
      ],
    });
    await client.query('commit');
    return { id, serial };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** W4: 立案 (file) of a reported case: guarded update, timeline, outbox. Null when the guard did not hold (409). */
export async function rawFileCase(
  pool: pg.Pool,
  caseId: number,
  body: { actorId: number; handleDays: number; expectedVersion?: number },
): Promise<{ id: number; status: string; version: number } | null> {
  const now = new Date();
  const nowIso = now.toISOString();
  const handleDue = new Date(now.getTime() + body.handleDays * 86_400_000).toISOString();
  const client = await pool.connect();
  try {
    await client.query('begin');
    const updated = await client.query<{
      from_status: string;
      serial: string;
      grid_code: string;
      owner_region_code: string;
      version: number;
    }>({
      name: 'w4-update',
      text: `with old as (select id, status from grid_case where id = $1 for update)
             update grid_case c set status = 'filed', filed_at = $2, handle_due_at = $3, due_at = $3, updated_at = $2,
               overdue = false, overdue_since = null, deadline_beyond_calendar = false, version = c.version + 1
             from old where c.id = old.id and old.status in ('reported', 'verifying')
               and ($4::int is null or c.version = $4::int)
             returning old.status as from_status, c.serial, c.grid_code, c.owner_region_code, c.version`,
      values: [caseId, nowIso, handleDue, body.expectedVersion ?? null],
    });
    const row = updated.rows[0];
    if (!row) {
      await client.query('rollback');
      return null;
    }
    await client.query({
      name: 'w4-timeline',
      text: `insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status, comment, data,
               attachments)
             values ($1, $2, $3, 'centre_operator', 'file', $4, 'filed', null, '{}'::jsonb, '[]'::jsonb)`,
      values: [caseId, nowIso, body.actorId, row.from_status],
    });
    await client.query({
      name: 'w4-outbox',
      text: `insert into outbox (topic, payload, created_at, available_at) values ('case.filed', $1::jsonb, $2, $2)`,
      values: [
        JSON.stringify({
          caseId,
          serial: row.serial,
          action: 'file',
          from: row.from_status,
          to: 'filed',
          actorId: body.actorId,
          gridCode: row.grid_code,
          ownerRegionCode: row.owner_region_code,
          leadDepartmentId: null,
        }),
        nowIso,
      ],
    });
    await client.query('commit');
    return { id: caseId, status: 'filed', version: row.version };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

function send(response: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function createRawServer(pool: pg.Pool): http.Server {
  return http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://raw');
    const handle = async () => {
      if (request.method === 'POST' && url.pathname === '/w1/cases') {
        const created = await rawCreateCase(pool, JSON.parse(await readBody(request)) as RawCaseBody);
        return send(response, 201, created);
      }
      if (request.method === 'GET' && url.pathname === '/w3/queue') {
        const query: RawQueueQuery = {
          userId: Number(url.searchParams.get('userId')),
          gridPaths: url.searchParams.getAll('gridPath'),
          limit: Number(url.searchParams.get('limit') ?? 50),
        };
        return send(response, 200, await rawQueue(pool, query));
      }
      const file = /^\/w4\/cases\/(\d+)\/file$/.exec(url.pathname);
      if (request.method === 'POST' && file) {
        const body = JSON.parse(await readBody(request)) as {
          actorId: number;
          handleDays: number;
          expectedVersion?: number;
        };
        const done = await rawFileCase(pool, Number(file[1]), body);
        return done ? send(response, 200, done) : send(response, 409, { code: 'CASE_INVALID_TRANSITION' });
      }
      send(response, 404, { code: 'NOT_FOUND' });
    };
    handle().catch((error: unknown) =>
      send(response, 500, {
        code: 'INTERNAL',
        message: error instanceof Error ? error.message : String(error),
      }),
    );
  });
}

// As a forked child: serve on 127.0.0.1 and tell the parent the port.
if (process.send && process.env.WANGGE_RAW_API_URL) {
  const pool = new pg.Pool({
    connectionString: process.env.WANGGE_RAW_API_URL,
    max: Number(process.env.WANGGE_RAW_API_POOL ?? 10),
  });
  const server = createRawServer(pool);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.on('disconnect', () => {
    server.close();
    void pool.end().finally(() => process.exit(0));
  });
}
