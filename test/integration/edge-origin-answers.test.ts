// Origins' answers byte by byte, as the client gets them. Answers without a body from origins
// that add a Content-Length: a 304 may carry the size of the representation (RFC 9110 §8.6), and
// a 204 must not carry one but some origins send it. undici 7 fails such an exchange after the
// status line; the client must still get a clean answer on a connection that stays usable, not a
// reset. And the header lines: hop-by-hop ones stay behind, repeated ones stay repeated. And
// request lines as clients may send them: absolute-form routed by its authority, two Host lines,
// `OPTIONS *` and CONNECT answered by the edge itself. And an answer the origin breaks off after
// its status line: the client's connection is cut, and the edge counts and logs why. And 103
// Early Hints, passed on. And an origin that answers an upload before it is whole. And bytes
// sent behind an upgrade request: a refused WebSocket's, and an h2c upgrade's. And a request that
// comes back to the edge (CDN-Loop).
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cdnLoopId } from '../../src/edge/cdn-loop.js';
import { createLogger } from '../../src/log.js';
import { edgeRequest, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { tempDir } from '../helpers/tmp.js';

/** One raw HTTP/2 frame: SETTINGS (type 4) on the connection, every other type on stream 1. */
function h2Frame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(type === 4 ? 0 : 1, 5);
  return Buffer.concat([head, payload]);
}

/** A raw client's request head on stream 1 (HPACK literals, not indexed), END_HEADERS and no END_STREAM: a body follows. */
function h2PostHead(authority: string, extra: Record<string, string> = {}): Buffer {
  const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  const fields = { ':method': 'POST', ':scheme': 'https', ':path': '/', ':authority': authority, ...extra };
  return h2Frame(1, 0x4, Buffer.concat(Object.entries(fields).map(([name, value]) => literal(name, value))));
}

const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2Frame(4, 0, Buffer.alloc(0))]);

