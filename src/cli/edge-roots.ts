// The Origin CA roots a separate edge trusts in strict mode: fetched from its CA on first start
// and kept in its state folder. On every later start they are compared with the CA's, so that an
// edge pointed at another CA (one rebuilt from scratch has new roots) says so instead of
// answering 526 for every certificate the new CA issues.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCertificateRefusal } from '../certificate-refusal.js';
import type { Logger } from '../log.js';
import { CA_CERT_HINT, type CaFetch } from '../revocation/ca-fetch.js';
import { writeFileAtomic } from '../store/state-folder.js';
import { UsageError } from './args.js';

/** How long the CA gets to answer for its roots: on a restart less, as the edge can start without it. */
const FIRST_START_TIMEOUT_MS = 10_000;
const RESTART_TIMEOUT_MS = 3_000;

interface RootsAnswer {
  readonly success: boolean;
  readonly result?: { readonly ecc: string; readonly rsa: string };
  readonly errors?: readonly { readonly message: string }[];
}

/** Why the CA could not be asked, in parentheses, and what to do when its certificate was refused. */
function unreachableReason(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `(no answer within ${timeoutMs / 1000} s)`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `(${cause?.code ?? cause?.message ?? String(error)})${isCertificateRefusal(error) ? `; ${CA_CERT_HINT}` : ''}`;
}

/** Whether two lists of PEM certificates hold the same certificates, in the same order. */
export function sameCertificates(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((pem, i) => new X509Certificate(pem).raw.equals(new X509Certificate(b[i]!).raw));
}

/** A kept root, or a one-line refusal naming the file when it is not a certificate (a damaged state folder). */
function readKeptRoot(file: string): string {
  const pem = readFileSync(file, 'utf8');
  try {
    new X509Certificate(pem);
  } catch {
    throw new UsageError(`${file} is not a certificate; remove it, and the edge fetches the CA's roots again`);
  }
  return pem;
}

export async function originRoots(dir: string, caUrl: string, token: string, caFetch: CaFetch, logger: Logger): Promise<string[]> {
  const files = [join(dir, 'certs', 'origin-ecc-root.pem'), join(dir, 'certs', 'origin-rsa-root.pem')];
  const kept = files.every((file) => existsSync(file)) ? files.map(readKeptRoot) : undefined;
  const timeoutMs = kept ? RESTART_TIMEOUT_MS : FIRST_START_TIMEOUT_MS;
  let answer: RootsAnswer;
  try {
    const response = await caFetch(`${caUrl}/edge/roots`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    answer = (await response.json()) as RootsAnswer;
  } catch (error) {
    if (!kept) throw new UsageError(`first start needs the CA for its roots, and ${caUrl} cannot be reached ${unreachableReason(error, timeoutMs)}`);
    // An edge starts without its CA, on what it knows; the follower catches up when the CA is back.
    logger.log('warn', 'the CA cannot be reached to compare its roots with the kept ones; starting on the kept ones', { ca_url: caUrl, reason: unreachableReason(error, timeoutMs) });
    return kept;
  }
  if (!answer.success || !answer.result) {
    if (!kept) throw new UsageError(`the CA refused the edge token: ${answer.errors?.[0]?.message}`);
    return kept; // the follower reports a refused token, and the edge enforces what it knows
  }
  const current = [answer.result.ecc, answer.result.rsa];
  if (!kept) {
    writeFileAtomic(files[0]!, current[0]!, { mode: 0o644 });
    writeFileAtomic(files[1]!, current[1]!, { mode: 0o644 });
    return current;
  }
  if (!sameCertificates(kept, current)) {
    throw new UsageError(
      `the CA at ${caUrl} has other Origin CA roots than the ones ${dir} holds, so it is not the CA this edge followed; ` +
        'to follow it, start this edge on an empty --state folder (it fetches the roots, zones and events anew)',
    );
  }
  return kept;
}
