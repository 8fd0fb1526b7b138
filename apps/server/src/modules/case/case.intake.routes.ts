import path from 'node:path';
import multipart from '@fastify/multipart';
import {
  CaseCreatedSchema,
  CasePhotoQuerySchema,
  CasePhotoSchema,
  CreateCaseRequestSchema,
  caseIntakeLimits,
} from '@wangge/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { loadSecretBox } from '../../platform/crypto.ts';
import { DomainError } from '../../platform/errors.ts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import type { CaseDeps } from './case.deps.ts';
import { createCase } from './case.intake.ts';
import { addCasePhoto, filesystemPhotoStore, readCasePhoto, type PhotoStore } from './case.photos.ts';

const CaseParams = z.object({ id: z.coerce.number().int().positive() });
const PhotoParams = CaseParams.extend({ photoId: z.coerce.number().int().positive() });

function tooLarge(): DomainError {
  return new DomainError('PAYLOAD_TOO_LARGE', '照片超过 10 MB (photo larger than 10 MB)');
}

/** The uploaded bytes: one multipart file field, or a raw image body. */
async function uploadedBytes(request: FastifyRequest): Promise<Buffer> {
  if (request.isMultipart()) {
    const file = await request.file();
    if (!file)
      throw new DomainError('VALIDATION_FAILED', 'file: 缺少照片 (no photo)', [
        { field: 'file', message: 'required' },
      ]);
    try {
      return await file.toBuffer();
    } catch (error) {
      if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
      throw error;
    }
  }
  if (Buffer.isBuffer(request.body)) return request.body;
  throw new DomainError('VALIDATION_FAILED', 'file: 缺少照片 (no photo)', [
    { field: 'file', message: 'required' },
  ]);
}

/** POST /api/cases (idempotent by clientId), photos. */
export function registerCaseIntakeRoutes(
  app: App,
  ctx: AppContext,
  deps: CaseDeps & { photoStore?: PhotoStore },
): void {
  const { db, clock, config } = ctx;
  const secrets = loadSecretBox({ dataDir: config.dataDir });
  const store = deps.photoStore ?? filesystemPhotoStore(path.join(config.dataDir, 'photos'));

  app.post(
    '/api/cases',
    {
      config: { access: { permission: 'case.report' } },
      schema: { body: CreateCaseRequestSchema, response: { 200: CaseCreatedSchema, 201: CaseCreatedSchema } },
    },
    async (request, reply) => {
      const created = await createCase({
        db,
        clock,
        actor: actorOf(request),
        router: deps.router,
        secrets,
        input: request.body,
        requestId: request.id,
      });
      return reply.status(created.created ? 201 : 200).send(created);
    },
  );

  // Uploads get their own scope: multipart and raw image bodies are parsed only here, with a 10 MB cap.
  void app.register(async (scope: App) => {
    await scope.register(multipart, {
      limits: { fileSize: caseIntakeLimits.photoMaxBytes, files: 1, fields: 5, parts: 6 },
    });
    scope.addContentTypeParser(
      ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'],
      { parseAs: 'buffer', bodyLimit: caseIntakeLimits.photoMaxBytes },
      (_request, body, done) => done(null, body),
    );

    scope.post(
      '/api/cases/:id/photos',
      {
        config: { access: { authenticated: true } },
        bodyLimit: caseIntakeLimits.photoMaxBytes + 64 * 1024,
        schema: {
          params: CaseParams,
          querystring: CasePhotoQuerySchema,
          response: { 200: CasePhotoSchema, 201: CasePhotoSchema },
        },
      },
      async (request, reply) => {
        const { created, ...photo } = await addCasePhoto({
          db,
          clock,
          actor: actorOf(request),
          store,
          caseId: request.params.id,
          bytes: await uploadedBytes(request),
          ...(request.query.clientId ? { clientId: request.query.clientId } : {}),
        });
        return reply.status(created ? 201 : 200).send(photo);
      },
    );

    scope.get(
      '/api/cases/:id/photos/:photoId',
      { config: { access: { authenticated: true } }, schema: { params: PhotoParams } },
      async (request, reply) => {
        const photo = await readCasePhoto({
          db,
          actor: actorOf(request),
          store,
          caseId: request.params.id,
          photoId: request.params.photoId,
        });
        return reply
          .header('content-type', photo.contentType)
          .header('cache-control', 'private, max-age=86400')
          .header('x-content-type-options', 'nosniff')
          .send(photo.bytes);
      },
    );
  });
}
