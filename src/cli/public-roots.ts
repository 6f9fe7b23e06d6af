// The public roots a strict edge trusts beside the Origin CA's: Node's bundle (system), none, or
// the certificates in a PEM file. `serve` takes it from its config (edge.public_roots), a
// separate `strictedge edge` from --public-roots.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { derToPem, isCertificatePem, pemBlocks } from '../pki/formats.js';

export function readPublicRoots(setting: string): { readonly roots: readonly string[] } | { readonly error: string } {
  if (setting === 'system') return { roots: rootCertificates };
  if (setting === 'none') return { roots: [] };
  let certificates: string[];
  try {
    certificates = pemBlocks(readFileSync(setting, 'utf8')).filter((b) => b.label === 'CERTIFICATE').map((b) => derToPem(b.der, 'CERTIFICATE'));
  } catch (error) {
    return { error: `cannot read ${setting}: ${(error as NodeJS.ErrnoException).code ?? error}` };
  }
  // A wrong file would otherwise leave strict zones trusting the Origin CA alone: every origin
  // with a public certificate would get 526 untrusted, with nothing said at start.
  if (certificates.length === 0) return { error: `${setting} holds no PEM certificate (system and none are the other choices)` };
  const unreadable = certificates.findIndex((pem) => !isCertificatePem(pem));
  if (unreadable >= 0) return { error: `certificate ${unreadable + 1} of ${certificates.length} in ${setting} cannot be read` };
  return { roots: certificates };
}
