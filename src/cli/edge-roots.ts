// The Origin CA roots a separate edge trusts in strict mode: fetched from its CA on first start
// and kept in its state folder. On every later start they are compared with the CA's, so that an
// edge pointed at another CA (one rebuilt from scratch has new roots) says so instead of
// answering 526 for every certificate the new CA issues.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCertificateRefusal } from '../certificate-refusal.js';
import { isCertificatePem } from '../pki/formats.js';
import type { Logger } from '../log.js';
import { CA_CERT_HINT, type CaFetch } from '../revocation/ca-fetch.js';
import { writeFileAtomic } from '../store/state-folder.js';
import { UsageError } from './args.js';

/** How long the CA gets to answer for its roots: on a restart less, as the edge can start without it. */
const FIRST_START_TIMEOUT_MS = 10_000;
const RESTART_TIMEOUT_MS = 3_000;

/** What `GET /edge/roots` answered, judged: the roots, a refusal from the CA, or not a strictedge CA's API at all. */
export type RootsReply =
  | { readonly kind: 'roots'; readonly roots: readonly [string, string] }
  | { readonly kind: 'refused'; readonly why: string }
  | { readonly kind: 'not-a-ca'; readonly why: string };

/**
 * `body` is the parsed JSON, or undefined when the answer was not JSON. A --ca-url that misses
 * `/client/v4`, or names some other server, used to be told "the CA refused the edge token:
 * undefined" or "cannot be reached (SyntaxError …)".
 */
export function judgeRootsReply(status: number, body: unknown): RootsReply {
  if (body === undefined) return { kind: 'not-a-ca', why: `answered HTTP ${status}, not in JSON` };
  const envelope = body as { success?: unknown; result?: { ecc?: unknown; rsa?: unknown }; errors?: { message?: unknown }[] };
  if (typeof envelope !== 'object' || envelope === null || typeof envelope.success !== 'boolean') return { kind: 'not-a-ca', why: `answered HTTP ${status} without the API's envelope` };
  if (!envelope.success) {
    const message = Array.isArray(envelope.errors) && typeof envelope.errors[0]?.message === 'string' ? envelope.errors[0].message : 'no message';
    if (status === 404) return { kind: 'not-a-ca', why: `has no such route (HTTP 404: ${message})` };
    return { kind: 'refused', why: status === 401 ? `the CA refused the edge token: ${message}` : `the CA answered HTTP ${status}: ${message}` };
  }
  const { ecc, rsa } = envelope.result ?? {};
  if (!isCertificatePem(ecc) || !isCertificatePem(rsa)) return { kind: 'not-a-ca', why: `answered HTTP ${status} without two root certificates` };
  return { kind: 'roots', roots: [ecc, rsa] };
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
  if (!isCertificatePem(pem)) throw new UsageError(`${file} is not a certificate; remove it, and the edge fetches the CA's roots again`);
  return pem;
}

export async function originRoots(dir: string, caUrl: string, token: string, caFetch: CaFetch, logger: Logger): Promise<string[]> {
  const files = [join(dir, 'certs', 'origin-ecc-root.pem'), join(dir, 'certs', 'origin-rsa-root.pem')];
  const kept = files.every((file) => existsSync(file)) ? files.map(readKeptRoot) : undefined;
  const timeoutMs = kept ? RESTART_TIMEOUT_MS : FIRST_START_TIMEOUT_MS;
  let reply: RootsReply;
  try {
    const response = await caFetch(`${caUrl}/edge/roots`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.json().catch((error: Error) => {
      if (error.name === 'SyntaxError') return undefined; // an answer, just not the API's
      throw error;
    });
    reply = judgeRootsReply(response.status, body);
  } catch (error) {
    if (!kept) throw new UsageError(`first start needs the CA for its roots, and ${caUrl} cannot be reached ${unreachableReason(error, timeoutMs)}`);
    // An edge starts without its CA, on what it knows; the follower catches up when the CA is back.
    logger.log('warn', 'the CA cannot be reached to compare its roots with the kept ones; starting on the kept ones', { ca_url: caUrl, reason: unreachableReason(error, timeoutMs) });
    return kept;
  }
  if (reply.kind === 'not-a-ca') {
    const problem = `${caUrl} is not a strictedge CA's API: ${caUrl}/edge/roots ${reply.why}; --ca-url is the API's base URL, as the CA's ready line gives it (http://HOST:PORT/client/v4)`;
    if (!kept) throw new UsageError(problem);
    logger.log('error', `${problem}; starting on the kept roots`, { ca_url: caUrl });
    return kept;
  }
  if (reply.kind === 'refused') {
    if (!kept) throw new UsageError(reply.why);
    return kept; // the follower reports a refused token, and the edge enforces what it knows
  }
  const current = [...reply.roots];
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
