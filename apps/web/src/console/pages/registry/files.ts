import {
  importModeValues,
  registryExcelKindValues,
  type ImportMode,
  type ImportResult,
  type ImportRowError,
  type ImportStatus,
  type RegistryExcelKind,
} from '@wangge/contracts';
import { ApiError } from '../../api.ts';
import i18n from '../../i18n.ts';

/**
 * The registry's xlsx endpoints (templates, imports, error workbooks, exports). They carry raw workbook bytes, so
 * they are not in the typed JSON client (`packages/contracts/src/client.ts`); these helpers are the only
 * hand-written requests of the console (the hotline page's uploads and downloads use them too). Types from the contract (`registry-excel.ts`).
 */
export const registryKinds = registryExcelKindValues;
export type RegistryKind = RegistryExcelKind;
export const importModes = importModeValues;
export type { ImportMode, ImportResult, ImportRowError, ImportStatus };

export const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return { 'accept-language': i18n.language, ...extra };
}

/** The server's error answer (ErrorResponse) as the typed client's ApiError, or the status line. */
async function failure(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string')
      return new ApiError(response.status, body as ConstructorParameters<typeof ApiError>[1]);
  } catch {
    // not JSON
  }
  return new ApiError(response.status, {
    code: `HTTP_${response.status}`,
    message: response.statusText || `HTTP ${response.status}`,
  });
}

/**
 * Sends a file's raw bytes to an import endpoint (`url` with its query) and returns the JSON answer. The same
 * clientId in the URL for a retry of the same upload makes it idempotent.
 */
export async function uploadFile<T>(url: string, contentType: string, file: Blob): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: headers({ 'content-type': contentType, accept: 'application/json' }),
    body: file,
    credentials: 'same-origin',
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** Uploads a workbook (raw bytes). The same `clientId` for a retry of the same upload makes it idempotent. */
export async function uploadImport(options: {
  kind: RegistryKind;
  mode: ImportMode;
  clientId: string;
  file: Blob;
}): Promise<ImportResult> {
  const query = new URLSearchParams({ kind: options.kind, mode: options.mode, clientId: options.clientId });
  return uploadFile<ImportResult>(`/api/registry/imports?${query.toString()}`, xlsxType, options.file);
}

export const templateUrl = (kind: RegistryKind) => `/api/registry/templates/${kind}.xlsx`;

export function exportUrl(kind: RegistryKind, region: string, reveal?: { reason: string }): string {
  const query = new URLSearchParams({ region, reveal: reveal ? '1' : '0' });
  if (reveal) query.set('reason', reveal.reason);
  return `/api/registry/exports/${kind}.xlsx?${query.toString()}`;
}

/** The file name the server gives (Content-Disposition), else the fallback. */
function fileNameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // keep looking
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain?.[1] ?? fallback;
}

/**
 * Downloads a file of the server to the user's disk: fetched first, so that a refusal (403, 404) becomes a
 * message instead of a saved error page; then handed to the browser as a download.
 */
export async function download(url: string, fallbackName: string): Promise<void> {
  const response = await fetch(url, { headers: headers(), credentials: 'same-origin' });
  if (!response.ok) throw await failure(response);
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = href;
    a.download = fileNameOf(response, fallbackName);
    a.rel = 'noopener';
    document.body.appendChild(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(href), 30_000);
  }
}
