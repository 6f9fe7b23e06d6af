// Sessions kept for origin resumption lose the origin's certificate when they are TLS 1.3
// (session-blob.ts): checked against real TLS servers on loopback, with openssl's certificates.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createSecureContext, createServer, type SecureVersion, type Server } from 'node:tls';
import { compactSession, removePeerCertificate } from '../../src/edge/session-blob.js';
import { openssl, writeTemp } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

interface Outcome {
  readonly reused: boolean;
  readonly authorized: boolean;
  /** The first session the server gave this connection (a resumed one may get none). */
  readonly session?: Buffer;
  readonly error?: Error;
}

describe('compact TLS sessions for origin resumption', () => {
  const dir = tempDir('strictedge-session-blob-');
  const servers: Record<'1.3' | '1.2', Server> = {} as never;
  let root: string;
  let leafDer: Buffer;
  before(async () => {
    const [rootKey, rootCert, leafKey, csr, leafCert] = ['root.key', 'root.pem', 'leaf.key', 'leaf.csr', 'leaf.pem'].map((name) => join(dir, name)) as [string, string, string, string, string];
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', rootKey, '-out', rootCert, '-days', '30', '-subj', '/CN=session root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-out', csr, '-subj', '/CN=origin.session.test']);
    openssl(['x509', '-req', '-in', csr, '-CA', rootCert, '-CAkey', rootKey, '-set_serial', '0x1234', '-days', '7', '-extfile', writeTemp(dir, 'leaf.ext', 'subjectAltName=DNS:origin.session.test\n'), '-out', leafCert]);
    root = readFileSync(rootCert, 'utf8');
    leafDer = new X509Certificate(readFileSync(leafCert)).raw;
    const tls = { cert: readFileSync(leafCert, 'utf8'), key: readFileSync(leafKey, 'utf8') };
    for (const [version, maxVersion] of [['1.3', 'TLSv1.3'], ['1.2', 'TLSv1.2']] as const) {
      // Like an origin answering one request: a byte, then the end (after TLS 1.3's tickets).
      const server = createServer({ ...tls, maxVersion: maxVersion as SecureVersion }, (socket) => socket.on('error', () => undefined).end('x'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers[version] = server;
    }
  });
  after(() => Object.values(servers).forEach((server) => server.close()));

  const secureContext = () => createSecureContext({ ca: root });
  function visit(version: '1.3' | '1.2', session?: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      const port = (servers[version].address() as AddressInfo).port;
      const socket = connect({ host: '127.0.0.1', port, servername: 'origin.session.test', secureContext: secureContext(), ...(session ? { session } : {}) });
      let first: Buffer | undefined;
      let seen = { reused: false, authorized: false };
      let error: Error | undefined;
      socket.on('session', (blob: Buffer) => (first ??= blob));
      socket.once('secureConnect', () => (seen = { reused: socket.isSessionReused(), authorized: socket.authorized }));
      socket.on('error', (failure) => (error = failure));
      socket.resume();
      socket.on('close', () => resolve({ ...seen, ...(first ? { session: first } : {}), ...(error ? { error } : {}) }));
    });
  }

  it('drops the certificate from a TLS 1.3 session, which still resumes as verified', async () => {
    const full = await visit('1.3');
    assert.deepEqual([full.reused, full.authorized, full.error], [false, true, undefined]);
    assert.ok(full.session!.includes(leafDer), "OpenSSL's session carries the origin's certificate");
    const compact = compactSession(full.session!);
    assert.ok(!compact.includes(leafDer), 'the compact one does not');
    assert.ok(compact.length < full.session!.length - leafDer.length + 8, `${compact.length} bytes from ${full.session!.length}`);
    assert.deepEqual(compactSession(compact), compact, 'compacting twice changes nothing');

    const resumed = await visit('1.3', compact);
    assert.equal(resumed.error, undefined);
    assert.equal(resumed.reused, true, 'the server resumed it');
    assert.equal(resumed.authorized, true, 'Node counts a resumed TLS 1.3 session without a certificate as verified');
  });

  it('leaves TLS 1.2 sessions whole: Node refuses one resumed without its certificate', async () => {
    const full = await visit('1.2');
    assert.ok(full.session!.includes(leafDer));
    assert.equal(compactSession(full.session!), full.session);
    const resumed = await visit('1.2', full.session);
    assert.deepEqual([resumed.reused, resumed.authorized, resumed.error], [true, true, undefined]);
    // Why: stripped anyway, the server resumes it and Node then fails the connection.
    const stripped = await visit('1.2', removePeerCertificate(full.session!));
    assert.equal(stripped.authorized, false);
    assert.match(String(stripped.error?.message), /unable to get issuer certificate/);
  });

  it('returns anything it does not recognise unchanged', async () => {
    const full = (await visit('1.3')).session!;
    for (const odd of [Buffer.from('not a session'), full.subarray(0, full.length - 10), Buffer.concat([full, Buffer.from([0])]), Buffer.alloc(0)]) {
      assert.equal(compactSession(odd), odd);
    }
  });
});
