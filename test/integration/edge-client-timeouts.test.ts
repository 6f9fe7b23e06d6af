// The edge's timeouts on slow clients, both ways.
// The send timeout: a client that stops taking its answer (a slow-read attack, or a peer gone
// without a reset) is cut off, and its origin request with it, over HTTP/1.1 and HTTP/2, whether
// the origin is still sending or done; a slow client that keeps taking is served whole. Without
// it each such client held its connection, the buffered answer and, while the origin was paused
// behind it, an origin connection from the zone's pool, for ever.
// The body timeout: a body that stops coming gets 408 and stops the origin request (HTTP/1.1
// here, HTTP/2 in the HTTP/2 test); one that comes steadily arrives whole however long it takes
// (Node's requestTimeout cut any HTTP/1.1 request at 300 s), and one the edge holds back for a
// slow origin is not the client's idleness, over HTTP/1.1 and HTTP/2 (where it reset the stream).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as http2Connect, constants as http2Constants, type ClientHttp2Session } from 'node:http2';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { startTestEdge, type TestEdge } from '../helpers/edge.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

const SEND_TIMEOUT_MS = 1000;
const BODY_TIMEOUT_MS = 1000;
const BIG = 64 * 1024 * 1024; // more than loopback's socket buffers on both legs can hold
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

