// A CSR that nobody needs a private key to sign: an RSA key whose public exponent is 1, so that
// s^e mod n = s and the PKCS#1 v1.5 encoding of the digest is its own valid signature.
// `openssl req -verify` accepts it ("self-signature verify OK"); openssl cannot make one
// (its key generation refuses such an exponent), so it is assembled with asn1js and @peculiar's ASN.1 schemas.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
/** DER of DigestInfo { sha256, NULL } up to the 32-byte digest (RFC 8017 §9.2, note 1). */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

export function csrWithExponentOne(): string {
  const modulus = Buffer.from(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }).n!, 'base64url');
  // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
  const publicKey = new asn1js.Sequence({ value: [new asn1js.Integer({ valueHex: arrayBuffer(Buffer.concat([Buffer.from([0]), modulus])) }), new asn1js.Integer({ value: 1 })] }).toBER();
  const info = new CertificationRequestInfo({
    version: 0,
    subject: new Name(),
    subjectPKInfo: new SubjectPublicKeyInfo({ algorithm: new AlgorithmIdentifier({ algorithm: RSA_ENCRYPTION, parameters: null }), subjectPublicKey: publicKey }),
    attributes: new Attributes(),
  });
  const digestInfo = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, createHash('sha256').update(Buffer.from(AsnConvert.serialize(info))).digest()]);
  const encoded = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(modulus.length - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo]);
  const csr = new CertificationRequest({ certificationRequestInfo: info, signatureAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: null }), signature: arrayBuffer(encoded) });
  const base64 = Buffer.from(AsnConvert.serialize(csr)).toString('base64');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}
