// The WAL checkpointer (src/store/checkpointer.ts) against a real SQLite file: commits stay in
// the WAL until its worker thread copies them into the database, stop() leaves an empty WAL,
// and a worker that cannot run gives SQLite's automatic checkpoints back.
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCheckpointer } from '../../src/store/checkpointer.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/until.js';

const MB = 1024 * 1024;

function openWithTable(path: string): Db {
  return openDatabase(path, ['CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)']);
}

function writeBlobs(db: Db, count: number): void {
  const insert = db.prepare('INSERT INTO blobs (data) VALUES (?)');
  for (let i = 0; i < count; i++) insert.run(Buffer.alloc(256 * 1024, i)); // one commit each
}

describe('WAL checkpointer', () => {
  it('turns automatic checkpoints off and copies commits into the database from its thread', async () => {
    const path = join(tempDir('strictedge-checkpoint-'), 'ca.db');
    const db = openWithTable(path);
    const checkpointer = startCheckpointer(db, 50);
    try {
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
      const before = statSync(path).size;
      writeBlobs(db, 8); // 2 MB, committed to the WAL
      await until(() => statSync(path).size >= before + 2 * MB, 'the database file to hold the 2 MB written to the WAL');
      assert.deepEqual(db.prepare('SELECT count(*) AS n FROM blobs').get(), { n: 8 });
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('stop() runs a last checkpoint that leaves the WAL empty', async () => {
    const path = join(tempDir('strictedge-checkpoint-'), 'ca.db');
    const db = openWithTable(path);
    const checkpointer = startCheckpointer(db, 60_000); // no periodic checkpoint during the test
    writeBlobs(db, 4);
    assert.ok(statSync(`${path}-wal`).size >= MB, 'the commits are in the WAL');
    await checkpointer.stop();
    assert.equal(statSync(`${path}-wal`).size, 0);
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM blobs').get(), { n: 4 });
    await checkpointer.stop(); // a second stop is harmless
    db.close();
  });

  it('gives automatic checkpoints back when its worker cannot open the database', async () => {
    const dir = tempDir('strictedge-checkpoint-');
    const db = openWithTable(join(dir, 'state', 'ca.db'));
    // The open connection keeps working on the removed files; the worker's own open fails.
    rmSync(join(dir, 'state'), { recursive: true, force: true });
    const checkpointer = startCheckpointer(db, 50);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
    await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === 1000, 'automatic checkpoints to come back');
    await checkpointer.stop(); // the worker is gone already: resolves at once
    db.close();
  });
});
