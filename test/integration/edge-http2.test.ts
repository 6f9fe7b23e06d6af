// HTTP/2 from clients to the edge: ALPN h2 on the same TLS port as HTTP/1.1 (and http/1.0),
// every mode and error through Node's HTTP/2 client and curl, many streams on one connection,
// bodies without a Content-Length, :authority against the connection's zone, shutdown by GOAWAY,
// and WebSockets over HTTP/2 (RFC 8441) to origins that speak HTTP/1.1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, constants as http2Constants, type ClientHttp2Session, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { readFileSync } from 'node:fs';
import { openAccessLog } from '../../src/edge/access-log.js';
import { DEMO_CASES, type DemoOrigins } from '../../src/origin/demo.js';
import { startEdgeWithDemo, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const execFileAsync = promisify(execFile);

interface H2Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders & IncomingHttpStatusHeader;
  readonly body: Buffer;
  /** Interim (1xx) answers, in order. */
  readonly interim: (IncomingHttpHeaders & IncomingHttpStatusHeader)[];
}

/** One HTTP/2 connection to the edge with `servername` as SNI, once the edge's SETTINGS are in. */
function h2Connect(edge: TestEdge, servername: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://127.0.0.1:${edge.httpsPort}`, { ca: edge.edgeCaPem, servername });
    session.once('remoteSettings', () => resolve(session));
    session.once('error', reject);
  });
}

