// The CRL of each Origin CA root, built on demand and kept until the next revocation (or a
// day, so that nextUpdate never comes near). The CRL Number is the event sequence number.
import type { Clock } from '../clock.js';
import { buildCrl } from '../pki/crl.js';
import type { CertificateStore } from '../store/certificates.js';
import type { OriginRoots } from './roots.js';

export type CrlKind = 'ecc' | 'rsa';
const REBUILD_AFTER_MS = 24 * 60 * 60 * 1000;
const VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

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
        number: certificates.lastSeq(),
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
