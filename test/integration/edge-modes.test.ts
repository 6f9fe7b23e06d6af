// The edge end to end: client -> edge -> origin over real sockets, certificates from the CA.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_CASES, type DemoOrigins } from '../../src/origin/demo.js';
import { startOrigin } from '../../src/origin/server.js';
import { api } from '../helpers/ca.js';
import { edgeRequest, startEdgeWithDemo, type TestEdge } from '../helpers/edge.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { startBlackhole, type Blackhole } from '../helpers/blackhole.js';
import { opensslCsr, writeTemp } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';
import { join } from 'node:path';

/** The reason phrases Cloudflare gives its 52x codes, and the edge's for 530 (Cloudflare's "Origin DNS error"). */
const CLOUDFLARE_REASONS: Record<number, string> = {
  520: 'Web Server Returned an Unknown Error',
  521: 'Web Server Is Down',
  522: 'Connection Timed Out',
  524: 'A Timeout Occurred',
  525: 'SSL Handshake Failed',
  526: 'Invalid SSL Certificate',
  530: 'Origin DNS Error',
};

describe('edge modes and errors', () => {
  const dir = tempDir('strictedge-edge-');
  let edge: TestEdge;
  let demo: DemoOrigins;
  let apiKey: string;
  const extra: { close(): Promise<void> }[] = [];
  after(async () => {
    await Promise.all(extra.map((thing) => thing.close()));
    await demo?.close();
    await edge?.close();
  });
  before(async () => {
    ({ edge, demo, apiKey } = await startEdgeWithDemo(join(dir, 'state')));
  });

  for (const demoCase of DEMO_CASES) {
    it(`${demoCase.zone} (${demoCase.mode}, ${demoCase.what}) answers ${demoCase.status}${demoCase.verdict ? ` ${demoCase.verdict}` : ''}`, async () => {
      const response = await edgeRequest(edge, { scheme: demoCase.scheme, host: demoCase.zone, path: '/hello?x=1', headers: { accept: 'application/json' } });
      assert.equal(response.status, demoCase.status, response.body.toString());
      assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      if (demoCase.status === 200) {
        const echoed = JSON.parse(response.body.toString());
        assert.equal(echoed.url, '/hello?x=1');
      } else if (demoCase.status >= 500) {
        assert.equal(response.reason, CLOUDFLARE_REASONS[demoCase.status], "Cloudflare's name for the code, not Node's \"unknown\"");
        const page = JSON.parse(response.body.toString());
        assert.equal(page.error.code, demoCase.status);
        assert.equal(page.error.verdict, demoCase.verdict);
        assert.equal(page.request_id, response.headers['x-request-id']);
        assert.doesNotMatch(response.body.toString(), /127\.0\.0\.1|ECONN|ERR_/, 'no origin address or internal error text');
      }
    });
  }

  it("shows when each strict zone's origin certificate expires, from the certificates strict mode accepted", async () => {
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'strict-ecc.test' })).status, 200);
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'expired.test' })).status, 526);
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'full.test' })).status, 200);
    const list = await api(edge.api, 'GET', '/certificates?per_page=100', { key: apiKey });
    const issued = (list.result as { hostnames: string[]; certificate: string }[]).find((c) => c.hostnames.includes('*.strict-ecc.test'))!;
    const served = new X509Certificate(issued.certificate);
    const metrics = await (await fetch(edge.metricsUrl)).text();
    const gauge = (name: string, zone: string) => Number(new RegExp(`^strictedge_edge_origin_certificate_${name}_timestamp_seconds\\{zone="${zone}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(gauge('expiry', 'strict-ecc.test'), Date.parse(served.validTo) / 1000);
    assert.equal(gauge('not_before', 'strict-ecc.test'), Date.parse(served.validFrom) / 1000);
    assert.doesNotMatch(metrics, /origin_certificate_expiry_timestamp_seconds\{zone="expired\.test"\}/, "a certificate strict mode refused is not the zone's");
    assert.doesNotMatch(metrics, /origin_certificate_expiry_timestamp_seconds\{zone="full\.test"\}/, 'full mode checks none');
  });

  it('full mode accepts an origin whose Origin CA certificate is revoked (and keeps answering)', { timeout: 15_000 }, async () => {
    const zone = edge.app.zoneStore.byName('revoked.test')!;
    const setMode = (value: string) =>
      fetch(`${edge.api}/zones/${zone.id}/settings/ssl`, { method: 'PATCH', headers: { 'x-auth-user-service-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
    assert.equal((await setMode('full')).status, 200);
    try {
      let statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        statuses = await Promise.all([1, 2, 3].map(async () => (await edgeRequest(edge, { scheme: 'https', host: 'revoked.test' })).status));
        if (statuses.every((s) => s === 200)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(statuses, [200, 200, 200]);
    } finally {
      assert.equal((await setMode('strict')).status, 200);
    }
  });

  it('serves an HTML error page unless JSON is asked for', async () => {
    const response = await edgeRequest(edge, { scheme: 'https', host: 'expired.test' });
    assert.equal(response.status, 526);
    assert.match(String(response.headers['content-type']), /text\/html/);
    assert.match(response.body.toString(), /Error 526[\s\S]*expired[\s\S]*Request id: <code>[0-9a-f-]{36}<\/code>/);
  });

  it('reaches every mode over plain HTTP too: the origin leg follows the mode', async () => {
    for (const zone of ['strict-ecc.test', 'full.test', 'flexible.test', 'off.test']) {
      // A client over HTTP that says it came over HTTPS, in Cloudflare's header, is not believed.
      const response = await edgeRequest(edge, { scheme: 'http', host: zone, path: '/echo', headers: { 'cf-visitor': '{"scheme":"https"}' } });
      assert.equal(response.status, 200, zone);
      assert.equal(response.headers['x-origin'], 'http-origin', `${zone} over http goes to the http origin`);
      assert.equal((JSON.parse(response.body.toString()) as { headers: Record<string, string> }).headers['cf-visitor'], '{"scheme":"http"}', zone);
    }
    const offHttps = await edgeRequest(edge, { scheme: 'https', host: 'www.off.test', path: '/a?b=c' });
    assert.equal(offHttps.headers.location, 'http://www.off.test/a?b=c');
    const withPort = await edgeRequest(edge, { scheme: 'https', host: 'www.off.test', path: '/', headers: { host: 'WWW.off.test:8443' } });
    assert.equal(withPort.headers.location, 'http://www.off.test/', 'the HTTPS port is not carried into the http:// URL');
  });

  it('sends the Host as SNI and to the origin, with forwarding headers and the request id, and strips hop-by-hop headers and look-alikes of its own', async () => {
    const response = await edgeRequest(edge, {
      scheme: 'https',
      host: 'www.strict-ecc.test',
      method: 'POST',
      path: '/p',
      headers: {
        'x-request-id': 'client-chosen-id-1',
        'x-forwarded-for': '203.0.113.9',
        'CF-Connecting-IP': '198.51.100.7',
        // Names a CGI-style origin reads as the edge's own (HTTP_CF_CONNECTING_IP, HTTP_X_FORWARDED_FOR).
        CF_Connecting_IP: '6.6.6.6',
        x_forwarded_for: '6.6.6.6',
        X_Forwarded_Proto: 'http',
        'CF-Visitor': '{"scheme":"http"}',
        x_custom_name: 'kept',
        connection: 'keep-alive, x-secret',
        'x-secret': 'hop',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'x-keep': 'yes',
      },
      body: 'payload',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers['x-request-id'], 'client-chosen-id-1');
    const seen = JSON.parse(response.body.toString());
    assert.equal(seen.origin, 'strict-ecc');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.headers.host, 'www.strict-ecc.test');
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['cf-visitor'], '{"scheme":"https"}', "Cloudflare's, the client's own replaced");
    assert.equal(seen.headers['x-forwarded-host'], 'www.strict-ecc.test');
    assert.equal(seen.headers['cf-connecting-ip'], '127.0.0.1', "the client's own is replaced: origins set up for Cloudflare trust it");
    assert.equal(seen.headers['x-request-id'], 'client-chosen-id-1');
    assert.equal(seen.headers['x-keep'], 'yes');
    for (const hop of ['x-secret', 'keep-alive', 'te']) assert.equal(seen.headers[hop], undefined, hop);
    for (const lookalike of ['cf_connecting_ip', 'x_forwarded_for', 'x_forwarded_proto']) assert.equal(seen.headers[lookalike], undefined, lookalike);
    assert.equal(seen.headers['x_custom_name'], 'kept', 'other names with underscores pass');
  });

  it('answers 421 to a host with no zone and never contacts an origin', async () => {
    const response = await edgeRequest(edge, { scheme: 'http', host: 'nowhere.example' });
    assert.equal(response.status, 421);
    assert.equal((await edgeRequest(edge, { scheme: 'http', host: 'notstrict-ecc.test' })).status, 421);
  });

  it('answers 421 to a Host in another zone than the TLS server name (domain fronting), plain and upgrade alike', async () => {
    const fronted = await edgeRequest(edge, { scheme: 'https', host: 'strict-ecc.test', headers: { host: 'full.test', accept: 'application/json' } });
    assert.equal(fronted.status, 421);
    assert.equal(fronted.headers['x-origin'], undefined, 'no origin answered');
    assert.match(JSON.parse(fronted.body.toString()).error.detail, /opened \(TLS server name\) for another zone/);
    // Another name in the same zone is the same zone; a Host with no SNI to match (plain HTTP) is routed as before.
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'www.strict-ecc.test', headers: { host: 'strict-ecc.test' } })).status, 200);
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'strict-ecc.test', headers: { host: 'STRICT-ECC.test.:443' } })).status, 200);
    assert.equal((await edgeRequest(edge, { scheme: 'http', host: 'full.test' })).status, 200);
    const socket = tlsConnect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'strict-ecc.test', ca: edge.edgeCaPem });
    try {
      const head = await new Promise<string>((resolve, reject) => {
        socket.once('secureConnect', () => socket.write('GET /ws HTTP/1.1\r\nHost: full.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'));
        socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
        socket.once('error', reject);
      });
      assert.match(head, /^HTTP\/1\.1 421 /);
    } finally {
      socket.destroy();
    }
  });

  it('answers 400 to a Host in a strict zone that is not a DNS name, without asking the origin or blaming its certificate', async () => {
    const mismatches = async () => Number(/^strictedge_edge_origin_verify_failures_total\{zone="strict-ecc\.test",reason="hostname_mismatch"\} (\d+)$/m.exec(await (await fetch(edge.metricsUrl)).text())?.[1] ?? 0);
    const before = await mismatches();
    // OpenSSL reads `.strict-ecc.test` as "any name under strict-ecc.test": it would have passed.
    for (const host of ['.strict-ecc.test', 'a..strict-ecc.test', '*.strict-ecc.test']) {
      const response = await edgeRequest(edge, { scheme: 'https', host: 'strict-ecc.test', headers: { host, accept: 'application/json' } });
      assert.equal(response.status, 400, host);
      assert.equal(response.headers['x-origin'], undefined, 'no origin answered');
      assert.match(JSON.parse(response.body.toString()).error.detail, /not a DNS name/);
    }
    assert.equal(await mismatches(), before, 'no origin certificate checked against such a name');
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'strict-ecc.test', headers: { host: 'www.strict-ecc.test.' } })).status, 200);
  });

  it('fails the handshake with an alert for an unknown SNI name, and for none', async () => {
    for (const servername of ['nowhere.example', undefined]) {
      await assert.rejects(
        new Promise((resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port: edge.httpsPort, ...(servername ? { servername } : {}), ca: edge.edgeCaPem }, () => resolve(socket));
          socket.on('error', reject);
        }),
        (error: NodeJS.ErrnoException) => /ALERT_HANDSHAKE_FAILURE/.test(String(error.code)),
        String(servername),
      );
    }
  });

  it('refuses client-initiated renegotiation', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'strict-ecc.test', ca: edge.edgeCaPem, maxVersion: 'TLSv1.2' });
    try {
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const outcome = await new Promise<string>((resolve) => {
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
        const started = socket.renegotiate({}, (error) => resolve(error ? `error ${(error as NodeJS.ErrnoException).code}` : 'renegotiated'));
        if (!started) resolve('not started');
      });
      assert.match(outcome, /^error /);
    } finally {
      socket.destroy();
    }
  });

  it('answers 522 when the origin never completes the TCP handshake', async () => {
    const hole: Blackhole = await startBlackhole();
    extra.push(hole);
    const zone = edge.app.admin.addZone({ name: 'timeout.test', account: 'site', mode: 'flexible', originHttp: `127.0.0.1:${hole.port}` });
    edge.edge.refreshZones();
    const started = Date.now();
    const response = await edgeRequest(edge, { scheme: 'http', host: zone.name });
    assert.equal(response.status, 522);
    assert.ok(Date.now() - started >= 1900, 'waited for the connect timeout');
  });

  it("answers 530 (Cloudflare's origin DNS error), not 521, when the origin's name does not resolve; an upgrade too", async () => {
    // .invalid never resolves (RFC 6761): the resolver says so at once.
    const zone = edge.app.admin.addZone({ name: 'unresolvable.test', account: 'site', mode: 'strict', originHttps: 'origin.unresolvable.invalid:443', originHttp: 'origin.unresolvable.invalid:80' });
    edge.edge.refreshZones();
    for (const scheme of ['https', 'http'] as const) {
      const response = await edgeRequest(edge, { scheme, host: zone.name, headers: { accept: 'application/json' } });
      assert.deepEqual([response.status, response.reason, JSON.parse(response.body.toString()).error.code], [530, 'Origin DNS Error', 530], scheme);
    }
    const upgrade = await edgeRequest(edge, { scheme: 'http', host: zone.name, headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    assert.equal(upgrade.status, 530);
  });

  it('answers 520 when the origin sends something that is not HTTP, or closes without answering', async () => {
    for (const [name, reply] of [['garbage', 'SSH-2.0-OpenSSH_9.2\r\n'], ['empty', '']] as const) {
      const origin = createNetServer((socket) => socket.once('data', () => socket.end(reply)));
      await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
      extra.push({ close: () => new Promise<void>((resolve) => origin.close(() => resolve())) });
      const zone = edge.app.admin.addZone({ name: `${name}.test`, account: 'site', mode: 'flexible', originHttp: `127.0.0.1:${(origin.address() as AddressInfo).port}` });
      edge.edge.refreshZones();
      const response = await edgeRequest(edge, { scheme: 'https', host: zone.name, headers: { accept: 'application/json' } });
      assert.equal(response.status, 520, name);
      assert.equal(JSON.parse(response.body.toString()).error.code, 520);
    }
  });

  it('refuses a certificate revoked through the API on the next new handshake', async () => {
    const csr = opensslCsr(dir, 'p256', 'late');
    edge.app.admin.addZone({ name: 'late.test', account: 'site', mode: 'strict' });
    const issued = await api(edge.api, 'POST', '/certificates', { key: apiKey, body: { csr: csr.csr, hostnames: ['late.test'], request_type: 'origin-ecc', requested_validity: 7 } });
    assert.equal(issued.status, 200);
    const origin = await startOrigin({ name: 'late', tls: { cert: issued.result.certificate, key: csr.keyPem } });
    extra.push(origin);
    const zone = edge.app.zoneStore.byName('late.test')!;
    edge.app.zoneStore.setOrigins(zone.id, null, origin.address, new Date().toISOString());
    edge.edge.refreshZones();
    assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'late.test' })).status, 200);
    const revoked = await api(edge.api, 'DELETE', `/certificates/${issued.result.id}`, { key: apiKey });
    assert.equal(revoked.status, 200);
    origin.server.closeAllConnections(); // end the pooled connection: the next request needs a new handshake
    await sleep(50);
    const after = await edgeRequest(edge, { scheme: 'https', host: 'late.test', headers: { accept: 'application/json' } });
    assert.equal(after.status, 526);
    assert.equal(JSON.parse(after.body.toString()).error.verdict, 'revoked');
  });

  it('switches a zone between modes through the API while traffic runs, within a second, with no failed request', async () => {
    const zoneId = edge.app.zoneStore.byName('full.test')!.id;
    let running = true;
    const seen: { at: number; origin: string; status: number }[] = [];
    const traffic = (async () => {
      while (running) {
        const response = await edgeRequest(edge, { scheme: 'https', host: 'full.test' });
        seen.push({ at: Date.now(), origin: String(response.headers['x-origin']), status: response.status });
      }
    })();
    await sleep(200);
    const switchedAt = Date.now();
    const patched = await api(edge.api, 'PATCH', `/zones/${zoneId}/settings/ssl`, { key: apiKey, body: { value: 'flexible' } });
    assert.equal(patched.result.value, 'flexible');
    await sleep(1200);
    running = false;
    await traffic;
    assert.ok(seen.every((s) => s.status === 200), 'every request succeeded');
    const firstFlexible = seen.find((s) => s.origin === 'http-origin');
    assert.ok(firstFlexible && firstFlexible.at - switchedAt < 1000, 'the switch took effect within a second');
    assert.ok(seen.filter((s) => s.at > switchedAt + 1000).every((s) => s.origin === 'http-origin'));
    await api(edge.api, 'PATCH', `/zones/${zoneId}/settings/ssl`, { key: apiKey, body: { value: 'full' } });
  });

  it('reaches an nginx origin serving an Origin CA certificate in strict mode, and curl trusts the edge CA', async () => {
    const csr = opensslCsr(dir, 'p256', 'nginx');
    edge.app.admin.addZone({ name: 'nginx-origin.test', account: 'site', mode: 'strict' });
    const issued = await api(edge.api, 'POST', '/certificates', { key: apiKey, body: { csr: csr.csr, hostnames: ['nginx-origin.test', '*.nginx-origin.test'], request_type: 'origin-ecc', requested_validity: 7 } });
    const nginx: RunningNginx = await startNginx(join(dir, 'nginx'), writeTemp(dir, 'nginx.pem', issued.result.certificate), csr.keyPath);
    extra.push({ close: () => nginx.stop() });
    const zone = edge.app.zoneStore.byName('nginx-origin.test')!;
    edge.app.zoneStore.setOrigins(zone.id, null, `127.0.0.1:${nginx.port}`, new Date().toISOString());
    edge.edge.refreshZones();
    // curl runs beside the in-process edge, so it must not block the event loop (no spawnSync).
    const curl = await promisify(execFile)('curl', ['-sS', '--cacert', edge.app.paths.edgeCaCert, '--resolve', `www.nginx-origin.test:${edge.httpsPort}:127.0.0.1`, `https://www.nginx-origin.test:${edge.httpsPort}/`, '-w', '\n%{http_code}'], { encoding: 'utf8' });
    assert.equal(curl.stdout, 'ok\n\n200');
  });

  it('serves HTTP/1.0 clients over TLS, which offer ALPN http/1.0 (curl --http1.0), as nginx does', async () => {
    for (const version of ['--http1.0', '--http1.1']) {
      const curl = await promisify(execFile)('curl', ['-sS', version, '--cacert', edge.app.paths.edgeCaCert, '--resolve', `strict-ecc.test:${edge.httpsPort}:127.0.0.1`, `https://strict-ecc.test:${edge.httpsPort}/bytes/3`, '-o', '/dev/null', '-w', '%{http_code}'], { encoding: 'utf8' });
      assert.equal(curl.stdout, '200', version);
    }
  });
});
