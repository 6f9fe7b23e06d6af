// The CRL of each Origin CA root, built on demand and kept until the next revocation (or a
// day, so that nextUpdate never comes near).
import type { Clock } from '../clock.js';
import { buildCrl } from '../pki/crl.js';
import type { CertificateStore } from '../store/certificates.js';
import type { OriginRoots } from './roots.js';

export type CrlKind = 'ecc' | 'rsa';
const REBUILD_AFTER_MS = 24 * 60 * 60 * 1000;
const VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;
const SEQ_BITS = 48n;

/**
 * RFC 5280 wants each new CRL's number above the last one's. The event sequence number alone
 * repeats on the daily rebuild and after a restart (same number, later thisUpdate), and goes
 * back when the CA is restored from a backup; thisUpdate's second in the high bits, and the
 * sequence number below it, grow in all three cases (10 octets; the limit is 20).
 */
function crlNumber(thisUpdate: Date, lastSeq: number): bigint {
  return (BigInt(Math.floor(thisUpdate.getTime() / 1000)) << SEQ_BITS) | BigInt(lastSeq);
}

export function createCrlService({ certificates, roots, clock }: { certificates: CertificateStore; roots: OriginRoots; clock: Clock }) {
  const cache = new Map<CrlKind, { der: Promise<Uint8Array>; builtAt: number }>();
  return {
    /** DER of the current CRL for the ECC or RSA root. */
    get(kind: CrlKind): Promise<Uint8Array> {
      const now = clock();
      const cached = cache.get(kind);
      if (cached && now.getTime() - cached.builtAt < REBUILD_AFTER_MS) return cached.der;
      const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
      const der = buildCrl({
        root: kind === 'ecc' ? roots.ecdsa : roots.rsa,
        number: crlNumber(thisUpdate, certificates.lastSeq()),
        thisUpdate,
        nextUpdate: new Date(thisUpdate.getTime() + VALIDITY_MS),
        revoked: certificates.revoked(kind === 'ecc' ? 'origin-ecc' : 'origin-rsa').map((row) => ({ serial: row.serial, revokedAt: new Date(row.revokedAt) })),
      });
      cache.set(kind, { der, builtAt: now.getTime() });
      der.catch(() => cache.delete(kind));
      return der;
    },
    /** Called after every revocation: the next request builds fresh lists. */
    invalidate(): void {
      cache.clear();
    },
  };
}

export type CrlService = ReturnType<typeof createCrlService>;
