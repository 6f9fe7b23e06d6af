// The limit on a request's head (request line and headers), one for HTTP/1.1 and HTTP/2: Node's
// HTTP/1 parser holds heads to it and the proxy holds HTTP/2's, which Node would take up to the
// session's memory and which went to the origin whole. Against an origin that takes heads of
// any size, so that every 431 here is the edge's. And `serve --max-request-head-kib` end to end.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestEdge, type TestEdge } from '../helpers/edge.js';
import { cli, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const KIB = 1024;
const PORTS = ['--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--log-level', 'warn'];

/** An HTTP/1.1 request over TLS, raw: the whole answer. */
function http1Get(port: number, host: string, ca: string, headers: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: host, ca, ALPNProtocols: ['http/1.1'] }, () =>
      socket.write(`GET /head HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`),
    );
    let answer = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** One HTTP/2 request on `session`: its status, request id and body. */
function h2Get(session: ClientHttp2Session, headers: Record<string, string>): Promise<{ status: number; requestId: string; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/head', ...headers });
    let status = 0;
    let requestId = '';
    let body = '';
    stream.on('response', (head) => {
      status = Number(head[':status']);
      requestId = String(head['x-request-id']);
    });
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, requestId, body }));
    stream.on('error', reject);
  });
}

describe('the request head limit', () => {
  const dir = tempDir('strictedge-request-head-');
  let edge: TestEdge;
  const seen: string[] = []; // the cookie lengths the origin was sent
  const origin = createServer({ maxHeaderSize: 1024 * KIB }, (req: IncomingMessage, res) => {
    seen.push(String(req.headers.cookie?.length ?? 0));
    res.end('origin');
  });
  after(async () => {
    origin.close();
    await edge?.close();
  });
  before(async () => {
    edge = await startTestEdge(join(dir, 'state'), { maxRequestHeadBytes: 32 * KIB });
    edge.app.admin.createAccount('site');
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const zone = edge.app.admin.addZone({ name: 'cookies.test', account: 'site', mode: 'flexible' });
    edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${(origin.address() as AddressInfo).port}`, null, new Date().toISOString());
    edge.edge.refreshZones();
  });
  /** The 431s counted under zone unknown: requests, and WebSocket upgrades, which are counted apart. */
  const counted431 = async () => {
    const text = await (await fetch(edge.metricsUrl)).text();
    const count = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    return [count(/^strictedge_edge_requests_total\{zone="unknown",mode="none",code="431"\} (\d+)$/m), count(/^strictedge_edge_websockets_total\{zone="unknown",code="431"\} (\d+)$/m)];
  };

  it('passes heads up to the limit to the origin and answers 431 past it, over HTTP/1.1 and HTTP/2 alike', async () => {
    const before431 = await counted431();
    const cookie = (kib: number) => 'c'.repeat(kib * KIB);
    // Over HTTP/1.1: a 24 KiB cookie passes (Node's own default, 16 KiB, would refuse it), 40 KiB gets 431.
    assert.match(await http1Get(edge.httpsPort, 'cookies.test', edge.edgeCaPem, `Cookie: ${cookie(24)}\r\n`), /^HTTP\/1\.1 200 OK\r\n/);
    const refused1 = await http1Get(edge.httpsPort, 'cookies.test', edge.edgeCaPem, `Cookie: ${cookie(40)}\r\n`);
    assert.match(refused1, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(refused1, /\r\n\r\n<!doctype html>.*32 KiB/s, 'the page names the limit set, not Node\'s');

    // Over HTTP/2 the same: 24 KiB passes; 40 KiB, in one cookie or in crumbs, gets the edge's 431 page.
    const session = http2Connect(`https://127.0.0.1:${edge.httpsPort}`, { ca: edge.edgeCaPem, servername: 'cookies.test', maxSendHeaderBlockLength: 1024 * KIB });
    session.on('error', () => undefined);
    try {
      const authority = { ':authority': 'cookies.test' };
      assert.deepEqual((await h2Get(session, { ...authority, cookie: cookie(24) })).status, 200);
      const refused = await h2Get(session, { ...authority, cookie: cookie(40) });
      assert.equal(refused.status, 431);
      assert.match(refused.body, /Request Header Fields Too Large|request headers are too large/i);
      assert.match(refused.body, /32 KiB/);
      assert.match(refused.body, new RegExp(refused.requestId));
      const crumbs: Record<string, string> = { ...authority };
      for (let i = 0; i < 40; i++) crumbs[`x-crumb-${i}`] = 'x'.repeat(KIB);
      assert.equal((await h2Get(session, crumbs)).status, 431);
      // The refusal ends its stream alone: the session goes on.
      assert.equal((await h2Get(session, authority)).status, 200);

      // A WebSocket over HTTP/2 (extended CONNECT) is held to the same limit.
      const websocket = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/live', ...authority, 'sec-websocket-version': '13', cookie: cookie(40) });
      websocket.on('error', () => undefined);
      const [head] = (await once(websocket, 'response')) as [Record<string, string>];
      assert.equal(Number(head[':status']), 431);
      websocket.close();
    } finally {
      session.close();
    }
    assert.deepEqual(seen, [String(24 * KIB), String(24 * KIB), '0'], 'nothing over the limit reached the origin');
    assert.deepEqual(await counted431(), [before431[0]! + 3, before431[1]! + 1], 'each 431 counted under zone unknown');
  });
});

