// A small origin for the demo, tests and load tests. Answers:
//   GET /bytes/N    N bytes of body, streamed
//   POST /upload    reads the body, answers {"received": N}
//   anything else   a short JSON echo (who answered, method, url, the headers it got)
// `behaviour: 'silent'` accepts connections and never answers (for 524).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface OriginOptions {
  readonly name: string;
  /** PEM certificate (chain) and key: HTTPS. Absent: plain HTTP. */
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly behaviour?: 'normal' | 'silent';
  /** false: every response says Connection: close, so each request needs a new connection. */
  readonly keepAlive?: boolean;
  readonly host?: string;
  readonly port?: number;
}

export interface RunningOrigin {
  readonly name: string;
  readonly server: Server;
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

function respond(name: string, req: IncomingMessage, res: ServerResponse): void {
  const bytes = /^\/bytes\/(\d{1,10})$/.exec(req.url ?? '');
  if (bytes) {
    let left = Number(bytes[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
    const pump = () => {
      while (left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  if (req.method === 'POST' && req.url === '/upload') {
    let received = 0;
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => {
      const body = JSON.stringify({ received });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    return;
  }
  req.resume();
  const body = JSON.stringify({ origin: name, method: req.method, url: req.url, headers: req.headers });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-origin': name });
  res.end(body);
}

export async function startOrigin(options: OriginOptions): Promise<RunningOrigin> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (options.behaviour === 'silent') return; // hold the request open, say nothing
    if (options.keepAlive === false) res.shouldKeepAlive = false;
    respond(options.name, req, res);
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createHttpServer(handler);
  server.keepAliveTimeout = 10_000;
  // Node would cut any upload still arriving after 300 s with 408; the demo's /upload shows the
  // edge passing a slow one whole.
  server.requestTimeout = 0;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    name: options.name,
    server,
    port,
    address: `${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
