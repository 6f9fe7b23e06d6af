// The request body limit (edge/body-limit.ts), here 1 MiB, against an origin that reads every
// body whole before it answers: a body up to the limit reaches it; a declared length over it is
// answered 413 before the body is asked for (no 100 Continue, nothing sent to the origin); a body
// without a declared length (chunked, HTTP/2 without content-length) is stopped at the first byte
// over, the origin's request cut, and the client's connection stays usable.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MIB } from '../../src/edge/body-limit.js';
import { createLogger } from '../../src/log.js';
import { edgeRequest, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

const HOST = 'body.test';
const LIMIT = MIB;

interface OriginSaw {
  readonly length: number;
  readonly complete: boolean;
}

/** Sends a raw HTTP/1.1 request head to the edge; resolves with what came back before `until` matched. */
function rawExchange(port: number, head: string, until: RegExp, then?: (socket: import('node:net').Socket, received: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let received = '';
    let thenDone = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (then && !thenDone && /\r\n\r\n/.test(received)) {
        thenDone = true;
        then(socket, received);
      }
      if (until.test(received)) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

/** A chunked HTTP/1.1 POST of `size` bytes in 64 KiB writes, with backpressure, on `agent`. */
function postChunked(port: number, agent: Agent, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: HOST, 'transfer-encoding': 'chunked' }, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** One HTTP/2 POST on `session`; the body written in 64 KiB parts, with content-length when `declared`. */
function h2Post(session: ClientHttp2Session, size: number, declared: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/', ':authority': HOST, ...(declared ? { 'content-length': String(size) } : {}) });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('close', () => (status ? resolve({ status, body }) : reject(new Error(`stream closed without an answer (RST ${stream.rstCode})`))));
    stream.on('error', () => undefined); // a stream reset after the answer (NO_ERROR) is how the edge says "stop sending"
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let sent = 0;
    const pump = () => {
      while (sent < size && !stream.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!stream.write(part)) return void stream.once('drain', pump);
      }
      if (!stream.destroyed) stream.end();
    };
    pump();
  });
}