describe('client timeouts', () => {
  const dir = tempDir('strictedge-client-timeouts-');
  let edge: TestEdge;
  const logLines: Record<string, unknown>[] = [];
  /** How each origin answer ended, by the request's path. */
  const originAnswers = new Map<string, 'finished' | 'cut'>();
  /** How much of each upload the origin got, and whether whole, by the request's path. */
  const uploads = new Map<string, { received: number; whole: boolean }>();
  const origin = createServer((req, res) => {
    if (req.method === 'POST') return takeUpload(req, res);
    const size = Number(/^\/bytes\/(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
    res.once('close', () => originAnswers.set(req.url!, res.writableFinished ? 'finished' : 'cut'));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    pump(res, size);
  });

  /**
   * /upload reads the body and answers with its length; /upload-later waits 2.5 body timeouts
   * before it reads; /refuse answers 401 at once and reads nothing.
   */
  function takeUpload(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url!;
    let received = 0;
    req.on('close', () => uploads.set(path, { received, whole: req.complete }));
    if (path.startsWith('/refuse')) return void res.writeHead(401, { 'content-length': 0 }).end();
    const read = () => req.on('data', (chunk: Buffer) => (received += chunk.length));
    if (path.startsWith('/upload-later')) setTimeout(read, BODY_TIMEOUT_MS * 2.5);
    else read();
    req.on('end', () => res.end(JSON.stringify({ received })));
  }

  function pump(res: ServerResponse, size: number): void {
    let left = size;
    const more = () => {
      while (left > 0 && !res.destroyed) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  }

  before(async () => {
    const edgeLogger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    // An origin timeout well over the 2.5 body timeouts /upload-later takes nothing (undici counts
    // them against it: no answer, and no byte of the body taken).
    edge = await startTestEdge(join(dir, 'state'), { edgeLogger, clientSendTimeoutMs: SEND_TIMEOUT_MS, clientBodyTimeoutMs: BODY_TIMEOUT_MS, responseTimeoutMs: BODY_TIMEOUT_MS * 6 });
    edge.app.admin.createAccount('site');
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const zone = edge.app.admin.addZone({ name: 'reads.test', account: 'site', mode: 'flexible' });
    edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${(origin.address() as { port: number }).port}`, null, new Date().toISOString());
    edge.edge.refreshZones();
  });
  after(async () => {
    origin.closeAllConnections();
    origin.close();
    await edge?.close();
  });

  const timeouts = async () => Number(/^strictedge_edge_client_send_timeouts_total\{zone="reads\.test"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);

  /** An HTTP/1.1 client that sends `path` and reads nothing after the first bytes until told to. */
  async function stoppedReader(path: string) {
    const client: Socket = connect({ port: edge.httpPort, host: '127.0.0.1' });
    let received = 0;
    let closed = false;
    client.on('error', () => undefined);
    client.on('close', () => (closed = true));
    await once(client, 'connect');
    client.write(`GET ${path} HTTP/1.1\r\nHost: reads.test\r\n\r\n`);
    const [first] = (await once(client, 'data')) as [Buffer];
    client.pause();
    received = first.length;
    return {
      head: first.toString('latin1').split('\r\n')[0],
      /** Reads on until the edge closes the connection; resolves with the bytes it got in all. */
      async drain(): Promise<number> {
        client.on('data', (chunk: Buffer) => (received += chunk.length));
        client.resume();
        await until(() => closed, 'the edge to close the connection', 20_000);
        return received;
      },
    };
  }

  it('cuts off an HTTP/1.1 client that stops reading, and stops its origin request', async () => {
    const before = await timeouts();
    const reader = await stoppedReader(`/bytes/${BIG}?h1`);
    assert.equal(reader.head, 'HTTP/1.1 200 OK');
    await until(() => originAnswers.has(`/bytes/${BIG}?h1`), 'the origin request to stop', 20_000);
    assert.equal(originAnswers.get(`/bytes/${BIG}?h1`), 'cut');
    const got = await reader.drain();
    assert.ok(got < BIG, `the client got ${got} of ${BIG} bytes: its answer was cut`);
    assert.equal(await timeouts(), before + 1);
    const line = logLines.find((l) => l.msg === 'client took none of its answer: cut off');
    assert.ok(line, 'logged');
    assert.equal(line.zone, 'reads.test');
    assert.equal(line.status, 200);
  });

  it('serves a slow client that keeps taking its answer, however long the whole answer takes', async () => {
    const size = 16 * 1024 * 1024;
    const client: Socket = connect({ port: edge.httpPort, host: '127.0.0.1' });
    await once(client, 'connect');
    client.write(`GET /bytes/${size}?slow HTTP/1.1\r\nHost: reads.test\r\nConnection: close\r\n\r\n`);
    let received = 0;
    client.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = once(client, 'end');
    const startedAt = Date.now();
    // Reads in short bursts with pauses just under the timeout: the whole answer takes far longer
    // than the timeout, but no pause does.
    let reading = true;
    void ended.then(() => (reading = false));
    while (reading) {
      client.pause();
      await sleep(SEND_TIMEOUT_MS * 0.6);
      client.resume();
      await sleep(5);
    }
    await ended;
    assert.ok(Date.now() - startedAt > SEND_TIMEOUT_MS * 1.5, 'the answer took longer than the timeout');
    assert.ok(received > size, `the whole answer arrived (${received} bytes with the head)`);
    assert.equal(originAnswers.get(`/bytes/${size}?slow`), 'finished');
  });

  /** One HTTP/2 connection to the edge for reads.test, once the edge's SETTINGS are in. */
  async function h2Session(settings: { initialWindowSize?: number } = {}): Promise<ClientHttp2Session> {
    const session = http2Connect(`https://127.0.0.1:${edge.httpsPort}`, { ca: edge.edgeCaPem, servername: 'reads.test', settings });
    session.on('error', () => undefined);
    await once(session, 'remoteSettings');
    return session;
  }

  /** Polls the edge's metrics until the timeouts reach `count`. */
  async function timeoutsReach(count: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    while ((await timeouts()) < count) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${count} send timeouts`);
      await sleep(50);
    }
  }

  /**
   * Opens a stream for `path`, takes its head and stops reading. `drain` reads on once the edge
   * has given up on it, and resolves with the body bytes that came before the stream closed.
   */
  async function stalledStream(session: ClientHttp2Session, path: string) {
    const stream = session.request({ ':path': path, ':authority': 'reads.test' });
    stream.on('error', () => undefined);
    // A reset with an error code closes the stream at once, data still unread or not.
    const closed = new Promise((resolve) => stream.once('close', resolve));
    const [head] = (await once(stream, 'response')) as [Record<string, string>];
    stream.pause();
    let received = 0;
    return {
      status: Number(head[':status']),
      /** The reset's code, which must say the answer is not whole (NO_ERROR would). */
      get rstCode() {
        return stream.rstCode;
      },
      async drain(): Promise<number> {
        stream.on('data', (chunk: Buffer) => (received += chunk.length));
        stream.resume();
        await closed;
        return received;
      },
    };
  }

  it('resets an HTTP/2 stream whose client stops reading; the connection goes on serving', async () => {
    const before = await timeouts();
    const session = await h2Session();
    const stalled = await stalledStream(session, `/bytes/${BIG}?h2`);
    assert.equal(stalled.status, 200);
    await timeoutsReach(before + 1);
    await until(() => originAnswers.has(`/bytes/${BIG}?h2`), 'the origin request to stop', 20_000);
    assert.equal(originAnswers.get(`/bytes/${BIG}?h2`), 'cut');
    const got = await stalled.drain();
    assert.ok(got < BIG, `the client got ${got} of ${BIG} bytes: its stream was reset`);
    assert.equal(stalled.rstCode, http2Constants.NGHTTP2_INTERNAL_ERROR);
    const next = session.request({ ':path': '/bytes/10', ':authority': 'reads.test' });
    const [head] = (await once(next, 'response')) as [Record<string, string>];
    next.resume();
    await once(next, 'end');
    assert.equal(Number(head[':status']), 200);
    session.close();
  });

  it('cuts off a client that does not take the last of an answer the origin has finished', async () => {
    const before = await timeouts();
    // The client grants 1 KiB per stream and never more: the edge holds the rest of a 10 KiB answer.
    const session = await h2Session({ initialWindowSize: 1024 });
    const stalled = await stalledStream(session, '/bytes/10240?ended');
    await timeoutsReach(before + 1);
    assert.equal(originAnswers.get('/bytes/10240?ended'), 'finished', 'the origin was done before the client was cut off');
    const got = await stalled.drain();
    assert.ok(got < 10240, `the client got ${got} of 10240 bytes: its stream was reset`);
    assert.equal(stalled.rstCode, http2Constants.NGHTTP2_INTERNAL_ERROR);
    session.close();
  });

  /** A raw HTTP/1.1 connection to the edge, what came back on it, and whether it closed. */
  async function rawClient() {
    const client: Socket = connect({ port: edge.httpPort, host: '127.0.0.1' });
    let received = '';
    let closed = false;
    client.setEncoding('latin1').on('data', (chunk: string) => (received += chunk));
    client.on('error', () => undefined);
    client.on('close', () => (closed = true));
    await once(client, 'connect');
    return { client, received: () => received, closed: () => closed };
  }

  const count408 = async () => Number(/^strictedge_edge_requests_total\{zone="reads\.test",mode="flexible",code="408"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);

  it('answers 408 for an HTTP/1.1 body that stops coming, stops the origin request and closes the connection', async () => {
    const before = await count408();
    const { client, received, closed } = await rawClient();
    client.write('POST /upload?stops HTTP/1.1\r\nHost: reads.test\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    await until(closed, 'the edge to close the connection', 10_000);
    assert.match(received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(received(), /\r\nconnection: close\r\n/i);
    assert.match(received(), /stopped coming for 1 s/);
    await until(() => uploads.has('/upload?stops'), 'the origin request to end');
    assert.deepEqual(uploads.get('/upload?stops'), { received: 100, whole: false });
    assert.equal(await count408(), before + 1);
  });

  it('takes an HTTP/1.1 body that comes steadily, however long it takes in all', async () => {
    assert.equal(edge.edge.http.requestTimeout, 0, "Node's bound on a whole request is off");
    assert.equal(edge.edge.https.requestTimeout, 0);
    const { client, received } = await rawClient();
    const size = 40;
    client.write(`POST /upload?steady HTTP/1.1\r\nHost: reads.test\r\nContent-Length: ${size}\r\n\r\n`);
    // 4 bytes every 0.3 body timeouts: the whole body takes 3 body timeouts.
    for (let sent = 0; sent < size; sent += 4) {
      await sleep(BODY_TIMEOUT_MS * 0.3);
      client.write('abcd');
    }
    await until(() => received().endsWith('{"received":40}'), 'the origin to answer', 10_000);
    assert.match(received(), /^HTTP\/1\.1 200 OK\r\n/);
    client.destroy();
  });

  it('does not count the time it holds a body back for an origin that is slow to take it', async () => {
    const size = 32 * 1024 * 1024; // more than loopback's socket buffers on both legs can hold
    const { client, received } = await rawClient();
    client.write(`POST /upload-later HTTP/1.1\r\nHost: reads.test\r\nContent-Length: ${size}\r\n\r\n`);
    client.write(Buffer.alloc(size, 0x61));
    await until(() => received().includes(`{"received":${size}}`), 'the origin to answer', 20_000);
    assert.match(received(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.deepEqual(uploads.get('/upload-later'), { received: size, whole: true });
    client.destroy();
  });

  it('closes the connection of a client whose body stops coming after the origin answered it', async () => {
    const { client, received, closed } = await rawClient();
    client.write('POST /refuse HTTP/1.1\r\nHost: reads.test\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    await until(() => received().startsWith('HTTP/1.1 401 '), 'the origin answer');
    assert.equal(closed(), false, 'the rest of the body may still come');
    await until(closed, 'the edge to close the connection', 10_000);
    assert.doesNotMatch(received(), /408/);
  });

  it('does not count it against an HTTP/2 body either', async () => {
    const size = 32 * 1024 * 1024;
    const session = await h2Session();
    const stream = session.request({ ':method': 'POST', ':path': '/upload-later?h2', ':authority': 'reads.test', 'content-length': String(size) });
    stream.on('error', () => undefined);
    stream.end(Buffer.alloc(size, 0x61));
    let status = 0;
    let body = '';
    stream.on('response', (head) => (status = Number(head[':status'])));
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    await once(stream, 'close');
    assert.equal(stream.rstCode, 0, 'the stream was not reset');
    assert.equal(status, 200);
    assert.equal(body, JSON.stringify({ received: size }));
    session.close();
  });

  it('closes the connection that waits for the rest of a body the edge answered itself (421)', async () => {
    const { client, received, closed } = await rawClient();
    client.write('POST /x HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    await until(() => received().startsWith('HTTP/1.1 421 '), 'the edge answer');
    await until(closed, 'the edge to close the connection', 10_000);
  });
});
