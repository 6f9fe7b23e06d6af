// A separate edge's own SQLite replica: every certificate event it has applied (so it restarts
// without the CA and never fails open) and the last zone list it was given. When the CA's feed
// no longer continues from the replica's last event (a CA restored from a backup), the events
// are dropped to be followed again from the start, but their revocations are kept: a
// certificate once revoked stays revoked here, whatever the CA forgot.
import type { CertEvent } from '../store/certificates.js';
import { openDatabase, type Db } from '../store/db.js';
import type { SslMode, Zone } from '../store/zones.js';

const REPLICA_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE applied_events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('issued', 'revoked')),
    serial TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    not_after TEXT NOT NULL,
    at TEXT NOT NULL
  );
  CREATE TABLE zones (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    ssl_mode TEXT NOT NULL,
    origin_http TEXT,
    origin_https TEXT,
    modified_on TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE kept_revocations (
    serial TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL
  );
  `,
];

export interface ReplicaZone {
  readonly id: string;
  readonly name: string;
  readonly ssl_mode: SslMode;
  readonly origin_http: string | null;
  readonly origin_https: string | null;
  readonly modified_on: string;
}

/** A zone as the edge routes by it, from the CA's wire form (the replica's rows have the same shape). */
export function edgeZone(z: ReplicaZone): Zone {
  return { id: z.id, accountId: '', name: z.name, sslMode: z.ssl_mode, originHttp: z.origin_http, originHttps: z.origin_https, createdAt: '', modifiedOn: z.modified_on };
}

export function openReplica(path: string) {
  const db: Db = openDatabase(path, REPLICA_MIGRATIONS);
  const insertEvent = db.prepare('INSERT OR IGNORE INTO applied_events (seq, kind, serial, sha256, not_after, at) VALUES (?, ?, ?, ?, ?, ?)');
  const selectLast = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM applied_events');
  const selectEventAt = db.prepare<[number], { kind: 'issued' | 'revoked'; sha256: string }>('SELECT kind, sha256 FROM applied_events WHERE seq = ?');
  const keepRevocations = db.prepare("INSERT OR IGNORE INTO kept_revocations (serial, sha256) SELECT serial, sha256 FROM applied_events WHERE kind = 'revoked'");
  const deleteEvents = db.prepare('DELETE FROM applied_events');
  const selectKept = db.prepare<[], [string, string]>('SELECT serial, sha256 FROM kept_revocations').raw(true);
  // Raw rows (arrays) load ~2x faster than objects when an edge starts on millions of events.
  const selectEvents = db.prepare<[number, number], [number, 'issued' | 'revoked', string, string]>('SELECT seq, kind, serial, sha256 FROM applied_events WHERE seq > ? ORDER BY seq LIMIT ?').raw(true);
  const deleteZones = db.prepare('DELETE FROM zones');
  const insertZone = db.prepare('INSERT INTO zones (id, name, ssl_mode, origin_http, origin_https, modified_on) VALUES (?, ?, ?, ?, ?, ?)');
  const selectZones = db.prepare<[], ReplicaZone>('SELECT id, name, ssl_mode, origin_http, origin_https, modified_on FROM zones ORDER BY name');

  return {
    db,
    lastSeq: (): number => selectLast.get()!.seq ?? 0,
    /** What the event with this seq was (the feed checks it against the CA's). */
    eventAt: (seq: number): Pick<CertEvent, 'kind' | 'sha256'> | undefined => selectEventAt.get(seq),
    /** Drops every event, keeping their revocations, so that the feed can be followed from seq 0. */
    forgetEventsKeepingRevocations(): void {
      db.transaction(() => {
        keepRevocations.run();
        deleteEvents.run();
      })();
    },
    /** Revocations kept from a history the CA no longer has, as events to apply. */
    forEachKeptRevocation(apply: (event: Pick<CertEvent, 'kind' | 'serial' | 'sha256'>) => void): number {
      const rows = selectKept.all();
      for (const [serial, sha256] of rows) apply({ kind: 'revoked', serial, sha256 });
      return rows.length;
    },
    /** Records a batch of events in one transaction: all of them or none. */
    record(events: readonly CertEvent[]): void {
      db.transaction(() => {
        for (const e of events) insertEvent.run(e.seq, e.kind, e.serial, e.sha256, e.notAfter, e.at);
      })();
    },
    count: (): number => (db.prepare('SELECT count(*) AS n FROM applied_events').get() as { n: number }).n,
    /** Every recorded event after `afterSeq`, oldest first, in batches. */
    forEachEvent(apply: (event: Pick<CertEvent, 'kind' | 'serial' | 'sha256'>) => void, afterSeq = 0): number {
      let count = 0;
      for (let seq = afterSeq; ; ) {
        const rows = selectEvents.all(seq, 50_000);
        if (rows.length === 0) return count;
        for (const [, kind, serial, sha256] of rows) apply({ kind, serial, sha256 });
        count += rows.length;
        seq = rows[rows.length - 1]![0];
      }
    },
    replaceZones(zones: readonly ReplicaZone[]): void {
      db.transaction(() => {
        deleteZones.run();
        for (const z of zones) insertZone.run(z.id, z.name, z.ssl_mode, z.origin_http, z.origin_https, z.modified_on);
      })();
    },
    zones(): Zone[] {
      return selectZones.all().map(edgeZone);
    },
    close: () => db.close(),
  };
}

export type Replica = ReturnType<typeof openReplica>;
