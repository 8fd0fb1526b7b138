import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { noticeLimits, type CreateCaseRequest, type ResidentReportRequest } from '@wangge/contracts';
import type { Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { maskPhone, type SecretBox } from '../../platform/crypto.ts';
import { one, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { createCase } from '../case/case.intake.ts';
import { addCasePhoto, type PhotoStore } from '../case/case.photos.ts';
import { applyAction } from '../case/case.transition.ts';
import { currentGridPoint, type GridRouter } from '../region/index.ts';

/**
 * Residents without an account (居民端 H5): a phone verified by a 6-digit code gets a token (random, only its
 * SHA-256 kept, expiring, bound to the phone's keyed hash). Phones are never stored in plaintext, never logged and
 * never returned unmasked: the keyed hash finds a phone's codes, sessions, reports and votes; the sealed phone is
 * the contact of the cases reported from it. Addresses (IP) are kept only as keyed hashes, for rate limits.
 */

/** Sends a verification code by SMS. Implementations must not log the phone number. */
export interface SmsSender {
  sendCode(options: { phone: string; code: string; expiresInSeconds: number }): Promise<void>;
}

/**
 * The embedded sender (no SMS gateway configured): writes the code to the server log with only the last 4 digits of
 * the phone, masked (`*******5678`), so a developer can sign in while the log never holds a phone number.
 */
export function logSmsSender(logger: Logger): SmsSender {
  return {
    sendCode({ phone, code, expiresInSeconds }) {
      const digits = phone.replace(/\D/g, '');
      logger.info(
        { to: `*******${digits.slice(-4)}`, verificationCode: code, expiresInSeconds },
        'resident verification code (embedded SMS sender)',
      );
      return Promise.resolve();
    },
  };
}

/** The digits of a phone as one canonical string (+86 / 86 prefix and separators dropped). */
export function canonicalPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return /^861\d{10}$/.test(digits) ? digits.slice(2) : digits;
}

export function phoneHashOf(secrets: SecretBox, phone: string): string {
  return secrets.lookupHash('resident.phone', canonicalPhone(phone));
}

export function addressHashOf(secrets: SecretBox, address: string): string {
  return secrets.lookupHash('resident.address', address);
}

function rateLimited(message: string): DomainError {
  return new DomainError('RATE_LIMITED', message);
}

function ago(now: Date, seconds: number): string {
  return new Date(now.getTime() - seconds * 1000).toISOString();
}

/** 获取验证码: rate-limited per phone (one a minute, five an hour) and per address (twenty an hour). */
export async function requestResidentCode(options: {
  db: Database;
  clock: Clock;
  secrets: SecretBox;
  sms: SmsSender;
  phone: string;
  address: string;
}): Promise<{ expiresInSeconds: number; phone: string }> {
  const { db, clock, secrets, sms } = options;
  const phone = canonicalPhone(options.phone);
  const phoneHash = phoneHashOf(secrets, phone);
  const addressHash = addressHashOf(secrets, options.address);
  const now = clock.now();
  const code = String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
  await db.orm.transaction(async (tx) => {
    const counts = await one<{ last_minute: number; phone_hour: number; address_hour: number }>(
      tx,
      sql`select
            count(*) filter (where phone_hash = ${phoneHash}
              and created_at > ${ago(now, noticeLimits.codeResendSeconds)})::int as last_minute,
            count(*) filter (where phone_hash = ${phoneHash} and created_at > ${ago(now, 3600)})::int as phone_hour,
            count(*) filter (where address_hash = ${addressHash} and created_at > ${ago(now, 3600)})::int
              as address_hour
          from resident_code
          where (phone_hash = ${phoneHash} or address_hash = ${addressHash}) and created_at > ${ago(now, 3600)}`,
    );
    if ((counts?.last_minute ?? 0) > 0)
      throw rateLimited(
        `验证码已发送,请 ${noticeLimits.codeResendSeconds} 秒后再试 (a code was just sent: try again in ${noticeLimits.codeResendSeconds} s)`,
      );
    if ((counts?.phone_hour ?? 0) >= noticeLimits.codesPerPhonePerHour)
      throw rateLimited(
        '该号码获取验证码过于频繁,请一小时后再试 (too many codes for this phone: try again in an hour)',
      );
    if ((counts?.address_hour ?? 0) >= noticeLimits.codesPerAddressPerHour)
      throw rateLimited(
        '当前网络获取验证码过于频繁,请稍后再试 (too many codes from this address: try again later)',
      );
    await tx.execute(sql`insert into resident_code (phone_hash, address_hash, code_hash, created_at, expires_at)
      values (${phoneHash}, ${addressHash}, ${secrets.lookupHash('resident.code', `${phoneHash}:${code}`)},
        ${now.toISOString()}, ${new Date(now.getTime() + noticeLimits.codeTtlSeconds * 1000).toISOString()})`);
  });
  await sms.sendCode({ phone, code, expiresInSeconds: noticeLimits.codeTtlSeconds });
  return { expiresInSeconds: noticeLimits.codeTtlSeconds, phone: maskPhone(phone) };
}

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** The disabled service account the phone's reports are made as (one per phone, never signs in). */
async function serviceUserFor(tx: Executor, phoneHash: string, now: string): Promise<number> {
  const username = `resident-${phoneHash.slice(0, 32)}`;
  await tx.execute(sql`insert into app_user (username, display_name, password_hash, status, created_at, updated_at)
    values (${username}, '居民 (resident)', '!', 'disabled', ${now}, ${now})
    on conflict (username) do nothing`);
  const row = await one<{ id: number }>(
    tx,
    sql`select id::int as id from app_user where username = ${username}`,
  );
  return row!.id;
}

/** 验证: the latest code of the phone, unexpired, within its attempts → a resident token. */
export async function verifyResidentCode(options: {
  db: Database;
  clock: Clock;
  secrets: SecretBox;
  phone: string;
  code: string;
}): Promise<{ token: string; expiresAt: string; phone: string }> {
  const { db, clock, secrets } = options;
  const phone = canonicalPhone(options.phone);
  const phoneHash = phoneHashOf(secrets, phone);
  const now = clock.now();
  const nowIso = now.toISOString();
  const outcome = await db.orm.transaction(async (tx) => {
    const latest = await one<{ id: number; code_hash: string; attempts: number; expires_at: Date | string }>(
      tx,
      sql`select id::int as id, code_hash, attempts, expires_at from resident_code
          where phone_hash = ${phoneHash} and used_at is null
          order by created_at desc, id desc limit 1 for update`,
    );
    if (!latest || new Date(latest.expires_at) <= now)
      return {
        error: new DomainError(
          'VALIDATION_FAILED',
          'code: 验证码已过期或未获取,请重新获取 (the code expired or was never sent: request a new one)',
          [{ field: 'code', message: 'expired' }],
        ),
      };
    if (latest.attempts >= noticeLimits.codeAttempts)
      return {
        error: rateLimited('验证码错误次数过多,请重新获取 (too many wrong codes: request a new one)'),
      };
    const expected = Buffer.from(latest.code_hash);
    const given = Buffer.from(secrets.lookupHash('resident.code', `${phoneHash}:${options.code}`));
    if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) {
      // The failed attempt is counted even though the request fails: committed, then reported.
      await tx.execute(sql`update resident_code set attempts = attempts + 1 where id = ${latest.id}`);
      const left = noticeLimits.codeAttempts - latest.attempts - 1;
      return {
        error: new DomainError(
          'VALIDATION_FAILED',
          `code: 验证码错误,还可尝试 ${left} 次 (wrong code: ${left} attempts left)`,
          [{ field: 'code', message: 'wrong code' }],
        ),
      };
    }
    await tx.execute(sql`update resident_code set used_at = ${nowIso} where id = ${latest.id}`);
    const userId = await serviceUserFor(tx, phoneHash, nowIso);
    const token = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + noticeLimits.tokenTtlSeconds * 1000).toISOString();
    await tx.execute(sql`insert into resident_session (token_hash, phone_hash, phone_cipher, user_id, created_at,
        expires_at)
      values (${sha256(token)}, ${phoneHash}, ${secrets.encrypt(phone)}, ${userId}, ${nowIso}, ${expiresAt})`);
    return { token, expiresAt };
  });
  if ('error' in outcome) throw outcome.error as DomainError;
  return { token: outcome.token, expiresAt: outcome.expiresAt, phone: maskPhone(phone) };
}

