// A browser reaching sites through the edge (`serve --demo`): Chromium negotiates HTTP/2 on the
// edge's TLS port, loads a page through a strict zone and fetches from it on the same connection,
// gets the edge's own error page for a zone whose origin certificate has expired, and opens a
// WebSocket on the page's h2 connection (RFC 8441) to an origin speaking HTTP/1.1. Chromium
// resolves the demo names to loopback and trusts each zone's edge certificate by its SPKI hash.
import assert from 'node:assert/strict';
import { createHash, type X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { cli, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/** ws-page.test: a zone added to the demo, whose origin serves a page and a WebSocket echo. */
const ZONES = ['strict-ecc.test', 'expired.test', 'ws-page.test'];

/** The SPKI hash of the certificate the edge presents for `servername`. */
function edgeSpki(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca }, () => {
      const leaf: X509Certificate | undefined = socket.getPeerX509Certificate();
      socket.end();
      if (!leaf) return reject(new Error(`no certificate for ${servername}`));
      resolve(createHash('sha256').update(leaf.publicKey.export({ type: 'spki', format: 'der' })).digest('base64'));
    });
    socket.once('error', reject);
  });
}

describe('a browser through the edge over HTTP/2', () => {
  const dir = tempDir('strictedge-browser-h2-');
  let served: Served;
  let session: BrowserSession;
  let port: number;
  let websocketOrigin: Server;
  const upgradesSeen: { version: string | undefined; proto: string | undefined }[] = [];

  before(async () => {
    websocketOrigin = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>ws</title><p>WebSocket page</p>');
    });
    const wss = new WebSocketServer({ server: websocketOrigin });
    wss.on('connection', (socket, request) => {
      upgradesSeen.push({ version: request.headers['sec-websocket-version'], proto: request.headers['x-forwarded-proto'] as string | undefined });
      socket.on('message', (data) => socket.send(`echo: ${data}`));
    });
    await new Promise<void>((resolve) => websocketOrigin.listen(0, '127.0.0.1', resolve));
    served = await startServe(['--demo', '--state', join(dir, 'state'), '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    const added = cli(['zones', 'add', 'ws-page.test', '--account', 'demo', '--mode', 'flexible', '--origin-http', `127.0.0.1:${(websocketOrigin.address() as AddressInfo).port}`, '--state', join(dir, 'state')]);
    assert.equal(added.status, 0, added.stderr);
    port = Number(new URL(served.ready.https).port);
    const ca = readFileSync(served.ready.edge_ca, 'utf8');
    // The running edge picks the new zone up within a second; until then its name gets an alert.
    for (let i = 0; i < 50; i++) {
      if (await edgeSpki(port, 'ws-page.test', ca).then(() => true, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const spkis = await Promise.all(ZONES.map((zone) => edgeSpki(port, zone, ca)));
    session = await openBrowser({ args: [`--host-resolver-rules=${ZONES.map((zone) => `MAP ${zone} 127.0.0.1`).join(', ')}`, `--ignore-certificate-errors-spki-list=${spkis.join(',')}`] });
  });
  after(async () => {
    await session?.close();
    await served?.stop();
    websocketOrigin?.close();
  });

  test('loads a strict zone over h2 and fetches from it on the same connection; an expired origin certificate gets the 526 page', async () => {
    const { page } = session;
    const response = await page.goto(`https://strict-ecc.test:${port}/page`);
    assert.equal(response?.status(), 200);
    const seen = await page.evaluate(async () => {
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const answer = await fetch('/api?from=page', { headers: { 'x-from-page': 'yes' } });
      const body = (await answer.json()) as { url: string; headers: Record<string, string> };
      const entry = performance.getEntriesByType('resource').at(-1) as PerformanceResourceTiming;
      return { navigation: navigation.nextHopProtocol, fetched: entry.nextHopProtocol, status: answer.status, url: body.url, header: body.headers['x-from-page'], proto: body.headers['x-forwarded-proto'] };
    });
    assert.deepEqual(seen, { navigation: 'h2', fetched: 'h2', status: 200, url: '/api?from=page', header: 'yes', proto: 'https' });

    const refused = await page.goto(`https://expired.test:${port}/`);
    assert.equal(refused?.status(), 526);
    assert.equal(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol), 'h2');
    assert.match((await page.locator('h1').textContent()) ?? '', /Error 526/);
    assert.match((await page.locator('body').textContent()) ?? '', /Strict verification: expired/);
    await session.screenshot('edge-h2-526');
    assert.deepEqual(session.pageErrors, []);
  });

  test("opens a WebSocket on the page's own h2 connection (RFC 8441), not on a new HTTP/1.1 one", async () => {
    const { page } = session;
    const handshakes = async () => {
      const text = await (await fetch(served.ready.metrics)).text();
      const count = (protocol: string) => [...text.matchAll(new RegExp(`^strictedge_edge_client_tls_handshakes_total\\{resumed="(?:true|false)",protocol="${protocol.replace('/', '\\/')}"\\} (\\d+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
      return { h2: count('h2'), http1: count('http/1.1') };
    };
    assert.equal((await page.goto(`https://ws-page.test:${port}/`))?.status(), 200);
    const before = await handshakes();
    const echoed = await page.evaluate(
      () =>
        new Promise<string>((resolve, reject) => {
          const socket = new WebSocket(`wss://${location.host}/chat`);
          socket.onopen = () => socket.send('hello from the page');
          socket.onmessage = (event) => {
            resolve(String(event.data));
            socket.close();
          };
          socket.onerror = () => reject(new Error('WebSocket failed'));
        }),
    );
    assert.equal(echoed, 'echo: hello from the page');
    assert.deepEqual(upgradesSeen, [{ version: '13', proto: 'https' }]);
    // No new TLS connection for it: it went on the page's h2 connection.
    assert.deepEqual(await handshakes(), before);
    assert.deepEqual(session.pageErrors, []);
  });
});
