// Runs in a worker thread: checkpoints the WAL on its own connection, so that the fsync a
// checkpoint needs never happens inside a request. See checkpointer.ts.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or locked: the next tick tries again
  }
}, intervalMs);

parentPort!.on('message', () => {
  clearInterval(timer);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
    parentPort!.close();
  }
});
