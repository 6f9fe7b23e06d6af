// The origin certificate profile, and the root profile, as DER.
// Everything that never changes for a given root (version, signature algorithm, issuer,
// subject, keyUsage, extKeyUsage) is encoded once when the template is made; per certificate
// only the serial, validity, public key and SAN list are encoded, by plain TLV concatenation.
import * as asn1js from 'asn1js';
import { TAG, type Der, octetString, oid, sequence, timeDer, tlv, toDer } from './asn1.js';
import { OID } from './oids.js';

export type KeyType = 'ecdsa' | 'rsa';

export interface NameFields {
  readonly organization: string;
  readonly organizationalUnit: string;
  readonly commonName: string;
}

export interface LeafFields {
  /** Positive, minimal two's-complement bytes (see keys.randomSerial). */
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Normalized ASCII (punycode) names. */
  readonly hostnames: readonly string[];
  readonly spkiDer: Der;
}

export interface LeafTemplate {
  readonly keyType: KeyType;
  /** DER of the TBSCertificate for these fields. */
  tbs(fields: LeafFields): Der;
  /** DER of the whole certificate once the TBS is signed. */
  certificate(tbsDer: Der, signature: Uint8Array): Der;
}

export const LEAF_SUBJECT: NameFields = {
  organization: 'strictedge',
  organizationalUnit: 'strictedge Origin CA',
  commonName: 'strictedge Origin Certificate',
};

const VERSION_V3 = toDer(
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }),
);
const SAN_OID = toDer(oid(OID.subjectAltName));

export function signatureAlgorithmDer(keyType: KeyType): Der {
  return keyType === 'ecdsa'
    ? toDer(sequence(oid(OID.ecdsaWithSha256)))
    : toDer(sequence(oid(OID.sha256WithRsa), new asn1js.Null()));
}

export function nameDer(fields: NameFields): Der {
  const rdn = (type: string, value: string) =>
    new asn1js.Set({ value: [sequence(oid(type), new asn1js.Utf8String({ value }))] });
  return toDer(
    sequence(
      rdn(OID.organizationName, fields.organization),
      rdn(OID.organizationalUnitName, fields.organizationalUnit),
      rdn(OID.commonName, fields.commonName),
    ),
  );
}

function extensionDer(id: string, critical: boolean, valueDer: Der): Der {
  return critical
    ? toDer(sequence(oid(id), new asn1js.Boolean({ value: true }), octetString(valueDer)))
    : toDer(sequence(oid(id), octetString(valueDer)));
}

/** keyUsage bits are numbered from the most significant bit of the first byte. */
function keyUsageDer(bits: readonly number[]): Der {
  let byte = 0;
  for (const bit of bits) byte |= 0x80 >> bit;
  const unusedBits = 7 - Math.max(...bits);
  return extensionDer(OID.keyUsage, true, toDer(new asn1js.BitString({ valueHex: new Uint8Array([byte]), unusedBits })));
}

const KU_DIGITAL_SIGNATURE = 0;
const KU_KEY_ENCIPHERMENT = 2;
const KU_KEY_CERT_SIGN = 5;
const KU_CRL_SIGN = 6;

function subjectAltNameDer(hostnames: readonly string[]): Der {
  const names = hostnames.map((name) => tlv(TAG.CONTEXT_2_PRIMITIVE, Buffer.from(name, 'latin1')));
  return tlv(TAG.SEQUENCE, SAN_OID, tlv(TAG.OCTET_STRING, tlv(TAG.SEQUENCE, ...names)));
}

function tbsDer(head: Der, serial: Uint8Array, notBefore: Date, notAfter: Date, tail: Der[], extensions: Der[]): Der {
  return tlv(
    TAG.SEQUENCE,
    head,
    tlv(TAG.INTEGER, serial),
    ...tail.slice(0, 2),
    tlv(TAG.SEQUENCE, timeDer(notBefore), timeDer(notAfter)),
    ...tail.slice(2),
    tlv(TAG.CONTEXT_3_CONSTRUCTED, tlv(TAG.SEQUENCE, ...extensions)),
  );
}

/** A leaf template for a root whose subject DER is `issuerDer`. */
export function createLeafTemplate(keyType: KeyType, issuerDer: Der, subject: NameFields = LEAF_SUBJECT): LeafTemplate {
  const signatureAlgorithm = signatureAlgorithmDer(keyType);
  const subjectDer = nameDer(subject);
  const usageBits = keyType === 'rsa' ? [KU_DIGITAL_SIGNATURE, KU_KEY_ENCIPHERMENT] : [KU_DIGITAL_SIGNATURE];
  const keyUsage = keyUsageDer(usageBits);
  const extKeyUsage = extensionDer(OID.extKeyUsage, false, toDer(sequence(oid(OID.serverAuth))));
  return {
    keyType,
    tbs(fields) {
      return tbsDer(
        VERSION_V3,
        fields.serial,
        fields.notBefore,
        fields.notAfter,
        [signatureAlgorithm, issuerDer, subjectDer, fields.spkiDer],
        [keyUsage, extKeyUsage, subjectAltNameDer(fields.hostnames)],
      );
    },
    certificate(tbs, signature) {
      return assembleSigned(tbs, signatureAlgorithm, signature);
    },
  };
}

export function assembleSigned(tbs: Der, signatureAlgorithm: Der, signature: Uint8Array): Der {
  return tlv(TAG.SEQUENCE, tbs, signatureAlgorithm, tlv(TAG.BIT_STRING, new Uint8Array([0]), signature));
}

export interface RootFields {
  readonly keyType: KeyType;
  readonly subject: NameFields;
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Der;
  readonly subjectKeyId: Uint8Array;
}

/** TBS of a self-signed root: CA:TRUE, keyCertSign + cRLSign, a subject key identifier. */
export function rootTbs(fields: RootFields): Der {
  const subjectDer = nameDer(fields.subject);
  return tbsDer(
    VERSION_V3,
    fields.serial,
    fields.notBefore,
    fields.notAfter,
    [signatureAlgorithmDer(fields.keyType), subjectDer, subjectDer, fields.spkiDer],
    [
      extensionDer(OID.basicConstraints, true, toDer(sequence(new asn1js.Boolean({ value: true })))),
      keyUsageDer([KU_KEY_CERT_SIGN, KU_CRL_SIGN]),
      extensionDer(OID.subjectKeyIdentifier, false, toDer(octetString(fields.subjectKeyId))),
    ],
  );
}
