// Edges allowed to follow the certificate event feed; only a hash of each token is kept.
import type { Db } from './db.js';

export interface EdgeRecord {
  readonly id: string;
  readonly name: string;
  readonly tokenHash: Buffer;
  readonly revokedAt: string | null;
}

export function createEdgeStore(db: Db) {
  const insert = db.prepare('INSERT INTO edges (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)');
  const byName = db.prepare<[string], { id: string }>('SELECT id FROM edges WHERE name = ?');
  const byId = db.prepare<[string], { id: string; name: string; token_hash: Buffer; revoked_at: string | null }>('SELECT id, name, token_hash, revoked_at FROM edges WHERE id = ?');
  const revoke = db.prepare('UPDATE edges SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL');
  return {
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
