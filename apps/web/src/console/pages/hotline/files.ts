import type { HotlineImportResult } from '@wangge/contracts';
import { download, uploadFile, xlsxType } from '../registry/files.ts';

/**
 * The hotline exchange's raw-byte endpoints (template, xlsx / CSV import): through the registry's file helpers,
 * the only hand-written requests of the console. The JSON endpoints are in the typed client.
 */
export type { HotlineImportResult };

export const hotlineTemplateUrl = '/api/hotline/template.xlsx';

/** The content type the server expects for a chosen file, by its extension; null for anything else. */
export function hotlineContentType(name: string): string | null {
  if (/\.xlsx$/i.test(name)) return xlsxType;
  if (/\.csv$/i.test(name)) return 'text/csv';
  return null;
}

/** Uploads a work-order file; the same clientId for a retry of the same file creates nothing twice. */
export async function uploadHotlineOrders(options: {
  file: File;
  clientId: string;
  source?: string;
}): Promise<HotlineImportResult> {
  const type = hotlineContentType(options.file.name);
  if (!type) throw new Error(`unsupported file: ${options.file.name}`);
  const query = new URLSearchParams({ clientId: options.clientId, source: options.source ?? '12345' });
  return uploadFile<HotlineImportResult>(`/api/hotline/imports?${query.toString()}`, type, options.file);
}

export function downloadHotlineTemplate(): Promise<void> {
  return download(hotlineTemplateUrl, 'hotline-template.xlsx');
}
