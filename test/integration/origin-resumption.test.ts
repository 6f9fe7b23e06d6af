// --origin-session-resumption: strict origins' TLS sessions are resumed, and a revocation still
// reaches them: the sessions are dropped when the revocation is applied, and a resumption that
// does happen is checked against the index again (OpenSSL and Node skip verification then).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type RunningOrigin } from '../../src/origin/server.js';
import { connectOrigin } from '../../src/edge/origin-connector.js';
import { createOriginSessions } from '../../src/edge/origin-sessions.js';
import { OriginVerifyError } from '../../src/edge/verify.js';
import { createRevocationIndex } from '../../src/revocation/revocation-index.js';
import { api } from '../helpers/ca.js';
import { edgeRequest, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { opensslCsr } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

describe('origin TLS session resumption (opt-in)', () => {
  const dir = tempDir('strictedge-resumption-');
  let edge: TestEdge;
  let origin: RunningOrigin;
  let apiKey: string;
  let issued: { id: string; certificate: string };
  let keyPem: string;
  const reused: boolean[] = [];
  after(async () => {
    await origin?.close();
    await edge?.close();
  });
  before(async () => {
    edge = await startTestEdge(join(dir, 'state'), { originSessionResumption: true });
    apiKey = edge.app.admin.createAccount('site').apiKey;
    const zone = edge.app.admin.addZone({ name: 'resume.test', account: 'site', mode: 'strict' });
    const csr = opensslCsr(dir, 'p256', 'resume');
    keyPem = csr.keyPem;
    issued = (await api(edge.api, 'POST', '/certificates', { key: apiKey, body: { csr: csr.csr, hostnames: ['resume.test'], request_type: 'origin-ecc', requested_validity: 7 } })).result;
    // keepAlive false: every request is a new connection to the origin, a chance to resume
    origin = await startOrigin({ name: 'resume', tls: { cert: issued.certificate, key: keyPem }, keepAlive: false });
    origin.server.on('secureConnection', (socket: TLSSocket) => reused.push(socket.isSessionReused()));
    edge.app.zoneStore.setOrigins(zone.id, null, origin.address, new Date().toISOString());
    edge.edge.refreshZones();
  });

  it('resumes sessions, and refuses the certificate on the next connection once it is revoked', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'resume.test' })).status, 200);
    assert.equal(reused[0], false, 'the first handshake is a full one');
    assert.ok(reused.slice(1).filter(Boolean).length >= 3, `later handshakes resume: ${reused}`);
    const metrics = await (await fetch(edge.metricsUrl)).text();
    assert.match(metrics, /strictedge_edge_origin_tls_handshakes_total\{zone="resume.test",result="ok",resumed="true"\} [3-9]/);
    // Resumed handshakes are timed apart from full ones.
    const timed = (resumed: string) => Number(new RegExp(`strictedge_edge_origin_tls_handshake_seconds_count\\{zone="resume.test",resumed="${resumed}"\\} (\\d+)`).exec(metrics)?.[1]);
    assert.equal(timed('false'), reused.filter((r) => !r).length);
    assert.equal(timed('true'), reused.filter(Boolean).length);

    await api(edge.api, 'DELETE', `/certificates/${issued.id}`, { key: apiKey });
    const refused = await edgeRequest(edge, { scheme: 'https', host: 'resume.test' });
    assert.equal(refused.status, 526);
    assert.equal(refused.headers['x-strictedge-verdict'], 'revoked');
  });

  it('a resumption the server accepts is still refused when the index says revoked', async () => {
    // The connector on its own, with a session cache the revocation did not reach: the only
    // thing standing between a revoked certificate and a resumed session is the re-check.
    const index = createRevocationIndex();
    const fingerprint = new X509Certificate(issued.certificate).fingerprint256.replaceAll(':', '').toLowerCase();
    const serial = new X509Certificate(issued.certificate).serialNumber.toLowerCase();
    index.apply({ kind: 'issued', serial, sha256: fingerprint });
    const roots = [edge.app.roots.ecdsa.certPem, edge.app.roots.rsa.certPem];
    const policy = { kind: 'strict' as const, secureContext: createSecureContext({ ca: roots }), originRoots: roots.map((pem) => new X509Certificate(pem)), index };
    const sessions = createOriginSessions();
    const [host, port] = [origin.address.split(':')[0]!, Number(origin.address.split(':')[1])];
    const connect = () => connectOrigin({ address: { host, port }, servername: 'resume.test', policy, connectTimeoutMs: 2000, sessions });
    const seen = reused.length;
    for (let i = 0; i < 3; i++) {
      const socket = await connect();
      socket.write('GET / HTTP/1.1\r\nhost: resume.test\r\nconnection: close\r\n\r\n');
      await new Promise((resolve) => socket.on('close', resolve).resume());
    }
    assert.equal(sessions.size, 1);
    assert.ok(reused.slice(seen + 1).some(Boolean), 'the server resumed the session');

    index.apply({ kind: 'revoked', serial, sha256: fingerprint });
    const before = reused.length;
    await assert.rejects(connect(), (error: unknown) => error instanceof OriginVerifyError && error.verdict === 'revoked');
    for (let i = 0; i < 40 && reused.length === before; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(reused[before], true, 'the refused connection was a resumed one');
    assert.equal(sessions.size, 0, 'and its session is forgotten');
  });
});
