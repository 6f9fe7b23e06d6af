// A backup of a CA's database while another connection writes to it without pause, as `serve`
// under steady traffic does. SQLite's online backup restarts whenever the source changes
// between its steps; taken in steps, such a backup never ended while the writes went on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { openState } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { backupStateFolder } from '../../src/store/backup.js';
import { tempDir } from '../helpers/tmp.js';

it('finishes while another connection writes between every step it could take', async () => {
  const dir = tempDir('strictedge-backup-');
  const state = openState({ dir: join(dir, 'ca'), clock: systemClock });
  // A few megabytes: many more pages than one default step of 100.
  const account = state.admin.createAccount('bulk').account;
  const insert = state.db.prepare(
    "INSERT INTO certificates (serial, account_id, request_type, requested_validity, hostnames, csr, pem, sha256, not_before, expires_on, created_at) VALUES (?, ?, 'origin-ecc', 7, '[]', '', ?, '', '', '', '')",
  );
  state.db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(randomBytes(16).toString('hex'), account.id, 'x'.repeat(1024));
  })();
  state.close();

  // Another connection writes on every turn of the event loop, between any two backup steps.
  const writer = new Database(join(dir, 'ca', 'data', 'strictedge.db'));
  after(() => writer.close());
  const addAccount = writer.prepare('INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)');
  let writes = 0;
  let writing = true;
  const write = () => {
    if (!writing) return;
    addAccount.run(randomBytes(16).toString('hex'), `a${writes++}`, new Date().toISOString());
    setImmediate(write);
  };
  setImmediate(write);

  const outcome = await Promise.race([backupStateFolder(join(dir, 'ca'), join(dir, 'backup')), sleep(30_000, 'still copying after 30 s' as const, { ref: false })]);
  writing = false;
  assert.notEqual(outcome, 'still copying after 30 s');
  assert.ok(writes > 0, 'the writer wrote during the backup');
  const copy = new Database(join(dir, 'backup', 'data', 'strictedge.db'), { readonly: true });
  after(() => copy.close());
  assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal((copy.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n, 3000);
});
