import multipart from '@fastify/multipart';
import { caseIntakeLimits } from '@wangge/contracts';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';

function tooLarge(): DomainError {
  return new DomainError('PAYLOAD_TOO_LARGE', '照片超过 10 MB (photo larger than 10 MB)');
}

/** Lets a plugin scope take one multipart file or a raw image body (10 MB cap), as the case photo routes do. */
export async function acceptUploads(scope: App): Promise<void> {
  await scope.register(multipart, {
    limits: { fileSize: caseIntakeLimits.photoMaxBytes, files: 1, fields: 5, parts: 6 },
  });
  scope.addContentTypeParser(
    ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: caseIntakeLimits.photoMaxBytes },
    (_request, body, done) => done(null, body),
  );
}

export const uploadBodyLimit = caseIntakeLimits.photoMaxBytes + 64 * 1024;

/** The uploaded bytes: one multipart file field, or a raw image body. */
export async function uploadedBytes(request: FastifyRequest): Promise<Buffer> {
  const missing = (): DomainError =>
    new DomainError('VALIDATION_FAILED', 'file: 缺少照片 (no photo)', [
      { field: 'file', message: 'required' },
    ]);
  if (request.isMultipart()) {
    const file = await request.file();
    if (!file) throw missing();
    try {
      return await file.toBuffer();
    } catch (error) {
      if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
      throw error;
    }
  }
  if (Buffer.isBuffer(request.body)) return request.body;
  throw missing();
}

/** Sends image bytes with the headers every photo route uses. */
export function imageHeaders(cache: 'private' | 'no-store'): Record<string, string> {
  return {
    'content-type': 'image/jpeg',
    'cache-control': cache === 'private' ? 'private, max-age=300' : 'no-store',
    'x-content-type-options': 'nosniff',
  };
}
