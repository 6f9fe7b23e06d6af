// Certificate revocation lists (RFC 5280 section 5) signed by an Origin CA root, so that
// servers other than our edge (nginx proxy_ssl_crl, HAProxy crl-file) enforce revocations too.
// Encoded like the certificate profile: fixed parts once, TLV for the rest.
import * as asn1js from 'asn1js';
import { TAG, oid, timeDer, tlv, toDer, type Der } from './asn1.js';
import { signSha256 } from './keys.js';
import { OID } from './oids.js';
import { assembleSigned, signatureAlgorithmDer } from './profile.js';
import type { OriginRoot } from './root.js';

export interface RevokedEntry {
  /** Lowercase hex, as stored. */
  readonly serial: string;
  readonly revokedAt: Date;
}

export interface CrlInput {
  readonly root: OriginRoot;
  /** Must grow with every new list (see crlNumber in ca/crl.ts). */
  readonly number: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked: readonly RevokedEntry[];
}

const V2 = toDer(new asn1js.Integer({ value: 1 }));
const AKI_OID = toDer(oid(OID.authorityKeyIdentifier));
const CRL_NUMBER_OID = toDer(oid(OID.crlNumber));

function integerFromHex(hex: string): Der {
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return tlv(TAG.INTEGER, ...(bytes[0]! & 0x80 ? [new Uint8Array([0]), bytes] : [bytes]));
}

export async function buildCrl(input: CrlInput): Promise<Der> {
  const { root } = input;
  const entries = input.revoked.map((entry) => tlv(TAG.SEQUENCE, integerFromHex(entry.serial), timeDer(entry.revokedAt)));
  const extensions = tlv(
    TAG.SEQUENCE,
    tlv(TAG.SEQUENCE, AKI_OID, tlv(TAG.OCTET_STRING, tlv(TAG.SEQUENCE, tlv(0x80, root.keyId)))),
    tlv(TAG.SEQUENCE, CRL_NUMBER_OID, tlv(TAG.OCTET_STRING, integerFromHex(input.number.toString(16)))),
  );
  const signatureAlgorithm = signatureAlgorithmDer(root.keyType);
  const tbs = tlv(
    TAG.SEQUENCE,
    V2,
    signatureAlgorithm,
    root.subjectDer,
    timeDer(input.thisUpdate),
    timeDer(input.nextUpdate),
    ...(entries.length ? [tlv(TAG.SEQUENCE, ...entries)] : []),
    tlv(0xa0, extensions),
  );
  return assembleSigned(tbs, signatureAlgorithm, await signSha256(root.key, tbs));
}
