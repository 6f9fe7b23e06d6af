// Pure strict-mode verdicts. The TLS layer reports facts (OpenSSL's chain error code, the
// hostname check, which root the chain ends at, the index probe); this file decides.
import type { IndexProbe } from '../revocation/revocation-index.js';

export const VERDICTS = ['expired', 'not_yet_valid', 'untrusted', 'hostname_mismatch', 'revoked', 'unknown_certificate'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** OpenSSL chain-verification codes (as Node reports them) mapped to verdicts. */
const CHAIN_VERDICTS: ReadonlyMap<string, Verdict> = new Map([
  ['CERT_HAS_EXPIRED', 'expired'],
  ['CERT_NOT_YET_VALID', 'not_yet_valid'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'hostname_mismatch'],
  ['HOSTNAME_MISMATCH', 'hostname_mismatch'],
]);

/** The certificate-verification codes Node reports for a chain OpenSSL refused. */
export const X509_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A chain failure reported by OpenSSL: anything but a date or name problem means "not trusted". */
export function chainVerdict(code: string): Verdict {
  return CHAIN_VERDICTS.get(code) ?? 'untrusted';
}

export interface IdentityFacts {
  /** The hostname matched a SAN (one-label wildcards only). */
  readonly hostnameMatches: boolean;
  /** The verified chain ends at one of the Origin CA roots (not a public root). */
  readonly issuedByOriginRoot: boolean;
  /** The index probe for the leaf; only consulted for Origin CA certificates. */
  readonly probe: () => IndexProbe;
}

/** After the chain verified: the rest of strict mode. undefined means accepted. */
export function identityVerdict(facts: IdentityFacts): Verdict | undefined {
  if (!facts.hostnameMatches) return 'hostname_mismatch';
  if (!facts.issuedByOriginRoot) return undefined;
  const probe = facts.probe();
  if (probe === 'revoked') return 'revoked';
  if (probe === 'unknown') return 'unknown_certificate';
  return undefined;
}

export interface ResumedSessionFacts {
  readonly nowMs: number;
  /** What the full handshake that made the session verified. */
  readonly notAfterMs: number;
  readonly originLeaf: boolean;
  readonly probe: () => 'ok' | 'revoked' | 'unknown';
}

/**
 * A resumed TLS session skips certificate verification; what can change since the full
 * handshake is the clock and the revocation index, so those are checked again.
 */
export function resumedSessionVerdict(facts: ResumedSessionFacts): Verdict | undefined {
  if (facts.nowMs > facts.notAfterMs) return 'expired';
  if (!facts.originLeaf) return undefined;
  const probe = facts.probe();
  if (probe === 'revoked') return 'revoked';
  if (probe === 'unknown') return 'unknown_certificate';
  return undefined;
}

/** Thrown from the TLS handshake when strict verification fails. */
export class OriginVerifyError extends Error {
  readonly code = 'STRICTEDGE_ORIGIN_VERIFY';
  constructor(
    readonly verdict: Verdict,
    /** The refused certificate's serial, for the log. */
    readonly serial?: string,
  ) {
    super(`origin certificate rejected: ${verdict}`);
  }
}
