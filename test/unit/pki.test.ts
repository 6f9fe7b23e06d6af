// The certificate profile and CSR checks, judged by the real openssl.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { Errors, StrictedgeError, type ErrorDef } from '../../src/errors/catalogue.js';
import { parseCsr, verifyCsrSignature } from '../../src/pki/csr.js';
import { derToPem, encodeCertificates, pemToDer, readCertificates } from '../../src/pki/formats.js';
import { randomSerial, signSha256 } from '../../src/pki/keys.js';
import { generateRoot, loadRoot, type OriginRoot } from '../../src/pki/root.js';
import { csrWithExponentOne } from '../helpers/forged-csr.js';
import { openssl, opensslCsr, opensslResult, writeTemp } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

async function issue(root: OriginRoot, csrPem: string, hostnames: string[], notBefore = new Date('2026-01-01T00:00:00Z'), days = 30) {
  const csr = parseCsr(csrPem);
  await verifyCsrSignature(csr);
  const tbs = root.template.tbs({ serial: randomSerial(), notBefore, notAfter: new Date(notBefore.getTime() + days * 86400_000), hostnames, spkiDer: csr.spkiDer });
  return root.template.certificate(tbs, await signSha256(root.key, tbs));
}

async function rejectsWith(promise: Promise<unknown> | (() => unknown), errorDef: ErrorDef): Promise<void> {
  await assert.rejects(
    async () => (typeof promise === 'function' ? promise() : promise),
    (error: unknown) => error instanceof StrictedgeError && error.code === errorDef.code,
  );
}

describe('origin certificate profile', () => {
  const dir = tempDir();
  const roots: Record<string, OriginRoot> = {};
  const rootFiles: Record<string, string> = {};
  before(async () => {
    for (const keyType of ['ecdsa', 'rsa'] as const) {
      const generated = await generateRoot(keyType, new Date('2025-06-01T00:00:00Z'));
      roots[keyType] = loadRoot(generated.certPem, generated.keyPem);
      rootFiles[keyType] = writeTemp(dir, `${keyType}-root.pem`, generated.certPem);
    }
  });

  for (const [keyType, testKey] of [['ecdsa', 'p256'], ['rsa', 'rsa2048']] as const) {
    it(`issues a ${keyType} leaf that openssl verifies against its root, with only the minimal extensions`, async () => {
      const { csr } = opensslCsr(dir, testKey, keyType);
      const der = await issue(roots[keyType]!, csr, ['example.test', '*.example.test']);
      const leaf = writeTemp(dir, `${keyType}-leaf.pem`, derToPem(der, 'CERTIFICATE'));
      assert.equal(openssl(['verify', '-attime', String(Date.parse('2026-01-10') / 1000), '-CAfile', rootFiles[keyType]!, leaf]).trim(), `${leaf}: OK`);

      const text = openssl(['x509', '-in', leaf, '-noout', '-text', '-ext', 'subjectAltName']);
      assert.match(text, /DNS:example\.test, DNS:\*\.example\.test/);
      const full = openssl(['x509', '-in', leaf, '-noout', '-text']);
      assert.match(full, /X509v3 Key Usage: critical\n\s+Digital Signature/);
      if (keyType === 'rsa') assert.match(full, /Digital Signature, Key Encipherment/);
      assert.match(full, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication/);
      for (const absent of ['Authority Information Access', 'CRL Distribution', 'Certificate Policies', 'CT Precertificate', 'Basic Constraints', 'Key Identifier']) {
        assert.ok(!full.includes(absent), `leaf must not carry ${absent}`);
      }
      const cert = new X509Certificate(der);
      assert.equal(cert.serialNumber.length, 32, 'serial is 16 bytes');
      assert.ok(Number.parseInt(cert.serialNumber[0]!, 16) < 8, 'serial is positive');
      assert.equal(cert.issuer, new X509Certificate(readFileSync(rootFiles[keyType]!)).subject);
      assert.equal(cert.validFrom, 'Jan  1 00:00:00 2026 GMT');
      assert.equal(cert.validTo, 'Jan 31 00:00:00 2026 GMT');
    });
  }

  it('keeps an ECDSA leaf with two names under 600 bytes', async () => {
    const { csr } = opensslCsr(dir, 'p256', 'small');
    const der = await issue(roots.ecdsa!, csr, ['example.test', '*.example.test']);
    assert.ok(der.length < 600, `${der.length} bytes`);
  });

  it('encodes dates from 2050 on as GeneralizedTime', async () => {
    const { csr } = opensslCsr(dir, 'p256', 'late');
    const der = await issue(roots.ecdsa!, csr, ['example.test'], new Date('2049-12-01T00:00:00Z'), 90);
    const parsed = openssl(['asn1parse', '-inform', 'DER'], Buffer.from(der));
    assert.match(parsed, /UTCTIME\s+:491201000000Z/);
    assert.match(parsed, /GENERALIZEDTIME\s+:20500301000000Z/);
  });

  it('makes roots that openssl accepts as CAs', () => {
    const text = openssl(['x509', '-in', rootFiles.ecdsa!, '-noout', '-text']);
    assert.match(text, /CA:TRUE/);
    assert.match(text, /Certificate Sign, CRL Sign/);
    assert.equal(opensslResult(['verify', '-CAfile', rootFiles.rsa!, rootFiles.rsa!]).status, 0);
  });
});

