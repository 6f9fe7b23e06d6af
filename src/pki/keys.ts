// Key pairs and signatures through Node's native crypto (OpenSSL).
import { createHash, generateKeyPair, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyType } from './profile.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const signAsync = promisify(sign);
const verifyAsync = promisify(verify);

export interface KeySpec {
  readonly keyType: KeyType;
  /** RSA modulus bits, or the EC curve size (256). */
  readonly size: number;
}

export async function generateKey(spec: KeySpec): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  if (spec.keyType === 'ecdsa') {
    if (spec.size !== 256) throw new RangeError('ECDSA keys must be P-256 (size 256)');
    return generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  }
  if (spec.size < 2048 || spec.size > 4096) throw new RangeError('RSA keys must be 2048 to 4096 bits');
  return generateKeyPairAsync('rsa', { modulusLength: spec.size });
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function spkiDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/**
 * Signs with SHA-256 (PKCS#1 v1.5 for RSA, DER-encoded ECDSA). Runs on libuv's thread pool,
 * so RSA signatures use both cores while the event loop keeps serving.
 */
export async function signSha256(key: KeyObject, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await signAsync('sha256', data, key));
}

export async function verifySignature(digest: string, key: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  try {
    return await verifyAsync(digest, data, key, signature);
  } catch {
    return false; // malformed signature bytes are simply a bad signature
  }
}

/** A random positive 16-byte serial: the top bit is clear and the next one set, so it is never shortened. */
export function randomSerial(): Uint8Array {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return new Uint8Array(serial);
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