function h2Request(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer | string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const interim: H2Answer['interim'] = [];
    const chunks: Buffer[] = [];
    let head: H2Answer['headers'] | undefined;
    stream.on('headers', (h) => interim.push(h));
    stream.on('response', (h) => (head = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status: Number(head![':status']), headers: head!, body: Buffer.concat(chunks), interim }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

const get = (authority: string, path = '/', extra: Record<string, string> = {}) => ({ ':method': 'GET', ':path': path, ':authority': authority, ':scheme': 'https', ...extra });

/** Starts `origin` on a loopback port and routes a flexible zone `name` (account "site") to it. */
async function flexibleZone(edge: TestEdge, name: string, origin: NetServer): Promise<void> {
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const zone = edge.app.admin.addZone({ name, account: 'site', mode: 'flexible' });
  edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${(origin.address() as AddressInfo).port}`, null, new Date().toISOString());
  edge.edge.refreshZones();
}

describe('HTTP/2 from clients', () => {
  const dir = tempDir('strictedge-h2-');
  let edge: TestEdge;
  let demo: DemoOrigins;
  const servers: NetServer[] = [];
  after(async () => {
    for (const server of servers) server.close();
    await demo?.close();
    await edge?.close();
  });
  before(async () => {
    ({ edge, demo } = await startEdgeWithDemo(join(dir, 'state')));
  });

  /** A flexible zone whose origin answers with what it got: the request head and the body's length and SHA-256. */
  async function echoZone(name: string, answer?: (res: import('node:http').ServerResponse) => void): Promise<void> {
    const server = createServer((req, res) => {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on('end', () => {
        if (answer) return answer(res);
        res.writeHead(200, { 'content-type': 'application/json' });
        const cookieLines = req.rawHeaders.filter((_, i) => i % 2 === 1 && req.rawHeaders[i - 1]!.toLowerCase() === 'cookie');
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, cookieLines, length, sha256: hash.digest('hex') }));
      });
    });
    servers.push(server);
    await flexibleZone(edge, name, server);
  }

  it('answers every demo case over HTTP/2 as over HTTP/1.1, each on a connection that chose h2', async () => {
    for (const demoCase of DEMO_CASES.filter((c) => c.scheme === 'https')) {
      const session = await h2Connect(edge, demoCase.zone);
      try {
        assert.equal(session.alpnProtocol, 'h2');
        const answer = await h2Request(session, get(demoCase.zone, '/hello?x=1', { accept: 'application/json' }));
        assert.equal(answer.status, demoCase.status, `${demoCase.zone}: ${answer.body.toString()}`);
        assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/);
        if (demoCase.status === 200) assert.equal(JSON.parse(answer.body.toString()).url, '/hello?x=1');
        if (demoCase.status >= 500) {
          assert.equal(JSON.parse(answer.body.toString()).error.verdict, demoCase.verdict, demoCase.zone);
          assert.equal(answer.headers['x-strictedge-verdict'], demoCase.verdict);
        }
      } finally {
        session.close();
      }
    }
    const handshakes = /^strictedge_edge_client_tls_handshakes_total\{resumed="false",protocol="h2"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text());
    assert.ok(Number(handshakes?.[1]) >= DEMO_CASES.filter((c) => c.scheme === 'https').length, 'the handshakes counted under protocol h2');
  });

  it('curl --http2 gets HTTP/2, and curl --http1.1 and --http1.0 still get HTTP/1.x on the same port', async () => {
    // Not execFileSync: the edge runs in this process and must answer meanwhile.
    const curl = async (flag: string) =>
      (await execFileAsync('curl', ['-s', flag, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--cacert', join(dir, 'state', 'certs', 'edge-ca.pem'), '--resolve', `strict-ecc.test:${edge.httpsPort}:127.0.0.1`, `https://strict-ecc.test:${edge.httpsPort}/`])).stdout;
    assert.equal(await curl('--http2'), '2 200');
    assert.equal(await curl('--http1.1'), '1.1 200');
    assert.equal(await curl('--http1.0'), '1.1 200'); // the response's version: Node answers HTTP/1.0 requests as HTTP/1.1 (RFC 9110 §2.5)
  });

  it('carries 100 streams at once on one connection, and request bodies with and without a Content-Length', async () => {
    await echoZone('h2-echo.test');
    const session = await h2Connect(edge, 'h2-echo.test');
    try {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => h2Request(session, get('h2-echo.test', `/n/${i}`))));
      assert.deepEqual(answers.map((a) => a.status), Array(100).fill(200));
      assert.deepEqual(answers.map((a) => JSON.parse(a.body.toString()).url), Array.from({ length: 100 }, (_, i) => `/n/${i}`));

      const body = Buffer.alloc(3 * 1024 * 1024, 'strictedge ');
      const digest = createHash('sha256').update(body).digest('hex');
      const uploads: Record<string, string>[] = [{ ':method': 'POST' }, { ':method': 'PUT', 'content-length': String(body.length) }];
      for (const headers of uploads) {
        const answer = await h2Request(session, { ...get('h2-echo.test', '/upload'), ...headers }, body);
        const seen = JSON.parse(answer.body.toString());
        assert.equal(answer.status, 200);
        assert.deepEqual([seen.method, seen.length, seen.sha256], [headers[':method'], body.length, digest]);
      }
      const plain = JSON.parse((await h2Request(session, { ...get('h2-echo.test', '/plain', { 'x-from-client': 'yes' }), cookie: ['a=1', 'b=2'] } as unknown as Record<string, string>)).body.toString());
      assert.deepEqual(plain.cookieLines, ['a=1; b=2'], 'cookie crumbs joined into one line for HTTP/1.1');
      assert.equal(plain.headers.host, 'h2-echo.test', 'the :authority goes to the origin as its Host');
      assert.equal(plain.headers['x-from-client'], 'yes');
      assert.equal(plain.headers['x-forwarded-proto'], 'https');
      assert.equal(plain.length, 0);
      assert.equal(Object.keys(plain.headers).some((name) => name.startsWith(':')), false, 'no pseudo-header reaches the origin');
    } finally {
      session.close();
    }
  });

  it('answers 421 for an :authority in another zone than the connection, and 400 for a Host that contradicts it; the connection stays usable', async () => {
    await echoZone('h2-other.test');
    const session = await h2Connect(edge, 'strict-ecc.test');
    try {
      assert.equal((await h2Request(session, get('h2-other.test'))).status, 421);
      const contradicted = await h2Request(session, get('strict-ecc.test', '/', { host: 'h2-other.test', accept: 'application/json' }));
      assert.equal(contradicted.status, 400);
      assert.match(JSON.parse(contradicted.body.toString()).error.detail, /another authority than :authority/);
      assert.equal((await h2Request(session, get('strict-ecc.test'))).status, 200);
    } finally {
      session.close();
    }
  });

  it('answers whole when the origin repeats a header Node allows once over HTTP/2, or sends an h2c HTTP2-Settings', async () => {
    // As apps behind an nginx that adds the same header send it: twice. Byte-exact, from a raw socket.
    const raw = createNetServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () =>
        socket.write(
          'HTTP/1.1 200 OK\r\nX-Content-Type-Options: nosniff\r\nX-Content-Type-Options: nosniff\r\nContent-Type: text/plain\r\nVary: Accept\r\nVary: Origin\r\n' +
            'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nContent-Length: 2\r\n\r\nok',
        ),
      );
    });
    servers.push(raw);
    await flexibleZone(edge, 'h2-repeats.test', raw);
    const session = await h2Connect(edge, 'h2-repeats.test');
    try {
      const answer = await h2Request(session, get('h2-repeats.test'));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.toString(), 'ok');
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers.vary, 'Accept, Origin');
      assert.deepEqual(answer.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(answer.headers['http2-settings'], undefined);
    } finally {
      session.close();
    }
  });

  it('answers 520 over HTTP/2 to a status HTTP/2 cannot carry (above 599), with none of its headers, and the connection stays usable', async () => {
    // HTTP/1.1 allows any three digits; Node's HTTP/2 refuses a status above 599 when the edge
    // writes the head. The relay's catch must answer for it rather than leave the stream waiting.
    const raw = createNetServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        const path = /^GET (\S+)/.exec(chunk.toString())?.[1];
        socket.write(path === '/odd' ? 'HTTP/1.1 999 Odd\r\nX-Origin-Secret: s\r\nContent-Length: 2\r\n\r\nno' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    servers.push(raw);
    await flexibleZone(edge, 'h2-odd-status.test', raw);
    const session = await h2Connect(edge, 'h2-odd-status.test');
    try {
      const odd = await h2Request(session, get('h2-odd-status.test', '/odd'));
      assert.equal(odd.status, 520);
      assert.equal(odd.headers['x-origin-secret'], undefined);
      assert.match(odd.body.toString(), /520/);
      const next = await h2Request(session, get('h2-odd-status.test', '/'));
      assert.equal(next.status, 200);
      assert.equal(next.body.toString(), 'ok');
    } finally {
      session.close();
    }
    // HTTP/1.1 carries it as the origin sent it, as nginx does.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: edge.httpsPort, path: '/odd', servername: 'h2-odd-status.test', headers: { host: 'h2-odd-status.test' }, ca: edge.edgeCaPem, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 999);
  });

  it("passes an origin's 103 Early Hints on over HTTP/2, and answers CONNECT with 501", async () => {
    await echoZone('h2-hints.test', (res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.end('done');
    });
    const session = await h2Connect(edge, 'h2-hints.test');
    try {
      const answer = await h2Request(session, get('h2-hints.test'));
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.interim.map((h) => [h[':status'], h.link]), [[103, '</style.css>; rel=preload; as=style']]);
      const tunnel = await h2Request(session, { ':method': 'CONNECT', ':authority': 'h2-hints.test:443' });
      assert.equal(tunnel.status, 501);
    } finally {
      session.close();
    }
  });

  it('stops asking the origin when the client cancels its stream', async () => {
    let originSawClose: () => void;
    const closed = new Promise<void>((resolve) => (originSawClose = resolve));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const timer = setInterval(() => res.write(chunk), 5);
      res.on('close', () => {
        clearInterval(timer);
        originSawClose();
      });
    });
    servers.push(server);
    await flexibleZone(edge, 'h2-endless.test', server);

    const session = await h2Connect(edge, 'h2-endless.test');
    try {
      const stream = session.request(get('h2-endless.test'));
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.close(); // RST_STREAM (CANCEL)
      await closed;
      assert.equal((await h2Request(session, get('strict-ecc.test'))).status, 421, 'the connection still answers');
      // The cancelled answer is counted once, as answered when the client left.
      const counted = /^strictedge_edge_requests_total\{zone="h2-endless\.test",mode="flexible",code="200"\} (\d+)$/m;
      for (let i = 0; i < 50 && !counted.test(await (await fetch(edge.metricsUrl)).text()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(counted.exec(await (await fetch(edge.metricsUrl)).text())?.[1], '1');
    } finally {
      session.destroy();
    }
  });
});

