// Makes a private key and a CSR for it, as `getcert` does on the user's machine.
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { derToPem } from './formats.js';
import type { KeySpec } from './keys.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface KeyAndCsr {
  readonly keyPem: string;
  readonly csrPem: string;
}

export async function createKeyAndCsr(spec: KeySpec, hostnames: readonly string[]): Promise<KeyAndCsr> {
  const algorithm =
    spec.keyType === 'ecdsa'
      ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
      : { name: 'RSASSA-PKCS1-v1_5', modulusLength: spec.size, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [hostnames[0] ?? 'origin'] }],
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension(hostnames.map((value) => ({ type: 'dns' as const, value })))],
  });
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keyPem: derToPem(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}
