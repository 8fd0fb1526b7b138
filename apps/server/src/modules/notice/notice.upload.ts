import multipart from '@fastify/multipart';
import { caseIntakeLimits } from '@wangge/contracts';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../platform/errors.ts';
import type { App } from '../../platform/http.ts';
import { attachmentDisposition, documentMaxBytes, documentTypes } from './notice.documents.ts';

function tooLarge(): DomainError {
  return new DomainError('PAYLOAD_TOO_LARGE', '照片超过 10 MB (photo larger than 10 MB)');
}

/** Lets a plugin scope take one multipart file or a raw image body (10 MB cap), as the case photo routes do. */
export async function acceptUploads(scope: App): Promise<void> {
  await scope.register(multipart, {
    limits: { fileSize: caseIntakeLimits.photoMaxBytes, files: 1, fields: 5, parts: 6 },
  });
  scope.addContentTypeParser(
    [
      'image/jpeg',
      'image/png',
      'image/webp',
      'application/octet-stream',
      ...Object.values(documentTypes).map((t) => t.contentType),
    ],
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

export const documentBodyLimit = documentMaxBytes + 64 * 1024;

/**
 * The uploaded bytes (up to 20 MB: a notice's image or document) and the sender's file name: the multipart
 * file name, or `?name=` for a raw body. Neither the name nor the content type decides what the bytes are.
 */
export async function uploadedFile(request: FastifyRequest): Promise<{ bytes: Buffer; fileName?: string }> {
  const query = request.query as { name?: unknown } | undefined;
  const named = typeof query?.name === 'string' && query.name ? { fileName: query.name } : {};
  if (request.isMultipart()) {
    const file = await request.file({
      limits: { fileSize: documentMaxBytes, files: 1, fields: 5, parts: 6 },
    });
    if (!file)
      throw new DomainError('VALIDATION_FAILED', 'file: 缺少文件 (no file)', [
        { field: 'file', message: 'required' },
      ]);
    try {
      const bytes = await file.toBuffer();
      return { bytes, ...(file.filename ? { fileName: file.filename } : named) };
    } catch (error) {
      if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
        throw new DomainError('PAYLOAD_TOO_LARGE', '文件超过 20 MB (file larger than 20 MB)');
      throw error;
    }
  }
  return { bytes: await uploadedBytes(request), ...named };
}

/** Sends image bytes with the headers every photo route uses. */
export function imageHeaders(cache: 'private' | 'no-store'): Record<string, string> {
  return {
    'content-type': 'image/jpeg',
    'cache-control': cache === 'private' ? 'private, max-age=300' : 'no-store',
    'x-content-type-options': 'nosniff',
  };
}

/** Headers of a document download: its sniffed type, saved under its name, never sniffed by the browser. */
export function documentHeaders(contentType: string, disposition: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-disposition': disposition,
    'cache-control': 'private, max-age=300',
    'x-content-type-options': 'nosniff',
  };
}

/** Sends a notice attachment: an image inline, a document as a download under its file name. */
export function attachmentHeaders(attachment: {
  kind: 'image' | 'document';
  contentType: string;
  fileName: string | null;
}): Record<string, string> {
  return attachment.kind === 'document'
    ? documentHeaders(attachment.contentType, attachmentDisposition(attachment.fileName ?? 'attachment'))
    : imageHeaders('private');
}