describe('HTTP/2 turned off', () => {
  it('serve --no-http2 leaves a client that offers h2 on HTTP/1.1', async () => {
    const dir = tempDir('strictedge-no-h2-');
    const served = await startServe(['--demo', '--no-http2', '--state', join(dir, 'state'), '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    try {
      const port = new URL(served.ready.https).port;
      const { stdout } = await execFileAsync('curl', ['-s', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--cacert', served.ready.edge_ca, '--resolve', `strict-ecc.test:${port}:127.0.0.1`, `https://strict-ecc.test:${port}/`]);
      assert.equal(stdout, '1.1 200');
    } finally {
      await served.stop();
    }
  });
});

describe('a client that leaves before the answer', () => {
  it('is counted as 499 (client closed request), over HTTP/2 and HTTP/1.1 alike, not as the 200 Node presumes, and its origin connection as closed "aborted"', async () => {
    const edge = await startTestEdge(join(tempDir('strictedge-499-'), 'state'));
    edge.app.admin.createAccount('site');
    const silent = createServer(() => undefined); // never answers
    try {
      await flexibleZone(edge, 'silent.test', silent);
      const session = await h2Connect(edge, 'silent.test');
      const stream = session.request(get('silent.test'));
      stream.on('error', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      stream.close();
      const h1 = httpsRequest({ host: '127.0.0.1', port: edge.httpsPort, servername: 'silent.test', headers: { host: 'silent.test' }, ca: edge.edgeCaPem, agent: false });
      h1.on('error', () => undefined);
      h1.end();
      await new Promise((resolve) => setTimeout(resolve, 100));
      h1.destroy();
      const codes = async () => [...(await (await fetch(edge.metricsUrl)).text()).matchAll(/^strictedge_edge_requests_total\{zone="silent\.test",mode="flexible",code="(\d+)"\} (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      for (let i = 0; i < 50 && (await codes()).join() !== '499 2'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await codes(), ['499 2']);
      // Each stopped request took its origin connection with it, counted as closed for that reason.
      const aborted = async () => /^strictedge_edge_origin_sockets_closed_total\{reason="aborted"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text())?.[1];
      for (let i = 0; i < 50 && (await aborted()) !== '2'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await aborted(), '2');
      session.destroy();
    } finally {
      silent.closeAllConnections();
      silent.close();
      await edge.close();
    }
  });
});

describe('an HTTP/2 request body that stops coming', () => {
  it('is answered 408 after the body timeout and its stream closed, stopping the origin request; a slow but steady body is whole', { timeout: 20_000 }, async () => {
    const edge = await startTestEdge(join(tempDir('strictedge-h2-body-'), 'state'), { clientBodyTimeoutMs: 300 });
    edge.app.admin.createAccount('site');
    let originSawAbort = false;
    const origin = createServer((req, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => (length += chunk.length));
      req.on('aborted', () => (originSawAbort = true));
      req.on('end', () => res.end(String(length)));
    });
    try {
      await flexibleZone(edge, 'upload.test', origin);
      const session = await h2Connect(edge, 'upload.test');

      const stalled = session.request({ ...get('upload.test', '/stalled'), ':method': 'POST' }, { endStream: false });
      stalled.on('error', () => undefined);
      let stalledStatus = 0;
      stalled.on('response', (head) => (stalledStatus = Number(head[':status'])));
      stalled.resume();
      stalled.write('the first part, and then nothing');
      const started = performance.now();
      await new Promise<void>((resolve) => stalled.once('close', () => resolve()));
      const waited = performance.now() - started;
      assert.ok(waited >= 250 && waited < 3000, `closed after ${waited.toFixed(0)} ms`);
      assert.equal(stalledStatus, 408);
      for (let i = 0; i < 50 && !originSawAbort; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(originSawAbort, true, 'the origin request is stopped');

      const steady = session.request({ ...get('upload.test', '/steady'), ':method': 'POST' }, { endStream: false });
      const answer = new Promise<string>((resolve, reject) => {
        let body = '';
        steady.on('data', (chunk: Buffer) => (body += chunk));
        steady.on('end', () => resolve(body));
        steady.on('error', reject);
      });
      for (let i = 0; i < 6; i++) {
        steady.write('x'.repeat(1000));
        await new Promise((resolve) => setTimeout(resolve, 150)); // 900 ms in all, never 300 ms idle
      }
      steady.end();
      assert.equal(await answer, '6000');
      session.close();
    } finally {
      origin.closeAllConnections();
      origin.close();
      await edge.close();
    }
  });
});

describe('HTTP/2 at shutdown', () => {
  it('lets a stream in flight finish within the grace, sends GOAWAY, and refuses new connections', async () => {
    const edge = await startTestEdge(join(tempDir('strictedge-h2-close-'), 'state'));
    edge.app.admin.createAccount('site');
    const server = createServer((_req, res) => setTimeout(() => res.end('slow but whole'), 400));
    try {
      await flexibleZone(edge, 'h2-slow.test', server);
      const session = await h2Connect(edge, 'h2-slow.test');
      const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      const inFlight = h2Request(session, get('h2-slow.test'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = edge.edge.close(5000);
      await goaway;
      const answer = await inFlight;
      assert.equal(answer.status, 200);
      assert.equal(answer.body.toString(), 'slow but whole');
      await closing;
      await assert.rejects(h2Connect(edge, 'h2-slow.test'), /ECONNREFUSED/);
    } finally {
      server.close();
      await edge.close().catch(() => undefined); // the API and metrics listeners; the edge is closed already
    }
  });
});

/** RFC 6455 §4.2.2: what a server answers a Sec-WebSocket-Key with. */
const websocketAccept = (key: string) => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

interface H2WebSocket {
  readonly status: number;
  readonly headers: IncomingHttpHeaders & IncomingHttpStatusHeader;
  /** The text of the first frame the origin sent back, once the WebSocket is open. */
  readonly echoed?: string;
  /** The answer's body when the WebSocket was refused. */
  readonly body: string;
}

/**
 * Opens a WebSocket on an HTTP/2 connection as RFC 8441 has it (an extended CONNECT stream),
 * sends one masked text frame, as a client must, and reads the first frame back.
 */
async function websocketOverH2(session: ClientHttp2Session, authority: string, text: string, extra: Record<string, string> = {}): Promise<H2WebSocket> {
  assert.equal(session.remoteSettings.enableConnectProtocol, true, 'the edge offers extended CONNECT');
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat', ':authority': authority, 'sec-websocket-version': '13', ...extra }, { endStream: false });
  const [head] = (await once(stream, 'response')) as [H2WebSocket['headers']];
  const status = Number(head[':status']);
  let received = Buffer.alloc(0);
  if (status !== 200) {
    stream.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    await once(stream, 'end');
    return { status, headers: head, body: received.toString() };
  }
  const payload = Buffer.from(text);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  stream.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]));
  const echoed = await new Promise<string>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // A short unmasked text frame from the server: 0x81, its length, the text.
      if (received.length >= 2 && received.length >= 2 + received[1]!) resolve(received.subarray(2, 2 + received[1]!).toString());
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`the stream closed after ${received.length} bytes`)));
  });
  stream.close();
  return { status, headers: head, echoed, body: '' };
}

describe('WebSockets over HTTP/2', () => {
  const dir = tempDir('strictedge-h2-ws-');
  let edge: TestEdge;
  let demo: DemoOrigins;
  const servers: NetServer[] = [];
  const sockets: WebSocketServer[] = [];
  after(async () => {
    for (const wss of sockets) wss.close();
    for (const server of servers) server.close();
    await demo?.close();
    await edge?.close();
  });
  before(async () => {
    ({ edge, demo } = await startEdgeWithDemo(join(dir, 'state'), { responseTimeoutMs: 1000 }));
    for (const origin of demo.origins) {
      const wss = new WebSocketServer({ server: origin.server, handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false) });
      wss.on('connection', (socket, request) => socket.on('message', (data) => socket.send(`${origin.name} echoes: ${data} (${request.headers['x-forwarded-proto']}, ${request.headers['sec-websocket-version']})`)));
      sockets.push(wss);
    }
    edge.edge.refreshZones();
  });

  /** A flexible zone whose origin answers an upgrade request with `answer` (raw bytes), or not at all. */
  async function rawOriginZone(name: string, answer: (key: string) => string | undefined, then?: (socket: Socket) => void): Promise<void> {
    const server = createNetServer((socket) => {
      let head = '';
      const readHead = (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', readHead);
        const key = /^sec-websocket-key: (.*)$/im.exec(head)?.[1]?.trim() ?? '';
        const reply = answer(key);
        if (reply !== undefined) socket.write(reply, 'latin1');
        then?.(socket);
      };
      socket.on('data', readHead);
      socket.on('error', () => undefined);
    });
    servers.push(server);
    await flexibleZone(edge, name, server);
  }

  it('carries a WebSocket on an h2 connection to a strict origin that speaks HTTP/1.1, the subprotocol agreed, and refuses one to an origin whose certificate fails verification', async () => {
    const session = await h2Connect(edge, 'strict-ecc.test');
    try {
      const open = await websocketOverH2(session, 'strict-ecc.test', 'ping over h2', { 'sec-websocket-protocol': 'chat.v1, chat.v2' });
      assert.equal(open.status, 200);
      assert.equal(open.headers['sec-websocket-protocol'], 'chat.v2');
      assert.match(String(open.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(open.echoed, 'strict-ecc echoes: ping over h2 (https, 13)');
      // Two at once on the one connection, beside an ordinary request.
      const [a, b, plain] = await Promise.all([websocketOverH2(session, 'strict-ecc.test', 'a'), websocketOverH2(session, 'strict-ecc.test', 'b'), h2Request(session, get('strict-ecc.test'))]);
      assert.deepEqual([a.echoed, b.echoed, plain.status], ['strict-ecc echoes: a (https, 13)', 'strict-ecc echoes: b (https, 13)', 200]);
    } finally {
      session.close();
    }
    const expired = await h2Connect(edge, 'expired.test');
    try {
      const refused = await websocketOverH2(expired, 'expired.test', 'never sent');
      assert.equal(refused.status, 526);
      assert.equal(refused.headers['x-strictedge-verdict'], 'expired');
    } finally {
      expired.close();
    }
    // The edge sees the streams' resets a moment after the client sends them.
    let metrics = '';
    for (let i = 0; i < 50 && !/^strictedge_edge_websockets_open\{zone="strict-ecc\.test"\} 0$/m.test((metrics = await (await fetch(edge.metricsUrl)).text())); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(metrics, /^strictedge_edge_origin_verify_failures_total\{zone="expired\.test",reason="expired"\} [1-9]/m);
    assert.match(metrics, /^strictedge_edge_websockets_total\{zone="strict-ecc\.test",code="200"\} 3$/m);
    assert.match(metrics, /^strictedge_edge_websockets_total\{zone="expired\.test",code="526"\} 1$/m);
    assert.match(metrics, /^strictedge_edge_websockets_open\{zone="strict-ecc\.test"\} 0$/m); // all three closed
  });

  it("passes an origin's refusal of the upgrade on with its body, and answers 520 for a status HTTP/2 cannot carry, for a 2xx that does not switch or a 101 that does not accept the edge's key, and 524 for none", { timeout: 30_000 }, async () => {
    await rawOriginZone('ws-refuses.test', () => 'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\nno access');
    await rawOriginZone('ws-not-switched.test', () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi');
    await rawOriginZone('ws-bad-accept.test', () => `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${websocketAccept('not the key')}\r\n\r\n`);
    await rawOriginZone('ws-good-accept.test', (key) => `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${websocketAccept(key)}\r\n\r\n\x81\x05hello`);
    await rawOriginZone('ws-silent.test', () => undefined);
    // A status HTTP/2 cannot carry: Node refuses it when the edge writes the stream's head.
    await rawOriginZone('ws-odd-status.test', () => 'HTTP/1.1 999 Odd\r\nx-origin-secret: s\r\ncontent-length: 2\r\n\r\nno');
    const expected: [string, number, string | undefined, string?][] = [
      ['ws-refuses.test', 403, undefined, 'no access'],
      ['ws-odd-status.test', 520, undefined],
      ['ws-not-switched.test', 520, undefined],
      ['ws-bad-accept.test', 520, undefined],
      ['ws-silent.test', 524, undefined],
      ['ws-good-accept.test', 200, 'hello'], // the origin's first frame, sent with its 101, arrives first
    ];
    for (const [zone, status, echoed, body] of expected) {
      const session = await h2Connect(edge, zone);
      try {
        const answer = await websocketOverH2(session, zone, 'ping');
        assert.equal(answer.status, status, `${zone}: ${answer.body}`);
        assert.equal(answer.echoed, echoed, zone);
        if (body !== undefined) assert.equal(answer.body, body);
        assert.equal(answer.headers['x-origin-secret'], undefined, zone);
      } finally {
        session.close();
      }
    }
    const metrics = await (await fetch(edge.metricsUrl)).text();
    for (const [zone, status] of expected) assert.match(metrics, new RegExp(`^strictedge_edge_websockets_total\\{zone="${zone.replaceAll('.', '\\.')}",code="${status}"\\} 1$`, 'm'));
  });

  it("ends the stream when the origin ends its WebSocket's connection, and resets it with CONNECT_ERROR when the origin resets it", async () => {
    const accepted = (key: string) => `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${websocketAccept(key)}\r\n\r\n\x81\x05hello`;
    await rawOriginZone('ws-origin-ends.test', accepted, (socket) => setTimeout(() => socket.end(), 50));
    await rawOriginZone('ws-origin-resets.test', accepted, (socket) => setTimeout(() => socket.resetAndDestroy(), 50));
    for (const [zone, ends] of [['ws-origin-ends.test', true], ['ws-origin-resets.test', false]] as const) {
      const session = await h2Connect(edge, zone);
      try {
        const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': zone, 'sec-websocket-version': '13' }, { endStream: false });
        let error: Error | undefined;
        stream.on('error', (failure) => (error = failure));
        let ended = false;
        stream.on('end', () => (ended = true));
        const closed = new Promise((resolve) => stream.once('close', resolve));
        const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders & IncomingHttpStatusHeader];
        assert.equal(head[':status'], 200, zone);
        stream.resume();
        if (ends) {
          await once(stream, 'end'); // END_STREAM, as the origin's FIN
          stream.end();
          await closed;
          assert.equal(stream.rstCode, http2Constants.NGHTTP2_NO_ERROR, zone);
          assert.equal(error, undefined, zone);
        } else {
          await closed;
          assert.equal(ended, false, zone);
          assert.equal(stream.rstCode, http2Constants.NGHTTP2_CONNECT_ERROR, zone);
        }
      } finally {
        session.close();
      }
    }
  });

  it('closes a WebSocket stream left idle past the idle timeout at both ends', { timeout: 10_000 }, async () => {
    const idleEdge = await startTestEdge(join(dir, 'idle-state'), { websocketIdleTimeoutMs: 400 });
    idleEdge.app.admin.createAccount('site');
    const origin = createServer((_req, res) => res.end('ok'));
    const idleWss = new WebSocketServer({ server: origin });
    const originClosed = new Promise<void>((resolve) => idleWss.on('connection', (socket) => socket.once('close', () => resolve())));
    try {
      await flexibleZone(idleEdge, 'ws-idle.test', origin);
      const session = await h2Connect(idleEdge, 'ws-idle.test');
      try {
        const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': 'ws-idle.test', 'sec-websocket-version': '13' }, { endStream: false });
        stream.on('error', () => undefined);
        const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders & IncomingHttpStatusHeader];
        assert.equal(head[':status'], 200);
        const opened = performance.now();
        await once(stream, 'close');
        const idleMs = performance.now() - opened;
        assert.ok(idleMs >= 350 && idleMs < 3000, `closed after ${idleMs.toFixed(0)} ms`);
        await originClosed;
        assert.equal((await h2Request(session, get('ws-idle.test'))).status, 200, 'the connection itself is still usable');
      } finally {
        session.close();
      }
    } finally {
      idleWss.close();
      origin.close();
      await idleEdge.close();
    }
  });

  it('closes the origin WebSocket when the client resets its stream, and answers 501 to another :protocol', async () => {
    const session = await h2Connect(edge, 'strict-ecc.test');
    try {
      const closedAtOrigin = new Promise<void>((resolve) => sockets.forEach((wss) => wss.once('connection', (socket) => socket.once('close', () => resolve()))));
      await websocketOverH2(session, 'strict-ecc.test', 'then reset'); // closes (resets) its stream when done
      await closedAtOrigin;
      const other = session.request({ ':method': 'CONNECT', ':protocol': 'webtransport', ':scheme': 'https', ':path': '/', ':authority': 'strict-ecc.test' });
      const [head] = (await once(other, 'response')) as [IncomingHttpHeaders & IncomingHttpStatusHeader];
      assert.equal(head[':status'], 501);
      other.close();
    } finally {
      session.close();
    }
  });
});

// nginx logs a WebSocket when it closes; so does the edge, over either protocol: the line's
// duration_ms is the WebSocket's life, origin_header_ms the wait for the origin's 101 and
// body_bytes_sent what the client was sent after the answer's head.
describe("WebSockets' access-log lines", () => {
  it('are written when the WebSocket closes, with its life, the wait for the origin and the bytes sent, over HTTP/1.1 and HTTP/2, and for one the edge ends as it closes', async () => {
    const dir = tempDir('strictedge-ws-log-');
    const logPath = join(dir, 'access.log');
    const accessLog = openAccessLog(logPath);
    const { edge, demo } = await startEdgeWithDemo(join(dir, 'state'), { accessLog });
    // Each message gets 100 bytes back: a 102-byte frame.
    let refusedPage = '';
    const servers = demo.origins.map((origin) => {
      const wss = new WebSocketServer({ server: origin.server });
      wss.on('connection', (socket) => socket.on('message', () => socket.send('x'.repeat(100))));
      return wss;
    });
    try {
      const client = new WebSocket(`wss://127.0.0.1:${edge.httpsPort}/chat?token=s3cret`, { headers: { host: 'strict-ecc.test' }, servername: 'strict-ecc.test', ca: edge.edgeCaPem } as never);
      await once(client, 'open');
      for (let i = 0; i < 3; i++) {
        client.send('more');
        await once(client, 'message');
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      client.close();
      await once(client, 'close');
      const session = await h2Connect(edge, 'strict-rsa.test');
      try {
        assert.equal((await websocketOverH2(session, 'strict-rsa.test', 'one')).echoed, 'x'.repeat(100));
      } finally {
        session.close();
      }
      const expired = await h2Connect(edge, 'expired.test');
      try {
        refusedPage = (await websocketOverH2(expired, 'expired.test', 'never sent')).body;
      } finally {
        expired.close();
      }
      // One still open when the edge closes is ended by it, and logged before the log closes.
      const open = new WebSocket(`ws://127.0.0.1:${edge.httpPort}/left-open`, { headers: { host: 'flexible.test' } });
      await once(open, 'open');
    } finally {
      await edge.close();
      await accessLog.close();
      for (const wss of servers) wss.close();
      await demo.close();
    }
    const lines = readFileSync(logPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const [h1, h2, leftOpen, refused] = [lines.find((line) => line.path === '/chat'), lines.find((line) => line.protocol === 'HTTP/2' && line.status === 200), lines.find((line) => line.path === '/left-open'), lines.find((line) => line.status === 526)];
    // The edge's own refusal counts its page's bytes, as its answers to requests do.
    assert.deepEqual([refused?.protocol, refused?.verdict, refused?.body_bytes_sent], ['HTTP/2', 'expired', Buffer.byteLength(refusedPage)]);
    assert.ok(refusedPage.length > 100);
    assert.deepEqual([leftOpen?.status, leftOpen?.zone, leftOpen?.body_bytes_sent], [101, 'flexible.test', 0]);
    assert.deepEqual([h1?.status, h1?.protocol, h1?.host, h1?.zone], [101, 'HTTP/1.1', 'strict-ecc.test', 'strict-ecc.test']);
    assert.deepEqual([h2?.status, h2?.host, h2?.zone, h2?.body_bytes_sent], [200, 'strict-rsa.test', 'strict-rsa.test', 102]);
    // Three frames and the origin's closing frame (2 bytes, or 4 with a code).
    assert.ok((h1!.body_bytes_sent as number) >= 3 * 102 + 2 && (h1!.body_bytes_sent as number) <= 3 * 102 + 4, String(h1!.body_bytes_sent));
    for (const line of [h1!, h2!]) {
      const [originMs, durationMs] = [line.origin_header_ms as number, line.duration_ms as number];
      assert.ok(originMs > 0 && originMs < durationMs, `origin_header_ms ${originMs}, duration_ms ${durationMs}`);
    }
    assert.ok((h1!.duration_ms as number) >= 300, `the WebSocket's life: ${h1!.duration_ms} ms`);
  });
});
