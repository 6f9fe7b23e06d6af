// The session tickets the edge gives its clients: their keys are replaced every rotation
// interval, so a ticket from before a rotation no longer resumes, and one from after it does.
// Real TLS 1.3 handshakes on loopback against an in-process edge rotating every second, and
// TLS 1.2 ones from `openssl s_client`, whose resumption is the one a kept key would expose.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestEdge, type TestEdge } from '../helpers/edge.js';
import { connectWithTicket, ticketKeysSetAt } from '../helpers/tickets.js';
import { tempDir } from '../helpers/tmp.js';

describe("clients' session tickets", () => {
  const dir = tempDir('strictedge-tickets-');
  let edge: TestEdge;
  before(async () => {
    edge = await startTestEdge(join(dir, 'state'), { ticketKeyRotationMs: 1000 });
    edge.app.admin.createAccount('site');
    edge.app.admin.addZone({ name: 'tickets.test', account: 'site', mode: 'strict' });
    edge.edge.refreshZones();
  });
  after(() => edge?.close());

  const connectOnce = (session?: Buffer) => connectWithTicket(edge.httpsPort, 'tickets.test', edge.edgeCaPem, session);
  const currentKeys = () => edge.edge.https.getTicketKeys();
  const keysSetAt = () => ticketKeysSetAt(edge.metricsUrl);

  it('resumes a ticket under the keys that made it, and not once they are replaced', async () => {
    let resumedUnderSameKeys = false;
    let oldTicket: Buffer | undefined;
    let oldKeys: Buffer | undefined;
    let oldKeysSetAt = 0;
    // A rotation may fall between the two connections: then the pair says nothing, and is tried again.
    for (let attempt = 0; attempt < 5 && !resumedUnderSameKeys; attempt++) {
      const keys = currentKeys();
      const first = await connectOnce();
      assert.ok(first.ticket, 'the edge sent a session ticket');
      const again = await connectOnce(first.ticket);
      const setAt = await keysSetAt();
      if (!currentKeys().equals(keys)) continue;
      assert.equal(again.reused, true, 'a ticket resumes under the keys that made it');
      resumedUnderSameKeys = true;
      [oldTicket, oldKeys, oldKeysSetAt] = [first.ticket, keys, setAt];
    }
    assert.ok(resumedUnderSameKeys, 'five attempts, each with a rotation in between');
    for (let waited = 0; currentKeys().equals(oldKeys!) && waited < 5000; waited += 50) await sleep(50);
    assert.notDeepEqual(currentKeys(), oldKeys, 'the keys were replaced within the rotation interval');
    assert.equal((await connectOnce(oldTicket)).reused, false, 'a ticket from before the rotation makes a full handshake');
    assert.ok((await keysSetAt()) > oldKeysSetAt, 'the metric says when the keys were made');
  });

  it('the same for TLS 1.2 with openssl s_client -sess_out / -sess_in', async () => {
    const caFile = join(dir, 'edge-ca.pem');
    writeFileSync(caFile, edge.edgeCaPem);
    const sessionFile = join(dir, 'tls12.session');
    // Asynchronous: the edge answers from this process's event loop.
    const sClient = (sessionArgs: string[]) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${edge.httpsPort}`, '-servername', 'tickets.test', '-CAfile', caFile, '-tls1_2', ...sessionArgs]);
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk));
        child.once('error', reject);
        child.once('close', () => resolve(/^(New|Reused), TLSv1\.2/m.exec(out)?.[1] ?? `no session line in: ${out}`));
        child.stdin.end();
      });
    let resumed = false;
    let keysOfTicket: Buffer | undefined;
    for (let attempt = 0; attempt < 5 && !resumed; attempt++) {
      const keys = currentKeys();
      assert.equal(await sClient(['-sess_out', sessionFile]), 'New');
      const again = await sClient(['-sess_in', sessionFile]);
      if (!currentKeys().equals(keys)) continue; // a rotation in between: try again
      assert.equal(again, 'Reused');
      [resumed, keysOfTicket] = [true, keys];
    }
    assert.ok(resumed, 'five attempts, each with a rotation in between');
    for (let waited = 0; currentKeys().equals(keysOfTicket!) && waited < 5000; waited += 50) await sleep(50);
    assert.equal(await sClient(['-sess_in', sessionFile]), 'New', 'a TLS 1.2 ticket from before the rotation makes a full handshake');
  });
});
