// Issued certificates in a real nginx: a Node TLS client trusting only our root, and the
// handshake size as openssl s_client reports it (the point of small origin certificates).
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, startTestCa, type TestCa } from '../helpers/ca.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { opensslCsr, opensslResult, writeTemp } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

function tlsGet(port: number, servername: string, ca: string): Promise<{ authorized: boolean; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca }, () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    let body = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (body += chunk));
    socket.on('end', () => resolve({ authorized: socket.authorized, body }));
    socket.on('error', reject);
  });
}

/** "SSL handshake has read N bytes and written M bytes" from openssl s_client. */
function handshakeBytes(port: number, servername: string, rootPath: string, version: '-tls1_3' | '-tls1_2') {
  const result = opensslResult(['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, version, '-CAfile', rootPath, '-verify_return_error'], '');
  const match = /SSL handshake has read (\d+) bytes and written (\d+) bytes/.exec(result.stdout);
  assert.ok(match, `no handshake summary from s_client: ${result.stderr}`);
  assert.match(result.stdout, /Verify return code: 0 \(ok\)/);
  return { read: Number(match[1]), written: Number(match[2]) };
}

describe('origin certificates served by nginx', () => {
  const dir = tempDir('strictedge-nginx-');
  let ca: TestCa;
  const servers: RunningNginx[] = [];
  const sizes: Record<string, { read: number; written: number }> = {};
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await ca?.close();
    if (Object.keys(sizes).length) console.log(`# handshake bytes (read/written): ${JSON.stringify(sizes)}`);
  });

  const origins: Record<string, { port: number; root: string }> = {};
  before(async () => {
    ca = await startTestCa(join(dir, 'ca'));
    const { key } = ca.account('origin', ['nginx.test']);
    for (const [requestType, testKey] of [['origin-ecc', 'p256'], ['origin-rsa', 'rsa2048']] as const) {
      const { csr, keyPath } = opensslCsr(dir, testKey, requestType);
      const issued = await api(ca.api, 'POST', '/certificates', { key, body: { csr, hostnames: ['nginx.test', '*.nginx.test'], request_type: requestType, requested_validity: 7 } });
      assert.equal(issued.status, 200, JSON.stringify(issued.errors));
      const certPath = writeTemp(dir, `${requestType}.pem`, issued.result.certificate);
      const server = await startNginx(join(dir, requestType), certPath, keyPath);
      servers.push(server);
      origins[requestType] = { port: server.port, root: ca.app.paths.rootCert(requestType === 'origin-ecc' ? 'ecdsa' : 'rsa') };
    }
  });

  for (const requestType of ['origin-ecc', 'origin-rsa'] as const) {
    it(`${requestType}: a client trusting only the Origin CA root reaches the apex and a wildcard name`, async () => {
      const { port, root } = origins[requestType]!;
      const rootPem = readFileSync(root, 'utf8');
      for (const name of ['nginx.test', 'www.nginx.test']) {
        const response = await tlsGet(port, name, rootPem);
        assert.equal(response.authorized, true);
        assert.match(response.body, /^HTTP\/1\.1 200 OK/);
      }
    });

    it(`${requestType}: names the certificate does not cover are refused`, async () => {
      const { port, root } = origins[requestType]!;
      const rootPem = readFileSync(root, 'utf8');
      for (const name of ['other.test', 'a.b.nginx.test']) {
        await assert.rejects(tlsGet(port, name, rootPem), (error: NodeJS.ErrnoException) => error.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
      }
    });

    it(`${requestType}: a client trusting another root is refused`, async () => {
      const { port } = origins[requestType]!;
      const otherRoot = readFileSync(ca.app.paths.rootCert(requestType === 'origin-ecc' ? 'rsa' : 'ecdsa'), 'utf8');
      await assert.rejects(tlsGet(port, 'nginx.test', otherRoot), (error: NodeJS.ErrnoException) => /UNABLE_TO_VERIFY|SELF_SIGNED|unable to (get|verify)/i.test(`${error.code} ${error.message}`));
    });
  }

  it('keeps the TLS 1.3 handshake at or under 960 bytes read for origin-ecc and 1,540 for origin-rsa', () => {
    for (const [requestType, limit] of [['origin-ecc', 960], ['origin-rsa', 1540]] as const) {
      const { port, root } = origins[requestType]!;
      const tls13 = handshakeBytes(port, 'nginx.test', root, '-tls1_3');
      sizes[`${requestType} TLS1.3`] = tls13;
      sizes[`${requestType} TLS1.2`] = handshakeBytes(port, 'nginx.test', root, '-tls1_2');
      assert.ok(tls13.read <= limit, `${requestType}: read ${tls13.read} bytes, limit ${limit}`);
    }
  });
});
