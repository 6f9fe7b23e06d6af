// Caches for rows read on every request (API keys, accounts, an account's zones), dropped as
// soon as anything is committed: by this process (the stores call touch()) or by another
// connection, such as an admin command on the same state folder (SQLite's data_version).
import type { Db } from './db.js';

export interface ChangeTracker {
  /** Called by every store write in this process. */
  touch(): void;
  /** Changes whenever the database may have changed. */
  stamp(): string;
}

export function createChangeTracker(db: Db): ChangeTracker {
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let localWrites = 0;
  // data_version costs ~20 µs under load; one reading serves the rest of this event-loop
  // turn, the same as if those reads had happened a moment earlier.
  let turnVersion: number | undefined;
  const endTurn = () => {
    turnVersion = undefined;
  };
  return {
    touch: () => void localWrites++,
    stamp() {
      if (turnVersion === undefined) {
        turnVersion = dataVersion.get() as number;
        setImmediate(endTurn);
      }
      return `${turnVersion}:${localWrites}`;
    },
  };
}

/** Memoizes `load` per key until the tracker's stamp moves. Holds at most `limit` keys. */
export function createReadCache<V>(tracker: ChangeTracker, load: (key: string) => V, limit = 10_000): (key: string) => V {
  let stamp = '';
  const entries = new Map<string, V>();
  return (key) => {
    const now = tracker.stamp();
    if (now !== stamp) {
      entries.clear();
      stamp = now;
    }
    if (entries.has(key)) return entries.get(key)!;
    const value = load(key);
    if (entries.size >= limit) entries.clear();
    entries.set(key, value);
    return value;
  };
}
