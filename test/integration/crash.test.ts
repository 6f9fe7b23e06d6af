// kill -9 of the CA at random points during issuance and revocation. Whatever a client was
// told must be on disk: every certificate it received has its row and its event, every
// acknowledged revocation has its event, and the database passes integrity_check.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { createKeyAndCsr } from '../../src/pki/csr-build.js';
import { cli, startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const ROUNDS = 24;

describe('the CA killed with SIGKILL mid-write', () => {
  const state = join(tempDir('strictedge-crash-'), 'state');

  it(`loses nothing it acknowledged over ${ROUNDS} kills`, async () => {
    const key = cli(['accounts', 'create', 'crash', '--state', state]).stdout.trim();
    assert.equal(cli(['zones', 'add', 'crash.test', '--account', 'crash', '--state', state]).status, 0);
    const csrs = await Promise.all(Array.from({ length: 8 }, () => createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, ['crash.test'])));
    const received = new Map<string, string>(); // serial -> certificate
    const revoked = new Set<string>();

    for (let round = 0; round < ROUNDS; round++) {
      const served = await startServe(['--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
      const headers = { 'content-type': 'application/json', 'x-auth-user-service-key': key };
      let running = true;
      const issue = async (i: number) => {
        while (running) {
          try {
            const response = await fetch(`${served.ready.api}/certificates`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ csr: csrs[i % csrs.length]!.csrPem, hostnames: [`n${round}-${i}.crash.test`], request_type: 'origin-ecc', requested_validity: 7 }),
            });
            const body = (await response.json()) as { success: boolean; result: { id: string; certificate: string } };
            if (body.success) received.set(body.result.id, body.result.certificate);
          } catch {
            return; // killed mid-request: the client was told nothing
          }
        }
      };
      const revoke = async () => {
        while (running) {
          const target = [...received.keys()].find((serial) => !revoked.has(serial));
          if (!target) {
            await sleep(5);
            continue;
          }
          try {
            const response = await fetch(`${served.ready.api}/certificates/${target}`, { method: 'DELETE', headers });
            if (response.status === 200) revoked.add(target);
            else await response.arrayBuffer();
          } catch {
            return;
          }
        }
      };
      const clients = [issue(0), issue(1), issue(2), revoke()];
      await sleep(40 + Math.floor(Math.random() * 250));
      served.process.kill('SIGKILL');
      await new Promise((resolve) => served.process.once('exit', resolve));
      running = false;
      await Promise.all(clients);
    }

    const db = new Database(join(state, 'data', 'strictedge.db'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const row = db.prepare<[string], { pem: string; revoked_at: string | null }>('SELECT pem, revoked_at FROM certificates WHERE serial = ?');
      const events = db.prepare<[string], { kind: string }>('SELECT kind FROM cert_events WHERE serial = ? ORDER BY seq');
      for (const [serial, pem] of received) {
        assert.equal(row.get(serial)?.pem, pem, `certificate ${serial} was received but is not stored as sent`);
        assert.equal(events.all(serial)[0]?.kind, 'issued', `certificate ${serial} has no issued event`);
      }
      for (const serial of revoked) {
        assert.ok(row.get(serial)?.revoked_at, `revocation of ${serial} was acknowledged but is not stored`);
        assert.deepEqual(events.all(serial).map((e) => e.kind), ['issued', 'revoked']);
      }
      const orphans = db.prepare('SELECT count(*) AS n FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM cert_events e WHERE e.serial = c.serial AND e.kind = \'issued\')').get() as { n: number };
      assert.equal(orphans.n, 0, 'every stored certificate has its issued event');
      const revokedRows = db.prepare('SELECT count(*) AS n FROM certificates WHERE revoked_at IS NOT NULL').get() as { n: number };
      const revokedEvents = db.prepare("SELECT count(*) AS n FROM cert_events WHERE kind = 'revoked'").get() as { n: number };
      assert.equal(revokedEvents.n, revokedRows.n, 'every revoked row has exactly one revoked event');
      console.log(`# ${ROUNDS} kills: ${received.size} certificates received, ${revoked.size} revocations acknowledged, all on disk`);
      assert.ok(received.size > ROUNDS, 'the load did issue certificates between kills');
    } finally {
      db.close();
    }
  });
});
