// Origin CA roots: made once, then loaded with a ready leaf template.
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { TAG, type Der } from './asn1.js';
import { readChildren, readWhole } from './der-reader.js';
import { derToPem, pemToDer } from './formats.js';
import { generateKey, privateKeyPem, randomSerial, signSha256, spkiDer } from './keys.js';
import { assembleSigned, createLeafTemplate, rootTbs, signatureAlgorithmDer, type KeyType, type LeafTemplate, type NameFields } from './profile.js';

export const ROOT_SUBJECTS: Record<KeyType, NameFields> = {
  ecdsa: { organization: 'strictedge', organizationalUnit: 'strictedge Origin CA', commonName: 'strictedge Origin ECC Root' },
  rsa: { organization: 'strictedge', organizationalUnit: 'strictedge Origin CA', commonName: 'strictedge Origin RSA Root' },
};

/** Roots outlive the longest leaf (15 years) with room to spare. */
export const ROOT_LIFETIME_YEARS = 30;

export interface OriginRoot {
  readonly keyType: KeyType;
  readonly certPem: string;
  readonly certDer: Der;
  readonly key: KeyObject;
  readonly notAfter: Date;
  readonly template: LeafTemplate;
  /** The root's subject as encoded in its certificate (the issuer of everything it signs). */
  readonly subjectDer: Der;
  /** SHA-1 of the root's public key, as in its subjectKeyIdentifier. */
  readonly keyId: Uint8Array;
}

export async function generateRoot(keyType: KeyType, now: Date, subject: NameFields = ROOT_SUBJECTS[keyType]): Promise<{ certPem: string; keyPem: string }> {
  const { publicKey, privateKey } = await generateKey({ keyType, size: keyType === 'ecdsa' ? 256 : 2048 });
  const spki = spkiDer(publicKey);
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + ROOT_LIFETIME_YEARS);
  const tbs = rootTbs({
    keyType,
    subject,
    serial: randomSerial(),
    notBefore,
    notAfter,
    spkiDer: spki,
    subjectKeyId: createHash('sha1').update(spki).digest(),
  });
  const signature = await signSha256(privateKey, tbs);
  const der = assembleSigned(tbs, signatureAlgorithmDer(keyType), signature);
  return { certPem: derToPem(der, 'CERTIFICATE'), keyPem: privateKeyPem(privateKey) };
}

export function loadRoot(certPem: string, keyPem: string, leafSubject?: NameFields): OriginRoot {
  const certDer = pemToDer(certPem, 'CERTIFICATE');
  const cert = new X509Certificate(certDer);
  const key = createPrivateKey(keyPem);
  if (!cert.checkPrivateKey(key)) throw new Error('root key does not match root certificate');
  const keyType: KeyType = key.asymmetricKeyType === 'ec' ? 'ecdsa' : 'rsa';
  // TBSCertificate: [0]version, serial, signature, issuer, validity, subject, ...
  const [tbs] = readChildren(readWhole(certDer, TAG.SEQUENCE));
  const subjectDer = readChildren(tbs!)[5]!.bytes;
  return {
    keyType,
    certPem: derToPem(certDer, 'CERTIFICATE'),
    certDer,
    key,
    notAfter: new Date(cert.validTo),
    template: createLeafTemplate(keyType, subjectDer, leafSubject),
    subjectDer,
    keyId: createHash('sha1').update(spkiDer(cert.publicKey)).digest(),
  };
}
