// A browser reaching sites through the edge (`serve --demo`): Chromium negotiates HTTP/2 on the
// edge's TLS port, loads a page through a strict zone and fetches from it on the same connection,
// and gets the edge's own error page for a zone whose origin certificate has expired. Chromium
// resolves the demo names to loopback and trusts each zone's edge certificate by its SPKI hash.
import assert from 'node:assert/strict';
import { createHash, type X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const ZONES = ['strict-ecc.test', 'expired.test'];

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

  before(async () => {
    served = await startServe(['--demo', '--state', join(dir, 'state'), '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    port = Number(new URL(served.ready.https).port);
    const ca = readFileSync(served.ready.edge_ca, 'utf8');
    const spkis = await Promise.all(ZONES.map((zone) => edgeSpki(port, zone, ca)));
    session = await openBrowser({ args: [`--host-resolver-rules=${ZONES.map((zone) => `MAP ${zone} 127.0.0.1`).join(', ')}`, `--ignore-certificate-errors-spki-list=${spkis.join(',')}`] });
  });
  after(async () => {
    await session?.close();
    await served?.stop();
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
});
