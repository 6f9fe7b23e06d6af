// Why origin connections closed, as strictedge_edge_origin_sockets_closed_total tells it: after
// an answer that said `Connection: close` the edge closes it (`idle`); an origin that closes a
// connection that sat idle closed it (`origin_closed`); only a connection that broke is `error`.
// undici destroys every connection with an error, so Node's hadError could not tell them apart.
// And a strict connection whose certificate reaches its notAfter is closed by the edge (`expired`):
// kept busy, a pooled connection would otherwise outlive the certificate that admitted it.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type RunningOrigin } from '../../src/origin/server.js';
import { createKeyAndCsr } from '../../src/pki/csr-build.js';
import { edgeRequest, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

describe('origin sockets closed, by why', () => {
  const dir = tempDir('strictedge-socket-close-');
  let edge: TestEdge;
  const origins: RunningOrigin[] = [];
  after(async () => {
    await Promise.all(origins.map((origin) => origin.close()));
    await edge?.close();
  });
  before(async () => {
    edge = await startTestEdge(join(dir, 'state'));
    edge.app.admin.createAccount('site');
  });

  /** A flexible zone (plain HTTP to the origin), or a full one (TLS, any certificate). */
  async function zoneAt(name: string, address: string, mode: 'flexible' | 'full' = 'flexible') {
    const zone = edge.app.admin.addZone({ name, account: 'site', mode });
    edge.app.zoneStore.setOrigins(zone.id, mode === 'flexible' ? address : null, mode === 'full' ? address : null, new Date().toISOString());
    edge.edge.refreshZones();
  }

  async function closedCounts(): Promise<Record<string, number>> {
    const text = await (await fetch(edge.metricsUrl)).text();
    const counts: Record<string, number> = {};
    for (const [, reason, value] of text.matchAll(/^strictedge_edge_origin_sockets_closed_total\{reason="(\w+)"\} (\d+)/gm)) counts[reason!] = Number(value);
    return counts;
  }

  async function closesSince(before: Record<string, number>): Promise<Record<string, number>> {
    const now = await closedCounts();
    const added = (reason: string) => (now[reason] ?? 0) - (before[reason] ?? 0);
    return { idle: added('idle'), origin_closed: added('origin_closed'), error: added('error'), expired: added('expired') };
  }

  /** What `act` adds to each reason, once `expected` closes have reached the edge (at most 5 s), and a moment more. */
  async function closesDuring(expected: number, act: () => Promise<void>): Promise<Record<string, number>> {
    const before = await closedCounts();
    await act();
    const deadline = performance.now() + 5000;
    const total = (split: Record<string, number>) => Object.values(split).reduce((sum, n) => sum + n, 0);
    while (total(await closesSince(before)) < expected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100)); // room for a close too many to show
    return closesSince(before);
  }

  it('an answer that said `Connection: close`: idle', async () => {
    const origin = await startOrigin({ name: 'close', keepAlive: false });
    origins.push(origin);
    await zoneAt('close.test', origin.address);
    const added = await closesDuring(3, async () => {
      for (let i = 0; i < 3; i++) assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'close.test' })).status, 200);
    });
    assert.deepEqual(added, { idle: 3, origin_closed: 0, error: 0, expired: 0 });
  });

  for (const mode of ['flexible', 'full'] as const) {
    it(`an origin closing a pooled connection that sat idle: origin_closed (${mode === 'full' ? 'over TLS' : 'plain HTTP'})`, async () => {
      const [key, cert] = [join(dir, `${mode}.key`), join(dir, `${mode}.pem`)];
      if (mode === 'full') openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=pooled-${mode}.test`]);
      const origin = await startOrigin({ name: `pooled-${mode}`, ...(mode === 'full' ? { tls: { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } } : {}) });
      origins.push(origin);
      await zoneAt(`pooled-${mode}.test`, origin.address, mode);
      const added = await closesDuring(1, async () => {
        assert.equal((await edgeRequest(edge, { scheme: 'https', host: `pooled-${mode}.test` })).status, 200);
        origin.server.closeIdleConnections();
      });
      assert.deepEqual(added, { idle: 0, origin_closed: 1, error: 0, expired: 0 });
    });
  }

  it('an origin resetting the connection mid-request: error, and the client gets a 520', async (t) => {
    const resetting = createServer((req) => req.socket.resetAndDestroy());
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    t.after(() => resetting.close());
    await zoneAt('reset.test', `127.0.0.1:${(resetting.address() as AddressInfo).port}`);
    // A POST: a GET lost with its connection is sent once more on another, and both are counted.
    const added = await closesDuring(1, async () => {
      assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'reset.test', method: 'POST' })).status, 520);
    });
    assert.deepEqual(added, { idle: 0, origin_closed: 0, error: 1, expired: 0 });
    const again = await closesDuring(2, async () => {
      assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'reset.test' })).status, 520);
    });
    assert.deepEqual(again, { idle: 0, origin_closed: 0, error: 2, expired: 0 });
  });

  it('names made up under a zone do not pile up origin pools: plain HTTP shares one, TLS ones are bounded', async (t) => {
    const bounded = await startTestEdge(join(dir, 'state-pools'), { maxOriginPools: 8 });
    t.after(() => bounded.close());
    bounded.app.admin.createAccount('site');
    const [key, cert] = [join(dir, 'pools.key'), join(dir, 'pools.pem')];
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=pools.test']);
    const origin = await startOrigin({ name: 'pools', tls: { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } });
    const plainOrigin = await startOrigin({ name: 'pools-plain' });
    origins.push(origin, plainOrigin);
    for (const [name, mode, address] of [['tls-pools.test', 'full', origin.address], ['plain-pools.test', 'flexible', plainOrigin.address]] as const) {
      const zone = bounded.app.admin.addZone({ name, account: 'site', mode });
      bounded.app.zoneStore.setOrigins(zone.id, mode === 'flexible' ? address : null, mode === 'full' ? address : null, new Date().toISOString());
    }
    bounded.edge.refreshZones();
    const pools = async () => Number(/^strictedge_edge_origin_pools (\d+)$/m.exec(await (await fetch(bounded.metricsUrl)).text())?.[1]);

    for (let i = 0; i < 30; i++) assert.equal((await edgeRequest(bounded, { scheme: 'https', host: `n${i}.plain-pools.test` })).status, 200);
    assert.equal(await pools(), 1, 'one pool for the plain zone, whatever the name');
    for (let i = 0; i < 30; i++) assert.equal((await edgeRequest(bounded, { scheme: 'https', host: `n${i}.tls-pools.test` })).status, 200);
    assert.ok((await pools()) <= 8, `${await pools()} pools`);
    assert.equal((await edgeRequest(bounded, { scheme: 'https', host: 'n1.plain-pools.test' })).status, 200, 'a closed pool is made again when needed');
  });

  it('a strict connection whose certificate reaches its notAfter: expired, and the next request makes a new handshake', async (t) => {
    // A second edge whose clock can be moved on: OpenSSL judges the handshake by the real time,
    // the edge's timer on the pooled socket by the edge's clock.
    let offsetMs = 0;
    const shifted = await startTestEdge(join(dir, 'state-expiry'), { edgeClock: () => new Date(Date.now() + offsetMs) });
    t.after(() => shifted.close());
    shifted.app.admin.createAccount('site');
    const zone = shifted.app.admin.addZone({ name: 'expiring.test', account: 'site', mode: 'strict' });
    const { keyPem, csrPem } = await createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, ['expiring.test']);
    const record = await shifted.app.ca.issue(shifted.app.admin.account('site'), { csr: csrPem, hostnames: ['expiring.test'], requestType: 'origin-ecc', requestedValidity: 7 });
    const origin = await startOrigin({ name: 'expiring', tls: { cert: record.pem, key: keyPem } });
    origins.push(origin);
    shifted.app.zoneStore.setOrigins(zone.id, null, origin.address, new Date().toISOString());
    shifted.edge.refreshZones();
    const handshakes = () => shifted.edgeMetrics.originTlsHandshakes.get().then((m) => m.values.reduce((sum, v) => sum + v.value, 0));

    const closed = async (reason: string) => (await shifted.edgeMetrics.socketsClosed.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
    const until = async (done: () => Promise<boolean>) => {
      const deadline = performance.now() + 5000;
      while (!(await done()) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    // First at the real time, so that the edge makes its own certificate for the zone (with its
    // clock) as valid now; then the pooled origin connection is closed by the origin.
    assert.equal((await edgeRequest(shifted, { scheme: 'https', host: 'expiring.test' })).status, 200);
    origin.server.closeAllConnections();
    await until(async () => (await closed('origin_closed')) === 1);
    assert.equal(shifted.edge.sockets.size, 0);

    offsetMs = Date.parse(record.expiresOn) - Date.now() - 800; // the edge's clock: 0.8 s before notAfter
    assert.equal((await edgeRequest(shifted, { scheme: 'https', host: 'expiring.test' })).status, 200);
    assert.equal(await handshakes(), 2);
    assert.equal(shifted.edge.sockets.size, 1);
    await until(async () => (await closed('expired')) === 1);
    assert.equal(await closed('expired'), 1);
    assert.equal(shifted.edge.sockets.size, 0);

    offsetMs = 0; // back to now: the certificate has a week left
    assert.equal((await edgeRequest(shifted, { scheme: 'https', host: 'expiring.test' })).status, 200);
    assert.equal(await handshakes(), 3);
    assert.equal(shifted.edge.sockets.size, 1);
  });
});
