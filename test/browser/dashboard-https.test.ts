// The dashboard served over HTTPS (`serve --api-tls-cert/--api-tls-key`) under a name that is not
// this machine's, as an operator would run it for users elsewhere: the page's Web Crypto needs a
// secure context there, which the same page over plain HTTP is not. Chromium resolves the name to
// loopback and trusts the API's key by its SPKI hash, as a browser trusting the operator's CA would.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { openssl } from '../helpers/openssl.js';
import { startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'ca.strictedge.test';

describe('the dashboard over HTTPS under a name that is not this machine\'s', () => {
  const dir = tempDir('strictedge-dashboard-https-');
  const file = (name: string) => join(dir, name);
  let served: Served;
  let session: BrowserSession;
  let plain: Server;

  before(async () => {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', file('ops-ca.key'), '-out', file('ops-ca.pem'), '-days', '30', '-subj', '/CN=ops test CA']);
    openssl(['req', '-new', ...ec, '-keyout', file('api.key'), '-out', file('api.csr'), '-subj', `/CN=${NAME}`]);
    writeFileSync(file('api.ext'), `subjectAltName=DNS:${NAME},DNS:plain.${NAME}\n`);
    openssl(['x509', '-req', '-in', file('api.csr'), '-CA', file('ops-ca.pem'), '-CAkey', file('ops-ca.key'), '-CAcreateserial', '-days', '30', '-extfile', file('api.ext'), '-out', file('api.pem')]);
    served = await startServe(['--demo', '--state', file('state'), '--api-tls-cert', file('api.pem'), '--api-tls-key', file('api.key'), '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    // The same kind of page over plain HTTP, for the contrast.
    plain = createServer((_req, res) => res.end('<!doctype html><title>plain</title>'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const spki = createHash('sha256').update(new X509Certificate(readFileSync(file('api.pem'))).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    session = await openBrowser({ args: [`--host-resolver-rules=MAP ${NAME} 127.0.0.1, MAP plain.${NAME} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`] });
  });
  after(async () => {
    await session?.close();
    plain?.close();
    await served?.stop();
  });

  test('makes a key in the browser and gets a certificate, every request to the CA over HTTPS', async () => {
    const { page } = session;
    const apiPort = new URL(served.ready.api).port;
    const dashboard = `https://${NAME}:${apiPort}/`;
    await page.goto(dashboard);
    assert.deepEqual(await page.evaluate(() => [window.isSecureContext, typeof crypto.subtle?.generateKey]), [true, 'function']);
    await page.getByLabel('API key').fill(readFileSync(file('state/data/demo-api-key'), 'utf8').trim());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Zone', { exact: true }).selectOption({ label: 'demo.test' });
    await page.getByRole('button', { name: 'Create certificate' }).click();
    await page.locator('#result').waitFor({ state: 'visible' });
    assert.match((await page.locator('#create-status').textContent()) ?? '', /Certificate [0-9a-f]+ issued/);
    await session.screenshot('dashboard-https-issued');
    assert.deepEqual(session.pageErrors, []);
    const elsewhere = session.requests.filter((request) => !request.url.startsWith(dashboard));
    assert.deepEqual(elsewhere.map((request) => request.url), []);

    // Over plain HTTP under a name like it, the page could not make a key at all.
    await page.goto(`http://plain.${NAME}:${(plain.address() as AddressInfo).port}/`);
    assert.deepEqual(await page.evaluate(() => [window.isSecureContext, typeof crypto.subtle]), [false, 'undefined']);
  });
});