export interface ResidentSession {
  phoneHash: string;
  phoneCipher: string;
  userId: number;
}

/** The session of a resident token, or 401. */
export async function residentSession(options: {
  db: Database;
  clock: Clock;
  token: string | undefined;
}): Promise<ResidentSession> {
  const { db, clock, token } = options;
  const row = token
    ? await one<{ phone_hash: string; phone_cipher: string; user_id: number }>(
        db.orm,
        sql`select phone_hash, phone_cipher, user_id::int as user_id from resident_session
            where token_hash = ${sha256(token)} and expires_at > ${clock.now().toISOString()}`,
      )
    : undefined;
  if (!row) throw new DomainError('UNAUTHENTICATED', '请先验证手机号 (verify your phone first)');
  return { phoneHash: row.phone_hash, phoneCipher: row.phone_cipher, userId: row.user_id };
}

/** The resident as an actor of the case loop: a resident (上报 only) of every top-level region. */
async function residentActor(ex: Executor, session: ResidentSession): Promise<Actor> {
  const roots = await rows<{ code: string; path: string }>(
    ex,
    sql`select code, path from region where parent_code is null`,
  );
  return {
    userId: session.userId,
    username: `resident-${session.phoneHash.slice(0, 8)}`,
    displayName: '居民 (resident)',
    sessionId: 0,
    grants: roots.map((r) => ({
      role: 'resident' as const,
      regionCode: r.code,
      regionPath: r.path,
      departmentId: null,
      specialty: null,
    })),
  };
}

