/**
 * The raw reference: a plain Node `http` SSE server, nothing else. `GET /stream` opens a stream (the same first
 * bytes as Wangge's, `retry: 3000`) kept in a set; `POST /send` with `{ title }` serialises one `event: notice`
 * frame once and writes it to every open stream in a loop, then answers 204.
 *
 * Run as a child process (forked with IPC): it sends `{ port }` once listening on 127.0.0.1. `--skip-every K`
 * leaves out every K-th stream — a broken fan-out, for the test that must see reach < 100%.
 */
import http from 'node:http';

const at = process.argv.indexOf('--skip-every');
const skipEvery = at >= 0 ? Number(process.argv[at + 1]) : 0;
const streams = new Set<http.ServerResponse>();
let nextId = 1;

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url?.startsWith('/stream')) {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.write('retry: 3000\n\n');
    streams.add(response);
    response.on('close', () => streams.delete(response));
    return;
  }
  if (request.method === 'POST' && request.url === '/send') {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const { title } = JSON.parse(body) as { title: string };
      const id = nextId++;
      const data = { topic: 'notice.published', noticeId: id, title, at: new Date().toISOString() };
      const frame = `id: ${id}\nevent: notice\ndata: ${JSON.stringify(data)}\n\n`;
      let i = 0;
      for (const stream of streams) if (!(skipEvery > 0 && i++ % skipEvery === 0)) stream.write(frame);
      response.writeHead(204).end();
    });
    return;
  }
  response.writeHead(404).end();
});
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.listen({ port: 0, host: '127.0.0.1' }, () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
