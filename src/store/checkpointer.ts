// WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside whichever
// commit crosses the threshold and fsyncs there: measured here, ~100 µs per issuance on
// average, paid in bursts by unlucky requests. A worker thread with its own connection
// checkpoints every second instead; if it ever stops, automatic checkpoints come back on.
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

export interface Checkpointer {
  stop(): Promise<void>;
}

const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export function startCheckpointer(db: Db, intervalMs = 1000): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path: db.name, intervalMs } });
  db.pragma('wal_autocheckpoint = 0');
  let stopping = false;
  let exited = false;
  worker.on('error', () => undefined);
  worker.once('exit', () => {
    exited = true;
    if (!stopping && db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  });
  worker.unref();
  return {
    stop() {
      stopping = true;
      if (exited) return Promise.resolve();
      worker.ref(); // keep the process alive until the final checkpoint is done
      return new Promise((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      });
    },
  };
}