const approximateReason = '居民未提供定位,按所在网格登记 (no GPS from the resident: placed at the grid)';

/**
 * Where a report is: its GPS point; without one, the grid of the page (current, else 404) at its representative
 * point, the typed address saying where in it.
 */
async function reportPlace(
  db: Database,
  input: ResidentReportRequest,
): Promise<{ location: CreateCaseRequest['location']; gridCode?: string }> {
  if (input.location) return { location: input.location };
  const grid = input.gridCode ? await currentGridPoint(db.orm, input.gridCode) : undefined;
  if (!grid) throw new DomainError('NOT_FOUND', '未找到网格 (grid not found)');
  return { location: { lng: grid.lng, lat: grid.lat, crs: 'wgs84' }, gridCode: grid.code };
}

/**
 * 随手拍 / 我的心愿: a case with channel 'resident' or 'wish' through the intake, the verified phone (sealed) as its
 * contact, idempotent by clientId; rate-limited per phone and per address a day.
 */
export async function residentReport(options: {
  db: Database;
  clock: Clock;
  secrets: SecretBox;
  router: GridRouter;
  session: ResidentSession;
  address: string;
  kind: 'report' | 'wish';
  input: ResidentReportRequest;
}) {
  const { db, clock, secrets, router, session, kind, input } = options;
  const addressHash = addressHashOf(secrets, options.address);
  const now = clock.now();
  const existing = await one<{ id: number }>(
    db.orm,
    sql`select c.id::int as id from grid_case c join resident_report r on r.case_id = c.id
        where c.client_id = ${input.clientId} and r.phone_hash = ${session.phoneHash}`,
  );
  if (!existing) {
    const counts = await one<{ phone: number; address: number }>(
      db.orm,
      sql`select count(*) filter (where phone_hash = ${session.phoneHash})::int as phone,
            count(*) filter (where address_hash = ${addressHash})::int as address
          from resident_report where created_at > ${ago(now, 24 * 3600)}
            and (phone_hash = ${session.phoneHash} or address_hash = ${addressHash})`,
    );
    if ((counts?.phone ?? 0) >= noticeLimits.reportsPerPhonePerDay)
      throw rateLimited(
        `该号码今日上报已达 ${noticeLimits.reportsPerPhonePerDay} 条,请明天再试 (daily limit of reports for this phone reached)`,
      );
    if ((counts?.address ?? 0) >= noticeLimits.reportsPerAddressPerDay)
      throw rateLimited('当前网络今日上报过多,请明天再试 (daily limit of reports from this address reached)');
  }
  const actor = await residentActor(db.orm, session);
  const place = await reportPlace(db, input);
  const created = await createCase({
    db,
    clock,
    actor,
    router,
    secrets,
    input: {
      clientId: input.clientId,
      title: input.title,
      description: input.description,
      categoryCode: input.categoryCode ?? (kind === 'report' ? '1001' : '1002'),
      channel: kind === 'report' ? 'resident' : 'wish',
      urgent: false,
      location: place.location,
      ...(place.gridCode ? { gridCode: place.gridCode, gridOverrideReason: approximateReason } : {}),
      ...(input.address ? { address: input.address } : {}),
      contact: secrets.decrypt(session.phoneCipher),
      anonymous: false,
      extra: {},
    },
    ...(place.gridCode ? { approximatePlace: approximateReason } : {}),
    alsoWrite: async (tx, c) => {
      await tx.execute(sql`insert into resident_report (case_id, phone_hash, address_hash, kind, created_at)
        values (${c.id}, ${session.phoneHash}, ${addressHash}, ${kind}, ${now.toISOString()})`);
    },
  });
  const [report] = await listResidentReports({ db, session, caseId: created.id });
  return { ...report!, created: created.created };
}

