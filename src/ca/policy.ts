// Pure issuance policy: which hostnames, validities and key types an account may have.
// No I/O and no clock: the caller passes the account's zones and the current time.
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { Errors, StrictedgeError, type ErrorDef } from '../errors/catalogue.js';
import type { PublicKeyDescription } from '../pki/spki.js';

export type RequestType = 'origin-rsa' | 'origin-ecc';
export const REQUEST_TYPES: readonly RequestType[] = ['origin-rsa', 'origin-ecc'];
export const ALLOWED_VALIDITY_DAYS = [7, 30, 90, 365, 730, 1095, 5475] as const;
export const DEFAULT_VALIDITY_DAYS = 5475;
export const DEFAULT_MAX_HOSTNAMES = 100;
export const MAX_HOSTNAMES_CEILING = 200;
/** notBefore sits this far in the past so that origins with a slow clock accept new certificates. */
export const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ZoneRef {
  readonly id: string;
  readonly name: string;
}

export interface IssuanceRequest {
  readonly hostnames: readonly unknown[];
  readonly requestType: RequestType;
  readonly validityDays: number;
  readonly key: PublicKeyDescription;
}

export interface IssuancePlan {
  readonly hostnames: readonly string[];
  /** Zones the names fall in (the most specific zone for each name), without repeats. */
  readonly zoneIds: readonly string[];
  readonly requestType: RequestType;
  readonly validityDays: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function reject(errorDef: ErrorDef, hostname: string): never {
  throw new StrictedgeError(errorDef, JSON.stringify(hostname));
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-cases, converts IDN to punycode and checks one name; wildcards keep their "*." prefix. */
export function normalizeHostname(input: unknown): string {
  if (typeof input !== 'string') throw new StrictedgeError(Errors.HOSTNAME_NOT_STRING);
  const name = input.toLowerCase();
  if (name === '*') reject(Errors.WILDCARD_ALONE, input);
  if (isIP(name) || isIP(name.replace(/^\[|\]$/g, ''))) reject(Errors.HOSTNAME_IP_ADDRESS, input);

  const labels = name.split('.');
  const wildcard = labels[0] === '*';
  const base = wildcard ? labels.slice(1) : labels;
  if (base.some((label) => label === '')) reject(Errors.HOSTNAME_EMPTY_LABEL, input);
  if (base.some((label) => label.includes('*'))) {
    if (wildcard && base[0] === '*') reject(Errors.WILDCARD_MULTIPLE, input);
    if (base.some((label) => label === '*')) reject(Errors.WILDCARD_NOT_LEFTMOST, input);
    reject(Errors.WILDCARD_PARTIAL, input);
  }

  // IDN: punycode per label, so that a bad label is reported rather than silently mapped.
  const ascii = base.map((label) => {
    if (/^[\x21-\x7e]*$/.test(label)) return label;
    const converted = domainToASCII(label);
    if (converted === '' || converted.includes('.')) reject(Errors.HOSTNAME_INVALID_CHARACTERS, input);
    return converted;
  });
  for (const label of ascii) {
    if (label.length > 63) reject(Errors.HOSTNAME_LABEL_TOO_LONG, input);
    if (!LABEL.test(label)) reject(Errors.HOSTNAME_INVALID_CHARACTERS, input);
  }
  const normalized = (wildcard ? ['*', ...ascii] : ascii).join('.');
  if (normalized.length > 253) reject(Errors.HOSTNAME_TOO_LONG, input);
  if (wildcard && ascii.length < 2) reject(Errors.WILDCARD_OVER_TLD, input);
  if (ascii.every((label) => /^[0-9]+$/.test(label))) reject(Errors.HOSTNAME_IP_ADDRESS, input);
  return normalized;
}

/** The most specific zone that holds `hostname` (a wildcard is held by the zone of its base). */
export function zoneFor(hostname: string, zones: readonly ZoneRef[]): ZoneRef | undefined {
  const name = hostname.startsWith('*.') ? hostname.slice(2) : hostname;
  let best: ZoneRef | undefined;
  for (const zone of zones) {
    if ((name === zone.name || name.endsWith(`.${zone.name}`)) && (!best || zone.name.length > best.name.length)) best = zone;
  }
  return best;
}

export function checkRequestType(value: unknown): RequestType {
  if (value === 'origin-rsa' || value === 'origin-ecc') return value;
  throw new StrictedgeError(Errors.REQUEST_TYPE_INVALID, JSON.stringify(value));
}

export function checkValidity(value: unknown): number {
  if (value === undefined) return DEFAULT_VALIDITY_DAYS;
  if (typeof value === 'number' && (ALLOWED_VALIDITY_DAYS as readonly number[]).includes(value)) return value;
  throw new StrictedgeError(Errors.VALIDITY_INVALID, JSON.stringify(value));
}

/** The allowed validity nearest to `days` (ties go to the longer one), for the CLI's rounding. */
export function nearestValidity(days: number): number {
  let best: number = ALLOWED_VALIDITY_DAYS[0];
  for (const allowed of ALLOWED_VALIDITY_DAYS) if (Math.abs(allowed - days) <= Math.abs(best - days)) best = allowed;
  return best;
}

/** origin-ecc takes P-256 keys, origin-rsa RSA 2048-4096. */
export function checkKeyFitsRequestType(key: PublicKeyDescription, requestType: RequestType): void {
  if (requestType === 'origin-ecc') {
    if (key.kind !== 'ecdsa') throw new StrictedgeError(Errors.CSR_KEY_TYPE_MISMATCH, `origin-ecc needs a P-256 key, the CSR has ${key.kind}`);
    if (key.curve !== 'P-256') throw new StrictedgeError(Errors.CSR_UNSUPPORTED_ALGORITHM, `curve ${key.curve}`);
    return;
  }
  if (key.kind !== 'rsa') throw new StrictedgeError(Errors.CSR_KEY_TYPE_MISMATCH, `origin-rsa needs an RSA key, the CSR has ${key.kind}`);
  if (key.bits < 2048 || key.bits > 4096) throw new StrictedgeError(Errors.CSR_KEY_TOO_WEAK, `${key.bits} bits`);
  const flaw = rsaKeyFlaw(key.modulus, key.exponent);
  if (flaw) throw new StrictedgeError(Errors.CSR_KEY_TOO_WEAK, flaw);
}

/** Primes below 752: a sound modulus has none of them as a factor. */
const SMALL_PRIMES: readonly bigint[] = (() => {
  const primes: bigint[] = [];
  for (let n = 2; n < 752; n++) if (primes.every((p) => n % Number(p) !== 0)) primes.push(BigInt(n));
  return primes;
})();

/**
 * What makes an RSA public key unfit to certify, per the CA/Browser Forum's Baseline Requirements
 * §6.1.6: the exponent odd, at least 3 (with 1 any signature verifies, so the CSR's proof of
 * possession and every TLS handshake with the key prove nothing) and below 2^256; the modulus
 * odd, with no factor below 752.
 */
export function rsaKeyFlaw(modulus: bigint, exponent: bigint): string | undefined {
  if (exponent < 3n || exponent % 2n === 0n || exponent >= 1n << 256n) {
    const shown = exponent < 1n << 32n ? String(exponent) : `of ${exponent.toString(2).length} bits`;
    return `public exponent ${shown} (it must be odd, from 3 to below 2^256; 65537 is usual)`;
  }
  const factor = SMALL_PRIMES.find((prime) => modulus % prime === 0n);
  if (factor !== undefined) return `the modulus is divisible by ${factor}`;
  return undefined;
}

export function normalizeHostnames(hostnames: readonly unknown[], maxHostnames: number): string[] {
  if (hostnames.length === 0) throw new StrictedgeError(Errors.HOSTNAMES_MISSING);
  if (hostnames.length > maxHostnames) throw new StrictedgeError(Errors.TOO_MANY_HOSTNAMES, `${hostnames.length} > ${maxHostnames}`);
  const seen = new Set<string>();
  for (const raw of hostnames) {
    const name = normalizeHostname(raw);
    if (seen.has(name)) reject(Errors.HOSTNAME_DUPLICATE, name);
    seen.add(name);
  }
  return [...seen];
}

/** Decides an issuance. Throws StrictedgeError with the first rule broken. */
export function planIssuance(request: IssuanceRequest, zones: readonly ZoneRef[], now: Date, maxHostnames: number): IssuancePlan {
  checkKeyFitsRequestType(request.key, request.requestType);
  const hostnames = normalizeHostnames(request.hostnames, maxHostnames);
  const zoneIds = new Set<string>();
  for (const name of hostnames) {
    const zone = zoneFor(name, zones);
    if (!zone) reject(Errors.HOSTNAME_NOT_IN_ACCOUNT, name);
    zoneIds.add(zone.id);
  }
  // Whole seconds: X.509 times carry no fraction, and what is stored must equal what is signed.
  const notBefore = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + request.validityDays * DAY_MS);
  return { hostnames, zoneIds: [...zoneIds], requestType: request.requestType, validityDays: request.validityDays, notBefore, notAfter };
}
