// The in-memory index of Origin CA certificates that the edge probes in every strict handshake:
// issued serial -> SHA-256 fingerprint, and the set of revoked serials. A probe is two Map/Set
// lookups; nothing here touches SQL or files.
import type { CertEvent } from '../store/certificates.js';

export type IndexProbe = 'ok' | 'unknown' | 'revoked';

export interface RevocationIndex {
  apply(event: Pick<CertEvent, 'kind' | 'serial' | 'sha256'>): void;
  /** Serial and fingerprint as lowercase hex without separators. */
  probe(serial: string, sha256: string): IndexProbe;
  isRevoked(serial: string): boolean;
  readonly issuedCount: number;
  readonly revokedCount: number;
}

export function createRevocationIndex(): RevocationIndex {
  const issued = new Map<string, string>();
  const revoked = new Set<string>();
  return {
    apply(event) {
      if (event.kind === 'issued') issued.set(event.serial, event.sha256);
      else revoked.add(event.serial);
    },
    probe(serial, sha256) {
      if (revoked.has(serial)) return 'revoked';
      return issued.get(serial) === sha256 ? 'ok' : 'unknown';
    },
    isRevoked: (serial) => revoked.has(serial),
    get issuedCount() {
      return issued.size;
    },
    get revokedCount() {
      return revoked.size;
    },
  };
}
