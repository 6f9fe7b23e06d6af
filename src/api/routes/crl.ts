// GET /crl/ecc, /crl/rsa (DER, application/pkix-crl) and /crl/ecc.pem, /crl/rsa.pem
// ("X509 CRL" PEM). Public, as CRLs are: anyone verifying an origin may fetch them.
import type { ServerResponse } from 'node:http';
import type { CrlKind, CrlService } from '../../ca/crl.js';
import { derToPem } from '../../pki/formats.js';

export const CRL_PATHS: ReadonlyMap<string, { kind: CrlKind; pem: boolean }> = new Map([
  ['/crl/ecc', { kind: 'ecc', pem: false }],
  ['/crl/rsa', { kind: 'rsa', pem: false }],
  ['/crl/ecc.pem', { kind: 'ecc', pem: true }],
  ['/crl/rsa.pem', { kind: 'rsa', pem: true }],
]);

/** Serves the CRL if `path` (relative to the API base) names one; returns whether it did. */
export async function serveCrl(method: string, path: string, res: ServerResponse, crls: CrlService): Promise<boolean> {
  const target = CRL_PATHS.get(path);
  if (!target || (method !== 'GET' && method !== 'HEAD')) return false;
  const der = await crls.get(target.kind);
  const body = target.pem ? Buffer.from(derToPem(der, 'X509 CRL')) : Buffer.from(der);
  res.writeHead(200, {
    'content-type': target.pem ? 'application/x-pem-file' : 'application/pkix-crl',
    'content-length': body.length,
    'cache-control': 'no-cache',
  });
  res.end(method === 'HEAD' ? undefined : body);
  return true;
}
