// One CA and two separate edge processes on loopback, following the CA's event feed.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOrigin, type RunningOrigin } from '../../src/origin/server.js';
import { api } from '../helpers/ca.js';
import { freePort } from '../helpers/nginx.js';
import { openssl, opensslCsr, opensslRoot, writeTemp } from '../helpers/openssl.js';
import { cli, cliAsync, edgeGet, startServe, startCommand, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const get = edgeGet;

/** Retries `check` until it holds; one that throws (an edge that has not heard of the zone yet fails the handshake) is retried too. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return performance.now() - started;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms${lastError ? ` (last: ${String(lastError)})` : ''}`);
    await sleep(20);
  }
}

describe('separate edges following the CA', () => {
  const dir = tempDir('strictedge-edges-');
  const caState = join(dir, 'ca');
  const running: { stop(): Promise<void> }[] = [];
  const origins: RunningOrigin[] = [];
  let ca: Served;
  let apiPort: number;
  let apiKey: string;
  const tokens: string[] = [];
  const certs: Record<string, string> = {};
  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await Promise.all(origins.map((o) => o.close()));
  });
  const startCa = async () => {
    ca = await startServe(['--state', caState, '--api-port', String(apiPort), '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    running.push(ca);
  };
  const startEdge = async (name: string, extra: string[] = []) => {
    const edge = await startCommand(['edge', '--ca-url', `http://127.0.0.1:${apiPort}/client/v4`, '--state', join(dir, name), '--http-port', '0', '--https-port', '0', '--metrics-port', '0', ...extra], { STRICTEDGE_EDGE_TOKEN: tokens[name === 'edge1' ? 0 : 1]! });
    running.push(edge);
    return edge;
  };

  before(async () => {
    apiPort = await freePort();
    const originPorts = [await freePort(), await freePort()];
    apiKey = cli(['accounts', 'create', 'site', '--state', caState]).stdout.trim();
    for (const [i, zone] of ['one.test', 'two.test'].entries()) {
      assert.equal(cli(['zones', 'add', zone, '--account', 'site', '--mode', 'strict', '--origin-https', `127.0.0.1:${originPorts[i]}`, '--state', caState]).status, 0);
    }
    for (const name of ['edge1', 'edge2']) tokens.push(cli(['edges', 'create', name, '--state', caState]).stdout.trim());
    await startCa();
    for (const [i, zone] of ['one.test', 'two.test'].entries()) {
      const csr = opensslCsr(dir, 'p256', zone);
      const issued = await api(ca.ready.api, 'POST', '/certificates', { key: apiKey, body: { csr: csr.csr, hostnames: [zone], request_type: 'origin-ecc', requested_validity: 7 } });
      certs[zone] = issued.result.id;
      origins.push(await startOrigin({ name: zone, port: originPorts[i], tls: { cert: issued.result.certificate, key: csr.keyPem } }));
    }
  });

  it('keeps the feed for edge tokens only', async () => {
    const url = `${ca.ready.api}/edge/events?since=0`;
    assert.equal((await fetch(url, { headers: { 'x-auth-user-service-key': apiKey } })).status, 403);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } })).status, 403);
    // The right length, one hex digit off (a token that already ends in 00 made "00" no change at all).
    const wrong = tokens[0]!.slice(0, -1) + (tokens[0]!.endsWith('0') ? '1' : '0');
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${wrong}` } })).status, 401);
    const feed = (await (await fetch(url, { headers: { authorization: `Bearer ${tokens[0]}` } })).json()) as { result: { kind: string; serial: string; sha256: string }[] };
    assert.deepEqual(feed.result.map((e) => e.kind), ['issued', 'issued']);
    // An edge says what its last event was; the feed answers 409 when its own event there differs.
    const after = (kind: string, sha256: string) => fetch(`${ca.ready.api}/edge/events?since=1&since_kind=${kind}&since_sha256=${sha256}`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    const first = feed.result[0]!;
    assert.equal((await after('issued', first.sha256)).status, 200);
    const diverged = await after('revoked', first.sha256);
    assert.equal(diverged.status, 409);
    assert.equal(((await diverged.json()) as { errors: { code: number }[] }).errors[0]!.code, 1800);
    assert.equal((await after('issued', feed.result[1]!.sha256)).status, 409);
    assert.equal((await after('issued', 'not-hex')).status, 400);
  });

  it('refuses, in one line, a token that is not an edge token and a CA it cannot reach', async () => {
    const edge = (url: string, token: string) => cli(['edge', '--ca-url', url, '--edge-token', token, '--state', join(dir, 'refused'), '--http-port', '0', '--https-port', '0']);
    const withKey = edge(ca.ready.api, apiKey);
    assert.equal(withKey.status, 2);
    assert.equal(withKey.stderr.trim(), 'strictedge: --edge-token is not an edge token (edge-v1-…); `strictedge edges create NAME` on the CA makes one, and an account API key cannot follow the CA');
    // Port 1 is one fetch refuses to use: the reason is said, not "fetch failed".
    const badPort = edge('http://127.0.0.1:1/client/v4', tokens[0]!);
    assert.equal(badPort.status, 2);
    assert.equal(badPort.stderr.trim(), 'strictedge: first start needs the CA for its roots, and http://127.0.0.1:1/client/v4 cannot be reached (bad port)');
  });

  it("refuses, in one line, a --ca-url that is not a strictedge CA's API: the CA's own without /client/v4, and a web server", async () => {
    const hint = "--ca-url is the API's base URL, as the CA's ready line gives it (http://HOST:PORT/client/v4)";
    const base = ca.ready.api.replace(/\/client\/v4$/, '');
    const withoutPath = cli(['edge', '--ca-url', base, '--edge-token', tokens[0]!, '--state', join(dir, 'no-path'), '--http-port', '0', '--https-port', '0']);
    assert.equal(withoutPath.status, 2);
    assert.equal(withoutPath.stderr.trim(), `strictedge: ${base} is not a strictedge CA's API: ${base}/edge/roots has no such route (HTTP 404: No such route); ${hint}`);

    const web = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>It works</title>'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/client/v4`;
      const html = await cliAsync(['edge', '--ca-url', url, '--edge-token', tokens[0]!, '--state', join(dir, 'web-server'), '--http-port', '0', '--https-port', '0']);
      assert.equal(html.status, 2);
      assert.equal(html.stderr.trim(), `strictedge: ${url} is not a strictedge CA's API: ${url}/edge/roots answered HTTP 200, not in JSON; ${hint}`);
    } finally {
      web.close();
    }
  });

  it("refuses, in one line, to start on another CA's roots (a CA rebuilt from scratch) or on a damaged one", async () => {
    // A state folder that followed another CA: its kept roots are openssl's, not this CA's.
    const other = join(dir, 'followed-another-ca');
    mkdirSync(join(other, 'certs'), { recursive: true });
    for (const [name, key] of [['origin-ecc-root', 'ec -pkeyopt ec_paramgen_curve:P-256'], ['origin-rsa-root', 'rsa:2048']] as const) {
      openssl(['req', '-x509', '-newkey', ...key.split(' '), '-nodes', '-keyout', join(other, `${name}.key`), '-subj', `/CN=${name} of another CA`, '-days', '30', '-out', join(other, 'certs', `${name}.pem`)]);
    }
    const kept = readFileSync(join(other, 'certs', 'origin-ecc-root.pem'), 'utf8');
    const refused = cli(['edge', '--ca-url', ca.ready.api, '--edge-token', tokens[0]!, '--state', other, '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    assert.equal(refused.status, 2, refused.stderr);
    assert.equal(
      refused.stderr.trim(),
      `strictedge: the CA at ${ca.ready.api} has other Origin CA roots than the ones ${other} holds, so it is not the CA this edge followed; to follow it, start this edge on an empty --state folder (it fetches the roots, zones and events anew)`,
    );
    assert.equal(readFileSync(join(other, 'certs', 'origin-ecc-root.pem'), 'utf8'), kept, 'the kept roots are left as they were');

    writeFileSync(join(other, 'certs', 'origin-rsa-root.pem'), 'not a certificate\n');
    const damaged = cli(['edge', '--ca-url', ca.ready.api, '--edge-token', tokens[0]!, '--state', other, '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    assert.equal(damaged.status, 2, damaged.stderr);
    assert.equal(damaged.stderr.trim(), `strictedge: ${join(other, 'certs', 'origin-rsa-root.pem')} is not a certificate; remove it, and the edge fetches the CA's roots again`);
  });

  it('trusts the public roots given with --public-roots beside the Origin CA, where Node\'s would refuse, and refuses a file without one', async () => {
    // A public CA stand-in made by openssl, and a strict zone whose origin has its leaf.
    const pki = join(dir, 'public-pki');
    mkdirSync(pki, { recursive: true });
    const publicCa = opensslRoot(pki, 'public-test-root');
    const origin = await startOrigin({ name: 'public.test', tls: publicCa.leaf('public-leaf', ['public.test']) });
    origins.push(origin);
    assert.equal(cli(['zones', 'add', 'public.test', '--account', 'site', '--mode', 'strict', '--origin-https', origin.address, '--state', caState]).status, 0);
    const edgeArgs = (state: string, extra: string[]) => ['edge', '--ca-url', ca.ready.api, '--state', join(dir, state), '--http-port', '0', '--https-port', '0', '--metrics-port', '0', ...extra];
    const rootFile = writeTemp(pki, 'public-roots.pem', publicCa.pem);
    const given = await startCommand(edgeArgs('given-roots', ['--public-roots', rootFile]), { STRICTEDGE_EDGE_TOKEN: tokens[0]! });
    running.push(given);
    const system = await startCommand(edgeArgs('system-roots', []), { STRICTEDGE_EDGE_TOKEN: tokens[0]! });
    running.push(system);
    try {
      await until('public.test served under --public-roots', async () => (await get(given.ready, 'public.test')).status === 200, 5000);
      assert.equal((await get(given.ready, 'one.test')).status, 200, 'the Origin CA is trusted beside them');
      await until('public.test refused under Node\'s roots', async () => (await get(system.ready, 'public.test')).verdict === 'untrusted', 5000);
    } finally {
      await Promise.all([given.stop(), system.stop()]);
    }
    const notRoots = writeTemp(pki, 'not-roots.txt', 'no certificates here\n');
    const refused = cli([...edgeArgs('refused-roots', ['--public-roots', notRoots]), '--edge-token', tokens[0]!]);
    assert.equal(refused.status, 2);
    assert.equal(refused.stderr.trim(), `strictedge: --public-roots: ${notRoots} holds no PEM certificate (system and none are the other choices)`);
  });

  it('revokes on both edges within a second, survives an edge restart without the CA, and catches up', async () => {
    const edge1 = await startEdge('edge1');
    let edge2 = await startEdge('edge2');
    for (const edge of [edge1, edge2]) {
      for (const zone of ['one.test', 'two.test']) await until(`${zone} served`, async () => (await get(edge.ready, zone)).status === 200, 5000);
    }

    assert.equal((await api(ca.ready.api, 'DELETE', `/certificates/${certs['one.test']}`, { key: apiKey })).status, 200);
    const lags = await Promise.all([edge1, edge2].map((edge) => until('refused on edge', async () => (await get(edge.ready, 'one.test')).verdict === 'revoked', 5000)));
    console.log(`# revocation reached both edges in ${lags.map((ms) => `${ms.toFixed(0)} ms`).join(' and ')}`);
    assert.ok(Math.max(...lags) < 1000, `${lags} ms`);

    await edge2.stop();
    assert.equal((await api(ca.ready.api, 'DELETE', `/certificates/${certs['two.test']}`, { key: apiKey })).status, 200);
    await until('edge1 refuses two.test', async () => (await get(edge1.ready, 'two.test')).verdict === 'revoked', 5000);
    // The CA tells which edges follow it, and how far: edge2, stopped, missed the second revocation.
    const followers = async () => cli(['edges', 'list', '--state', caState]).stdout;
    await until('the CA sees edge1 up to date', async () => /^edge1 {2}created=\S+ {2}live {2}last_contact=\S+ {2}events_behind=0$/m.test(await followers()), 5000);
    assert.match(await followers(), /^edge2 {2}created=\S+ {2}live {2}last_contact=\S+ {2}events_behind=1$/m);
    const caMetrics = await (await fetch(ca.ready.ca_metrics)).text();
    assert.match(caMetrics, /^strictedge_ca_edge_events_behind\{edge="edge1"\} 0$/m);
    assert.match(caMetrics, /^strictedge_ca_edge_events_behind\{edge="edge2"\} 1$/m);
    const lastContact = Number(/^strictedge_ca_edge_last_contact_timestamp_seconds\{edge="edge1"\} (\S+)$/m.exec(caMetrics)?.[1]);
    assert.ok(Math.abs(Date.now() / 1000 - lastContact) < 120, `edge1 last seen at ${lastContact}`);
    await ca.stop();

    edge2 = await startEdge('edge2', ['--max-feed-staleness', '1']); // the CA is down
    await until('edge2 says it starts on its kept roots', async () => /the CA cannot be reached to compare its roots with the kept ones; starting on the kept ones/.test(edge2.stderr()), 5000);
    assert.deepEqual(await get(edge2.ready, 'one.test'), { status: 526, verdict: 'revoked' }, 'the replica keeps the first revocation');
    assert.equal((await get(edge2.ready, 'two.test')).status, 200, 'the second revocation has not reached it yet');
    await until('edge2 reports the feed stale', async () => ((await (await fetch(edge2.ready.status)).json()) as { stale: boolean }).stale, 5000);
    await until('edge2 logs the staleness', async () => /event feed unreachable for longer than max_feed_staleness/.test(edge2.stderr()), 5000);
    const status = (await (await fetch(edge2.ready.status)).json()) as { last_seq: number; stale: boolean };
    // The status is at / for GET and HEAD; another path or method is told so.
    const head = await fetch(edge2.ready.status, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get('content-length')) > 0);
    const posted = await fetch(edge2.ready.status, { method: 'POST' });
    assert.deepEqual([posted.status, posted.headers.get('allow')], [405, 'GET, HEAD']);
    assert.equal((await fetch(new URL('/health', edge2.ready.status))).status, 404);
    assert.equal(status.last_seq, 3);

    await startCa();
    const caughtUp = await until('edge2 refuses two.test after the CA is back', async () => (await get(edge2.ready, 'two.test')).verdict === 'revoked', 10_000);
    console.log(`# edge2 caught up ${caughtUp.toFixed(0)} ms after the CA came back`);
    await until('edge2 reports the feed fresh again', async () => !((await (await fetch(edge2.ready.status)).json()) as { stale: boolean }).stale, 5000);

    // Zone modes come from the CA too: a switch reaches both edges within a second.
    const set = cli(['zones', 'set-mode', 'one.test', 'flexible', '--state', caState]);
    assert.equal(set.status, 0, set.stderr);
    const switched = await Promise.all([edge1, edge2].map((edge) => until('mode switch reached the edge', async () => (await get(edge.ready, 'one.test')).status === 521, 3000)));
    assert.ok(Math.max(...switched) < 1000, `${switched} ms`); // flexible needs an HTTP origin, and one.test has none: 521
  });

  it('withdraws an edge\'s token: the CA refuses it at once, and the edge says so and keeps enforcing what it knows', async () => {
    const token = cli(['edges', 'create', 'edge3', '--state', caState]).stdout.trim();
    const edge = await startCommand(['edge', '--ca-url', `http://127.0.0.1:${apiPort}/client/v4`, '--state', join(dir, 'edge3'), '--http-port', '0', '--https-port', '0', '--metrics-port', '0'], { STRICTEDGE_EDGE_TOKEN: token });
    running.push(edge);
    await until('edge3 refuses two.test', async () => (await get(edge.ready, 'two.test')).verdict === 'revoked', 5000);

    const revoked = cli(['edges', 'revoke', 'edge3', '--state', caState]);
    assert.equal(revoked.status, 0, revoked.stderr);
    // A withdrawn edge is no longer one the CA expects to hear from.
    assert.match(cli(['edges', 'list', '--state', caState]).stdout, /^edge3 {2}created=\S+ {2}revoked=\S+ {2}last_contact=\S+ {2}events_behind=\d+$/m);
    assert.doesNotMatch(await (await fetch(ca.ready.ca_metrics)).text(), /edge="edge3"/);
    assert.equal((await fetch(`${ca.ready.api}/edge/zones`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    await until('edge3 logs the refusal', async () => /the CA refuses this edge's token/.test(edge.stderr()), 10_000);
    assert.deepEqual(await get(edge.ready, 'two.test'), { status: 526, verdict: 'revoked' }, 'its last known state still holds');
    const again = cli(['edges', 'revoke', 'edge3', '--state', caState]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /No edge of that name with a token in force: "edge3" \(code 1709\)/);
  });
});

// After a restore from a backup the CA numbers new events from where the backup ended, so an
// edge that asked for the events after its own last one would never see them: revocations made
// at the restored CA would not reach it, and certificates it issued would be refused as unknown.
describe('a CA restored from an older backup', () => {
  const dir = tempDir('strictedge-restore-');
  const caState = join(dir, 'ca');
  const backup = join(dir, 'ca-backup');
  const running: { stop(): Promise<void> }[] = [];
  const origins: RunningOrigin[] = [];
  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await Promise.all(origins.map((o) => o.close()));
  });

  it('the separate edge follows the feed again from the start, enforces the restored CA\'s revocations and keeps its own', async () => {
    const apiPort = await freePort();
    const originPorts: Record<string, number> = { 'a.test': await freePort(), 'b.test': await freePort(), 'c.test': await freePort() };
    const apiKey = cli(['accounts', 'create', 'site', '--state', caState]).stdout.trim();
    for (const [zone, port] of Object.entries(originPorts)) {
      assert.equal(cli(['zones', 'add', zone, '--account', 'site', '--mode', 'strict', '--origin-https', `127.0.0.1:${port}`, '--state', caState]).status, 0);
    }
    const token = cli(['edges', 'create', 'edge1', '--state', caState]).stdout.trim();
    let ca: Served;
    const startCa = async () => {
      ca = await startServe(['--state', caState, '--api-port', String(apiPort), '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
      running.push(ca);
    };
    const issue = async (zone: string): Promise<string> => {
      const csr = opensslCsr(dir, 'p256', `${zone}-${Date.now()}`);
      const issued = await api(ca.ready.api, 'POST', '/certificates', { key: apiKey, body: { csr: csr.csr, hostnames: [zone], request_type: 'origin-ecc', requested_validity: 7 } });
      assert.equal(issued.status, 200);
      origins.push(await startOrigin({ name: zone, port: originPorts[zone], tls: { cert: issued.result.certificate, key: csr.keyPem } }));
      return issued.result.id as string;
    };
    const revoke = async (id: string) => assert.equal((await api(ca.ready.api, 'DELETE', `/certificates/${id}`, { key: apiKey })).status, 200);
    const startEdge = async () => {
      const edge = await startCommand(['edge', '--ca-url', `http://127.0.0.1:${apiPort}/client/v4`, '--state', join(dir, 'edge1'), '--http-port', '0', '--https-port', '0', '--metrics-port', '0'], { STRICTEDGE_EDGE_TOKEN: token });
      running.push(edge);
      return edge;
    };

    await startCa();
    const a = await issue('a.test'); // seq 1
    let edge = await startEdge();
    await until('a.test served', async () => (await get(edge.ready, 'a.test')).status === 200, 5000);

    await ca!.stop();
    cpSync(caState, backup, { recursive: true }); // the backup ends at seq 1
    await startCa();
    const b = await issue('b.test'); // seq 2
    await revoke(b); // seq 3
    await until('the edge refuses b.test', async () => (await get(edge.ready, 'b.test')).verdict === 'revoked', 5000);

    await ca!.stop();
    rmSync(caState, { recursive: true });
    cpSync(backup, caState, { recursive: true }); // restored: seq 1 again
    await startCa();
    await issue('c.test'); // seq 2 at the restored CA
    await revoke(a); // seq 3 at the restored CA
    await until('the revocation made at the restored CA reaches the edge', async () => (await get(edge.ready, 'a.test')).verdict === 'revoked', 10_000);
    await until('the certificate the restored CA issued is served', async () => (await get(edge.ready, 'c.test')).status === 200, 5000);
    assert.deepEqual(await get(edge.ready, 'b.test'), { status: 526, verdict: 'revoked' }, 'a revocation the restored CA forgot still holds');
    await until('the index is rebuilt', async () => !((await (await fetch(edge.ready.status)).json()) as { rebuilding: boolean }).rebuilding, 5000);
    assert.match(edge.stderr(), /does not continue from this edge's last event/);
    assert.match(await (await fetch(edge.ready.metrics)).text(), /^strictedge_edge_revocation_feed_resets_total 1$/m);

    await edge.stop(); // and again from its own state: the kept revocation is in its replica
    edge = await startEdge();
    await until('c.test served after a restart', async () => (await get(edge.ready, 'c.test')).status === 200, 5000);
    assert.deepEqual(await get(edge.ready, 'a.test'), { status: 526, verdict: 'revoked' });
    assert.deepEqual(await get(edge.ready, 'b.test'), { status: 526, verdict: 'revoked' });
  });
});
