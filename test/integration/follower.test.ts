// A separate edge's follower against a real CA, when its own replica refuses writes (a disk gone
// read-only or full): the CA's events and zone changes are enforced in memory at once, and
// recorded, without a gap, once the replica takes them again. Before, a batch the replica refused was not applied
// at all, and the edge, still in touch with the CA, reported itself fresh.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { createKeyAndCsr } from '../../src/pki/csr-build.js';
import { createFollower } from '../../src/revocation/follower.js';
import { openReplica } from '../../src/revocation/replica.js';
import { createRevocationIndex } from '../../src/revocation/revocation-index.js';
import { startTestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/tmp.js';

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A real CA with one account and zone (site.test), and a follower of it on a fresh replica. */
async function caAndFollower(zonePollMs?: number) {
  const dir = tempDir('strictedge-follower-');
  const ca = await startTestCa(join(dir, 'ca'));
  after(() => ca.close());
  ca.account('site', ['site.test']);
  const token = ca.app.admin.createEdge('edge1');
  const replica = openReplica(join(dir, 'edge.db'));
  after(() => replica.close());
  const index = createRevocationIndex();
  const seen = { modes: [] as string[], logged: [] as Record<string, unknown>[] };
  const follower = createFollower({
    caUrl: ca.api,
    token,
    replica,
    onEvents: (events) => events.forEach((event) => index.apply(event)),
    onZones: (zones) => (seen.modes = zones.map((zone) => `${zone.name} ${zone.sslMode}`)),
    onIndexRebuilt: () => undefined,
    logger: createLogger('info', { write: (line: string) => void seen.logged.push(JSON.parse(line) as Record<string, unknown>) }),
    clock: systemClock,
    maxStalenessMs: 60_000,
    waitSeconds: 1,
    zonePollMs,
  });
  follower.start();
  after(() => follower.stop());
  return { ca, replica, index, follower, seen };
}

it('enforces events its replica cannot record, and records them without a gap once it can', async () => {
  const { ca, replica, index, follower, seen } = await caAndFollower();
  const account = ca.app.admin.account('site');
  const issue = async () => {
    const { csrPem } = await createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, ['site.test']);
    return ca.app.ca.issue(account, { csr: csrPem, hostnames: ['site.test'], requestType: 'origin-ecc', requestedValidity: 7 });
  };
  const first = await issue();
  await until('the issuance recorded', () => replica.lastSeq() === 1 && index.probe(first.serial, first.sha256) === 'ok');
  await until('the zones given', () => seen.modes.join() === 'site.test full');
  assert.equal(follower.status().stale, false);

  replica.db.pragma('query_only = ON'); // SQLite now refuses every write on the replica
  ca.app.ca.revoke(account, first.serial);
  const second = await issue();
  await until('the revocation enforced though not recorded', () => index.probe(first.serial, first.sha256) === 'revoked' && index.probe(second.serial, second.sha256) === 'ok');
  await until('the refusal said', () => seen.logged.some((line) => line.level === 50 && /cannot record the CA's events or zones in the replica/.test(String(line.msg))));
  assert.equal(replica.lastSeq(), 1);
  assert.deepEqual([follower.status().stale, follower.status().replica_writable], [true, false]);
  await sleep(600); // retries meanwhile: the batch is fetched again, applied once, said once
  assert.equal(seen.logged.filter((line) => /cannot record/.test(String(line.msg))).length, 1);
  ca.app.admin.setZoneMode('site.test', 'strict'); // a mode switch is not held back by the replica either
  await until('the mode switch given', () => seen.modes.join() === 'site.test strict');
  assert.equal(replica.zones()[0]!.sslMode, 'full', 'not recorded');

  replica.db.pragma('query_only = OFF');
  await until('the batch recorded', () => replica.lastSeq() === 3);
  await until('the zones recorded', () => replica.zones()[0]!.sslMode === 'strict');
  const seqs: number[] = [];
  replica.forEachEvent(() => seqs.push(seqs.length + 1));
  assert.equal(seqs.length, 3, 'no gap');
  assert.deepEqual([follower.status().stale, follower.status().replica_writable], [false, true]);
  assert.ok(seen.logged.some((line) => line.msg === 'the replica records events and zones again'));
  ca.app.admin.setZoneMode('site.test', 'off');
  await until('the next zone change recorded', () => replica.zones()[0]!.sslMode === 'off');
});

it('records a zone change its replica refused once the replica takes writes again, with no later change needed', async () => {
  const { ca, replica, follower, seen } = await caAndFollower(50);
  await until('the zones recorded', () => replica.zones()[0]?.sslMode === 'full' && seen.modes.join() === 'site.test full');

  replica.db.pragma('query_only = ON');
  ca.app.admin.setZoneMode('site.test', 'strict');
  await until('the mode switch given', () => seen.modes.join() === 'site.test strict');
  await until('the refusal said', () => seen.logged.some((line) => /cannot record the CA's events or zones/.test(String(line.msg))));
  assert.deepEqual([follower.status().stale, follower.status().replica_writable], [true, false]);

  // The disk recovers; the CA has nothing new to say. The zones still reach the replica.
  replica.db.pragma('query_only = OFF');
  await until('the zones recorded once writable', () => replica.zones()[0]!.sslMode === 'strict');
  assert.deepEqual([follower.status().stale, follower.status().replica_writable], [false, true]);
  assert.ok(seen.logged.some((line) => line.msg === 'the replica records events and zones again'));
  assert.equal(seen.logged.filter((line) => /cannot record/.test(String(line.msg))).length, 1, 'said once, though retried on every poll');
});
