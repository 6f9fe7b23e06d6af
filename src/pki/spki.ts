// SubjectPublicKeyInfo from a CSR, read element by element and re-encoded canonically.
// Importing the key as a JWK is ~2x faster than OpenSSL's DER decoder for P-256 and ~40x
// for RSA, and re-encoding means only canonical DER ever reaches a certificate.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { TAG, oid, sequence, tlv, toDer, type Der } from './asn1.js';
import { bitStringBytes, expectTag, readChildren, readWhole, sameBytes, type DerElement } from './der-reader.js';
import { OID } from './oids.js';

export type PublicKeyDescription =
  | { readonly kind: 'ecdsa'; readonly curve: string }
  /** The modulus and exponent too, for policy's checks of a key's soundness (an exponent of 1 makes any signature valid). */
  | { readonly kind: 'rsa'; readonly bits: number; readonly modulus: bigint; readonly exponent: bigint };

export interface ReadSpki {
  readonly key: PublicKeyDescription;
  readonly publicKey: KeyObject;
  readonly spkiDer: Der;
}

const EC_PUBLIC_KEY = toDer(oid(OID.ecPublicKey));
const RSA_ENCRYPTION = toDer(oid(OID.rsaEncryption));
const P256 = toDer(oid(OID.prime256v1));
const EC_P256_ALGORITHM = toDer(sequence(oid(OID.ecPublicKey), oid(OID.prime256v1)));
const RSA_ALGORITHM = toDer(sequence(oid(OID.rsaEncryption), new asn1js.Null()));

export class UnsupportedKeyError extends Error {}

/** Dotted form of an encoded OID, for messages only. */
export function oidText(element: DerElement | undefined): string {
  if (!element) return 'missing';
  const parsed = asn1js.fromBER(element.bytes.slice().buffer);
  return parsed.result instanceof asn1js.ObjectIdentifier ? parsed.result.valueBlock.toString() : 'not an OID';
}

function unsigned(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

function derInteger(magnitude: Uint8Array): Der {
  return tlv(TAG.INTEGER, ...((magnitude[0] ?? 0) & 0x80 ? [new Uint8Array([0]), magnitude] : [magnitude]));
}

const toBigInt = (magnitude: Uint8Array) => (magnitude.length === 0 ? 0n : BigInt(`0x${Buffer.from(magnitude).toString('hex')}`));

const base64url = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/** Reads a SubjectPublicKeyInfo element. Throws UnsupportedKeyError for keys strictedge does not sign. */
export function readSpki(spki: DerElement): ReadSpki {
  const [algorithm, keyBitsElement] = readChildren(expectTag(spki, TAG.SEQUENCE, 'SubjectPublicKeyInfo'));
  const [algorithmId, parameters] = readChildren(expectTag(algorithm, TAG.SEQUENCE, 'key algorithm'));
  const keyBits = bitStringBytes(expectTag(keyBitsElement, TAG.BIT_STRING, 'public key'));

  if (algorithmId && sameBytes(algorithmId.bytes, EC_PUBLIC_KEY)) {
    if (!parameters || !sameBytes(parameters.bytes, P256)) throw new UnsupportedKeyError(`curve ${oidText(parameters)}; only P-256 is signed`);
    if (keyBits.length !== 65 || keyBits[0] !== 0x04) throw new UnsupportedKeyError('P-256 point must be uncompressed');
    const jwk: JsonWebKey = { kty: 'EC', crv: 'P-256', x: base64url(keyBits.subarray(1, 33)), y: base64url(keyBits.subarray(33)) };
    return {
      key: { kind: 'ecdsa', curve: 'P-256' },
      publicKey: createPublicKey({ key: jwk, format: 'jwk' }), // checks that the point is on the curve
      spkiDer: tlv(TAG.SEQUENCE, EC_P256_ALGORITHM, tlv(TAG.BIT_STRING, new Uint8Array([0]), keyBits)),
    };
  }

  if (algorithmId && sameBytes(algorithmId.bytes, RSA_ENCRYPTION)) {
    const [modulusElement, exponentElement] = readChildren(readWhole(keyBits, TAG.SEQUENCE));
    const modulus = unsigned(expectTag(modulusElement, TAG.INTEGER, 'RSA modulus').value);
    const exponent = unsigned(expectTag(exponentElement, TAG.INTEGER, 'RSA exponent').value);
    const bits = modulus.length * 8 - Math.clz32(modulus[0] ?? 0) + 24;
    const jwk: JsonWebKey = { kty: 'RSA', n: base64url(modulus), e: base64url(exponent) };
    return {
      key: { kind: 'rsa', bits, modulus: toBigInt(modulus), exponent: toBigInt(exponent) },
      publicKey: createPublicKey({ key: jwk, format: 'jwk' }),
      spkiDer: tlv(TAG.SEQUENCE, RSA_ALGORITHM, tlv(TAG.BIT_STRING, new Uint8Array([0]), tlv(TAG.SEQUENCE, derInteger(modulus), derInteger(exponent)))),
    };
  }
  throw new UnsupportedKeyError(`key algorithm ${oidText(algorithmId)}`);
}
