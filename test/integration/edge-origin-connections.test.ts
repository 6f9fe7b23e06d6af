// How many connections the edge opens to one origin: as many as requests are in flight, as nginx
// does by default, so that long polls or server-sent events held open by many clients never
// queue the origin's other requests behind them (a pool of 256 connections did: the 257th request
// waited for a poll to end); and no more than --max-origin-connections when an operator sets
// it, the requests past it waiting their turn in the edge's queue for the connect timeout at
// most, and dropped from it, with no connection closed, when their clients leave.
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestEdge, type TestEdge } from '../helpers/edge.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

/** An origin whose /poll answers only once released; anything else at once. */
function pollingOrigin() {
  const held: ServerResponse[] = [];
  const paths: string[] = [];
  let connections = 0;
  let open = 0;
  const server = createServer((req, res) => {
    paths.push(req.url!);
    if (req.url === '/poll') return void held.push(res);
    res.end('now');
  });
  server.on('connection', (socket) => {
    connections++;
    open++;
    socket.once('close', () => open--);
  });
  return {
    server,
    held: () => held.length,
    connections: () => connections,
    /** The paths of every request the origin was sent. */
    paths: () => paths,
    /** Connections open now. */
    open: () => open,
    release() {
      for (const res of held.splice(0)) res.end('released');
    },
  };
}

/** A GET through the edge's HTTP port on a connection of its own; resolves with status and body. */
function get(edge: TestEdge, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: edge.httpPort, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A request sent on a raw connection of its own; resolves with the connection's bytes once it
 * closes, or `leaveAfterMs` after sending, when the client hangs up without waiting.
 */
function rawRequest(edge: TestEdge, head: string, leaveAfterMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(edge.httpPort, '127.0.0.1', () => socket.write(head));
    let got = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (got += chunk));
    socket.on('error', reject).on('close', () => resolve(got));
    if (leaveAfterMs !== undefined) setTimeout(() => socket.destroy(), leaveAfterMs);
  });
}

/** `promise`, or `fallback` if it has not settled within `ms`. */
function within<T>(ms: number, promise: Promise<T>, fallback: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ms))]);
}