describe('the request body limit (1 MiB here)', () => {
  const dir = tempDir('strictedge-body-limit-');
  let edge: TestEdge;
  let origin: Server;
  const saw: OriginSaw[] = [];
  const logLines: Record<string, unknown>[] = [];
  after(async () => {
    origin?.closeAllConnections();
    origin?.close();
    await edge?.close();
  });
  before(async () => {
    const edgeLogger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    edge = await startTestEdge(join(dir, 'state'), { edgeLogger, maxRequestBodyBytes: LIMIT });
    // Reads every body whole before answering, so that only the edge can cut one short.
    origin = createServer((req: IncomingMessage, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => (length += chunk.length));
      req.on('end', () => {
        saw.push({ length, complete: true });
        res.end(`received ${length}`);
      });
      req.on('close', () => req.complete || saw.push({ length, complete: false }));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    edge.app.admin.createAccount('site');
    const zone = edge.app.admin.addZone({ name: HOST, account: 'site', mode: 'flexible' });
    edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${(origin.address() as AddressInfo).port}`, null, new Date().toISOString());
    edge.edge.refreshZones();
  });

  const count413 = async () => Number(/^strictedge_edge_requests_total\{zone="body\.test",mode="flexible",code="413"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);

  it('passes a body of exactly the limit, declared or chunked', async () => {
    saw.length = 0;
    const declared = await edgeRequest(edge, { scheme: 'http', host: HOST, method: 'POST', body: Buffer.alloc(LIMIT) });
    assert.equal(declared.status, 200);
    assert.equal(declared.body.toString(), `received ${LIMIT}`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.deepEqual(await postChunked(edge.httpPort, agent, LIMIT), { status: 200, body: `received ${LIMIT}` });
    } finally {
      agent.destroy();
    }
    assert.deepEqual(saw, [
      { length: LIMIT, complete: true },
      { length: LIMIT, complete: true },
    ]);
  });

  it('answers a declared length over the limit with 413 before the body is asked for: no 100 Continue, nothing reaches the origin', async () => {
    saw.length = 0;
    const before413 = await count413();
    const answer = await rawExchange(edge.httpPort, `POST / HTTP/1.1\r\nhost: ${HOST}\r\ncontent-length: ${LIMIT + 1}\r\nexpect: 100-continue\r\n\r\n`, /<\/html>\n$/);
    assert.match(answer, /^HTTP\/1\.1 413 Content Too Large\r\n/);
    assert.doesNotMatch(answer, /100 Continue/);
    assert.match(answer, /The request body is larger than this edge passes to origins \(1 MiB\)\./);
    // Without Expect the client sends the body anyway: still 413, and still nothing for the origin.
    const eager = await edgeRequest(edge, { scheme: 'https', host: HOST, method: 'PUT', body: Buffer.alloc(LIMIT + 1) });
    assert.equal(eager.status, 413);
    assert.match(eager.body.toString(), /Error 413/);
    assert.deepEqual(saw, []);
    assert.equal(await count413(), before413 + 2);
    assert.equal(logLines.some((line) => line.zone === HOST), false, 'a client\'s oversized body is not an origin failure to log');
  });

  it('sends 100 Continue once the request goes to an origin, and never for a request the edge answers itself', async () => {
    saw.length = 0;
    const answer = await rawExchange(edge.httpPort, `POST / HTTP/1.1\r\nhost: ${HOST}\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n`, /received 5$/, (socket, received) => {
      assert.equal(received, 'HTTP/1.1 100 Continue\r\n\r\n');
      socket.write('hello');
    });
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*received 5$/);
    const noZone = await rawExchange(edge.httpPort, `POST / HTTP/1.1\r\nhost: nowhere.test\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n`, /<\/html>\n$/);
    assert.match(noZone, /^HTTP\/1\.1 421 Misdirected Request\r\n/);
    assert.deepEqual(saw, [{ length: 5, complete: true }]);
  });

  it('stops a chunked body at the first byte over with 413, cuts the origin request, and keeps the connection usable', async () => {
    saw.length = 0;
    const before413 = await count413();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await postChunked(edge.httpPort, agent, 2 * LIMIT);
      assert.equal(refused.status, 413);
      assert.match(refused.body, /The request body is larger than this edge passes to origins/);
      const next = await new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: edge.httpPort, method: 'POST', path: '/', headers: { host: HOST }, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end('after');
      });
      assert.deepEqual(next, { status: 200, reused: true });
    } finally {
      agent.destroy();
    }
    await until(() => saw.length === 2, 'the origin saw both requests');
    const [cut, after] = saw;
    assert.equal(cut!.complete, false);
    assert.ok(cut!.length <= LIMIT, `the origin got ${cut!.length} bytes of it, no more than the limit`);
    assert.deepEqual(after, { length: 5, complete: true });
    assert.equal(await count413(), before413 + 1);
    assert.equal(logLines.some((line) => line.zone === HOST), false);
  });

  it('over HTTP/2: 413 for a declared length over the limit and for an undeclared body past it, and the session goes on', async () => {
    saw.length = 0;
    const session = http2Connect(`https://127.0.0.1:${edge.httpsPort}`, { ca: edge.edgeCaPem, servername: HOST });
    try {
      await once(session, 'connect');
      const undeclared = await h2Post(session, 2 * LIMIT, false);
      assert.equal(undeclared.status, 413);
      assert.match(undeclared.body, /The request body is larger than this edge passes to origins/);
      assert.equal((await h2Post(session, 2 * LIMIT, true)).status, 413);
      assert.deepEqual(await h2Post(session, LIMIT, false), { status: 200, body: `received ${LIMIT}` });
      assert.deepEqual(await h2Post(session, 10, true), { status: 200, body: 'received 10' });
    } finally {
      session.close();
    }
    await until(() => saw.length === 3, 'the origin saw the three requests with bodies');
    assert.equal(saw[0]!.complete, false);
    assert.ok(saw[0]!.length <= LIMIT);
    assert.deepEqual(saw.slice(1), [
      { length: LIMIT, complete: true },
      { length: 10, complete: true },
    ]);
  });
});
