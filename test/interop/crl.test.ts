// CRLs for servers other than our edge: checked with openssl, and enforced by a real nginx
// (proxy_ssl_crl) in front of an origin whose certificate was revoked.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type RunningOrigin } from '../../src/origin/server.js';
import { backupStateFolder } from '../../src/store/backup.js';
import { api, startTestCa, type TestCa } from '../helpers/ca.js';
import { startNginxProxy, type RunningNginx } from '../helpers/nginx.js';
import { openssl, opensslCsr, opensslResult, writeTemp } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

async function fetchBytes(url: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) };
}

/** openssl crl -crlnumber prints `crlNumber=0x…`. */
function crlNumberIn(line: string): bigint {
  return BigInt(line.trim().split('=')[1]!);
}

function getThrough(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
}

describe('CRLs', () => {
  const dir = tempDir('strictedge-crl-');
  let ca: TestCa;
  let key: string;
  const issued: Record<string, { id: string; pem: string; keyPath: string; keyPem: string }> = {};
  const running: { close(): Promise<void> }[] = [];
  after(async () => {
    await Promise.all(running.map((thing) => thing.close()));
    await ca?.close();
  });
  before(async () => {
    ca = await startTestCa(join(dir, 'ca'));
    key = ca.account('crl', ['crl.test']).key;
    for (const [name, testKey, type] of [['kept', 'p256', 'origin-ecc'], ['dropped', 'p256', 'origin-ecc'], ['rsa', 'rsa2048', 'origin-rsa']] as const) {
      const csr = opensslCsr(dir, testKey, name);
      const res = await api(ca.api, 'POST', '/certificates', { key, body: { csr: csr.csr, hostnames: [`${name}.crl.test`], request_type: type, requested_validity: 7 } });
      issued[name] = { id: res.result.id, pem: res.result.certificate, keyPath: csr.keyPath, keyPem: csr.keyPem };
    }
  });

  it('publishes empty, signed CRLs before any revocation, in DER and PEM, without a key', async () => {
    const der = await fetchBytes(`${ca.api}/crl/ecc`);
    assert.equal(der.status, 200);
    assert.equal(der.type, 'application/pkix-crl');
    const text = openssl(['crl', '-inform', 'DER', '-CAfile', ca.app.paths.rootCert('ecdsa'), '-noout', '-text'], der.body);
    assert.match(text, /No Revoked Certificates/);
    const pem = await fetchBytes(`${ca.api}/crl/rsa.pem`);
    assert.match(pem.body.toString(), /^-----BEGIN X509 CRL-----/);
    const verified = opensslResult(['crl', '-CAfile', ca.app.paths.rootCert('rsa'), '-noout'], pem.body);
    assert.match(verified.stderr + verified.stdout, /verify OK/);
  });

  it('serves the Origin CA roots without a key, in PEM and DER, and openssl verify checks issued certificates against them', async () => {
    for (const [kind, file, leaf] of [['ecc', 'ecdsa', issued.kept!], ['rsa', 'rsa', issued.rsa!]] as const) {
      const pem = await fetchBytes(`${ca.api}/roots/${kind}.pem`);
      assert.equal(pem.status, 200);
      assert.equal(pem.type, 'application/x-pem-file');
      assert.equal(pem.body.toString(), readFileSync(ca.app.paths.rootCert(file), 'utf8'));
      const der = await fetchBytes(`${ca.api}/roots/${kind}`);
      assert.equal(der.type, 'application/pkix-cert');
      assert.equal(openssl(['x509', '-inform', 'DER', '-noout', '-fingerprint', '-sha256'], der.body), openssl(['x509', '-noout', '-fingerprint', '-sha256'], pem.body));
      const rootPath = writeTemp(dir, `fetched-${kind}-root.pem`, pem.body.toString());
      const checked = opensslResult(['verify', '-CAfile', rootPath, writeTemp(dir, `${kind}-leaf.pem`, leaf.pem)]);
      assert.equal(checked.status, 0, checked.stderr);
    }
    // The other root does not vouch for it.
    const crossed = opensslResult(['verify', '-CAfile', writeTemp(dir, 'rsa-root.pem', (await fetchBytes(`${ca.api}/roots/rsa.pem`)).body.toString()), writeTemp(dir, 'ecc-leaf.pem', issued.kept!.pem)]);
    assert.notEqual(crossed.status, 0);
  });

  it('answers 405 with Allow for another method on the CRLs and the roots', async () => {
    for (const path of ['/crl/ecc', '/crl/rsa.pem', '/roots/ecc.pem', '/roots/rsa']) {
      const response = await fetch(`${ca.api}${path}`, { method: 'POST' });
      assert.equal(response.status, 405, path);
      assert.equal(response.headers.get('allow'), 'GET, HEAD', path);
      assert.equal(((await response.json()) as { errors: { code: number }[] }).errors[0]!.code, 1002);
    }
    const head = await fetch(`${ca.api}/roots/ecc.pem`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), readFileSync(ca.app.paths.rootCert('ecdsa')).length);
  });

  it('lists a revoked certificate at once, with a growing CRL Number, so openssl verify -crl_check refuses it', async () => {
    const before = openssl(['crl', '-inform', 'DER', '-noout', '-crlnumber'], (await fetchBytes(`${ca.api}/crl/ecc`)).body);
    assert.equal((await api(ca.api, 'DELETE', `/certificates/${issued.dropped!.id}`, { key })).status, 200);
    const crlPem = (await fetchBytes(`${ca.api}/crl/ecc.pem`)).body.toString();
    const crlPath = writeTemp(dir, 'ecc.crl.pem', crlPem);
    const text = openssl(['crl', '-in', crlPath, '-noout', '-text']);
    assert.match(text, new RegExp(`Serial Number: ${issued.dropped!.id.toUpperCase()}`));
    assert.doesNotMatch(text, new RegExp(issued.kept!.id.toUpperCase()));
    const after = openssl(['crl', '-in', crlPath, '-noout', '-crlnumber']);
    assert.ok(crlNumberIn(after) > crlNumberIn(before), `${before} -> ${after}`);

    const root = ca.app.paths.rootCert('ecdsa');
    const revokedCheck = opensslResult(['verify', '-crl_check', '-CAfile', root, '-CRLfile', crlPath, writeTemp(dir, 'dropped.pem', issued.dropped!.pem)]);
    assert.notEqual(revokedCheck.status, 0);
    assert.match(revokedCheck.stdout + revokedCheck.stderr, /certificate revoked/);
    const keptCheck = opensslResult(['verify', '-crl_check', '-CAfile', root, '-CRLfile', crlPath, writeTemp(dir, 'kept.pem', issued.kept!.pem)]);
    assert.equal(keptCheck.status, 0, keptCheck.stderr);
  });

  it('is enforced by nginx proxy_ssl_crl in front of an origin with a revoked certificate', async () => {
    const crlPath = writeTemp(dir, 'nginx-ecc.crl.pem', (await fetchBytes(`${ca.api}/crl/ecc.pem`)).body);
    const root = ca.app.paths.rootCert('ecdsa');
    const results: Record<string, number> = {};
    for (const name of ['kept', 'dropped'] as const) {
      const origin: RunningOrigin = await startOrigin({ name, tls: { cert: issued[name]!.pem, key: issued[name]!.keyPem } });
      running.push(origin);
      const nginx: RunningNginx = await startNginxProxy(join(dir, `nginx-${name}`), { upstream: origin.address, serverName: `${name}.crl.test`, trustedCa: root, crl: crlPath });
      running.push({ close: () => nginx.stop() });
      results[name] = await getThrough(nginx.port);
    }
    assert.deepEqual(results, { kept: 200, dropped: 502 });
  });
});

