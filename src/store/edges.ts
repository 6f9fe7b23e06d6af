// Edges allowed to follow the certificate event feed; only a hash of each token is kept.
import type { Db } from './db.js';

export interface EdgeRecord {
  readonly id: string;
  readonly name: string;
  readonly tokenHash: Buffer;
  readonly revokedAt: string | null;
}

/** What `edges list` and the CA's metrics show of an edge: never its token or the token's hash. */
export interface EdgeInfo {
  readonly name: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  /** When it last asked the CA for events; null if never. */
  readonly lastContactAt: string | null;
  /** How many of the CA's events it had not applied when it last asked. */
  readonly eventsBehind: number | null;
}

interface EdgeInfoRow { name: string; created_at: string; revoked_at: string | null; last_contact_at: string | null; applied_seq: number | null; latest_seq: number | null }

export function createEdgeStore(db: Db) {
  const insert = db.prepare('INSERT INTO edges (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)');
  const byName = db.prepare<[string], { id: string }>('SELECT id FROM edges WHERE name = ?');
  const byId = db.prepare<[string], { id: string; name: string; token_hash: Buffer; revoked_at: string | null }>('SELECT id, name, token_hash, revoked_at FROM edges WHERE id = ?');
  const revoke = db.prepare('UPDATE edges SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL');
  const selectAll = db.prepare<[], EdgeInfoRow>(
    'SELECT name, created_at, revoked_at, last_contact_at, applied_seq, (SELECT max(seq) FROM cert_events) AS latest_seq FROM edges ORDER BY name',
  );
  const updateContact = db.prepare('UPDATE edges SET last_contact_at = ?, applied_seq = ? WHERE id = ?');
  return {
    list(): EdgeInfo[] {
      return selectAll.all().map((row) => ({
        name: row.name,
        createdAt: row.created_at,
        revokedAt: row.revoked_at,
        lastContactAt: row.last_contact_at,
        // An edge ahead of this CA (one restored from an older backup) is not behind it.
        eventsBehind: row.applied_seq === null ? null : Math.max(0, (row.latest_seq ?? 0) - row.applied_seq),
      }));
    },
    /** An edge asked for the events after `appliedSeq`, which it has applied. */
    recordContact(id: string, appliedSeq: number, at: string): void {
      updateContact.run(at, appliedSeq, id);
    },
    /** Returns false if an edge of that name exists. */
    add(id: string, name: string, tokenHash: Buffer, at: string): boolean {
      return db.transaction(() => {
        if (byName.get(name)) return false;
        insert.run(id, name, tokenHash, at);
        return true;
      }).immediate();
    },
    /** Returns false unless an edge of that name had a token still in force. */
    revoke(name: string, at: string): boolean {
      return revoke.run(at, name).changes === 1;
    },
    byId(id: string): EdgeRecord | undefined {
      const row = byId.get(id);
      return row && { id: row.id, name: row.name, tokenHash: row.token_hash, revokedAt: row.revoked_at };
    },
  };
}

export type EdgeStore = ReturnType<typeof createEdgeStore>;
