import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db.ts';
import { auth, buildTerritory, makeUser, territory, type TestUser } from '../../test/factories.ts';
import { resetDatabase, testDatabase, testServer } from '../../test/harness.ts';
import type { Wangge } from '../../server.ts';
import { sanitiseFileName, sniffDocument } from './notice.documents.ts';

let db: Database;
let server: Wangge;
let dataDir: string;
const clock = fixedClock('2026-11-20T02:00:00Z');
let operator: TestUser;
let workerA2: TestUser;
let workerB1: TestUser;

beforeAll(async () => {
  db = await testDatabase();
  await resetDatabase(db);
  await buildTerritory(db);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-notice-docs-'));
  server = await testServer(db, { clock, config: { dataDir } });
  operator = await makeUser(db, [{ role: 'centre_operator', regionCode: territory.street }]);
  workerA2 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridA2 }]);
  workerB1 = await makeUser(db, [{ role: 'grid_worker', regionCode: territory.gridB1 }]);
});

afterAll(async () => {
  await server.app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A stored (uncompressed) ZIP with these entries, as Office writes them. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const pdf = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n' +
    'trailer << /Root 1 0 R >>\n%%EOF\n',
  'latin1',
);
const docx = zip({
  '[Content_Types].xml': '<?xml version="1.0"?><Types/>',
  'word/document.xml': '<?xml version="1.0"?><w:document/>',
});
const xlsx = zip({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<workbook/>' });

async function newNotice(target: Record<string, unknown>): Promise<number> {
  const created = await server.app.inject({
    method: 'POST',
    url: '/api/notices',
    headers: auth(operator),
    payload: { clientId: crypto.randomUUID(), title: '防汛物资清单', body: '见附件。', target },
  });
  expect(created.statusCode).toBe(201);
  return created.json<{ id: number }>().id;
}

function multipart(fileName: string, contentType: string, bytes: Buffer) {
  const boundary = `----wangge${crypto.randomUUID()}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
      'utf8',
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

type Attachment = { id: number; kind: string; fileName: string | null; contentType: string; bytes: number };

describe('documents attached to notices', () => {
  it('recognises documents by their bytes and keeps file names safe', () => {
    expect(sniffDocument(pdf)).toBe('pdf');
    expect(sniffDocument(docx)).toBe('docx');
    expect(sniffDocument(xlsx)).toBe('xlsx');
    expect(sniffDocument(zip({ 'readme.txt': 'hi' }))).toBeNull();
    expect(sniffDocument(Buffer.from('MZ\x90\x00 not a document', 'latin1'))).toBeNull();
    expect(sanitiseFileName('../../etc/通知"<>.pdf', 'pdf')).toBe('通知.pdf');
    expect(sanitiseFileName('setup.exe', 'pdf')).toBe('setup.exe.pdf');
    expect(sanitiseFileName(undefined, 'docx')).toBe('附件.docx');
    const long = sanitiseFileName(`${'长'.repeat(200)}.xlsx`, 'xlsx');
    expect(long.length).toBeLessThanOrEqual(120);
    expect(long.endsWith('.xlsx')).toBe(true);
  });

  it('a PDF and a Word file round-trip unchanged with download headers, for recipients only', async () => {
    const id = await newNotice({ kind: 'region', regionCode: territory.gridA2 });
    const raw = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments?name=${encodeURIComponent('防汛 物资/清单.pdf')}`,
      headers: { ...auth(operator), 'content-type': 'application/octet-stream' },
      payload: pdf,
    });
    expect(raw.statusCode).toBe(200);
    const form = multipart('值班表.docx', 'application/octet-stream', docx);
    const sent = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments`,
      headers: { ...auth(operator), ...form.headers },
      payload: form.payload,
    });
    expect(sent.statusCode).toBe(200);
    const attachments = sent.json<{ attachments: Attachment[] }>().attachments;
    expect(attachments).toEqual([
      {
        id: expect.any(Number),
        kind: 'document',
        fileName: '清单.pdf',
        contentType: 'application/pdf',
        bytes: pdf.length,
        width: null,
        height: null,
      },
      {
        id: expect.any(Number),
        kind: 'document',
        fileName: '值班表.docx',
        contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        bytes: docx.length,
        width: null,
        height: null,
      },
    ]);
    const [pdfRow, docxRow] = attachments as [Attachment, Attachment];
    const pdfDownload = await server.app.inject({
      method: 'GET',
      url: `/api/notices/${id}/attachments/${pdfRow.id}`,
      headers: auth(workerA2),
    });
    expect(pdfDownload.statusCode).toBe(200);
    expect(pdfDownload.rawPayload.equals(pdf)).toBe(true);
    expect(pdfDownload.headers['content-type']).toBe('application/pdf');
    expect(pdfDownload.headers['x-content-type-options']).toBe('nosniff');
    expect(pdfDownload.headers['content-disposition']).toBe(
      `attachment; filename="__.pdf"; filename*=UTF-8''${encodeURIComponent('清单.pdf')}`,
    );
    const docxDownload = await server.app.inject({
      method: 'GET',
      url: `/api/notices/${id}/attachments/${docxRow.id}`,
      headers: auth(operator),
    });
    expect(docxDownload.rawPayload.equals(docx)).toBe(true);
    expect(docxDownload.headers['content-type']).toBe(docxRow.contentType);
    expect(docxDownload.headers['content-disposition']).toContain(
      `filename*=UTF-8''${encodeURIComponent('值班表.docx')}`,
    );
    const outsider = await server.app.inject({
      method: 'GET',
      url: `/api/notices/${id}/attachments/${pdfRow.id}`,
      headers: auth(workerB1),
    });
    expect(outsider.statusCode).toBe(404);
    const publicRoute = await server.app.inject({
      method: 'GET',
      url: `/api/public/notices/${id}/attachments/${pdfRow.id}`,
    });
    expect(publicRoute.statusCode).toBe(404);
  });

  it("a public notice's documents are listed and downloadable on the residents' page", async () => {
    const id = await newNotice({ kind: 'residents', regionCode: territory.gridA2 });
    const sent = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments?name=${encodeURIComponent('停水安排.xlsx')}`,
      headers: { ...auth(operator), 'content-type': 'application/octet-stream' },
      payload: xlsx,
    });
    expect(sent.statusCode).toBe(200);
    const page = (
      await server.app.inject({ method: 'GET', url: `/api/public/grids/${territory.gridA2}` })
    ).json<{
      notices: {
        id: number;
        attachmentUrls: string[];
        documents: { url: string; fileName: string; bytes: number }[];
      }[];
    }>();
    const notice = page.notices.find((n) => n.id === id)!;
    expect(notice.attachmentUrls).toEqual([]);
    expect(notice.documents).toEqual([
      {
        url: expect.stringMatching(`^/api/public/notices/${id}/attachments/\\d+$`),
        fileName: '停水安排.xlsx',
        bytes: xlsx.length,
      },
    ]);
    const download = await server.app.inject({ method: 'GET', url: notice.documents[0]!.url });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(xlsx)).toBe(true);
    expect(download.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(download.headers['content-disposition']).toMatch(/^attachment; /);
  });

  it('refuses a renamed program, a ZIP that is not Office, and files over 20 MB', async () => {
    const id = await newNotice({ kind: 'region', regionCode: territory.gridA2 });
    const exe = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(512, 1)]);
    const renamed = multipart('通知.pdf', 'application/pdf', exe);
    const refused = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments`,
      headers: { ...auth(operator), ...renamed.headers },
      payload: renamed.payload,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ message: string }>().message).toContain('只能上传图片、PDF、Word');
    const plainZip = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments?name=data.docx`,
      headers: {
        ...auth(operator),
        'content-type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      },
      payload: zip({ 'word/readme.txt': 'not a document', 'docProps/app.xml': '<x/>' }),
    });
    expect(plainZip.statusCode).toBe(400);
    // 20 MB and a bit: refused (multipart and raw)
    const huge = Buffer.concat([pdf, Buffer.alloc(20 * 1024 * 1024 + 1 - pdf.length, 32)]);
    const bigForm = multipart('大.pdf', 'application/pdf', huge);
    const tooBig = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments`,
      headers: { ...auth(operator), ...bigForm.headers },
      payload: bigForm.payload,
    });
    expect(tooBig.statusCode).toBe(413);
    const tooBigRaw = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments?name=big.pdf`,
      headers: { ...auth(operator), 'content-type': 'application/pdf' },
      payload: Buffer.concat([huge, Buffer.alloc(128 * 1024)]),
    });
    expect(tooBigRaw.statusCode).toBe(413);
    // over the 10 MB of images but a document: kept, also as a multipart file
    const midForm = multipart('中.pdf', 'application/pdf', huge.subarray(0, 15 * 1024 * 1024));
    const mid = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments`,
      headers: { ...auth(operator), ...midForm.headers },
      payload: midForm.payload,
    });
    expect(mid.statusCode).toBe(200);
    // just under the cap: kept
    const fits = huge.subarray(0, 20 * 1024 * 1024);
    const kept = await server.app.inject({
      method: 'POST',
      url: `/api/notices/${id}/attachments?name=big.pdf`,
      headers: { ...auth(operator), 'content-type': 'application/pdf' },
      payload: fits,
    });
    expect(kept.statusCode).toBe(200);
    const notice = (
      await server.app.inject({ method: 'GET', url: `/api/notices/${id}`, headers: auth(operator) })
    ).json<{
      attachments: Attachment[];
    }>();
    expect(notice.attachments.map((a) => [a.kind, a.fileName, a.bytes])).toEqual([
      ['document', '中.pdf', 15 * 1024 * 1024],
      ['document', 'big.pdf', fits.length],
    ]);
  });
});