describe('origin answers through the edge', () => {
  const dir = tempDir('strictedge-origin-answers-');
  let edge: TestEdge;
  const servers: Server[] = [];
  const logLines: Record<string, unknown>[] = [];
  after(async () => {
    for (const server of servers) server.close();
    await edge?.close();
  });
  before(async () => {
    const edgeLogger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    edge = await startTestEdge(join(dir, 'state'), { edgeLogger, responseTimeoutMs: 500 });
    edge.app.admin.createAccount('site');
  });

  /** Starts `origin` on a loopback port and routes a flexible zone `name` (account "site") to it. */
  async function routeZone(name: string, origin: Server | HttpServer): Promise<void> {
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    servers.push(origin as unknown as Server);
    const zone = edge.app.admin.addZone({ name, account: 'site', mode: 'flexible' });
    edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${(origin.address() as { port: number }).port}`, null, new Date().toISOString());
    edge.edge.refreshZones();
  }

  /**
   * A raw connection to the edge's HTTP port, and what has come back on it so far. With
   * `allowHalfOpen` it keeps its side open after the edge's FIN, as some clients do.
   */
  async function rawClient({ allowHalfOpen = false } = {}) {
    const client = connect({ port: edge.httpPort, host: '127.0.0.1', allowHalfOpen });
    let received = '';
    let ended = false;
    client.setEncoding('latin1').on('data', (chunk: string) => (received += chunk));
    client.once('end', () => (ended = true));
    client.on('error', () => undefined);
    await once(client, 'connect');
    return { client, received: () => received, ended: () => ended };
  }

  const websocketUpgrade = (host: string) => `GET /chat HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

  /** A flexible zone whose origin answers every request with these exact bytes (then ends the connection, with `thenClose`). */
  async function zoneAnswering(name: string, answer: string, { thenClose = false } = {}): Promise<void> {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => (thenClose ? socket.end(answer) : socket.write(answer)));
    });
    await routeZone(name, server);
  }

  /** Two requests on one kept-alive client connection: both must be answered. */
  async function twiceOnOneConnection(host: string, method = 'GET') {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: edge.edgeCaPem });
    const once = () =>
      new Promise<{ status: number; reason: string; headers: Record<string, unknown>; rawHeaders: string[]; reused: boolean }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: edge.httpsPort, method, servername: host, headers: { host }, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, reason: res.statusMessage!, headers: res.headers, rawHeaders: res.rawHeaders, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      return [await once(), await once()];
    } finally {
      agent.destroy();
    }
  }

  it('a request lost with a kept-alive origin connection is sent once more on another (GET, DELETE), never one with a body or a POST', async () => {
    const retries = async (zone: string) => Number(new RegExp(`^strictedge_edge_origin_retries_total\\{zone="${zone.replaceAll('.', '\\.')}"\\} (\\d+)$`, 'm').exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);
    const ask = (host: string, method: string, body?: string) => edgeRequest(edge, { scheme: 'http', host, method, ...(body !== undefined ? { body } : {}) });

    // What an origin closing an idle kept-alive connection just as a request arrives does: the
    // first connection answers one request and closes on the next without a word; the others
    // answer everything. The client never sees the lost request.
    const lost: string[] = [];
    let connections = 0;
    await routeZone('lost.test', createServer((socket) => {
      const first = ++connections === 1;
      let requests = 0;
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        lost.push(chunk.toString('latin1').split(' ')[0]!);
        if (first && ++requests === 2) return void socket.destroy();
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      });
    }));
    for (const method of ['GET', 'DELETE', 'GET']) assert.equal((await ask('lost.test', method)).status, 200, method);
    assert.deepEqual(lost, ['GET', 'DELETE', 'DELETE', 'GET'], 'the DELETE lost on the kept-alive connection sent once more, on another');
    assert.equal(await retries('lost.test'), 1);

    // An origin that drops every request: a GET is sent twice, then 520; a body or a POST never twice.
    const dropped: string[] = [];
    await routeZone('drops.test', createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        dropped.push(chunk.toString('latin1').split(' ')[0]!);
        socket.destroy();
      });
    }));
    assert.equal((await ask('drops.test', 'GET')).status, 520);
    assert.equal((await ask('drops.test', 'PUT', 'a body')).status, 520);
    assert.equal((await ask('drops.test', 'POST')).status, 520);
    assert.deepEqual(dropped, ['GET', 'GET', 'PUT', 'POST']);
    assert.equal(await retries('drops.test'), 1);
  });

  it('a 304 with the representation\'s Content-Length reaches the client whole, and its connection stays usable', async () => {
    await zoneAnswering('not-modified.test', 'HTTP/1.1 304 Not Modified\r\netag: "v1"\r\ncontent-length: 1234\r\n\r\n');
    const [first, second] = await twiceOnOneConnection('not-modified.test');
    assert.equal(first!.status, 304);
    assert.equal(first!.headers.etag, '"v1"');
    assert.equal(second!.status, 304);
    assert.equal(second!.reused, true);
  });

  it('a 204 with a Content-Length is passed on without it', async () => {
    await zoneAnswering('no-content.test', 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n');
    const [first, second] = await twiceOnOneConnection('no-content.test');
    assert.equal(first!.status, 204);
    assert.equal(first!.headers['content-length'], undefined);
    assert.equal(second!.status, 204);
    assert.equal(second!.reused, true);
  });

  it('a HEAD answer with the Content-Length of the body it leaves out', async () => {
    await zoneAnswering('head.test', 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4321\r\n\r\n');
    const [first, second] = await twiceOnOneConnection('head.test', 'HEAD');
    assert.equal(first!.status, 200);
    assert.equal(first!.headers['content-length'], '4321');
    assert.equal(second!.reused, true);
  });

  it('hop-by-hop headers and those the origin\'s Connection names stay behind; repeated ones stay repeated; the request id is the edge\'s', async () => {
    await zoneAnswering(
      'header-lines.test',
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\nX-Internal: secret\r\nProxy-Authenticate: Basic\r\n' +
        'Trailer: X-Sum\r\nUpgrade: h2c\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nVary: Accept\r\nVary: Origin\r\nX-Request-Id: from-the-origin-1\r\n' +
        'Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
    );
    const [first, second] = await twiceOnOneConnection('header-lines.test');
    const names = first!.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
    for (const hop of ['x-internal', 'proxy-authenticate', 'trailer', 'upgrade']) assert.equal(names.includes(hop), false, hop);
    assert.notEqual(first!.headers['keep-alive'], 'timeout=5'); // the edge's own connection says its own
    assert.deepEqual(first!.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(names.filter((name) => name === 'vary').length, 2);
    assert.equal(names.filter((name) => name === 'x-request-id').length, 1);
    assert.match(String(first!.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(first!.headers['content-type'], 'text/plain');
    assert.equal(second!.reused, true);
  });

  it("passes the origin's reason phrase on, as nginx does; an empty one gets the standard phrase", async () => {
    await zoneAnswering('reason.test', 'HTTP/1.1 599 Custom Reason\r\ncontent-length: 2\r\n\r\nok');
    const [custom] = await twiceOnOneConnection('reason.test');
    assert.equal(custom!.status, 599);
    assert.equal(custom!.reason, 'Custom Reason');
    await zoneAnswering('no-reason.test', 'HTTP/1.1 404 \r\ncontent-length: 2\r\n\r\nok');
    const [none] = await twiceOnOneConnection('no-reason.test');
    assert.equal(none!.status, 404);
    assert.equal(none!.reason, 'Not Found');
  });

  /** A flexible zone whose origin records each request head and answers 200 with the zone's name. */
  async function zoneRecording(name: string): Promise<string[]> {
    const heads: string[] = [];
    const server = createServer((socket) => {
      let buffered = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        buffered += chunk;
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          heads.push(buffered.slice(0, end));
          buffered = buffered.slice(end + 4);
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${name.length}\r\n\r\n${name}`);
        }
      });
    });
    await routeZone(name, server);
    return heads;
  }

  /** Bytes as a client wrote them, to the edge's HTTP port; what came back within 1 s. */
  function exchange(bytes: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(edge.httpPort, '127.0.0.1', () => socket.write(bytes));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('error', () => undefined);
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  it('routes an absolute-form request by its authority, not the Host, and asks the origin for the path', async () => {
    const [a, b] = [await zoneRecording('form-a.test'), await zoneRecording('form-b.test')];
    const answer = await exchange('GET http://form-b.test/x?y=1 HTTP/1.1\r\nHost: form-a.test\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.ok(answer.endsWith('form-b.test'), answer);
    assert.equal(a.length, 0);
    const head = b[0]!.split('\r\n');
    assert.equal(head[0], 'GET /x?y=1 HTTP/1.1');
    const lines = head.slice(1).map((line) => line.toLowerCase());
    assert.deepEqual(lines.filter((line) => line.startsWith('host:')), ['host: form-b.test']);
    assert.ok(lines.includes('x-forwarded-host: form-b.test'), head.join('\n'));
  });

  it('pipelined requests are handled one after another, as nginx does: one client connection holds one origin request at a time, and gets every answer in order', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const origin = createHttpServer((req, res) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.end(req.url);
      }, 10);
    });
    await routeZone('pipelined.test', origin);
    const paths = Array.from({ length: 20 }, (_, i) => `/${i}`);
    const { client, received: answer } = await rawClient();
    try {
      client.write(paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: pipelined.test\r\n\r\n`).join(''));
      const bodies = () => [...answer().matchAll(/\r\n\r\n(\/\d+)/g)].map((match) => match[1]);
      for (let waited = 0; bodies().length < paths.length && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(bodies(), paths);
      assert.equal(mostInFlight, 1);
    } finally {
      client.destroy();
    }
  });

  it('a WebSocket upgrade the origin refuses: the refusal reaches the client, nothing the client sends behind the upgrade reaches the origin, and both connections close after the refusal', async () => {
    let originGot = '';
    let originClosed = false;
    const origin = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('close', () => (originClosed = true));
      socket.setEncoding('latin1').on('data', (chunk: string) => {
        if (originGot === '') socket.write('HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno'); // and the connection kept alive
        originGot += chunk;
      });
    });
    await routeZone('ws-refused.test', origin);
    const smuggled = (path: string) => `GET ${path} HTTP/1.1\r\nHost: ws-refused.test\r\nCF-Connecting-IP: 10.6.6.6\r\nX-Forwarded-For: 10.6.6.6\r\n\r\n`;
    // A client that keeps its side open after the answer: the edge must not wait for it.
    const { client, received: answer, ended } = await rawClient({ allowHalfOpen: true });
    try {
      // A request in the same write as the upgrade, and one after the refusal.
      client.write(websocketUpgrade('ws-refused.test') + smuggled('/in-the-same-write'));
      for (let waited = 0; !answer().endsWith('no') && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(answer(), /^HTTP\/1\.1 403 Forbidden\r\n/);
      assert.match(answer(), /\r\nx-request-id: [^\r]+\r\n/i);
      client.write(smuggled('/after-the-refusal'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.match(originGot, /^GET \/chat HTTP\/1\.1\r\n/);
      assert.equal(originGot.match(/HTTP\/1\.1\r\n/g)?.length, 1, originGot);
      assert.doesNotMatch(originGot, /10\.6\.6\.6/);
      // The refusal had its end (its Content-Length): the edge closed both connections, rather
      // than hold the origin's until the client or the origin hangs up, or the idle timeout.
      for (let waited = 0; !(ended() && originClosed) && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual({ client: ended(), origin: originClosed }, { client: true, origin: true });
      // Nor does the edge keep its side half-open for this client: what it sends now is refused
      // (a reset), where a half-open socket would take it in silence until the idle timeout.
      client.write(smuggled('/after-the-end'));
      for (let waited = 0; !client.destroyed && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(client.destroyed, true, "the edge's side is closed");
    } finally {
      client.destroy();
    }
  });

  it('a WebSocket upgrade refused with a reason phrase Node will not write gets the refusal with Node\'s own phrase', async () => {
    const origin = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('HTTP/1.1 403 Forb\x01dden\r\ncontent-length: 2\r\n\r\nno', 'latin1'));
    });
    await routeZone('ws-odd-reason.test', origin);
    const { client, received: answer } = await rawClient();
    try {
      client.write(websocketUpgrade('ws-odd-reason.test'));
      for (let waited = 0; !client.destroyed && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(answer(), /^HTTP\/1\.1 403 Forbidden\r\n/);
      assert.ok(answer().endsWith('\r\n\r\nno'), answer());
    } finally {
      client.destroy();
    }
  });

  it('a WebSocket upgrade the origin answers with no HTTP at all gets 520, not the origin\'s bytes', async () => {
    const origin = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('SSH-2.0-OpenSSH_9.2\r\n'));
    });
    await routeZone('ws-garbage.test', origin);
    const { client, received: answer } = await rawClient();
    try {
      client.write(websocketUpgrade('ws-garbage.test'));
      for (let waited = 0; !client.destroyed && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(answer(), /^HTTP\/1\.1 520 /);
      assert.doesNotMatch(answer(), /SSH-2\.0/);
      const metrics = await (await fetch(edge.metricsUrl)).text();
      assert.match(metrics, /^strictedge_edge_websockets_total\{zone="ws-garbage\.test",code="520"\} 1$/m);
    } finally {
      client.destroy();
    }
  });

  it('a WebSocket upgrade the origin answers 200 without switching is counted by its status, and never as open', async () => {
    const origin = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')); // and the connection kept alive
    });
    await routeZone('ws-unswitched.test', origin);
    const { client, received: answer } = await rawClient();
    try {
      client.write(websocketUpgrade('ws-unswitched.test'));
      for (let waited = 0; !answer().endsWith('ok') && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(answer(), /^HTTP\/1\.1 200 OK\r\n/);
      const metrics = await (await fetch(edge.metricsUrl)).text();
      assert.match(metrics, /^strictedge_edge_websockets_total\{zone="ws-unswitched\.test",code="200"\} 1$/m);
      assert.doesNotMatch(metrics, /^strictedge_edge_websockets_open\{zone="ws-unswitched\.test"\} [1-9]/m); // while its connection is still open
    } finally {
      client.destroy();
    }
  });

  it('an upgrade other than a WebSocket (h2c) is answered as a plain request over HTTP/1.1: no Upgrade to the origin, nothing pipelined behind it sent on, the connection closed', async () => {
    const heads = await zoneRecording('h2c.test');
    const answer = await exchange(
      'GET /h2c HTTP/1.1\r\nHost: h2c.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n' +
        'GET /behind HTTP/1.1\r\nHost: h2c.test\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.ok(answer.endsWith('\r\n\r\nh2c.test'), answer);
    assert.equal(heads.length, 1, heads.join('\n---\n'));
    assert.match(heads[0]!, /^GET \/h2c HTTP\/1\.1\r\n/);
    assert.doesNotMatch(heads[0]!, /upgrade|http2-settings|h2c\r\n/i);
    // As curl sends it for http:// with --http2.
    const { stdout } = await promisify(execFile)('curl', ['-s', '--http2', '-w', ' %{http_version} %{http_code}', '-H', 'Host: h2c.test', `http://127.0.0.1:${edge.httpPort}/curl`]);
    assert.equal(stdout, 'h2c.test 1.1 200');
    assert.equal(heads.length, 2);
    // A body behind such an upgrade cannot be passed on (Node stops reading at the head).
    const refusals = async () => Number(/^strictedge_edge_requests_total\{zone="unknown",mode="none",code="400"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);
    const refusedBefore = await refusals();
    assert.match(await exchange('POST / HTTP/1.1\r\nHost: h2c.test\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nhi'), /^HTTP\/1\.1 400 Bad Request\r\n[^]*only for a WebSocket/);
    assert.equal(heads.length, 2);
    assert.equal(await refusals(), refusedBefore + 1, 'counted as the edge\'s own refusal');
  });

  it("answers 508 to a request that comes back to the edge (RFC 8586's CDN-Loop), after one pass; other CDNs' ids go on, with the edge's after them", async () => {
    const heads = await zoneRecording('cdn-loop.test');
    const answer = await exchange('GET / HTTP/1.1\r\nHost: cdn-loop.test\r\nCDN-Loop: cloudflare; v=1\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    const id = cdnLoopId(edge.edgeCaPem);
    assert.match(heads[0]!, new RegExp(`\r\nCDN-Loop: cloudflare; v=1\r\n(?:[^]*\r\n)?cdn-loop: ${id}(\r\n|$)`));
    // A zone whose origin is the edge itself: before, one request went round until the pool was full (257 of them).
    const zone = edge.app.admin.addZone({ name: 'loop.test', account: 'site', mode: 'flexible' });
    edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${edge.httpPort}`, null, new Date().toISOString());
    edge.edge.refreshZones();
    const looped = await exchange('GET / HTTP/1.1\r\nHost: loop.test\r\nConnection: close\r\n\r\n');
    assert.match(looped, /^HTTP\/1\.1 508 Loop Detected\r\n[^]*came back to the edge/);
    const upgrade = await exchange('GET /ws HTTP/1.1\r\nHost: loop.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    assert.match(upgrade, /^HTTP\/1\.1 508 /);
    const metrics = await (await fetch(edge.metricsUrl)).text();
    // Each counted twice: by the pass that sent it back, and by the first, which passed its answer on.
    assert.match(metrics, /^strictedge_edge_requests_total\{zone="loop\.test",mode="flexible",code="508"\} 2$/m);
    assert.match(metrics, /^strictedge_edge_websockets_total\{zone="loop\.test",code="508"\} 2$/m);
  });

  it('answers 400 to two Host lines, to an empty one, to one that is not host[:port] or not a DNS name, to OPTIONS * and to an upgrade with two Host lines, 405 to TRACE and 501 to CONNECT, without asking any origin', async () => {
    const a = await zoneRecording('form-c.test');
    const cases: [string, RegExp][] = [
      ['GET / HTTP/1.1\r\nHost: form-c.test\r\nHost: form-c.test\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\r\nHost: \r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\r\nHost: form-c.test:abc\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n[^]*not host\[:port\]/],
      ['GET / HTTP/1.1\r\nHost: form-c.test/x\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\r\nHost: a..form-c.test\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n[^]*not a DNS name/],
      ['GET http://.form-c.test/ HTTP/1.1\r\nHost: form-c.test\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET http://form-c.test/ HTTP/1.1\r\nHost: form-c.test:abc\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['TRACE / HTTP/1.1\r\nHost: form-c.test\r\nCookie: session=secret\r\n\r\n', /^HTTP\/1\.1 405 Method Not Allowed\r\n(?![^]*secret)/],
      ['OPTIONS * HTTP/1.1\r\nHost: form-c.test\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\r\nHost: form-c.test\r\nHost: other.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['CONNECT form-c.test:80 HTTP/1.1\r\nHost: form-c.test:80\r\n\r\n', /^HTTP\/1\.1 501 /],
    ];
    for (const [request, expected] of cases) assert.match(await exchange(request), expected, request);
    assert.equal(a.length, 0);
    // The page says what was wrong, and the connection is not kept for another request.
    const twice = await exchange('GET / HTTP/1.1\r\nHost: form-c.test\r\nHost: form-c.test\r\n\r\nGET / HTTP/1.1\r\nHost: form-c.test\r\n\r\n');
    assert.match(twice, /more than one Host header/);
    assert.match(twice, /\r\nconnection: close\r\n/i);
    assert.equal(twice.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, twice);
    assert.equal(a.length, 0);
  });

  it("passes an origin's 103 Early Hints on, Link alone, and never to an HTTP/1.0 client", async () => {
    const final = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    await zoneAnswering('hints.test', `HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nX-Other: no\r\n\r\n${final}`);
    const answer = await exchange('GET / HTTP/1.1\r\nHost: hints.test\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/style\.css>; rel=preload; as=style\r\n\r\nHTTP\/1\.1 200 OK\r\n/, answer);
    assert.doesNotMatch(answer, /x-other/i);
    assert.ok(answer.endsWith('\r\n\r\nok'), answer);
    assert.match(await exchange('GET / HTTP/1.0\r\nHost: hints.test\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n/);
    // A Link value Node will not write as a header line: the hint is dropped, the answer is not.
    await zoneAnswering('bad-hints.test', `HTTP/1.1 103 Early Hints\r\nLink: not a link\r\n\r\n${final}`);
    assert.match(await exchange('GET / HTTP/1.1\r\nHost: bad-hints.test\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n[^]*ok$/); // no 103 first
  });

  describe('an origin that answers an upload before it is whole (as one refusing it early does)', () => {
    const UPLOAD = 20 * 1024 * 1024; // far more than the sockets and streams between client and origin hold
    const MB = Buffer.alloc(1024 * 1024, 1);
    before(async () => {
      const origin = createHttpServer((req, res) => {
        req.resume();
        res.end('early');
      });
      await routeZone('early.test', origin);
    });

    /** Resolves with `promise`, or rejects after `ms` saying what did not happen. */
    const within = <T>(ms: number, what: string, promise: Promise<T>) =>
      Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref())]);
    /** Resolves once `done()` holds, looking every 20 ms, or rejects after `ms` saying what did not happen. */
    const until = async (ms: number, what: string, done: () => boolean) => {
      for (const deadline = Date.now() + ms; !done(); await new Promise((resolve) => setTimeout(resolve, 20))) if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    };

    it('HTTP/1.1: the client gets the answer, sends the rest of its body, and its next request on the connection is answered', { timeout: 20_000 }, async () => {
      const socket = tlsConnect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'early.test', ca: edge.edgeCaPem, ALPNProtocols: ['http/1.1'] });
      try {
        await once(socket, 'secureConnect');
        let received = '';
        socket.setEncoding('latin1').on('data', (chunk: string) => (received += chunk));
        const answers = () => received.match(/HTTP\/1\.1 \d+ [^\r]*\r\n[^]*?\r\n\r\nearly/g) ?? [];
        socket.write(`POST / HTTP/1.1\r\nHost: early.test\r\nContent-Length: ${UPLOAD}\r\n\r\n`);
        socket.write(MB);
        await until(5000, "the origin's answer", () => answers().length === 1);
        // The rest of the body goes nowhere, but it must go: a client sends what it announced.
        for (let sent = MB.length; sent < UPLOAD; sent += MB.length) if (!socket.write(MB)) await within(5000, 'the rest of the body taken', once(socket, 'drain'));
        socket.write('GET /next HTTP/1.1\r\nHost: early.test\r\n\r\n');
        await until(5000, 'the next request answered on the same connection', () => answers().length === 2);
        assert.deepEqual(answers().map((answer) => answer.slice(0, 15)), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      } finally {
        socket.destroy();
      }
    });

    it('HTTP/2, in raw frames: the answer ends with END_STREAM, and only then comes RST_STREAM(NO_ERROR)', { timeout: 20_000 }, async () => {
      // Node's HTTP/2 client would show a RST_STREAM(NO_ERROR) as the end of the answer: only the frames tell.
      const socket = tlsConnect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'early.test', ca: edge.edgeCaPem, ALPNProtocols: ['h2'] });
      socket.on('error', () => undefined);
      try {
        await once(socket, 'secureConnect');
        let received = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
        socket.write(Buffer.concat([H2_PREFACE, h2PostHead('early.test'), h2Frame(0, 0, Buffer.alloc(0x4000, 1))]));
        /** Stream 1's frames so far, as type:flags (DATA 0, HEADERS 1, RST_STREAM 3 with its code). */
        const streamFrames = () => {
          const frames: string[] = [];
          for (let at = 0; at + 9 <= received.length; ) {
            const length = received.readUIntBE(at, 3);
            if (at + 9 + length > received.length) break;
            const [type, flags, stream] = [received[at + 3]!, received[at + 4]!, received.readUInt32BE(at + 5) & 0x7fffffff];
            if (stream === 1) frames.push(type === 3 ? `RST_STREAM ${received.readUInt32BE(at + 9)}` : `${['DATA', 'HEADERS'][type] ?? type}${flags & 0x1 ? ' END_STREAM' : ''}`);
            at += 9 + length;
          }
          return frames;
        };
        await until(5000, 'RST_STREAM on stream 1', () => streamFrames().some((frame) => frame.startsWith('RST_STREAM')));
        const frames = streamFrames();
        assert.equal(frames[0], 'HEADERS');
        assert.deepEqual(frames.slice(-2), ['DATA END_STREAM', 'RST_STREAM 0'], frames.join(', '));
      } finally {
        socket.destroy();
      }
    });

    it('HTTP/2: the stream is closed with NO_ERROR once the answer is sent, and the connection stays usable', { timeout: 20_000 }, async () => {
      const session = http2Connect(`https://127.0.0.1:${edge.httpsPort}`, { ca: edge.edgeCaPem, servername: 'early.test' });
      session.on('error', () => undefined);
      try {
        // Three in a row: the bodies the edge dropped must not use up the connection's flow-control window.
        for (let upload = 0; upload < 3; upload++) {
          const stream = session.request({ ':method': 'POST', ':path': '/', ':authority': 'early.test' }, { endStream: false });
          stream.on('error', () => undefined);
          let body = '';
          stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          const pump = async () => {
            for (let sent = 0; sent < UPLOAD && !stream.closed; sent += MB.length) if (!stream.write(MB)) await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
          };
          void pump();
          await within(5000, 'the answer', once(stream, 'end'));
          assert.equal(body, 'early');
          // Node's client keeps a stream whose own body is unsent open after RST_STREAM, but marks it closed.
          await until(5000, 'RST_STREAM from the edge', () => stream.closed);
          assert.equal(stream.rstCode, http2Constants.NGHTTP2_NO_ERROR);
          stream.destroy();
        }
        const next = session.request({ ':method': 'GET', ':path': '/next', ':authority': 'early.test' });
        let body = '';
        next.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        await within(5000, 'the next request answered on the same connection', once(next, 'end'));
        assert.equal(body, 'early');
      } finally {
        session.destroy();
      }
    });
  });

  it('an upload the client gives up reaches the origin cut, never as a whole request (HTTP/1.1 chunked, HTTP/2 RST_STREAM)', { timeout: 20_000 }, async () => {
    const seen: string[] = [];
    const origin = createHttpServer((req) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('close', () => seen.push(`${req.headers['x-via']} ${bytes} ${req.complete ? 'whole' : 'cut'}`));
    });
    await routeZone('given-up.test', origin);
    const originSaw = async (count: number) => {
      for (let waited = 0; seen.length < count && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const tlsTo = async (alpn: string) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'given-up.test', ca: edge.edgeCaPem, ALPNProtocols: [alpn] });
      socket.on('error', () => undefined).resume();
      await once(socket, 'secureConnect');
      return socket;
    };

    // HTTP/1.1, chunked: the client's connection drops between two chunks.
    const h1 = await tlsTo('http/1.1');
    h1.write('POST / HTTP/1.1\r\nHost: given-up.test\r\nX-Via: h1\r\nTransfer-Encoding: chunked\r\n\r\n');
    h1.write(`4000\r\n${'a'.repeat(0x4000)}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    h1.destroy();
    await originSaw(1);

    // HTTP/2, in raw frames as a browser cancels an upload: RST_STREAM(CANCEL), and no END_STREAM ever.
    const h2 = await tlsTo('h2');
    h2.write(Buffer.concat([H2_PREFACE, h2PostHead('given-up.test', { 'x-via': 'h2' }), h2Frame(0, 0, Buffer.alloc(0x4000, 'a'))]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    h2.write(h2Frame(3, 0, Buffer.from([0, 0, 0, 8])));
    await originSaw(2);
    h2.destroy();
    assert.deepEqual(seen.sort(), ['h1 16384 cut', 'h2 16384 cut']);
  });

  it("answers requests Node's parser refuses with Node's statuses (431 for a head over 16 KiB, 400 for a malformed one) and the edge's page, closes their connections, and counts them", async () => {
    const count = async (code: number) => Number(new RegExp(`^strictedge_edge_requests_total\\{zone="unknown",mode="none",code="${code}"\\} (\\d+)$`, 'm').exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);
    const before = { 400: await count(400), 431: await count(431) };
    const cookies = `GET / HTTP/1.1\r\nHost: cookies.test\r\nCookie: ${'c'.repeat(20 * 1024)}\r\n\r\n`;
    const malformed = 'GET / HTTP/1.1\r\nHost: malformed.test\r\nNo colon here\r\n\r\n';
    for (const [head, statusLine, why] of [
      [cookies, 'HTTP/1.1 431 Request Header Fields Too Large', /larger than this edge passes to origins \(16 KiB\): often too many or too large cookies/],
      [malformed, 'HTTP/1.1 400 Bad Request', /not valid HTTP\/1\.1/],
    ] as const) {
      const { client, received } = await rawClient();
      client.write(head);
      await once(client, 'close');
      // A page saying why, with a request id, as every answer of the edge (Node's had no body: a
      // browser showed a blank page), and a length that holds it.
      const [answerHead, body] = received().split('\r\n\r\n') as [string, string];
      assert.ok(answerHead.startsWith(`${statusLine}\r\n`), answerHead);
      const requestId = /\r\nx-request-id: ([0-9a-f-]{36})\r\n/.exec(answerHead)?.[1];
      assert.ok(requestId, answerHead);
      assert.match(answerHead, /\r\ncontent-type: text\/html; charset=utf-8\r\n/);
      assert.match(answerHead, /\r\nconnection: close$/);
      assert.equal(Number(/\r\ncontent-length: (\d+)\r\n/.exec(answerHead)?.[1]), Buffer.byteLength(body));
      assert.match(body, why);
      assert.ok(body.includes(requestId), body);
    }
    assert.deepEqual({ 400: await count(400), 431: await count(431) }, { 400: before[400] + 1, 431: before[431] + 1 });
    // A client still sending a head of 2 MB when it is refused gets the whole answer, not a reset:
    // the edge ends the connection and reads on (lingering close), where destroying it with the
    // rest unread reset it under the answer (curl: a 431, then "connection reset", exit 56).
    const huge = await rawClient();
    let reset: string | undefined;
    huge.client.on('error', (error: NodeJS.ErrnoException) => (reset = error.code));
    huge.client.write(`GET / HTTP/1.1\r\nHost: cookies.test\r\nCookie: ${'c'.repeat(2 * 1024 * 1024)}\r\n\r\n`, () => huge.client.end());
    await once(huge.client, 'close');
    assert.equal(reset, undefined);
    assert.match(huge.received(), /^HTTP\/1\.1 431 [^]*\r\n\r\n<!doctype html>[^]*<\/html>\n$/);
    assert.deepEqual({ 400: await count(400), 431: await count(431) }, { 400: before[400] + 1, 431: before[431] + 2 });
    // A client that goes away mid-head is nobody to answer, and not counted.
    const { client } = await rawClient();
    client.end('GET / HTTP/1.1\r\nHost: gone');
    await once(client, 'close');
    assert.deepEqual({ 400: await count(400), 431: await count(431) }, { 400: before[400] + 1, 431: before[431] + 2 });
  });

  it('an answer the origin breaks off after its status line: the client\'s connection is cut, counted and logged by why', async () => {
    const cutOff = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nfirst bytes';
    await zoneAnswering('stalls.test', cutOff); // then nothing: the origin timeout (500 ms here) passes
    await zoneAnswering('breaks.test', cutOff, { thenClose: true }); // 89 bytes short
    for (const host of ['stalls.test', 'breaks.test']) {
      const seen = await new Promise<{ status?: number; body: string; error?: string }>((resolve) => {
        const seen: { status?: number; body: string; error?: string } = { body: '' };
        const req = httpsRequest({ host: '127.0.0.1', port: edge.httpsPort, servername: host, headers: { host }, ca: edge.edgeCaPem, agent: false }, (res) => {
          seen.status = res.statusCode;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (seen.body += chunk));
          res.on('error', (error) => (seen.error = error.message));
          res.on('close', () => resolve(seen));
        });
        req.on('error', (error) => {
          seen.error = error.message;
          resolve(seen);
        });
        req.end();
      });
      assert.equal(seen.status, 200, host);
      assert.equal(seen.body, 'first bytes', host);
      assert.equal(seen.error, 'aborted', host); // cut, not ended: the client can tell the body is short
    }
    // Over HTTP/2 the stream is reset with INTERNAL_ERROR, as nginx does: a reset with NO_ERROR
    // and no END_STREAM reads as a complete answer to many clients (Node's and curl's among them).
    const session = http2Connect(`https://127.0.0.1:${edge.httpsPort}`, { ca: edge.edgeCaPem, servername: 'breaks.test' });
    session.on('error', () => undefined);
    try {
      const stream = session.request({ ':path': '/h2', ':authority': 'breaks.test' });
      let error: Error | undefined;
      stream.on('error', (failure) => (error = failure));
      let body = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      const closed = new Promise((resolve) => stream.once('close', resolve));
      const [head] = (await once(stream, 'response')) as [Record<string, string>];
      await closed;
      assert.match(String(error), /NGHTTP2_INTERNAL_ERROR/);
      assert.equal(Number(head[':status']), 200);
      assert.equal(body, 'first bytes');
      assert.equal(stream.rstCode, http2Constants.NGHTTP2_INTERNAL_ERROR);
    } finally {
      session.destroy();
    }
    const metrics = await (await fetch(edge.metricsUrl)).text();
    assert.match(metrics, /^strictedge_edge_origin_responses_cut_total\{zone="stalls\.test",reason="timeout"\} 1$/m);
    assert.match(metrics, /^strictedge_edge_origin_responses_cut_total\{zone="breaks\.test",reason="error"\} 2$/m);
    const logged = logLines.filter((line) => line.msg === 'origin response cut short').map(({ zone, status, reason }) => ({ zone, status, reason }));
    assert.deepEqual(logged, [
      { zone: 'stalls.test', status: 200, reason: 'timeout' },
      { zone: 'breaks.test', status: 200, reason: 'error' },
      { zone: 'breaks.test', status: 200, reason: 'error' },
    ]);
  });
});
