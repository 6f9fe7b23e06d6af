// Certificate encodings a user downloads: PEM, DER and PKCS#7 (certs-only, .p7b).
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { CertificateChoices, CertificateSet, ContentInfo, EncapsulatedContentInfo, SignedData, id_data, id_signedData } from '@peculiar/asn1-cms';

export type CertFormat = 'pem' | 'der' | 'p7b';
export const CERT_FORMATS: readonly CertFormat[] = ['pem', 'der', 'p7b'];

export function derToPem(der: Uint8Array, label: string): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** Whether `pem` is a string holding a certificate Node can read. */
export function isCertificatePem(pem: unknown): pem is string {
  if (typeof pem !== 'string') return false;
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block in `text`, with its label. */
export function pemBlocks(text: string): { label: string; der: Uint8Array }[] {
  const blocks: { label: string; der: Uint8Array }[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const base64 = match[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new Error(`PEM ${match[1]} block is not base64`);
    blocks.push({ label: match[1]!, der: new Uint8Array(Buffer.from(base64, 'base64')) });
  }
  return blocks;
}

export function pemToDer(text: string, label: string): Uint8Array {
  const block = pemBlocks(text).find((b) => b.label === label);
  if (!block) throw new Error(`no PEM ${label} block found`);
  return block.der;
}

/** A certs-only PKCS#7 SignedData (what .p7b files hold), DER-encoded. */
export function pkcs7Der(certificates: readonly Uint8Array[]): Uint8Array {
  const signedData = new SignedData({
    version: 1,
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet(
      certificates.map((der) => new CertificateChoices({ certificate: AsnConvert.parse(der, Certificate) })),
    ),
  });
  const info = new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) });
  return new Uint8Array(AsnConvert.serialize(info));
}

function certificatesFromPkcs7(der: Uint8Array): Uint8Array[] {
  const info = AsnConvert.parse(der, ContentInfo);
  if (info.contentType !== id_signedData) throw new Error('PKCS#7 data is not SignedData');
  const signedData = AsnConvert.parse(info.content, SignedData);
  return (signedData.certificates ?? [])
    .filter((choice) => choice.certificate)
    .map((choice) => new Uint8Array(AsnConvert.serialize(choice.certificate!)));
}

/**
 * Reads certificates from PEM (CERTIFICATE or PKCS7 blocks), DER, or DER PKCS#7.
 * Throws a plain Error naming what was wrong.
 */
export function readCertificates(input: Uint8Array): Uint8Array[] {
  const text = Buffer.from(input).toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const certs: Uint8Array[] = [];
    for (const block of pemBlocks(text)) {
      if (block.label === 'CERTIFICATE') certs.push(block.der);
      else if (block.label === 'PKCS7' || block.label === 'CMS') certs.push(...certificatesFromPkcs7(block.der));
    }
    if (certs.length === 0) throw new Error('no CERTIFICATE or PKCS7 block in the PEM input');
    return certs.map(checkedCertificate);
  }
  try {
    return [checkedCertificate(input)];
  } catch {
    try {
      const certs = certificatesFromPkcs7(input);
      if (certs.length > 0) return certs;
    } catch {
      /* fall through to one clear error */
    }
  }
  throw new Error('input is not a certificate in PEM, DER or PKCS#7 form');
}

function checkedCertificate(der: Uint8Array): Uint8Array {
  AsnConvert.parse(der, Certificate); // throws on anything that is not an X.509 certificate
  return der;
}

export function encodeCertificates(certificates: readonly Uint8Array[], format: CertFormat): Uint8Array {
  switch (format) {
    case 'pem':
      return Buffer.from(certificates.map((der) => derToPem(der, 'CERTIFICATE')).join(''));
    case 'der':
      if (certificates.length !== 1) throw new Error('DER holds exactly one certificate');
      return certificates[0]!;
    case 'p7b':
      return Buffer.from(derToPem(pkcs7Der(certificates), 'PKCS7'));
  }
}
