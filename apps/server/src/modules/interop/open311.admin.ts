import crypto from 'node:crypto';
import type {
  CasePublic,
  CreateOpen311ClientRequest,
  CreatedOpen311Client,
  Open311Client,
} from '@wangge/contracts';
import { requireAccess, type Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { hashApiKey } from './open311.service.ts';

interface ClientRow {
  id: number;
  name: string;
  department_id: number | null;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const clientColumns = sql`id::int as id, name, department_id::int as department_id, created_at, revoked_at`;
const iso = (value: Date | string): string => new Date(value).toISOString();

function presentClient(row: ClientRow): Open311Client {
  return {
    id: row.id,
    name: row.name,
    departmentId: row.department_id,
    createdAt: iso(row.created_at),
    revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
  };
}

/**
 * Registers an Open311 client app with its service account (disabled, no usable password: reports are made as
 * it, nobody signs in as it). The api_key is returned here once; only its sha256 is kept.
 */
export async function createOpen311Client(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId?: string;
  input: CreateOpen311ClientRequest;
}): Promise<CreatedOpen311Client> {
  const { db, clock, actor, input } = options;
  requireAccess(actor, 'webhook.admin');
  const apiKey = `o311_${crypto.randomBytes(24).toString('base64url')}`;
  const now = clock.now();
  const nowIso = now.toISOString();
  const row = await db.orm.transaction(async (tx) => {
    if (input.departmentId !== undefined) {
      const department = await one(tx, sql`select 1 from department where id = ${input.departmentId}`);
      if (!department)
        throw new DomainError('VALIDATION_FAILED', 'departmentId: 部门不存在 (no such department)', [
          { field: 'departmentId', message: '部门不存在 (no such department)' },
        ]);
    }
    const user = await one<{ id: number }>(
      tx,
      sql`insert into app_user (username, display_name, password_hash, status, created_at, updated_at)
          values (${`open311-${crypto.randomBytes(8).toString('hex')}`}, ${`${input.name} (Open311)`}, '!',
            'disabled', ${nowIso}, ${nowIso})
          returning id::int as id`,
    );
    const created = await one<ClientRow>(
      tx,
      sql`insert into open311_client (name, api_key_hash, user_id, department_id, created_by, created_at)
          values (${input.name}, ${hashApiKey(apiKey)}, ${user!.id}, ${input.departmentId ?? null},
            ${actor.userId}, ${nowIso})
          returning ${clientColumns}`,
    );
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'open311.client.create',
        objectType: 'open311_client',
        objectId: String(created!.id),
        result: 'success',
        requestId: options.requestId ?? null,
        detail: { departmentId: input.departmentId ?? null },
      },
      now,
    );
    return created!;
  });
  return { ...presentClient(row), apiKey };
}

export async function listOpen311Clients(options: {
  db: Database;
  actor: Actor;
}): Promise<{ items: Open311Client[] }> {
  requireAccess(options.actor, 'webhook.admin');
  const found = await rows<ClientRow>(
    options.db.orm,
    sql`select ${clientColumns} from open311_client order by id`,
  );
  return { items: found.map(presentClient) };
}

/** Revokes an api_key at once (404 when unknown or already revoked). */
export async function revokeOpen311Client(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId?: string;
  clientId: number;
}): Promise<void> {
  const { db, clock, actor } = options;
  requireAccess(actor, 'webhook.admin');
  const now = clock.now();
  await db.orm.transaction(async (tx) => {
    const revoked = await one<{ id: number }>(
      tx,
      sql`update open311_client set revoked_at = ${now.toISOString()}
          where id = ${options.clientId} and revoked_at is null returning id::int as id`,
    );
    if (!revoked) throw new DomainError('NOT_FOUND', '未找到 (not found)');
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'open311.client.revoke',
        objectType: 'open311_client',
        objectId: String(options.clientId),
        result: 'success',
        requestId: options.requestId ?? null,
      },
      now,
    );
  });
}

/**
 * Marks a case public (listed by Open311 GET requests) or not: permission `case.verify` where the case is
 * (out of scope → 404), audited.
 */
export async function setCasePublic(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId?: string;
  caseId: number;
  public: boolean;
}): Promise<CasePublic> {
  const { db, clock, actor, caseId } = options;
  const now = clock.now();
  return db.orm.transaction(async (tx) => {
    const found = await one<{ region_path: string; public: boolean }>(
      tx,
      sql`select region_path, public from grid_case where id = ${caseId} for update`,
    );
    if (!found) throw new DomainError('NOT_FOUND', '未找到 (not found)');
    requireAccess(actor, 'case.verify', { regionPath: found.region_path });
    if (found.public !== options.public) {
      await tx.execute(sql`update grid_case set public = ${options.public} where id = ${caseId}`);
      await appendAudit(
        tx,
        {
          actorId: actor.userId,
          actorRole: null,
          action: options.public ? 'case.publish' : 'case.unpublish',
          objectType: 'case',
          objectId: String(caseId),
          result: 'success',
          requestId: options.requestId ?? null,
        },
        now,
      );
    }
    return { id: caseId, public: options.public };
  });
}
