// PKCS#10 CSRs: parse, check the signature, and describe the key. Only the key is taken
// from a CSR; its subject and requested extensions are ignored (hostnames come from the API).
import type { KeyObject } from 'node:crypto';
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import { TAG, oid, toDer } from './asn1.js';
import { DerError, bitStringBytes, expectTag, readChildren, readWhole } from './der-reader.js';
import { pemBlocks } from './formats.js';
import { verifySignature } from './keys.js';
import { CSR_SIGNATURE_DIGESTS } from './oids.js';
import { oidText, readSpki, UnsupportedKeyError, type PublicKeyDescription } from './spki.js';

export interface ParsedCsr {
  readonly key: PublicKeyDescription;
  readonly publicKey: KeyObject;
  /** Canonical DER of the public key, as it goes into the certificate. */
  readonly spkiDer: Uint8Array;
  readonly infoDer: Uint8Array;
  readonly signature: Uint8Array;
  readonly digest: string;
}

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
/** Encoded signature-algorithm OID (hex) -> digest name for crypto.verify. */
const DIGEST_BY_OID: ReadonlyMap<string, string> = new Map(
  [...CSR_SIGNATURE_DIGESTS].map(([dotted, digest]) => [Buffer.from(toDer(oid(dotted))).toString('hex'), digest]),
);

function unparsable(detail: string, cause?: unknown): StrictedgeError {
  return new StrictedgeError(Errors.CSR_UNPARSABLE, detail, { cause });
}

/** Parses a PEM CSR. Throws StrictedgeError (CSR_*) on anything else. Does not verify the signature. */
export function parseCsr(pem: string): ParsedCsr {
  let der: Uint8Array | undefined;
  try {
    der = pemBlocks(pem).find((block) => CSR_LABELS.has(block.label))?.der;
  } catch (error) {
    throw unparsable('PEM is not valid base64', error);
  }
  if (!der) throw unparsable('no "BEGIN CERTIFICATE REQUEST" PEM block');

  let parts;
  try {
    // CertificationRequest: info, signatureAlgorithm, signature
    const [info, algorithm, signature] = readChildren(readWhole(der, TAG.SEQUENCE));
    // CertificationRequestInfo: version, subject, subjectPKInfo, [0] attributes
    const [, , spki] = readChildren(expectTag(info, TAG.SEQUENCE, 'CertificationRequestInfo'));
    const [algorithmId] = readChildren(expectTag(algorithm, TAG.SEQUENCE, 'signature algorithm'));
    parts = { info: info!, spki: expectTag(spki, TAG.SEQUENCE, 'subjectPKInfo'), algorithmId: expectTag(algorithmId, 0x06, 'signature algorithm OID'), signature: bitStringBytes(expectTag(signature, TAG.BIT_STRING, 'signature')) };
  } catch (error) {
    if (error instanceof DerError) throw unparsable(`not a DER PKCS#10 structure (${error.message})`, error);
    throw error;
  }
  const digest = DIGEST_BY_OID.get(Buffer.from(parts.algorithmId.bytes).toString('hex'));
  if (!digest) throw new StrictedgeError(Errors.CSR_UNSUPPORTED_ALGORITHM, `signature algorithm ${oidText(parts.algorithmId)}`);

  try {
    const { key, publicKey, spkiDer } = readSpki(parts.spki);
    return { key, publicKey, spkiDer, infoDer: parts.info.bytes, signature: parts.signature, digest };
  } catch (error) {
    if (error instanceof UnsupportedKeyError) throw new StrictedgeError(Errors.CSR_UNSUPPORTED_ALGORITHM, error.message, { cause: error });
    throw new StrictedgeError(Errors.CSR_UNSUPPORTED_ALGORITHM, 'public key could not be read', { cause: error });
  }
}

/** Throws CSR_BAD_SIGNATURE unless the CSR is signed by its own key (proof of possession). */
export async function verifyCsrSignature(csr: ParsedCsr): Promise<void> {
  if (!(await verifySignature(csr.digest, csr.publicKey, csr.infoDer, csr.signature))) {
    throw new StrictedgeError(Errors.CSR_BAD_SIGNATURE);
  }
}
