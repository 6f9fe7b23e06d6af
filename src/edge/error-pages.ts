// The edge's own answers: Cloudflare's 52x codes and its 530 (the origin's name does not
// resolve), 421 for a host with no zone (or another zone than the connection's TLS server name),
// 400 for a request no origin should see (two Host lines, `OPTIONS *`), 405 for TRACE, 408 for a
// body that stopped coming (body-timeout.ts), 413 for a body over the limit (body-limit.ts), 431
// for an HTTP/2 head over the limit (request-head.ts), 508 for a request that came back to the
// edge (cdn-loop.ts), and the pages of requests Node's HTTP/1 parser refused (refused-requests.ts).
// Each page names the code and the request id, never the origin's address or an internal error.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Verdict } from './verify.js';

export type EdgeStatus = 400 | 405 | 408 | 413 | 421 | 431 | 508 | 520 | 521 | 522 | 524 | 525 | 526 | 530;

const TITLES: Record<EdgeStatus, string> = {
  400: 'The request cannot be proxied',
  405: 'This method is not allowed',
  408: 'The request body stopped coming',
  413: 'The request body is too large',
  421: 'This host is not served on this connection',
  431: 'The request headers are too large',
  508: 'The request came back to the edge',
  520: 'The origin returned an empty or malformed response',
  521: 'The origin refused the connection',
  522: 'Connecting to the origin timed out',
  524: 'The origin did not answer in time',
  525: 'The TLS handshake with the origin failed',
  526: 'The origin presented an invalid certificate',
  530: "The origin's name could not be resolved",
};

/**
 * The status line's reason phrase: Cloudflare's names for its 52x and 530 codes (Node knows none of
 * them and would say "unknown"), the standard ones for 400, 405, 408, 413, 421, 431 and 508.
 */
const REASON_PHRASES: Record<EdgeStatus, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  421: 'Misdirected Request',
  431: 'Request Header Fields Too Large',
  508: 'Loop Detected',
  520: 'Web Server Returned an Unknown Error',
  521: 'Web Server Is Down',
  522: 'Connection Timed Out',
  524: 'A Timeout Occurred',
  525: 'SSL Handshake Failed',
  526: 'Invalid SSL Certificate',
  530: 'Origin DNS Error',
};

/**
 * TRACE would echo the request as the origin received it: the client's cookies and the headers
 * the edge adds (X-Forwarded-For, CF-Connecting-IP, the request id), readable by a page's script
 * where HttpOnly forbids it (cross-site tracing). nginx refuses it the same way.
 */
export const TRACE_REFUSED = 'TRACE is not passed to origins.';

/** The two reasons for a 421. */
export const NO_ZONE = 'No zone is configured for this host.';
export const OTHER_ZONE = 'This connection was opened (TLS server name) for another zone than this host is in; open a new connection for this host.';
/** A 508's reason: the zone's origin is this edge, or sends its requests back to it. */
export const LOOP_DETECTED = "This zone's origin sent the request back to this edge (its CDN-Loop header lists the edge): the origin must be the server behind the edge.";

export interface EdgeFailure {
  readonly status: EdgeStatus;
  readonly verdict?: Verdict;
  /** What was wrong with the request (400, 405, 408, 413, 421, 431, 508): one of the edge's own fixed sentences. */
  readonly detail?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderEdgeError(req: IncomingMessage, failure: EdgeFailure, requestId: string): { type: string; body: string } {
  return renderEdgePage(failure, requestId, (req.headers.accept ?? '').includes('application/json'));
}

/** The page itself: JSON for a client that asked for it, else HTML. */
export function renderEdgePage(failure: EdgeFailure, requestId: string, json: boolean): { type: string; body: string } {
  const title = TITLES[failure.status];
  if (json) {
    return {
      type: 'application/json; charset=utf-8',
      body: JSON.stringify({ success: false, error: { code: failure.status, title, ...(failure.verdict ? { verdict: failure.verdict } : {}), ...(failure.detail ? { detail: failure.detail } : {}) }, request_id: requestId }),
    };
  }
  const detail = (failure.verdict ? `<p>Strict verification: <code>${failure.verdict}</code></p>` : '') + (failure.detail ? `<p>${escapeHtml(failure.detail)}</p>` : '');
  return {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${failure.status}: ${escapeHtml(title)}</title></head><body><h1>Error ${failure.status}</h1><p>${escapeHtml(title)}</p>${detail}<p>Request id: <code>${escapeHtml(requestId)}</code></p></body></html>\n`,
  };
}

/** An edge answer's status line and headers, the same for a request and a refused upgrade. */
export function edgeErrorHead(failure: EdgeFailure, requestId: string, type: string, body: string): { reason: string; headers: Record<string, string> } {
  return {
    reason: REASON_PHRASES[failure.status],
    headers: {
      'content-type': type,
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-request-id': requestId,
      ...(failure.verdict ? { 'x-strictedge-verdict': failure.verdict } : {}),
    },
  };
}

/**
 * A whole HTTP/1.1 answer, written straight to a connection that has no ServerResponse (a refused
 * upgrade, a request Node's parser refused); the connection closes after it.
 */
export function rawEdgeAnswer(failure: EdgeFailure, requestId: string, page: { type: string; body: string }): string {
  const { reason, headers } = edgeErrorHead(failure, requestId, page.type, page.body);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${failure.status} ${reason}\r\n${lines}connection: close\r\n\r\n${page.body}`;
}

export function sendEdgeError(req: IncomingMessage, res: ServerResponse, failure: EdgeFailure, requestId: string): void {
  const { type, body } = renderEdgeError(req, failure, requestId);
  const { reason, headers } = edgeErrorHead(failure, requestId, type, body);
  if (req.httpVersionMajor === 1) res.writeHead(failure.status, reason, headers);
  else res.writeHead(failure.status, headers); // HTTP/2 has no reason phrase
  res.end(req.method === 'HEAD' ? undefined : body);
}
