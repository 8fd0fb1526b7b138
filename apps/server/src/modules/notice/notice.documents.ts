/** Documents attached to notices: PDF and OOXML (.docx, .xlsx), recognised by their bytes, never by name. */

export const documentMaxBytes = 20 * 1024 * 1024;

export const documentTypes = {
  pdf: { contentType: 'application/pdf', extension: '.pdf' },
  docx: {
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    extension: '.docx',
  },
  xlsx: {
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    extension: '.xlsx',
  },
} as const;
export type DocumentType = keyof typeof documentTypes;

/** The names in a ZIP's central directory, or null when the bytes are not a readable (non-ZIP64) ZIP. */
export function zipEntryNames(bytes: Buffer): string[] | null {
  if (bytes.length < 22 || bytes.readUInt32LE(0) !== 0x04034b50) return null;
  // the end-of-central-directory record: within the last 22 + 65535 bytes (its comment)
  const floor = Math.max(0, bytes.length - 22 - 0xffff);
  let end = -1;
  for (let i = bytes.length - 22; i >= floor; i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  const count = bytes.readUInt16LE(end + 10);
  const size = bytes.readUInt32LE(end + 12);
  const offset = bytes.readUInt32LE(end + 16);
  if (count === 0xffff || offset === 0xffffffff || offset + size > end) return null;
  const names: string[] = [];
  let at = offset;
  for (let n = 0; n < count; n++) {
    if (at + 46 > end || bytes.readUInt32LE(at) !== 0x02014b50) return null;
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    if (at + 46 + nameLength > end) return null;
    names.push(bytes.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** What kind of document the bytes are, or null. */
export function sniffDocument(bytes: Buffer): DocumentType | null {
  if (bytes.length >= 5 && bytes.toString('latin1', 0, 5) === '%PDF-') return 'pdf';
  const names = zipEntryNames(bytes);
  if (!names) return null;
  if (names.includes('word/document.xml')) return 'docx';
  if (names.includes('xl/workbook.xml')) return 'xlsx';
  return null;
}

/**
 * A file name safe to store and send back: no folders, control or reserved characters, at most 120 characters,
 * ending with the extension of what the bytes are (`报告.exe` holding a PDF becomes `报告.exe.pdf`).
 */
export function sanitiseFileName(raw: string | undefined, type: DocumentType): string {
  const { extension } = documentTypes[type];
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  let name = [...base]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f && !'"<>:|?*'.includes(c))
    .join('')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  if (!name.toLowerCase().endsWith(extension)) name = `${name}${extension}`;
  if (name === extension) name = `附件${extension}`;
  if (name.length > 120) {
    const stem = [...name.slice(0, -extension.length)];
    while (stem.join('').length + extension.length > 120) stem.pop();
    name = `${stem.join('').trimEnd()}${extension}`;
  }
  return name;
}

/** `content-disposition` for a download: an ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