async function withPollingZone(options: { maxOriginConnections?: number; maxClientsPerOriginPool?: number; connectTimeoutMs?: number; clientBodyTimeoutMs?: number }, test: (edge: TestEdge, origin: ReturnType<typeof pollingOrigin>) => Promise<void>): Promise<void> {
  const edge = await startTestEdge(join(tempDir('strictedge-origin-connections-'), 'state'), { responseTimeoutMs: 30_000, ...options });
  const origin = pollingOrigin();
  try {
    await new Promise<void>((resolve) => origin.server.listen(0, '127.0.0.1', resolve));
    edge.app.admin.createAccount('site');
    const zone = edge.app.admin.addZone({ name: 'polls.test', account: 'site', mode: 'flexible' });
    edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${(origin.server.address() as { port: number }).port}`, null, new Date().toISOString());
    edge.edge.refreshZones();
    await test(edge, origin);
  } finally {
    origin.release();
    origin.server.closeAllConnections();
    origin.server.close();
    await edge.close();
  }
}

/**
 * `count` long polls held open by the origin, then a request that must be answered at once
 * beside them; then the polls released, each answered whole.
 */
async function pollsBesideARequest(edge: TestEdge, origin: ReturnType<typeof pollingOrigin>, count: number): Promise<void> {
  const polls = Array.from({ length: count }, () => get(edge, 'polls.test', '/poll'));
  await until(() => origin.held() === count, `the origin to hold ${count} polls`, 20_000);
  assert.deepEqual(await get(edge, 'polls.test', '/'), { status: 200, body: 'now' });
  origin.release();
  const answers = await Promise.all(polls);
  assert.ok(answers.every((answer) => answer.status === 200 && answer.body === 'released'));
}

describe('connections to one origin', () => {
  it('are opened as requests need them: 300 long polls held open do not hold up another request', { timeout: 60_000 }, async () => {
    await withPollingZone({}, async (edge, origin) => {
      await pollsBesideARequest(edge, origin, 300);
      assert.equal(origin.connections(), 301);
    });
  });

  it('stay within --max-origin-connections, the requests past it waiting their turn', { timeout: 30_000 }, async () => {
    await withPollingZone({ maxOriginConnections: 2 }, async (edge, origin) => {
      const polls = [get(edge, 'polls.test', '/poll'), get(edge, 'polls.test', '/poll')];
      await until(() => origin.held() === 2, 'the origin to hold 2 polls');
      let answered = false;
      const waiting = get(edge, 'polls.test', '/').then((answer) => ((answered = true), answer));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(answered, false, 'the third request waits for a connection');
      assert.equal(origin.connections(), 2);
      origin.release();
      assert.deepEqual(await waiting, { status: 200, body: 'now' });
      await Promise.all(polls);
      assert.equal(origin.connections(), 2);
    });
  });

  it('stay open for the queue when clients waiting in it leave: their requests are never sent, with or without a body', { timeout: 30_000 }, async () => {
    await withPollingZone({ maxOriginConnections: 2 }, async (edge, origin) => {
      const polls = [get(edge, 'polls.test', '/poll'), get(edge, 'polls.test', '/poll')];
      await until(() => origin.held() === 2, 'the origin to hold 2 polls');
      const gone = [
        ...Array.from({ length: 4 }, (_, n) => rawRequest(edge, `GET /gone-${n} HTTP/1.1\r\nHost: polls.test\r\n\r\n`, 300)),
        rawRequest(edge, 'POST /gone-post HTTP/1.1\r\nHost: polls.test\r\nContent-Length: 5\r\n\r\nhello', 300),
      ];
      assert.deepEqual(await Promise.all(gone), ['', '', '', '', ''], 'no answer before they left');
      origin.release();
      assert.ok((await Promise.all(polls)).every((answer) => answer.status === 200));
      assert.deepEqual(await get(edge, 'polls.test', '/after'), { status: 200, body: 'now' });
      // Aborting them at their turn closed the connection each would have used, and made another.
      assert.equal(origin.connections(), 2);
      assert.deepEqual(origin.paths(), ['/poll', '/poll', '/after']);
    });
  });

  it('answer 522 to requests that waited the connect timeout for one, which are never sent and leave the queue; the queue goes on', { timeout: 30_000 }, async () => {
    await withPollingZone({ maxOriginConnections: 1, connectTimeoutMs: 1500 }, async (edge, origin) => {
      const poll = get(edge, 'polls.test', '/poll');
      await until(() => origin.held() === 1, 'the origin to hold the poll');
      const startedAt = Date.now();
      const lateOnes = Array.from({ length: 20 }, () => within(12_000, get(edge, 'polls.test', '/late'), { status: 0, body: 'still waiting after 12 s' }));
      const queued = async () => /^strictedge_edge_origin_requests_queued\{zone="polls\.test"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text())?.[1];
      for (let i = 0; i < 100 && (await queued()) !== '20'; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(await queued(), '20', 'the 20 wait in the queue');
      const late = await Promise.all(lateOnes);
      const waitedMs = Date.now() - startedAt;
      assert.deepEqual(late.map((answer) => answer.status), Array(20).fill(522), late[0]!.body);
      assert.ok(waitedMs >= 1400 && waitedMs < 8_000, `answered after ${waitedMs} ms`);
      // Gone from the queue, though the poll still holds the one connection: nothing piles up.
      assert.equal(await queued(), '0');
      origin.release();
      assert.deepEqual(await poll, { status: 200, body: 'released' });
      assert.deepEqual(await get(edge, 'polls.test', '/after'), { status: 200, body: 'now' });
      assert.equal(origin.connections(), 1);
      assert.deepEqual(origin.paths(), ['/poll', '/after']);
      const metrics = await (await fetch(edge.metricsUrl)).text();
      assert.match(metrics, /strictedge_edge_requests_total\{zone="polls.test",mode="flexible",code="522"\} 20/);
    });
  });

  it('answer 408 at once to a body that stops coming while its request waits for one', { timeout: 30_000 }, async () => {
    await withPollingZone({ maxOriginConnections: 1, connectTimeoutMs: 20_000, clientBodyTimeoutMs: 300 }, async (edge, origin) => {
      const poll = get(edge, 'polls.test', '/poll');
      await until(() => origin.held() === 1, 'the origin to hold the poll');
      const answer = await within(8_000, rawRequest(edge, 'POST /stalled HTTP/1.1\r\nHost: polls.test\r\nContent-Length: 10\r\n\r\nhello'), 'still waiting after 8 s');
      assert.match(answer, /^HTTP\/1\.1 408 /);
      origin.release();
      await poll;
      assert.deepEqual(origin.paths(), ['/poll']);
    });
  });

  it('come from a new pool once one has made its share, the old one closing with its last request', { timeout: 60_000 }, async () => {
    await withPollingZone({ maxClientsPerOriginPool: 100 }, async (edge, origin) => {
      await pollsBesideARequest(edge, origin, 300);
      // The pools replaced close their idle connections now, not after the 4 s keep-alive: only
      // the last pool's stay open.
      await until(() => origin.open() <= 100, 'the replaced pools to close their connections', 2000);
    });
  });
});
