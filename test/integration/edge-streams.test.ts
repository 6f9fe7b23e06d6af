// Long-lived and large exchanges through the edge: WebSockets in every mode, and 50 MB each
// way through strict mode without the body ever being held in memory. And an upgrade the origin
// never answers (524) or hangs up on (520), where the client used to wait forever.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import type { DemoOrigins } from '../../src/origin/demo.js';
import type { SslMode } from '../../src/store/zones.js';
import { startEdgeWithDemo, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { openAccessLog, type AccessLog } from '../../src/edge/access-log.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

function echoThroughEdge(edge: TestEdge, scheme: 'ws' | 'wss', host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const port = scheme === 'wss' ? edge.httpsPort : edge.httpPort;
    const options: ClientOptions & { servername: string } = { headers: { host }, servername: host, ca: edge.edgeCaPem };
    const socket = new WebSocket(`${scheme}://127.0.0.1:${port}/chat`, options);
    socket.on('open', () => socket.send('ping through the edge'));
    socket.on('message', (data) => {
      resolve(data.toString());
      socket.close();
    });
    socket.on('error', reject);
    socket.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode} ${res.statusMessage}${res.headers['x-strictedge-verdict'] ? ` (${res.headers['x-strictedge-verdict']})` : ''}`)));
  });
}

describe('WebSockets and large bodies through the edge', () => {
  const dir = tempDir('strictedge-streams-');
  let edge: TestEdge;
  let demo: DemoOrigins;
  const sockets: WebSocketServer[] = [];
  const accessLogPath = join(dir, 'access.log');
  let accessLog: AccessLog | undefined;
  /** The access log's lines written so far (within a second of each answer). */
  const logLines = () => (existsSync(accessLogPath) ? readFileSync(accessLogPath, 'utf8') : '').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  after(async () => {
    for (const server of sockets) server.close();
    await demo?.close();
    await edge?.close();
    await accessLog?.close();
  });
  before(async () => {
    accessLog = openAccessLog(accessLogPath);
    ({ edge, demo } = await startEdgeWithDemo(join(dir, 'state'), { responseTimeoutMs: 30_000, accessLog }));
    for (const origin of demo.origins) {
      const wss = new WebSocketServer({ server: origin.server });
      wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`${origin.name} echoes: ${data}`)));
      sockets.push(wss);
    }
    edge.edge.refreshZones();
  });

  const cases: [SslMode, 'ws' | 'wss', string, string][] = [
    ['off', 'ws', 'off.test', 'http-origin'],
    ['flexible', 'wss', 'flexible.test', 'http-origin'],
    ['full', 'wss', 'full.test', 'full'],
    ['strict', 'wss', 'strict-ecc.test', 'strict-ecc'],
    ['strict', 'ws', 'strict-ecc.test', 'http-origin'],
    ['origin_pull', 'ws', 'strict-ecc.test', 'strict-ecc'],
  ];
  for (const [mode, scheme, host, origin] of cases) {
    it(`carries a WebSocket in ${mode} mode (${scheme}://${host} -> ${origin})`, async () => {
      const zone = edge.app.zoneStore.byName(host)!;
      edge.app.zoneStore.setMode(zone.id, mode, new Date().toISOString());
      edge.edge.refreshZones();
      try {
        assert.equal(await echoThroughEdge(edge, scheme, host), `${origin} echoes: ping through the edge`);
      } finally {
        edge.app.zoneStore.setMode(zone.id, 'strict', new Date().toISOString());
        edge.edge.refreshZones();
      }
    });
  }

  it('refuses a WebSocket to an origin whose certificate fails strict verification, and counts it like a request', async () => {
    const count = async (pattern: string) => Number(new RegExp(`^${pattern} (\\d+)$`, 'm').exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);
    const failures = 'strictedge_edge_origin_verify_failures_total\\{zone="expired\\.test",reason="expired"\\}';
    const handshakes = 'strictedge_edge_origin_tls_handshakes_total\\{zone="expired\\.test",result="verify_failed",resumed="false"\\}';
    const refused = 'strictedge_edge_websockets_total\\{zone="expired\\.test",code="526"\\}';
    const before = [await count(failures), await count(handshakes), await count(refused)];
    await assert.rejects(echoThroughEdge(edge, 'wss', 'expired.test'), /upgrade refused with 526 Invalid SSL Certificate \(expired\)/);
    assert.deepEqual([await count(failures), await count(handshakes), await count(refused)], [before[0]! + 1, before[1]! + 1, before[2]! + 1]);
  });

  it('counts WebSockets by how they were answered, and those open until they close', async () => {
    const metric = async (pattern: string) => Number(new RegExp(`^${pattern} (\\d+)$`, 'm').exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);
    const opened = 'strictedge_edge_websockets_total\\{zone="strict-ecc\\.test",code="101"\\}';
    const open = 'strictedge_edge_websockets_open\\{zone="strict-ecc\\.test"\\}';
    const noZone = 'strictedge_edge_websockets_total\\{zone="unknown",code="421"\\}';
    const before = await metric(opened);
    const socket = new WebSocket(`wss://127.0.0.1:${edge.httpsPort}/chat`, { headers: { host: 'strict-ecc.test' }, servername: 'strict-ecc.test', ca: edge.edgeCaPem } as ClientOptions);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    try {
      assert.deepEqual([await metric(opened), await metric(open)], [before + 1, 1]);
    } finally {
      socket.close();
      await new Promise((resolve) => socket.once('close', resolve));
    }
    for (let i = 0; i < 50 && (await metric(open)) !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await metric(open), 0);
    await assert.rejects(echoThroughEdge(edge, 'ws', 'no-such-zone.invalid'), /upgrade refused with 421/);
    assert.ok((await metric(noZone)) >= 1);
    // The access log has the WebSocket as its client's answer: 101 when it opened.
    const openedLine = () => logLines().find((line) => line.status === 101 && line.zone === 'strict-ecc.test');
    await until(() => openedLine() !== undefined, 'the line of the opened WebSocket', 3000); // written within a second
    const line = openedLine();
    assert.deepEqual([line?.scheme, line?.host, line?.path, line?.mode, line?.protocol], ['https', 'strict-ecc.test', '/chat', 'strict', 'HTTP/1.1']);
  });

  it('stops the origin response when the client leaves in the middle of it', { timeout: 15_000 }, async () => {
    const origin = demo.origins.find((o) => o.name === 'strict-ecc')!;
    const size = 2 * 1024 * 1024 * 1024; // 2 GiB: minutes of work unless the edge stops it
    const originClosed = new Promise<{ finished: boolean; ms: number }>((resolve) => {
      origin.server.once('request', (_req, res) => {
        const began = Date.now();
        res.once('close', () => resolve({ finished: res.writableFinished, ms: Date.now() - began }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port: edge.httpsPort, path: `/bytes/${size}`, servername: 'strict-ecc.test', headers: { host: 'strict-ecc.test' }, ca: edge.edgeCaPem, agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => {
          res.destroy(); // the client hangs up after the first chunk
          resolve();
        });
      })
        .on('error', reject)
        .end();
    });
    const { finished, ms } = await originClosed;
    assert.equal(finished, false, 'the origin must not have sent the whole body');
    assert.ok(ms < 10_000, `the origin's response closed after ${ms} ms`);
    // Its access log line counts what went out, not the 2 GiB asked for.
    const cutLine = () => logLines().find((line) => line.path === `/bytes/${size}`);
    await until(() => cutLine() !== undefined, 'the line of the answer cut short', 5000); // written within a second
    const sent = cutLine()!.body_bytes_sent as number;
    assert.equal(cutLine()!.status, 200);
    assert.ok(sent > 0 && sent < 256 * 1024 * 1024, `${sent} body bytes logged`);
  });

  it('streams 50 MB down and 50 MB up through strict mode with memory staying bounded', async () => {
    const size = 50 * 1024 * 1024;
    const download = (bytes: number) =>
      new Promise<number>((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port: edge.httpsPort, path: `/bytes/${bytes}`, servername: 'strict-ecc.test', headers: { host: 'strict-ecc.test' }, ca: edge.edgeCaPem, agent: false }, (res) => {
          let total = 0;
          res.on('data', (chunk: Buffer) => (total += chunk.length));
          res.on('end', () => resolve(total));
          res.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
    await download(1024 * 1024); // warm up: pools, TLS contexts and compiled code are not what we measure
    // Live memory, measured after a forced collection, so that garbage not yet collected does
    // not count: a proxy that held a body would show it here as ~50 MB of live buffers.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    const baseline = live();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, live())), 50);
    try {
      assert.equal(await download(size), size);

      const uploaded = await new Promise<{ received: number }>((resolve, reject) => {
        const request = httpsRequest(
          { host: '127.0.0.1', port: edge.httpsPort, method: 'POST', path: '/upload', servername: 'strict-ecc.test', headers: { host: 'strict-ecc.test', 'content-length': size }, ca: edge.edgeCaPem, agent: false },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve(JSON.parse(body)));
          },
        );
        request.on('error', reject);
        let sent = 0;
        const chunk = Buffer.alloc(64 * 1024, 0x62);
        Readable.from(
          (function* () {
            while (sent < size) {
              sent += chunk.length;
              yield chunk;
            }
          })(),
        ).pipe(request);
      });
      assert.equal(uploaded.received, size);
    } finally {
      clearInterval(sampler);
    }
    const growthMb = (peak - baseline) / 1024 / 1024;
    // Client, edge and origin share this process: a buffered body alone would add 50 MB.
    assert.ok(growthMb < 30, `live memory grew ${growthMb.toFixed(1)} MB while moving 100 MB`);
    console.log(`# live memory growth while moving 2 x 50 MB: ${growthMb.toFixed(1)} MB`);
  });
});