describe('serve --max-request-head-kib', () => {
  const dir = tempDir('strictedge-request-head-flag-');
  let served: Served | undefined;
  after(() => served?.stop());

  it('sets the limit for HTTP/1.1 and HTTP/2', { timeout: 30_000 }, async () => {
    served = await startServe(['--demo', '--state', join(dir, 'state'), ...PORTS, '--max-request-head-kib', '2']);
    const port = Number(new URL(served.ready.https!).port);
    const ca = readFileSync(served.ready.edge_ca!, 'utf8');
    const cookie = `Cookie: ${'c'.repeat(3 * KIB)}\r\n`; // well under Node's 16 KiB, over 2
    assert.match(await http1Get(port, 'flexible.test', ca, ''), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(await http1Get(port, 'flexible.test', ca, cookie), /^HTTP\/1\.1 431 /);
    // And on the plain HTTP port.
    const plain = tcpConnect(Number(new URL(served.ready.http!).port), '127.0.0.1');
    let plainAnswer = '';
    plain.setEncoding('latin1').on('data', (chunk: string) => (plainAnswer += chunk));
    plain.write(`GET / HTTP/1.1\r\nHost: flexible.test\r\nConnection: close\r\n${cookie}\r\n`);
    await once(plain, 'close');
    assert.match(plainAnswer, /^HTTP\/1\.1 431 /);
    const session = http2Connect(served.ready.https!, { ca, servername: 'flexible.test' });
    try {
      assert.equal((await h2Get(session, { ':authority': 'flexible.test', cookie: 'c'.repeat(3 * KIB) })).status, 431);
      assert.equal((await h2Get(session, { ':authority': 'flexible.test' })).status, 200);
    } finally {
      session.close();
    }
  });

  it('refuses a limit that is not a whole number of KiB from 1, in one line, before starting anything', () => {
    const serve = ['serve', '--state', join(dir, 'refused'), ...PORTS];
    const edge = ['edge', '--ca-url', 'http://127.0.0.1:9/client/v4', '--edge-token', `edge-v1-${'a'.repeat(24)}-${'b'.repeat(64)}`, '--state', join(dir, 'refused-edge')];
    for (const args of [
      [...serve, '--max-request-head-kib', '0'],
      [...serve, '--max-request-head-kib', '16k'],
      [...edge, '--max-request-head-kib', '1025'],
    ]) {
      const result = cli(args);
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr.trim(), 'strictedge: --max-request-head-kib must be a whole number of KiB from 1 to 1024');
    }
  });
});
