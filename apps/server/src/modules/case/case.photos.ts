import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { caseIntakeLimits, type CasePhoto, type CaseTimelineAttachment } from '@wangge/contracts';
import sharp from 'sharp';
import type { Actor } from '../../platform/access.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError } from '../../platform/errors.ts';
import { canSeeCase } from './case.policy.ts';
import { loadCase } from './case.read.ts';

/** Where photo bytes live: a directory in embedded mode; object storage can implement the same three calls. */
export interface PhotoStore {
  put(key: string, bytes: Buffer): Promise<void>;
  /** The bytes, or undefined when there is no such object. */
  get(key: string): Promise<Buffer | undefined>;
  delete(key: string): Promise<void>;
}

/** Photos (and notice documents) as files under `<root>` (normally `<dataDir>/photos`), one per key. */
export function filesystemPhotoStore(root: string): PhotoStore {
  const fileOf = (key: string): string => {
    if (!/^[A-Za-z0-9/_-]+\.(jpg|pdf|docx|xlsx)$/.test(key) || key.includes('..'))
      throw new Error(`bad photo key ${key}`);
    return path.join(root, key);
  };
  return {
    async put(key, bytes) {
      const file = fileOf(key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await fs.writeFile(temporary, bytes, { mode: 0o640 });
      await fs.rename(temporary, file);
    },
    async get(key) {
      try {
        return await fs.readFile(fileOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async delete(key) {
      await fs.rm(fileOf(key), { force: true });
    },
  };
}

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

/** The image type from the first bytes (never from the file name or the declared type). */
export function sniffImageType(bytes: Buffer): ImageType | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (
    bytes.length >= 8 &&
    bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  )
    return 'image/png';
  if (
    bytes.length >= 12 &&
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
    bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'image/webp';
  return undefined;
}

function notAnImage(): DomainError {
  return new DomainError(
    'CASE_PHOTO_INVALID',
    '文件不是有效的 JPEG、PNG 或 WebP 图片 (the file is not a valid JPEG, PNG or WebP image)',
    [{ field: 'file', message: 'not a JPEG, PNG or WebP image' }],
  );
}

/**
 * Re-encodes to JPEG: orientation applied, longest side capped, every metadata block (EXIF, GPS, XMP, ICC) dropped
 * (sharp keeps none unless asked).
 */
export async function normalisePhoto(
  bytes: Buffer,
): Promise<{ bytes: Buffer; width: number; height: number }> {
  if (!sniffImageType(bytes)) throw notAnImage();
  try {
    const side = caseIntakeLimits.photoMaxSide;
    const { data, info } = await sharp(bytes, { limitInputPixels: 100_000_000, failOn: 'error' })
      .rotate()
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    return { bytes: data, width: info.width, height: info.height };
  } catch {
    throw notAnImage();
  }
}

/**
 * The case if the actor may see it (the case policy: its reporter, `case.read` over its place, department handlers
 * only on their department's cases); otherwise 404.
 */
async function visibleCase(ex: Executor, actor: Actor, caseId: number): Promise<void> {
  const loaded = await loadCase(ex, caseId);
  if (!loaded || !canSeeCase(actor, loaded.facts))
    throw new DomainError('NOT_FOUND', '未找到事件 (case not found)');
}

/** Start of the current day in China time (UTC+8), as an ISO instant. */
function chinaDayStart(at: Date): string {
  const shifted = new Date(at.getTime() + 8 * 3600_000);
  shifted.setUTCHours(0, 0, 0, 0);
  return new Date(shifted.getTime() - 8 * 3600_000).toISOString();
}

interface PhotoRow {
  id: number;
  case_id: number;
  content_type: string;
  bytes: number;
  width: number | null;
  height: number | null;
  created_at: Date | string;
}

function presentPhoto(row: PhotoRow): CasePhoto {
  return {
    id: row.id,
    caseId: row.case_id,
    contentType: row.content_type,
    bytes: row.bytes,
    width: row.width,
    height: row.height,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

const photoColumns = sql`id::int as id, case_id::int as case_id, content_type, bytes, width, height, created_at`;

/**
 * Attaches a photo to a case: sniffed, re-encoded without metadata, within the uploader's daily quota. With the
 * phone's `clientId`, uploading again returns the first photo (`created: false`) and stores nothing new; two
 * uploads racing with one id end with one row (the unique index on (case_id, client_id) decides).
 */
export async function addCasePhoto(options: {
  db: Database;
  clock: Clock;
  actor: Actor;
  store: PhotoStore;
  caseId: number;
  bytes: Buffer;
  clientId?: string;
}): Promise<CasePhoto & { created: boolean }> {
  const { db, clock, actor, store, caseId } = options;
  const clientId = options.clientId ?? null;
  await visibleCase(db.orm, actor, caseId);
  const replayed = async () =>
    clientId === null
      ? undefined
      : one<PhotoRow>(
          db.orm,
          sql`select ${photoColumns} from case_photo where case_id = ${caseId} and client_id = ${clientId}`,
        );
  const earlier = await replayed();
  if (earlier) return { ...presentPhoto(earlier), created: false };
  if (options.bytes.length > caseIntakeLimits.photoMaxBytes)
    throw new DomainError('PAYLOAD_TOO_LARGE', '照片超过 10 MB (photo larger than 10 MB)');
  const now = clock.now();
  const today = await one<{ n: number }>(
    db.orm,
    sql`select count(*)::int as n from case_photo
        where uploaded_by = ${actor.userId} and created_at >= ${chinaDayStart(now)}`,
  );
  if ((today?.n ?? 0) >= caseIntakeLimits.photosPerUserPerDay)
    throw new DomainError(
      'CASE_PHOTO_QUOTA',
      `今日上传照片已达上限 ${caseIntakeLimits.photosPerUserPerDay} 张 (daily photo quota reached)`,
    );

  const photo = await normalisePhoto(options.bytes);
  const iso = now.toISOString();
  const key = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${crypto.randomUUID()}.jpg`;
  await store.put(key, photo.bytes);
  try {
    const row = await db.orm.transaction(async (tx) =>
      one<PhotoRow>(
        tx,
        sql`insert into case_photo (case_id, storage_key, content_type, bytes, width, height, uploaded_by, created_at,
              client_id)
            values (${caseId}, ${key}, 'image/jpeg', ${photo.bytes.length}, ${photo.width}, ${photo.height},
              ${actor.userId}, ${iso}, ${clientId})
            on conflict (case_id, client_id) do nothing
            returning ${photoColumns}`,
      ),
    );
    if (row) return { ...presentPhoto(row), created: true };
    // Lost a race with the same upload: keep the first, drop these bytes.
    await store.delete(key).catch(() => undefined);
    const first = await replayed();
    if (!first) throw new Error('case photo: conflict without a row');
    return { ...presentPhoto(first), created: false };
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    throw error;
  }
}

/** The stored JPEG of one photo of a case the actor may see. */
export async function readCasePhoto(options: {
  db: Database;
  actor: Actor;
  store: PhotoStore;
  caseId: number;
  photoId: number;
}): Promise<{ contentType: string; bytes: Buffer }> {
  const { db, actor, store, caseId, photoId } = options;
  await visibleCase(db.orm, actor, caseId);
  const row = await one<{ storage_key: string; content_type: string }>(
    db.orm,
    sql`select storage_key, content_type from case_photo where id = ${photoId} and case_id = ${caseId}`,
  );
  const bytes = row ? await store.get(row.storage_key) : undefined;
  if (!row || !bytes) throw new DomainError('NOT_FOUND', '未找到照片 (photo not found)');
  return { contentType: row.content_type, bytes };
}

/**
 * The photos a workflow step attaches (`attachments` of an action body), in the order given, once each: every id
 * must be a photo already uploaded to this case, otherwise 400 `body.attachments`.
 */
export async function attachmentsOf(
  ex: Executor,
  caseId: number,
  photoIds: readonly number[],
): Promise<CaseTimelineAttachment[]> {
  const ids = [...new Set(photoIds)];
  if (ids.length === 0) return [];
  const found = await rows<{ id: number; content_type: string }>(
    ex,
    sql`select id::int as id, content_type from case_photo
        where case_id = ${caseId} and id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`,
  );
  const byId = new Map(found.map((row) => [row.id, row.content_type]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    const message = `照片 ${missing.join(', ')} 不是本案件的照片,请先上传 (photo ${missing.join(', ')} is not a photo of this case: upload it to the case first)`;
    throw new DomainError('VALIDATION_FAILED', `body.attachments: ${message}`, [
      { field: 'body.attachments', message },
    ]);
  }
  return ids.map((id) => ({ photoId: id, contentType: byId.get(id)! }));
}