describe('an idle WebSocket', () => {
  const dir = tempDir('strictedge-ws-idle-');
  let edge: TestEdge;
  let demo: DemoOrigins;
  let wss: WebSocketServer;
  const originClosed: number[] = [];
  after(async () => {
    wss?.close();
    await demo?.close();
    await edge?.close();
  });
  before(async () => {
    ({ edge, demo } = await startEdgeWithDemo(join(dir, 'state'), { websocketIdleTimeoutMs: 400 }));
    wss = new WebSocketServer({ server: demo.origins.find((o) => o.name === 'strict-ecc')!.server });
    wss.on('connection', (socket) => {
      const opened = performance.now();
      socket.on('message', (data) => socket.send(data));
      socket.once('close', () => originClosed.push(performance.now() - opened));
    });
  });

  it('is closed at both ends after the idle timeout; one that keeps talking stays open', { timeout: 10_000 }, async () => {
    const connect = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(`wss://127.0.0.1:${edge.httpsPort}/chat`, { headers: { host: 'strict-ecc.test' }, servername: 'strict-ecc.test', ca: edge.edgeCaPem } as ClientOptions);
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
    const [idle, talking] = [await connect(), await connect()];
    const idleClosed = new Promise<number>((resolve) => {
      const opened = performance.now();
      idle.once('close', () => resolve(performance.now() - opened));
    });
    let echoes = 0;
    talking.on('message', () => echoes++);
    const ticker = setInterval(() => talking.send('tick'), 100);
    try {
      const idleMs = await idleClosed;
      assert.ok(idleMs >= 350 && idleMs < 3000, `the idle one closed after ${idleMs.toFixed(0)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 600)); // past another idle timeout for the talking one
      assert.equal(talking.readyState, WebSocket.OPEN, 'the one that keeps talking is still open');
      assert.ok(echoes >= 8, `echoes: ${echoes}`);
      for (let i = 0; i < 50 && originClosed.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(originClosed.length, 1, "the idle one's origin side was closed too, and only it");
    } finally {
      clearInterval(ticker);
      talking.close();
      idle.terminate();
    }
  });
});

describe('a WebSocket upgrade the origin does not answer', () => {
  const dir = tempDir('strictedge-upgrade-');
  let edge: TestEdge;
  const servers: Server[] = [];
  after(async () => {
    for (const server of servers) server.close();
    await edge?.close();
  });
  before(async () => {
    edge = await startTestEdge(join(dir, 'state'), { responseTimeoutMs: 500 });
    edge.app.admin.createAccount('site');
  });

  /** A flexible zone whose origin reads the upgrade request and then does `then` with its socket. */
  async function zoneWhoseOrigin(name: string, then: (socket: Socket) => void): Promise<void> {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => then(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const zone = edge.app.admin.addZone({ name, account: 'site', mode: 'flexible' });
    edge.app.zoneStore.setOrigins(zone.id, `127.0.0.1:${(server.address() as AddressInfo).port}`, null, new Date().toISOString());
    edge.edge.refreshZones();
  }

  it('gets 524 when the origin says nothing within the origin timeout, and 520 when it hangs up', async () => {
    await zoneWhoseOrigin('silent-upgrade.test', () => undefined);
    await zoneWhoseOrigin('hangup-upgrade.test', (socket) => socket.destroy());
    const started = performance.now();
    await assert.rejects(echoThroughEdge(edge, 'wss', 'silent-upgrade.test'), /upgrade refused with 524 A Timeout Occurred/);
    const waited = performance.now() - started;
    assert.ok(waited >= 450 && waited < 5000, `answered after ${waited.toFixed(0)} ms`);
    await assert.rejects(echoThroughEdge(edge, 'wss', 'hangup-upgrade.test'), /upgrade refused with 520 Web Server Returned an Unknown Error/);
  });

  it("passes an origin's refusal through and counts it by its status, a status line without a reason phrase too", async () => {
    await zoneWhoseOrigin('refusing-upgrade.test', (socket) => socket.end('HTTP/1.1 403\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    await assert.rejects(echoThroughEdge(edge, 'wss', 'refusing-upgrade.test'), /upgrade refused with 403/);
    const metrics = await (await fetch(edge.metricsUrl)).text();
    assert.match(metrics, /^strictedge_edge_websockets_total\{zone="refusing-upgrade\.test",code="403"\} 1$/m);
    assert.match(metrics, /^strictedge_edge_websockets_total\{zone="silent-upgrade\.test",code="524"\} 1$/m);
    assert.match(metrics, /^strictedge_edge_websockets_total\{zone="hangup-upgrade\.test",code="520"\} 1$/m);
  });
});
