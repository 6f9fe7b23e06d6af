// The edge's own CA, standing in for the public CA that would sign a real edge's client-facing
// certificates: an ECDSA root (certs/edge-ca.pem) and, per zone, a certificate for the apex and
// *.zone made in memory when the zone is first served, and made anew once two thirds of its
// 90 days have passed: an edge runs for months. Clients trust certs/edge-ca.pem.
import { createSecureContext, type SecureContext } from 'node:tls';
import { existsSync, readFileSync } from 'node:fs';
import { derToPem } from '../pki/formats.js';
import { generateKey, privateKeyPem, randomSerial, signSha256, spkiDer } from '../pki/keys.js';
import { generateRoot, loadRoot, type OriginRoot } from '../pki/root.js';
import type { NameFields } from '../pki/profile.js';
import { writeFileAtomic, type StatePaths } from '../store/state-folder.js';

const EDGE_ROOT_SUBJECT: NameFields = { organization: 'strictedge', organizationalUnit: 'strictedge Edge', commonName: 'strictedge Edge CA' };
const EDGE_LEAF_SUBJECT: NameFields = { organization: 'strictedge', organizationalUnit: 'strictedge Edge', commonName: 'strictedge Edge Certificate' };
const LEAF_DAYS = 90;
/** A zone's certificate is replaced after this long, a month before it would expire. */
const RENEW_AFTER_MS = 60 * 86_400_000;

export interface EdgeCa {
  readonly certPem: string;
  /** A TLS context for `zone` (apex and *.zone), made once and kept until it is due for renewal. */
  contextFor(zone: string): Promise<SecureContext>;
}

export async function openEdgeCa(paths: StatePaths, now: () => Date): Promise<EdgeCa> {
  if (!existsSync(paths.edgeCaCert) || !existsSync(paths.edgeCaKey)) {
    const generated = await generateRoot('ecdsa', now(), EDGE_ROOT_SUBJECT);
    writeFileAtomic(paths.edgeCaKey, generated.keyPem, { mode: 0o600 });
    writeFileAtomic(paths.edgeCaCert, generated.certPem, { mode: 0o644 });
  }
  const root: OriginRoot = loadRoot(readFileSync(paths.edgeCaCert, 'utf8'), readFileSync(paths.edgeCaKey, 'utf8'), EDGE_LEAF_SUBJECT);
  const contexts = new Map<string, { readonly context: Promise<SecureContext>; readonly renewAtMs: number }>();

  async function issue(zone: string): Promise<SecureContext> {
    const { publicKey, privateKey } = await generateKey({ keyType: 'ecdsa', size: 256 });
    const notBefore = new Date(Math.floor(now().getTime() / 1000) * 1000 - 5 * 60_000);
    const notAfter = new Date(Math.min(notBefore.getTime() + LEAF_DAYS * 86_400_000, root.notAfter.getTime()));
    const tbs = root.template.tbs({ serial: randomSerial(), notBefore, notAfter, hostnames: [zone, `*.${zone}`], spkiDer: spkiDer(publicKey) });
    const der = root.template.certificate(tbs, await signSha256(root.key, tbs));
    return createSecureContext({ cert: derToPem(der, 'CERTIFICATE'), key: privateKeyPem(privateKey) });
  }

  return {
    certPem: root.certPem,
    contextFor(zone) {
      const nowMs = now().getTime();
      let entry = contexts.get(zone);
      if (!entry || nowMs >= entry.renewAtMs) {
        const made = { context: issue(zone), renewAtMs: nowMs + RENEW_AFTER_MS };
        contexts.set(zone, made);
        made.context.catch(() => contexts.get(zone) === made && contexts.delete(zone));
        entry = made;
      }
      return entry.context;
    },
  };
}
