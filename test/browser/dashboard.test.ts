// The dashboard in Debian's Chromium against a real CA + edge: sign in, a browser-made key,
// downloads checked by openssl, revocation and mode switches seen by the edge, errors shown.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { download, openBrowser, type BrowserSession } from '../helpers/browser.js';
import { edgeRequest, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { freePort } from '../helpers/nginx.js';
import { openssl, opensslCsr } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 60; i++) {
    last = await probe();
    if (ok(last)) return last;
    await sleep(50);
  }
  throw new Error(`${what}: still ${JSON.stringify(last)}`);
}

describe('web dashboard in Chromium', () => {
  const dir = tempDir('strictedge-dashboard-');
  let edge: TestEdge;
  let session: BrowserSession;
  let dashboard: string;
  let aliceKey: string;
  let originPort: number;
  let origin: Server | undefined;
  let serial: string;
  let keyPem: string;

  before(async () => {
    edge = await startTestEdge(join(dir, 'state'));
    dashboard = new URL('/', edge.api).href;
    originPort = await freePort();
    aliceKey = edge.app.admin.createAccount('alice').apiKey;
    edge.app.admin.addZone({ name: 'dash.test', account: 'alice', mode: 'strict', originHttps: `127.0.0.1:${originPort}` });
    edge.app.admin.addZone({ name: 'mode.test', account: 'alice', mode: 'full', originHttps: `127.0.0.1:${originPort}` });
    edge.app.admin.createAccount('bob');
    edge.app.admin.addZone({ name: 'other.test', account: 'bob' });
    session = await openBrowser();
  });
  after(async () => {
    await session?.close();
    origin?.close();
    await edge?.close();
  });

  test('the page comes with a CSP that allows only this origin', async () => {
    const response = await fetch(dashboard);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'.*connect-src 'self'/);
    assert.match(await response.text(), /<script type="module" src="\/app.js">/);
  });

  test('signs in with the keyboard alone and sees only its own zones', async () => {
    const { page } = session;
    await page.goto(dashboard);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'api-key');
    await page.keyboard.type(aliceKey);
    await page.keyboard.press('Enter');
    await page.locator('#zone-rows tr').nth(1).waitFor();
    assert.deepEqual(await page.locator('#zone-rows tr td:first-child').allTextContents(), ['dash.test', 'mode.test']);
    assert.equal(await page.locator('#mode-dash\\.test').inputValue(), 'strict');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('strictedge.apiKey')), aliceKey);
    await session.screenshot('dashboard-signed-in');
  });

  test('a wrong key is refused with a message', async () => {
    const other = await session.context.newPage();
    await other.goto(dashboard);
    await other.getByLabel('API key').fill('v1.0-000000000000000000000000-00');
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.locator('#signin-error', { hasText: 'not valid' }).waitFor();
    assert.equal(await other.evaluate(() => sessionStorage.getItem('strictedge.apiKey')), null);
    await other.close();
  });

  test('creates an ECDSA certificate from a key made in the browser; every download reads back with openssl', async () => {
    const { page } = session;
    await page.getByLabel('Zone', { exact: true }).selectOption({ label: 'dash.test' });
    assert.deepEqual(await page.locator('#hostnames input').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value)), ['dash.test', '*.dash.test']);
    assert.equal(await page.getByLabel('Validity').inputValue(), '5475');
    await page.getByRole('button', { name: 'Create certificate' }).click();
    await page.locator('#result').waitFor({ state: 'visible' });
    serial = (await page.locator('#create-status').textContent())!.match(/Certificate ([0-9a-f]+) issued/)![1]!;
    await session.screenshot('dashboard-issued');

    const files = join(dir, 'downloads');
    const pemName = await download(page, () => page.locator('#download-certificate').click(), join(files, 'cert.pem'));
    const keyName = await download(page, () => page.getByRole('button', { name: 'Download private key' }).click(), join(files, 'key.pem'));
    assert.deepEqual([pemName, keyName], ['dash.test.pem', 'dash.test.key']);
    await page.getByLabel('DER (binary)').check();
    await download(page, () => page.locator('#download-certificate').click(), join(files, 'cert.der'));
    await page.getByLabel('PKCS#7').check();
    assert.match(await page.locator('#certificate-text').inputValue(), /^-----BEGIN PKCS7-----/);
    await download(page, () => page.locator('#download-certificate').click(), join(files, 'cert.p7b'));

    const pem = readFileSync(join(files, 'cert.pem'), 'utf8');
    const text = openssl(['x509', '-noout', '-text'], pem);
    assert.match(text, /Public Key Algorithm: id-ecPublicKey/);
    assert.match(text, /DNS:dash\.test, DNS:\*\.dash\.test/);
    assert.equal(openssl(['x509', '-noout', '-serial'], pem).trim().toLowerCase(), `serial=${serial}`);
    // Checked against the root the page offers, as a user would.
    const rootName = await download(page, () => page.getByRole('link', { name: 'ECC root' }).click(), join(files, 'root.pem'));
    assert.equal(rootName, 'origin-ecc-root.pem');
    assert.equal(readFileSync(join(files, 'root.pem'), 'utf8'), readFileSync(edge.app.paths.rootCert('ecdsa'), 'utf8'));
    assert.match(openssl(['verify', '-CAfile', join(files, 'root.pem'), join(files, 'cert.pem')]), /OK/);
    const fingerprint = openssl(['x509', '-noout', '-fingerprint', '-sha256'], pem);
    assert.equal(openssl(['x509', '-inform', 'der', '-in', join(files, 'cert.der'), '-noout', '-fingerprint', '-sha256']), fingerprint);
    const fromP7b = openssl(['pkcs7', '-in', join(files, 'cert.p7b'), '-print_certs']);
    assert.equal(openssl(['x509', '-noout', '-fingerprint', '-sha256'], fromP7b), fingerprint);
    keyPem = readFileSync(join(files, 'key.pem'), 'utf8');
    assert.equal(openssl(['pkey', '-pubout'], keyPem), openssl(['x509', '-noout', '-pubkey'], pem));
    assert.equal(await page.locator('#key-text').inputValue(), keyPem);
  });

  test('the private key and the API key never travel in a URL, and the key never in any request', async () => {
    // The secret is the private scalar d (the PKCS#8 file also holds the public key, which the CSR carries).
    const d = Buffer.from(createPrivateKey(keyPem).export({ format: 'jwk' }).d!, 'base64url');
    const spellings = [d.toString('hex'), d.toString('base64'), d.toString('base64url')];
    assert.ok(session.requests.length > 5);
    for (const request of session.requests) {
      assert.equal(new URL(request.url).origin, new URL(dashboard).origin, `request outside the CA: ${request.url}`);
      assert.ok(!request.url.includes(aliceKey), `API key in URL ${request.url}`);
      const text = `${request.url}\n${JSON.stringify(request.headers)}\n${request.body}`;
      for (const spelling of spellings) assert.ok(!text.includes(spelling), `private key in ${request.method} ${request.url}`);
      // ...and not inside any base64 blob either (a PEM in a JSON body, at any alignment).
      for (const blob of text.replace(/\\n|\s/g, '').match(/[A-Za-z0-9+/=]{40,}/g) ?? []) {
        for (let shift = 0; shift < 4; shift++) assert.ok(!Buffer.from(blob.slice(shift), 'base64').includes(d), `private key in a base64 blob of ${request.url}`);
      }
    }
    const create = session.requests.find((r) => r.method === 'POST' && r.url.endsWith('/client/v4/certificates'));
    assert.ok(create);
    assert.match(JSON.parse(create.body).csr, /BEGIN CERTIFICATE REQUEST/);
    assert.equal(create.headers['x-auth-user-service-key'], aliceKey);
    assert.deepEqual(session.pageErrors, []);
  });

  test('the edge reaches an origin serving the downloaded files in strict mode, and refuses it once revoked in the page', async () => {
    const { page } = session;
    origin = createServer({ cert: readFileSync(join(dir, 'downloads', 'cert.pem')), key: keyPem }, (_req, res) => res.end('origin says hi\n'));
    await new Promise<void>((resolve) => origin!.listen(originPort, '127.0.0.1', resolve));
    const ok = await edgeRequest(edge, { scheme: 'https', host: 'dash.test' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'origin says hi\n');

    const row = page.locator(`#cert-rows tr[data-serial="${serial}"]`);
    page.once('dialog', (dialog) => {
      assert.match(dialog.message(), /cannot be undone/);
      void dialog.accept();
    });
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await row.locator('td', { hasText: /^Revoked/ }).waitFor();
    const refused = await eventually(() => edgeRequest(edge, { scheme: 'https', host: 'dash.test' }), (r) => r.status === 526, 'edge after revocation');
    assert.equal(refused.headers['x-strictedge-verdict'], 'revoked');
    await session.screenshot('dashboard-revoked');
  });

  test("switching a zone's mode in the page changes what the edge does, with a warning before leaving strict", async () => {
    const { page } = session;
    // mode.test's origin shows the (now revoked) dash.test certificate: fine in full, refused in strict.
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'mode.test' })).status, 200);
    const select = page.getByLabel('SSL mode for mode.test');
    await select.selectOption('strict');
    await page.locator('#zones-status', { hasText: 'mode.test is now Full (strict)' }).waitFor();
    await eventually(() => edgeRequest(edge, { scheme: 'https', host: 'mode.test' }), (r) => r.status === 526, 'edge after switching to strict');

    const patchesBefore = session.requests.filter((r) => r.method === 'PATCH').length;
    page.once('dialog', (dialog) => void dialog.dismiss());
    await select.selectOption('off');
    assert.equal(await select.inputValue(), 'strict');
    assert.equal(session.requests.filter((r) => r.method === 'PATCH').length, patchesBefore);

    let warning = '';
    page.once('dialog', (dialog) => {
      warning = dialog.message();
      void dialog.accept();
    });
    await select.selectOption('full');
    await page.locator('#zones-status', { hasText: 'mode.test is now Full.' }).waitFor();
    assert.match(warning, /no longer checks the origin's certificate/);
    await eventually(() => edgeRequest(edge, { scheme: 'https', host: 'mode.test' }), (r) => r.status === 200, 'edge after switching back to full');
    assert.equal(edge.app.zoneStore.byName('mode.test')!.sslMode, 'full');
  });

  test('a bad pasted CSR is caught before submit; a hostname outside the account shows the policy error inline', async () => {
    const { page } = session;
    const postsBefore = session.requests.filter((r) => r.method === 'POST').length;
    await page.getByLabel('I have my own CSR').check();
    await page.getByLabel('CSR (PEM)').fill('hello, not a CSR');
    await page.getByRole('button', { name: 'Create certificate' }).click();
    await page.locator('#csr-error', { hasText: 'Paste a PEM CSR' }).waitFor();

    // A CSR whose content was changed after signing: it parses, its signature does not verify.
    const { csr } = opensslCsr(dir, 'p256', 'tampered');
    const der = Buffer.from(csr.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const at = der.indexOf(Buffer.from('ignored.example'));
    assert.ok(at > 0, 'the test CSR names ignored.example');
    der[at] = 'f'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    await page.getByLabel('CSR (PEM)').fill(tampered);
    await page.getByRole('button', { name: 'Create certificate' }).click();
    await page.locator('#csr-error', { hasText: 'signature does not verify' }).waitFor();
    assert.equal(session.requests.filter((r) => r.method === 'POST').length, postsBefore, 'nothing was sent for a bad CSR');

    // A good pasted CSR works and no key is shown (the user holds it).
    const good = opensslCsr(dir, 'rsa2048', 'good');
    await page.getByLabel('CSR (PEM)').fill(good.csr);
    await page.getByRole('button', { name: 'Create certificate' }).click();
    await page.locator('#create-status', { hasText: 'issued' }).waitFor();
    assert.equal(await page.locator('#key-block').isHidden(), true);
    await page.locator('input[name=format][value=pem]').check();
    assert.match(openssl(['x509', '-noout', '-text'], await page.locator('#certificate-text').inputValue()), /rsaEncryption/);

    await page.getByLabel('Let this browser generate').check();
    await page.getByRole('button', { name: 'Add hostname' }).click();
    await page.getByRole('textbox', { name: 'Hostname 3', exact: true }).fill('www.other.test');
    await page.getByRole('button', { name: 'Create certificate' }).click();
    await page.locator('#hostnames-error', { hasText: 'not in a zone of this account' }).waitFor();
    assert.match((await page.locator('#hostnames-error').textContent())!, /www\.other\.test.*code 1212/);
    await session.screenshot('dashboard-errors');
  });

  test('readable at 360 px wide, and every control has a label', async () => {
    const narrow = await session.browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await narrow.newPage();
    await page.goto(dashboard);
    await page.getByLabel('API key').fill(aliceKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#cert-rows tr').first().waitFor();
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360, 'no sideways scrolling at 360 px');
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button')]
        .filter((e) => {
          const control = e as HTMLInputElement;
          return !(control.labels?.length || control.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent?.trim()));
        })
        .map((e) => e.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unlabelled, []);
    await page.screenshot({ path: join(process.cwd(), 'test-artifacts', 'dashboard-360px.png'), fullPage: true });
    await narrow.close();
  });

  test('sign out forgets the key', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#signin').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.equal(await page.locator('#signed-in').isHidden(), true);
    await page.reload();
    await page.locator('#signin').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#signed-in').isHidden(), true);
  });
});
