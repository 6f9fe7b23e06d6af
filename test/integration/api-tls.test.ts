// The CA's API over HTTPS (`serve --api-tls-cert/--api-tls-key`), for edges and users on other
// hosts: API keys and edge tokens must not cross a network in clear, and the dashboard's Web
// Crypto needs a secure context anywhere but on this machine. A separate edge trusts the API's
// certificate through `--ca-cert`, and says what to do when it does not.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch as undiciFetch } from 'undici';
import { openssl } from '../helpers/openssl.js';
import { cli, cliAsync, startCommand, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const PORTS = ['--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0'];

describe('the API over HTTPS', () => {
  const dir = tempDir('strictedge-api-tls-');
  const state = join(dir, 'ca');
  const file = (name: string) => join(dir, name);
  const running: Served[] = [];
  let served: Served;
  let apiKey: string;
  after(async () => {
    for (const process of running) await process.stop();
  });
  before(async () => {
    // A private CA of the operator's, and the API's certificate from it, by openssl.
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', file('ops-ca.key'), '-out', file('ops-ca.pem'), '-days', '30', '-subj', '/CN=ops test CA']);
    openssl(['req', '-new', ...ec, '-keyout', file('api.key'), '-out', file('api.csr'), '-subj', '/CN=127.0.0.1']);
    writeFileSync(file('api.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(['x509', '-req', '-in', file('api.csr'), '-CA', file('ops-ca.pem'), '-CAkey', file('ops-ca.key'), '-CAcreateserial', '-days', '30', '-extfile', file('api.ext'), '-out', file('api.pem')]);
    served = await startServe(['--demo', '--state', state, '--api-tls-cert', file('api.pem'), '--api-tls-key', file('api.key'), ...PORTS]);
    running.push(served);
    apiKey = readFileSync(join(state, 'data', 'demo-api-key'), 'utf8').trim();
  });

  it('serves the API and the dashboard over HTTPS only, with the certificate given', async () => {
    assert.match(served.ready.api, /^https:\/\/127\.0\.0\.1:\d+\/client\/v4$/);
    assert.match(served.ready.dashboard, /^https:\/\//);
    const trusting = new Agent({ connect: { ca: readFileSync(file('ops-ca.pem'), 'utf8') } });
    after(() => trusting.close());
    const zones = await undiciFetch(`${served.ready.api}/zones`, { headers: { authorization: `Bearer ${apiKey}` }, dispatcher: trusting });
    assert.equal(zones.status, 200);
    assert.ok(((await zones.json()) as { result: unknown[] }).result.length > 0);
    assert.match(await (await undiciFetch(served.ready.dashboard, { dispatcher: trusting })).text(), /<html/i);
    await assert.rejects(fetch(`${served.ready.api}/zones`), (error: Error & { cause?: { code?: string } }) => error.cause?.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await assert.rejects(fetch(served.ready.api.replace('https:', 'http:') + '/zones'), 'no plain HTTP on that port');
    // The CLI, as a user would run it: Node's own trust setting, named when it is missing.
    const untrusting = await cliAsync(['certs', 'list'], { env: { STRICTEDGE_API_URL: served.ready.api, STRICTEDGE_API_KEY: apiKey } });
    assert.equal(untrusting.status, 1);
    assert.match(untrusting.stderr, /\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); its certificate is not trusted here: set NODE_EXTRA_CA_CERTS/);
    const listed = await cliAsync(['certs', 'list'], { env: { STRICTEDGE_API_URL: served.ready.api, STRICTEDGE_API_KEY: apiKey, NODE_EXTRA_CA_CERTS: file('ops-ca.pem') } });
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /strict-ecc\.test/);
  });

  it('a separate edge follows it with --ca-cert, and without says to give it', async () => {
    const token = cli(['edges', 'create', 'far-edge', '--state', state]).stdout.trim();
    const untrusting = await cliAsync(['edge', '--ca-url', served.ready.api, '--state', file('edge-untrusting'), ...PORTS.slice(2)], { env: { STRICTEDGE_EDGE_TOKEN: token } });
    assert.notEqual(untrusting.status, 0);
    assert.match(untrusting.stderr, /cannot be reached \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); .*give --ca-cert/);
    assert.equal(existsSync(file('edge-untrusting/certs/origin-ecc-root.pem')), false);
    assert.match(cli(['edge', '--ca-url', served.ready.api.replace('https:', 'http:'), '--ca-cert', file('ops-ca.pem')], { env: { STRICTEDGE_EDGE_TOKEN: token } }).stderr, /--ca-cert is for a CA reached over HTTPS/);
    assert.match(cli(['edge', '--ca-url', served.ready.api, '--ca-cert', file('api.key')], { env: { STRICTEDGE_EDGE_TOKEN: token } }).stderr, /--ca-cert: .* holds no PEM certificate/);

    const edge = await startCommand(['edge', '--ca-url', served.ready.api, '--ca-cert', file('ops-ca.pem'), '--state', file('edge'), ...PORTS.slice(2)], { STRICTEDGE_EDGE_TOKEN: token });
    running.push(edge);
    let status: { last_seq: number; stale: boolean; index: { revoked: number } } | undefined;
    for (const started = Date.now(); Date.now() - started < 5000; await sleep(50)) {
      status = (await (await fetch(edge.ready.status)).json()) as typeof status;
      if (status!.last_seq > 0 && !status!.stale) break;
    }
    assert.equal(status?.stale, false, JSON.stringify(status));
    assert.ok(status!.index.revoked >= 1, "the demo's revocation reached it");
    assert.doesNotMatch(edge.stderr(), /not trusted|plain HTTP/);
  });

  it('refuses one flag without the other, or a key that is not the certificate\'s, in one line, making nothing', () => {
    const only = cli(['serve', '--state', file('bad'), '--api-tls-cert', file('api.pem'), ...PORTS]);
    assert.equal(only.status, 1);
    assert.match(only.stderr, /--api-tls-cert and --api-tls-key \(the config's api_tls_cert and api_tls_key\) go together/);
    const mismatched = cli(['serve', '--state', file('bad'), '--api-tls-cert', file('api.pem'), '--api-tls-key', file('ops-ca.key'), ...PORTS]);
    assert.equal(mismatched.status, 1);
    assert.match(mismatched.stderr, /key values mismatch/);
    assert.doesNotMatch(mismatched.stderr, /PRIVATE KEY/);
    assert.equal(existsSync(file('bad')), false);
  });
});
