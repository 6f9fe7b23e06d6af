// Pure: which edge error a failed origin exchange becomes, and why an origin connection closed.
// The connector tags each error with the phase it happened in; undici reports timeouts and
// protocol errors by code.
import type { EdgeFailure } from './error-pages.js';
import { OriginVerifyError, X509_VERIFY_CODES, chainVerdict } from './verify.js';

export type OriginPhase = 'tcp' | 'tcp_timeout' | 'tls' | 'tls_timeout';

export interface TaggedError {
  readonly code?: string;
  readonly originPhase?: OriginPhase;
  /** 'getaddrinfo' when the origin's name did not resolve. */
  readonly syscall?: string;
}

const RESPONSE_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function classifyOriginError(error: unknown): EdgeFailure {
  if (error instanceof OriginVerifyError) return { status: 526, verdict: error.verdict };
  const { code = '', originPhase, syscall } = (error ?? {}) as TaggedError;
  switch (originPhase) {
    case 'tcp':
      // An origin given by a name that does not resolve is not "down": Cloudflare answers 530
      // (its error 1016, "Origin DNS error"), which sends the operator to DNS, not the server.
      return syscall === 'getaddrinfo' ? { status: 530 } : { status: 521 };
    case 'tcp_timeout':
      return { status: 522 };
    case 'tls':
      return X509_VERIFY_CODES.has(code) ? { status: 526, verdict: chainVerdict(code) } : { status: 525 };
    case 'tls_timeout':
      return { status: 525 };
  }
  if (RESPONSE_TIMEOUTS.has(code)) return { status: 524 };
  return { status: 520 };
}

/** Methods a request may be sent again with (RFC 9110 §9.2.2), as nginx's proxy_next_upstream does by default. */
const REPEATABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);
/** undici's and the kernel's ways of saying a connection went away under a request. */
const CONNECTION_LOST: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * Whether a request that failed before any answer is sent once more, on another connection. An
 * origin may close a kept-alive connection just as the edge sends a request on it (one that does
 * not say how long it keeps them, or that restarted): the request was lost with the connection,
 * not refused, and the client would get a 520 for nothing (1 in 20 requests in a test against an
 * origin closing its connections 30 ms after each answer). nginx sends such requests again too.
 * Only a request without a body (a body is streamed once) whose method may be repeated, and only
 * when the connection was lost, not when a new one could not be made (521, 522, 525, 526, 530):
 * the caller sends it once more at most.
 */
export function sendAgainOnAnotherConnection(method: string, hasBody: boolean, error: unknown): boolean {
  if (hasBody || !REPEATABLE_METHODS.has(method)) return false;
  const { code = '', originPhase } = (error ?? {}) as TaggedError;
  return originPhase === undefined && CONNECTION_LOST.has(code);
}

export type CutShortReason = 'timeout' | 'error';

/** Why an origin's answer stopped after its status line: no body byte within the origin timeout, or a break (a reset, a short or malformed body). */
export function cutShortReason(error: unknown): CutShortReason {
  return (error as TaggedError | undefined)?.code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'error';
}

export type SocketCloseReason = 'revoked' | 'expired' | 'idle' | 'aborted' | 'origin_closed' | 'error';

/**
 * Why an origin connection closed. The edge closes one whose certificate was revoked or reached
 * its notAfter. undici closes one on purpose with an informational error (UND_ERR_INFO): after
 * an answer that said `Connection: close`, and at its keep-alive timeout; and with the message
 * "aborted" when the edge stopped a request in flight, because its client left. An origin that
 * ends the connection itself closed it, whatever undici then reports; anything else broke it.
 */
export function socketCloseReason(facts: { readonly closedByEdge?: 'revoked' | 'expired'; readonly originEnded: boolean; readonly errorCode?: string; readonly errorMessage?: string }): SocketCloseReason {
  if (facts.closedByEdge) return facts.closedByEdge;
  if (facts.originEnded) return 'origin_closed';
  if (facts.errorCode === 'UND_ERR_INFO' && facts.errorMessage === 'aborted') return 'aborted';
  if (facts.errorCode === undefined || facts.errorCode === 'UND_ERR_INFO') return 'idle';
  return 'error';
}