interface ReportRow {
  case_id: number;
  serial: string;
  kind: 'report' | 'wish';
  title: string;
  status: string;
  grid_code: string;
  reported_at: Date | string;
  evaluation: 'satisfied' | 'basically_satisfied' | 'dissatisfied' | null;
}

/** 我的上报: the cases reported from this phone (found by its keyed hash), newest first. */
export async function listResidentReports(options: {
  db: Database;
  session: ResidentSession;
  caseId?: number;
}) {
  const { db, session } = options;
  const found = await rows<ReportRow>(
    db.orm,
    sql`select c.id::int as case_id, c.serial, r.kind, c.title, c.status, c.grid_code, c.reported_at, c.evaluation
        from resident_report r join grid_case c on c.id = r.case_id
        where r.phone_hash = ${session.phoneHash}
          ${options.caseId === undefined ? sql`` : sql`and r.case_id = ${options.caseId}`}
        order by c.reported_at desc, c.id desc limit 200`,
  );
  return found.map((row) => ({
    caseId: row.case_id,
    serial: row.serial,
    kind: row.kind,
    title: row.title,
    status: row.status as never,
    gridCode: row.grid_code,
    reportedAt: new Date(row.reported_at).toISOString(),
    evaluation: row.evaluation,
  }));
}

/** The case if it was reported from this phone; a case of another phone (or none) is 404, never 403. */
async function ownReport(db: Database, session: ResidentSession, caseId: number): Promise<void> {
  const mine = await one<{ n: number }>(
    db.orm,
    sql`select 1 as n from resident_report where case_id = ${caseId} and phone_hash = ${session.phoneHash}`,
  );
  if (!mine) throw new DomainError('NOT_FOUND', '未找到事件 (case not found)');
}

/** 评价: 满意 / 基本满意 / 不满意 on a closed case of this phone — the workflow's evaluate, by the reporter. */
export async function rateResidentReport(options: {
  db: Database;
  clock: Clock;
  session: ResidentSession;
  caseId: number;
  evaluation: 'satisfied' | 'basically_satisfied' | 'dissatisfied';
  comment?: string | undefined;
}) {
  const { db, clock, session, caseId } = options;
  await ownReport(db, session, caseId);
  await applyAction({
    db,
    clock,
    actor: await residentActor(db.orm, session),
    caseId,
    action: 'evaluate',
    input: {
      evaluation: options.evaluation,
      method: 'self',
      ...(options.comment ? { comment: options.comment } : {}),
    },
  });
  const [report] = await listResidentReports({ db, session, caseId });
  return report!;
}

/** A photo for a case of this phone (the intake's photo rules: sniffed, re-encoded, no EXIF). */
export async function addResidentPhoto(options: {
  db: Database;
  clock: Clock;
  store: PhotoStore;
  session: ResidentSession;
  caseId: number;
  bytes: Buffer;
  /** made on the phone: a retry with the same id returns the first photo */
  clientId?: string;
}) {
  const { db, clock, store, session, caseId, bytes } = options;
  await ownReport(db, session, caseId);
  return addCasePhoto({
    db,
    clock,
    actor: await residentActor(db.orm, session),
    store,
    caseId,
    bytes,
    ...(options.clientId ? { clientId: options.clientId } : {}),
  });
}
