// The private key and CSR are made here, in the page, with Web Crypto; the key never leaves it.
import * as x509 from '@peculiar/x509';
import { pemBlock } from './files.js';

export type KeyType = 'ecdsa' | 'rsa';

export interface BrowserKeyAndCsr {
  readonly keyPem: string;
  readonly csrPem: string;
}

function algorithmFor(keyType: KeyType) {
  return keyType === 'ecdsa'
    ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
}

export async function makeKeyAndCsr(keyType: KeyType, hostnames: readonly string[]): Promise<BrowserKeyAndCsr> {
  const algorithm = algorithmFor(keyType);
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [hostnames[0] ?? 'origin'] }],
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension(hostnames.map((value) => ({ type: 'dns' as const, value })))],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keyPem: pemBlock(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

export interface PastedCsr {
  readonly pem: string;
  readonly requestType: 'origin-ecc' | 'origin-rsa';
  readonly description: string;
}

/** Checks a pasted CSR before it is sent: parses, verifies its signature, names its key. */
export async function checkPastedCsr(text: string): Promise<PastedCsr> {
  const trimmed = text.trim();
  if (!/^-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(trimmed)) throw new Error('Paste a PEM CSR: it starts with -----BEGIN CERTIFICATE REQUEST-----');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(trimmed);
  } catch {
    throw new Error('This CSR could not be parsed: check that it was copied whole');
  }
  const algorithm = csr.publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  let requestType: PastedCsr['requestType'];
  let description: string;
  if (algorithm.name === 'ECDSA') {
    if (algorithm.namedCurve !== 'P-256') throw new Error(`ECDSA keys must use P-256 (this one uses ${algorithm.namedCurve ?? 'an unknown curve'})`);
    requestType = 'origin-ecc';
    description = 'ECDSA P-256';
  } else if (algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS') {
    const bits = algorithm.modulusLength ?? 0;
    if (bits < 2048 || bits > 4096) throw new Error(`RSA keys must have 2048 to 4096 bits (this one has ${bits})`);
    requestType = 'origin-rsa';
    description = `RSA ${bits}`;
  } else {
    throw new Error(`Unsupported key type ${algorithm.name}: use ECDSA P-256 or RSA 2048`);
  }
  let verified = false;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw new Error('The CSR signature does not verify: it was altered or damaged');
  return { pem: trimmed, requestType, description };
}
