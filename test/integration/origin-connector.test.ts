// The origin connector on its own, against real TLS servers on loopback with certificates made
// by openssl. Strict: which certificates go to the revocation index (only those an Origin CA root
// issued), and the hostname rules (one-label wildcards, no leading dot), read from the peer's
// X509Certificate. Full mode: any certificate, over the one SecureContext it is given.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createSecureContext, createServer, type Server, type TLSSocket } from 'node:tls';
import { connectOrigin, type TlsPolicy } from '../../src/edge/origin-connector.js';
import { OriginVerifyError } from '../../src/edge/verify.js';
import { createRevocationIndex } from '../../src/revocation/revocation-index.js';
import { opensslRoot } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

function listen(tls: { cert: string; key: string }): Promise<Server> {
  const server = createServer(tls, (socket) => socket.on('error', () => undefined));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('strict origin connector', () => {
  const dir = tempDir('strictedge-connector-');
  const servers: Server[] = [];
  let originRoot: ReturnType<typeof opensslRoot>;
  let publicRoot: ReturnType<typeof opensslRoot>;
  let originLeaf: { cert: string; key: string };
  after(() => servers.forEach((server) => server.close()));
  before(() => {
    originRoot = opensslRoot(dir, 'origin-root');
    publicRoot = opensslRoot(dir, 'public-root');
    originLeaf = originRoot.leaf('origin-leaf', ['www.origin.test']);
  });

  async function connect(tls: { cert: string; key: string }, servername: string, index = createRevocationIndex()) {
    const server = await listen(tls);
    servers.push(server);
    const policy: TlsPolicy = { kind: 'strict', secureContext: createSecureContext({ ca: [originRoot.pem, publicRoot.pem] }), originRoots: [new X509Certificate(originRoot.pem)], index };
    const socket = (await connectOrigin({ address: { host: '127.0.0.1', port: (server.address() as AddressInfo).port }, servername, policy, connectTimeoutMs: 5000 })) as TLSSocket;
    // The connector stubs getPeerCertificate only during the handshake: nothing of it may remain.
    const stubLeft = Object.hasOwn(socket, 'getPeerCertificate');
    socket.destroy();
    return { stubLeft };
  }

  const verdictOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof OriginVerifyError ? error.verdict : `other: ${(error as Error).message}`),
    );

  it('accepts a certificate from a configured public root without asking the index', async () => {
    const leaf = publicRoot.leaf('public-leaf', ['api.public.test']);
    assert.equal(await verdictOf(connect(leaf, 'api.public.test')), 'accepted');
  });

  it('sends an Origin CA certificate to the index: unknown until issued there, then accepted, refused once revoked', async () => {
    assert.equal(await verdictOf(connect(originLeaf, 'www.origin.test')), 'unknown_certificate');
    const x509 = new X509Certificate(originLeaf.cert);
    const entry = { serial: x509.serialNumber.toLowerCase(), sha256: x509.fingerprint256.replaceAll(':', '').toLowerCase() };
    const index = createRevocationIndex();
    index.apply({ kind: 'issued', ...entry });
    assert.deepEqual(await connect(originLeaf, 'www.origin.test', index), { stubLeft: false });
    index.apply({ kind: 'revoked', ...entry });
    assert.equal(await verdictOf(connect(originLeaf, 'www.origin.test', index)), 'revoked');
  });

  it('matches one-label wildcards only', async () => {
    const leaf = publicRoot.leaf('wildcard-leaf', ['*.shop.test']);
    assert.equal(await verdictOf(connect(leaf, 'a.shop.test')), 'accepted');
    assert.equal(await verdictOf(connect(leaf, 'a.b.shop.test')), 'hostname_mismatch');
    assert.equal(await verdictOf(connect(leaf, 'shop.test')), 'hostname_mismatch');
    assert.equal(await verdictOf(connect(leaf, 'a.other.test')), 'hostname_mismatch');
    // OpenSSL's checkHost reads a leading dot as "any name under shop.test", which a.shop.test is.
    assert.equal(await verdictOf(connect(leaf, '.shop.test')), 'hostname_mismatch');
    assert.equal(await verdictOf(connect(publicRoot.leaf('exact-leaf', ['www.shop.test']), '.shop.test')), 'hostname_mismatch');
  });
});

describe('full-mode origin connector', () => {
  const dir = tempDir('strictedge-connector-full-');
  let server: Server;
  after(() => server?.close());
  before(async () => {
    // Signed by a root nobody trusts: full mode accepts any certificate.
    server = await listen(opensslRoot(dir, 'unknown-root').leaf('full-leaf', ['full.test']));
  });

  it('accepts any certificate, over the policy\'s one SecureContext rather than a new one per connection', async () => {
    const port = (server.address() as AddressInfo).port;
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      // The context decides the protocol: proof that the connection was made with it.
      const policy: TlsPolicy = { kind: 'any', secureContext: createSecureContext({ maxVersion }) };
      const socket = (await connectOrigin({ address: { host: '127.0.0.1', port }, servername: 'full.test', policy, connectTimeoutMs: 5000 })) as TLSSocket;
      try {
        assert.equal(socket.getProtocol(), maxVersion);
        assert.equal(socket.authorized, false);
      } finally {
        socket.destroy(); // an open socket would keep the test process alive after a failure
      }
    }
  });
});