describe('CRL Number', () => {
  const HOUR_MS = 60 * 60 * 1000;

  async function crlNumberOf(ca: TestCa): Promise<bigint> {
    return crlNumberIn(openssl(['crl', '-inform', 'DER', '-noout', '-crlnumber'], (await fetchBytes(`${ca.api}/crl/ecc`)).body));
  }

  it('grows with every new list: rebuilt a day later, after a restart, and from a restored older backup', async () => {
    const dir = tempDir('strictedge-crl-number-');
    let now = Date.parse('2026-11-28T12:00:00Z');
    const clock = () => new Date(now);
    const numbers: [string, bigint][] = [];
    let ca = await startTestCa(join(dir, 'ca'), { clock });
    try {
      const { key } = ca.account('numbers', ['numbers.test']);
      numbers.push(['first list', await crlNumberOf(ca)]);
      now += 25 * HOUR_MS;
      numbers.push(['rebuilt a day later, no new event', await crlNumberOf(ca)]);
      await ca.close();
      now += 1000;
      ca = await startTestCa(join(dir, 'ca'), { clock });
      numbers.push(['after a restart', await crlNumberOf(ca)]);

      await backupStateFolder(join(dir, 'ca'), join(dir, 'backup'));
      const csr = opensslCsr(dir, 'p256', 'numbers');
      const issued = await api(ca.api, 'POST', '/certificates', { key, body: { csr: csr.csr, hostnames: ['numbers.test'], request_type: 'origin-ecc', requested_validity: 7 } });
      assert.equal((await api(ca.api, 'DELETE', `/certificates/${issued.result.id}`, { key })).status, 200);
      numbers.push(['a revocation in the same second', await crlNumberOf(ca)]);
      await ca.close();
      now += 1000;
      ca = await startTestCa(join(dir, 'backup'), { clock });
      numbers.push(['restored from the backup taken before it', await crlNumberOf(ca)]);
    } finally {
      await ca.close();
    }
    for (let i = 1; i < numbers.length; i++) {
      assert.ok(numbers[i]![1] > numbers[i - 1]![1], `${numbers[i]![0]}: ${numbers[i]![1]} after ${numbers[i - 1]![0]}: ${numbers[i - 1]![1]}`);
    }
  });
});
