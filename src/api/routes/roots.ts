// GET /roots/ecc, /roots/rsa (DER, application/pkix-cert) and /roots/ecc.pem, /roots/rsa.pem.
// Public, as Cloudflare publishes its Origin CA roots: whoever checks an origin certificate
// (`openssl verify`, nginx proxy_ssl_trusted_certificate, HAProxy ca-file) needs them, and a
// user of the CLI or the dashboard on another machine has no state folder to read them from.
import type { ServerResponse } from 'node:http';
import type { OriginRoots } from '../../ca/roots.js';
import { pemToDer } from '../../pki/formats.js';

/** The four answers, made once: the roots do not change while the CA runs. */
export function createRootFiles(roots: OriginRoots): ReadonlyMap<string, { readonly type: string; readonly body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const [name, root] of [['ecc', roots.ecdsa], ['rsa', roots.rsa]] as const) {
    files.set(`/roots/${name}`, { type: 'application/pkix-cert', body: Buffer.from(pemToDer(root.certPem, 'CERTIFICATE')) });
    files.set(`/roots/${name}.pem`, { type: 'application/x-pem-file', body: Buffer.from(root.certPem) });
  }
  return files;
}

/** Serves a root if `path` (relative to the API base) names one; returns whether it did. */
export function serveRoot(method: string, path: string, res: ServerResponse, files: ReturnType<typeof createRootFiles>): boolean {
  const file = files.get(path);
  if (!file || (method !== 'GET' && method !== 'HEAD')) return false;
  res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'max-age=3600' });
  res.end(method === 'HEAD' ? undefined : file.body);
  return true;
}
