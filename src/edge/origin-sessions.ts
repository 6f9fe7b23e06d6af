// TLS sessions to strict origins, kept for resumption only when the edge is told to
// (--origin-session-resumption). A resumed handshake skips certificate verification, so each
// entry remembers what the full handshake verified (serial, fingerprint, Origin CA leaf or not,
// notAfter); connect re-checks that against the revocation index and the clock, and a
// revocation drops the certificate's sessions at once.
export interface VerifiedSession {
  readonly session: Buffer;
  readonly serial: string;
  /** SHA-256 of the certificate DER, lowercase hex without colons (the index's second key). */
  readonly sha256: string;
  /** Issued by an Origin CA root: only those are in the revocation index. */
  readonly originLeaf: boolean;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface OriginSessions {
  get(key: string): VerifiedSession | undefined;
  set(key: string, entry: VerifiedSession): void;
  delete(key: string): void;
  /** Forgets every session whose certificate has this serial; returns how many. */
  dropSerial(serial: string): number;
  readonly size: number;
}

/** One session per origin address + SNI name (the newest ticket), at most `limit` entries. */
export function createOriginSessions(limit = 10_000): OriginSessions {
  const byKey = new Map<string, VerifiedSession>();
  return {
    get: (key) => byKey.get(key),
    set(key, entry) {
      byKey.delete(key);
      if (byKey.size >= limit) byKey.delete(byKey.keys().next().value!);
      byKey.set(key, entry);
    },
    delete: (key) => void byKey.delete(key),
    dropSerial(serial) {
      let dropped = 0;
      for (const [key, entry] of byKey) {
        if (entry.serial === serial) {
          byKey.delete(key);
          dropped++;
        }
      }
      return dropped;
    },
    get size() {
      return byKey.size;
    },
  };
}
