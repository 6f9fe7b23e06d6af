// PKCS#10 CSRs: parse, check the signature, and describe the key. Only the key is taken
// from a CSR; its subject and requested extensions are ignored (hostnames come from the API).
import type { KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import { child, encodedBytes, parseDer } from './asn1.js';
import { pemBlocks } from './formats.js';
import { verifySignature } from './keys.js';
import { CSR_SIGNATURE_DIGESTS } from './oids.js';
import { readSpki, UnsupportedKeyError, type PublicKeyDescription } from './spki.js';

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

  let info: asn1js.AsnType, spki: asn1js.AsnType, algorithmId: asn1js.AsnType, signatureBits: asn1js.AsnType;
  try {
    const root = parseDer(der);
    info = child(root, 0);
    // CertificationRequestInfo: version, subject, subjectPKInfo, [0] attributes
    spki = child(info, 2);
    algorithmId = child(child(root, 1), 0);
    signatureBits = child(root, 2);
  } catch (error) {
    throw unparsable('not a DER PKCS#10 structure', error);
  }
  if (!(signatureBits instanceof asn1js.BitString) || !(info instanceof asn1js.Sequence)) {
    throw unparsable('not a DER PKCS#10 structure');
  }
  const digest = algorithmId instanceof asn1js.ObjectIdentifier ? CSR_SIGNATURE_DIGESTS.get(algorithmId.valueBlock.toString()) : undefined;
  if (!digest) throw new StrictedgeError(Errors.CSR_UNSUPPORTED_ALGORITHM, 'signature algorithm');

  try {
    const { key, publicKey, spkiDer } = readSpki(spki);
    return { key, publicKey, spkiDer, infoDer: encodedBytes(info), signature: new Uint8Array(signatureBits.valueBlock.valueHexView), digest };
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
