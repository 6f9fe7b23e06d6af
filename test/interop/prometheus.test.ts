// The metrics as an operator sees them: promtool's lint, and a real Prometheus scraping the
// edge and the CA, queried for the handshake bytes openssl measures and the 526 reasons.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DemoOrigins } from '../../src/origin/demo.js';
import { api } from '../helpers/ca.js';
import { edgeRequest, startEdgeWithDemo, type TestEdge } from '../helpers/edge.js';
import { execFile } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promtoolCheck, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { tempDir } from '../helpers/tmp.js';

describe('metrics', () => {
  const dir = tempDir('strictedge-metrics-');
  let edge: TestEdge;
  let demo: DemoOrigins;
  let prometheus: RunningPrometheus | undefined;
  let apiKey: string;
  after(async () => {
    await prometheus?.stop();
    await demo?.close();
    await edge?.close();
  });
  before(async () => {
    ({ edge, demo, apiKey } = await startEdgeWithDemo(join(dir, 'state')));
    for (const host of ['strict-ecc.test', 'strict-ecc.test', 'www.strict-ecc.test', 'full.test', 'flexible.test', 'expired.test', 'forged.test', 'untrusted.test']) {
      await edgeRequest(edge, { scheme: 'https', host });
    }
    await edgeRequest(edge, { scheme: 'http', host: 'nowhere.example' });
    await api(edge.api, 'GET', '/zones', { key: apiKey });
    await api(edge.api, 'GET', '/zones', { key: 'v1.0-wrong' });
  });

  it('passes promtool check metrics on the edge and on the CA', async () => {
    for (const url of [edge.metricsUrl, edge.caMetricsUrl]) {
      const text = await (await fetch(url)).text();
      const check = promtoolCheck(text);
      assert.equal(check.status, 0, `${url}: ${check.output}`);
      assert.equal(check.output.trim(), '', `${url}: ${check.output}`);
    }
  });

  it('answers a scrape with a query string (a Prometheus job with params), and other methods with 405', async () => {
    for (const url of [edge.metricsUrl, edge.caMetricsUrl]) {
      const withQuery = await fetch(`${url}?module=strictedge&x=1`);
      assert.equal(withQuery.status, 200, url);
      assert.match(await withQuery.text(), /^# HELP /m);
      const head = await fetch(url, { method: 'HEAD' });
      assert.equal(head.status, 200, url);
      assert.equal(await head.text(), '');
      const post = await fetch(url, { method: 'POST' });
      assert.equal(post.status, 405, url);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
    }
    assert.equal((await fetch(new URL('/other', edge.metricsUrl))).status, 404);
  });

  it('exports what the edge did, with bounded labels', async () => {
    const text = await (await fetch(edge.metricsUrl)).text();
    assert.match(text, /strictedge_edge_requests_total\{zone="strict-ecc\.test",mode="strict",code="200"\} 3/);
    assert.match(text, /strictedge_edge_requests_total\{zone="unknown",mode="none",code="421"\} 1/);
    assert.match(text, /strictedge_edge_origin_verify_failures_total\{zone="expired\.test",reason="expired"\} 1/);
    assert.match(text, /strictedge_edge_origin_verify_failures_total\{zone="forged\.test",reason="unknown_certificate"\} 1/);
    assert.match(text, /strictedge_edge_origin_tls_handshakes_total\{zone="untrusted\.test",result="verify_failed",resumed="false"\} 1/);
    assert.match(text, /strictedge_edge_client_tls_handshakes_total\{resumed="false",protocol="none"\} \d+/); // Node's https client offers no ALPN
    assert.match(text, /strictedge_edge_revocation_index_entries\{kind="issued"\} [1-9]/);
    assert.match(text, /strictedge_edge_origin_sockets\{zone="strict-ecc\.test",state="idle"\} 2/, "one pooled socket per SNI name: strict-ecc.test and www.strict-ecc.test");
    assert.doesNotMatch(text, /nowhere\.example/, 'unknown hosts fold into "unknown"');
    const ca = await (await fetch(edge.caMetricsUrl)).text();
    assert.match(ca, /strictedge_ca_certificates_issued_total\{request_type="origin-ecc"\} [1-9]/);
    assert.match(ca, /strictedge_ca_certificates_revoked_total [1-9]/);
    assert.match(ca, /strictedge_ca_api_requests_total\{route="\/zones",code="200"\} 1/);
    assert.match(ca, /strictedge_ca_api_requests_total\{route="\/zones",code="401"\} 1/);
  });

  it("times a client's TLS handshake from the TCP accept, the client's own delay included", async () => {
    const series = (text: string, le: string) => Number(new RegExp(`^strictedge_edge_client_tls_handshake_seconds_bucket\\{le="${le.replace('+', '\\+')}",resumed="false"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    const before = await (await fetch(edge.metricsUrl)).text();
    // A client that connects, waits 300 ms, then sends its ClientHello on the same connection.
    const raw = tcpConnect(edge.httpsPort, '127.0.0.1');
    await new Promise((resolve) => raw.once('connect', resolve));
    await sleep(300);
    const tls = tlsConnect({ socket: raw, servername: 'strict-ecc.test', ca: edge.edgeCaPem });
    await new Promise((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    // An answer on it means the edge finished its side of the handshake too.
    tls.write('GET / HTTP/1.1\r\nHost: strict-ecc.test\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => tls.once('data', resolve));
    tls.destroy();
    let after = before;
    for (let i = 0; i < 50 && series(after, '+Inf') === series(before, '+Inf'); i++) after = await (await fetch(edge.metricsUrl)).text();
    assert.equal(series(after, '+Inf') - series(before, '+Inf'), 1, 'one more handshake timed');
    assert.equal(series(after, '0.1') - series(before, '0.1'), 0, 'not under 100 ms: the wait before the ClientHello counts');
    assert.equal(series(after, '0.5') - series(before, '0.5'), 1);
  });

  it('is scraped by a real Prometheus: handshake bytes equal openssl s_client, and 526 reasons are right', async () => {
    prometheus = await startPrometheus(dir, { edge: new URL(edge.metricsUrl).host, ca: new URL(edge.caMetricsUrl).host });
    const origin = demo.origins.find((o) => o.name === 'strict-ecc')!;
    // Same handshake as the edge makes (it offers ALPN http/1.1). The origin runs in this
    // process: openssl must not block the event loop (no spawnSync).
    const measured = await new Promise<string>((resolve) => {
      const child = execFile('openssl', ['s_client', '-connect', origin.address, '-servername', 'strict-ecc.test', '-alpn', 'http/1.1', '-tls1_3', '-CAfile', edge.app.paths.rootCert('ecdsa')], (_error, stdout) => resolve(stdout));
      child.stdin!.end();
    });
    const opensslRead = Number(/SSL handshake has read (\d+) bytes/.exec(measured)![1]);

    const readExpr = 'strictedge_edge_origin_tls_handshake_bytes_sum{zone="strict-ecc.test",direction="read"} / strictedge_edge_origin_tls_handshake_bytes_count{zone="strict-ecc.test",direction="read"}';
    let result: Awaited<ReturnType<RunningPrometheus['query']>> = [];
    for (let i = 0; i < 100 && result.length === 0; i++) {
      result = await prometheus.query(readExpr);
      if (result.length === 0) await sleep(200);
    }
    assert.equal(result.length, 1, 'Prometheus has the series');
    const edgeRead = Number(result[0]!.value[1]);
    console.log(`# handshake read: edge ${edgeRead} bytes, openssl s_client ${opensslRead} bytes`);
    assert.ok(Math.abs(edgeRead - opensslRead) <= 2, `edge ${edgeRead} vs openssl ${opensslRead}`);

    const failures = await prometheus.query('sum by (reason) (strictedge_edge_origin_verify_failures_total)');
    const byReason = Object.fromEntries(failures.map((r) => [r.metric.reason, Number(r.value[1])]));
    assert.deepEqual(byReason, { expired: 1, unknown_certificate: 1, untrusted: 1 });
    let up = await prometheus.query('up == 1');
    for (let i = 0; i < 50 && up.length < 2; i++) {
      await sleep(200);
      up = await prometheus.query('up == 1');
    }
    assert.deepEqual(up.map((r) => r.metric.job).sort(), ['strictedge-ca', 'strictedge-edge'], 'both targets scraped and up');
    const issued = await prometheus.query('sum(strictedge_ca_certificates_issued_total)');
    assert.ok(Number(issued[0]?.value[1]) > 0, 'CA series reach Prometheus too');
  });

  it('has alert rules that promtool checks and unit-tests, and that fire in the real Prometheus on a refused origin certificate', async () => {
    const run = (args: string[]) => new Promise<{ code: number; output: string }>((resolve) => execFile('promtool', args, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` })));
    const rules = new URL('../../../config/alerts.yml', import.meta.url).pathname;
    const check = await run(['check', 'rules', rules]);
    assert.equal(check.code, 0, check.output);
    assert.match(check.output, /SUCCESS: 7 rules found/);
    // Each alert fires on series that call for it, after its `for`, and not on those that do not.
    const unit = await run(['test', 'rules', new URL('../../../config/alerts.test.yml', import.meta.url).pathname]);
    assert.equal(unit.code, 0, unit.output);
    assert.ok(prometheus, 'started by the test before');
    // A refusal after Prometheus began scraping: the counter rises under its eyes.
    await edgeRequest(edge, { scheme: 'https', host: 'expired.test' });
    let alerts: Awaited<ReturnType<RunningPrometheus['query']>> = [];
    for (let i = 0; i < 100 && alerts.length === 0; i++) {
      alerts = await prometheus!.query('ALERTS{alertname="StrictedgeOriginCertificateRefused",alertstate="firing",zone="expired.test"}');
      if (alerts.length === 0) await sleep(200);
    }
    assert.equal(alerts.length, 1, 'the alert fired for expired.test');
    assert.equal(alerts[0]!.metric.reason, 'expired');
  });
});
