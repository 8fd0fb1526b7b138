import type { AlertSummary, Notice } from '@wangge/contracts';
import { api } from '../../api.ts';
import { uploadFile } from '../registry/files.ts';

/**
 * The image uploads of notices and alerts (`POST /api/notices/{id}/attachments`, `POST /api/alerts/{id}/photo`):
 * raw image bytes, which the typed JSON client does not carry (no endpoint for them in
 * `packages/contracts/src/client.ts` yet), so they go through the registry's raw-upload helper like the other
 * byte endpoints of the console. The server re-encodes each image without its metadata.
 */
export const imageAccept = 'image/jpeg,image/png,image/webp';

function typeOf(file: File): string {
  return ['image/jpeg', 'image/png', 'image/webp'].includes(file.type)
    ? file.type
    : 'application/octet-stream';
}

export function uploadNoticeImage(noticeId: number, file: File): Promise<Notice> {
  return uploadFile<Notice>(`/api/notices/${noticeId}/attachments`, typeOf(file), file);
}

/** Documents a notice may carry: PDF, Word (.docx), Excel (.xlsx); the server decides by the bytes, not the name. */
export const documentAccept =
  '.pdf,.docx,.xlsx,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,' +
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A document for a notice: sent as it is, with its file name (`?name=`); kept unchanged by the server. */
export function uploadNoticeDocument(noticeId: number, file: File): Promise<Notice> {
  const query = new URLSearchParams({ name: file.name });
  return uploadFile<Notice>(
    `/api/notices/${noticeId}/attachments?${query.toString()}`,
    'application/octet-stream',
    file,
  );
}

/** `1.2 MB`, `36 KB`: a file's size for a list row. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

export function uploadAlertPhoto(alertId: number, file: File): Promise<AlertSummary> {
  return uploadFile<AlertSummary>(`/api/alerts/${alertId}/photo`, typeOf(file), file);
}

/** An attachment of a notice: an image to show, or a document to download (the server says `attachment`). */
export const noticeImageUrl = (noticeId: number, attachmentId: number) =>
  api.url(`/api/notices/${noticeId}/attachments/${attachmentId}`);
export const alertPhotoUrl = (alertId: number, version: string) =>
  api.url(`/api/alerts/${alertId}/photo`, { v: version });
export const sightingPhotoUrl = (alertId: number, sightingId: number) =>
  api.url(`/api/alerts/${alertId}/sightings/${sightingId}/photo`);
