/**
 * The reading side of W7, in its own process: GETs a CSV export and counts its bytes and records (RFC 4180: a line
 * break inside quotes is part of a field), or runs psql's `\copy … to stdout` and counts the same. Sends the
 * figures back to the parent. Run by export.ts through `fork`.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';

export interface ReadRequest {
  kind: 'http' | 'psql';
  /** http: the export URL */
  url?: string;
  headers?: Record<string, string>;
  /** psql: connection URL and the query inside `\copy (…) to stdout with csv` */
  databaseUrl?: string;
  query?: string;
}

export interface ReadResult {
  status: number;
  bytes: number;
  /** CSV records, the header included when there is one */
  records: number;
  seconds: number;
  /** the first record's raw text (the header) */
  firstLine: string;
  bom: boolean;
  /** the body, when it is an error answer (status ≠ 200), for the message */
  error?: string;
}

/** Counts CSV records in chunks: a record ends at a line feed outside quotes. */
export class RecordCounter {
  records = 0;
  bytes = 0;
  firstLine = '';
  private quoted = false;
  private last = 0x0a;
  private head: Buffer[] = [];
  private headDone = false;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    this.last = chunk[chunk.length - 1]!;
    if (!this.headDone) this.head.push(chunk);
    let at = 0;
    let feed = -2; // the next line feed at or after `at` (-2: not looked for yet)
    while (at < chunk.length) {
      const quote = chunk.indexOf(0x22, at);
      if (this.quoted) {
        if (quote < 0) return;
        this.quoted = false;
        at = quote + 1;
        continue;
      }
      if (feed !== -1 && feed < at) feed = chunk.indexOf(0x0a, at);
      if (feed >= 0 && (quote < 0 || feed < quote)) {
        this.records += 1;
        if (!this.headDone) this.takeHead(chunk, feed);
        at = feed + 1;
        continue;
      }
      if (quote < 0) return;
      this.quoted = true;
      at = quote + 1;
    }
  }

  private takeHead(chunk: Buffer, feed: number): void {
    const whole = Buffer.concat([...this.head.slice(0, -1), chunk.subarray(0, feed)]);
    this.firstLine = whole.toString('utf8').replace(/\r$/, '');
    this.headDone = true;
    this.head = [];
  }

  /** The count at the end; throws when the last record is cut off (an open quote or no final line break). */
  finish(): number {
    if (this.quoted) throw new Error('the CSV ends inside a quoted field');
    if (this.last !== 0x0a) throw new Error('the CSV does not end with a line break');
    return this.records;
  }
}

function readHttp(request: ReadRequest): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const counter = new RecordCounter();
    const call = http.get(request.url!, { headers: request.headers ?? {} }, (response) => {
      const status = response.statusCode ?? 0;
      let bom: boolean | undefined;
      const errorParts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => {
        if (status !== 200) {
          errorParts.push(chunk);
          return;
        }
        if (bom === undefined) {
          bom = chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
          if (bom) chunk = chunk.subarray(3);
        }
        counter.push(chunk);
      });
      response.on('end', () => {
        try {
          resolve({
            status,
            bytes: counter.bytes + (bom ? 3 : 0),
            records: status === 200 ? counter.finish() : 0,
            seconds: (performance.now() - started) / 1000,
            firstLine: counter.firstLine,
            bom: bom ?? false,
            ...(status === 200 ? {} : { error: Buffer.concat(errorParts).toString('utf8').slice(0, 500) }),
          });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      response.on('error', reject);
      // A connection cut mid-body: 'aborted' then 'end' would count a short export as whole.
      response.on('aborted', () => reject(new Error('the export was cut off')));
    });
    call.on('error', reject);
  });
}

function readPsql(request: ReadRequest): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const counter = new RecordCounter();
    const psql = spawn(
      'psql',
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-d',
        request.databaseUrl!,
        '-c',
        `\\copy (${request.query}) to stdout with csv header`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    psql.stdout.on('data', (chunk: Buffer) => counter.push(chunk));
    psql.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    psql.on('error', reject);
    psql.on('close', (code) => {
      try {
        resolve({
          status: code === 0 ? 200 : 500,
          bytes: counter.bytes,
          records: counter.finish(),
          seconds: (performance.now() - started) / 1000,
          firstLine: counter.firstLine,
          bom: false,
          ...(code === 0 ? {} : { error: stderr.slice(0, 500) }),
        });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

export function read(request: ReadRequest): Promise<ReadResult> {
  return request.kind === 'http' ? readHttp(request) : readPsql(request);
}

if (process.send) {
  process.once('message', (request: ReadRequest) => {
    void read(request).then(
      (result) => process.send!({ result }),
      (error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