describe('CSR checks', () => {
  const dir = tempDir();
  it('rejects garbage', () => rejectsWith(() => parseCsr('hello'), Errors.CSR_UNPARSABLE));
  it('rejects a PEM block that is not DER', () =>
    rejectsWith(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), Errors.CSR_UNPARSABLE));
  it('rejects a tampered signature', async () => {
    const { csr } = opensslCsr(dir, 'p256', 'tampered');
    const der = Buffer.from(pemToDer(csr, 'CERTIFICATE REQUEST'));
    der[der.length - 5]! ^= 0x01;
    await rejectsWith(verifyCsrSignature(parseCsr(derToPem(der, 'CERTIFICATE REQUEST'))), Errors.CSR_BAD_SIGNATURE);
  });
  it('rejects a CSR whose signed content was altered', async () => {
    const { csr } = opensslCsr(dir, 'rsa2048', 'altered');
    const der = Buffer.from(pemToDer(csr, 'CERTIFICATE REQUEST'));
    const at = der.indexOf(Buffer.from('ignored.example'));
    der[at] = 'J'.charCodeAt(0);
    await rejectsWith(verifyCsrSignature(parseCsr(derToPem(der, 'CERTIFICATE REQUEST'))), Errors.CSR_BAD_SIGNATURE);
  });
  it('describes RSA-1024 so policy can refuse it, and refuses P-384 and Ed25519 keys', async () => {
    const { kind, bits, exponent } = parseCsr(opensslCsr(dir, 'rsa1024', 'weak').csr).key as { kind: string; bits: number; exponent: bigint };
    assert.deepEqual({ kind, bits, exponent }, { kind: 'rsa', bits: 1024, exponent: 65537n });
    await rejectsWith(() => parseCsr(opensslCsr(dir, 'p384', 'p384').csr), Errors.CSR_UNSUPPORTED_ALGORITHM);
    await rejectsWith(() => parseCsr(opensslCsr(dir, 'ed25519', 'ed').csr), Errors.CSR_UNSUPPORTED_ALGORITHM);
  });
  it('reads an RSA key with exponent 1 and its self-made signature as openssl does, for policy to refuse', async () => {
    const csr = csrWithExponentOne();
    assert.match(opensslResult(['req', '-noout', '-verify'], csr).stderr, /verify OK/);
    const parsed = parseCsr(csr);
    await verifyCsrSignature(parsed); // a signature anyone can make: hence the policy's exponent check
    assert.equal((parsed.key as { exponent: bigint }).exponent, 1n);
  });
  it('re-encodes the public key exactly as openssl reads it', () => {
    const { csr, keyPath } = opensslCsr(dir, 'rsa2048', 'spki');
    const fromOpenssl = pemToDer(openssl(['pkey', '-in', keyPath, '-pubout']), 'PUBLIC KEY');
    assert.deepEqual(Buffer.from(parseCsr(csr).spkiDer), Buffer.from(fromOpenssl));
  });
});

describe('download formats', () => {
  const dir = tempDir();
  it('writes DER, PEM and PKCS#7 that openssl reads back to the same certificate', async () => {
    const generated = await generateRoot('ecdsa', new Date());
    const der = pemToDer(generated.certPem, 'CERTIFICATE');
    const fingerprint = openssl(['x509', '-noout', '-fingerprint', '-sha256'], generated.certPem);
    const derPath = writeTemp(dir, 'c.der', encodeCertificates([der], 'der'));
    assert.equal(openssl(['x509', '-inform', 'der', '-in', derPath, '-noout', '-fingerprint', '-sha256']), fingerprint);
    const p7b = Buffer.from(encodeCertificates([der], 'p7b')).toString();
    assert.match(p7b, /^-----BEGIN PKCS7-----/);
    const printed = openssl(['pkcs7', '-print_certs'], p7b);
    assert.equal(openssl(['x509', '-noout', '-fingerprint', '-sha256'], printed), fingerprint);
    // and back: openssl's own PKCS#7 and DER read as the same certificate
    const opensslP7 = openssl(['crl2pkcs7', '-nocrl', '-certfile', writeTemp(dir, 'c.pem', generated.certPem)]);
    assert.deepEqual(readCertificates(Buffer.from(opensslP7)).map((c) => Buffer.from(c).toString('hex')), [Buffer.from(der).toString('hex')]);
    assert.throws(() => readCertificates(Buffer.from('not a certificate')), /not a certificate|no CERTIFICATE/);
  });
});
