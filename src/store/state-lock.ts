// One long-running process per state folder. A second `serve` on the same folder would share the
// database but not the CA's in-memory event stream, so its embedded edge would never hear a
// revocation made through the first one and would go on accepting the revoked certificate; a
// second separate edge would rewrite the same replica. The lock is an exclusive transaction on a
// small SQLite file of its own: SQLite takes an fcntl lock, which the kernel drops when the
// process ends, however it ends, so there is no stale lock to clean up after a crash.
import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';

export class StateFolderBusyError extends Error {}

export interface StateLock {
  release(): void;
}

export function lockStateFolder(lockPath: string, stateDir: string): StateLock {
  const db = new Database(lockPath);
  chmodSync(lockPath, 0o600);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = MEMORY'); // nothing is ever written: no journal file beside it
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new StateFolderBusyError(`another strictedge serve or edge is using the state folder ${stateDir} (it holds ${lockPath}); one per state folder: more edges run as \`strictedge edge\`, each with a state folder of its own`);
  }
  return {
    release() {
      if (db.open) db.close();
    },
  };
}
