// Certificate encodings for download: PEM as issued, DER, and a certs-only PKCS#7 (.p7b).
import * as x509 from '@peculiar/x509';

export type CertFormat = 'pem' | 'der' | 'p7b';

export function pemBlock(der: Uint8Array, label: string): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
  const binary = atob(body);
  const der = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) der[i] = binary.charCodeAt(i);
  return der;
}

export interface Download {
  readonly filename: string;
  readonly mime: string;
  readonly bytes: Uint8Array | string;
}

/** The certificate in the chosen format; `base` names the files (the zone's apex). */
export function certificateDownload(pem: string, format: CertFormat, base: string): Download {
  switch (format) {
    case 'pem':
      return { filename: `${base}.pem`, mime: 'application/x-pem-file', bytes: pem.endsWith('\n') ? pem : `${pem}\n` };
    case 'der':
      return { filename: `${base}.der`, mime: 'application/pkix-cert', bytes: pemToDer(pem) };
    case 'p7b': {
      const pkcs7 = new Uint8Array(new x509.X509Certificates([new x509.X509Certificate(pem)]).export('raw'));
      return { filename: `${base}.p7b`, mime: 'application/x-pkcs7-certificates', bytes: pemBlock(pkcs7, 'PKCS7') };
    }
  }
}

export function keyDownload(keyPem: string, base: string): Download {
  return { filename: `${base}.key`, mime: 'application/x-pem-file', bytes: keyPem };
}

export function saveDownload(download: Download): void {
  const blob = new Blob([download.bytes as BlobPart], { type: download.mime });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = download.filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Files are named after the first hostname without its wildcard label. */
export function fileBase(hostnames: readonly string[]): string {
  const first = hostnames[0] ?? 'origin';
  return first.replace(/^\*\./, '').replace(/[^a-z0-9.-]/gi, '_');
}
