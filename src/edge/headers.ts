// Request and response headers across the edge: hop-by-hop headers stay behind, the origin
// learns who asked (X-Forwarded-*, and CF-Connecting-IP as Cloudflare sends it: origins set up
// for Cloudflare trust that header from their edge, so a client's own is replaced, never passed
// on), and both sides see the request id.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CDN_LOOP_HEADER } from './cdn-loop.js';
import type { Scheme } from './route.js';

// HTTP2-Settings belongs to an h2c upgrade, one connection's business (RFC 9113 §8.2.2); Node
// refuses to send it, like the others here, on an HTTP/2 stream.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings']);
const REPLACED = new Set(['host', 'cf-connecting-ip', 'cf-visitor', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id']);
/**
 * Cloudflare's CF-Visitor, the scheme the client used, which origins set up for Cloudflare's
 * flexible mode read (WordPress's Cloudflare plugins among them) to tell HTTPS visitors from HTTP
 * ones; a client's own would let it pass as either.
 */
const CF_VISITOR = { http: '{"scheme":"http"}', https: '{"scheme":"https"}' } as const;

/**
 * A client's header that would pass for one the edge sets at an origin that maps names to CGI
 * variables, where `X_Forwarded_For` and `X-Forwarded-For` are both HTTP_X_FORWARDED_FOR (Python's
 * wsgiref joined a client's `CF_Connecting_IP: 6.6.6.6` with the edge's CF-Connecting-IP into
 * "6.6.6.6,127.0.0.1"; older WSGI and Rack servers alike), so that the client chose its own
 * address. nginx drops every name with an underscore by default; the edge drops only these.
 */
function passesForReplaced(name: string): boolean {
  return name.includes('_') && REPLACED.has(name.replaceAll('_', '-'));
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The client's address as origins expect it: an IPv4 client of a dual-stack listener (`--listen ::`)
 * is given as its IPv4 address, not as `::ffff:a.b.c.d`, which address parsers such as nginx's
 * realip read as IPv6.
 */
export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '';
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}

/** The client's request id when it is a sane token, else a new one. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

const CLOSE: ReadonlySet<string> = new Set(['close']);

/** The header names a Connection header lists (RFC 9110 §7.6.1), to be dropped with it. */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (!value) return undefined;
  // One option, as on almost every message ("keep-alive", "close"): no list to build. A profile
  // of the edge under keep-alive load had the general case at 1.3 % of its CPU.
  if (typeof value === 'string' && !value.includes(',')) {
    const token = value.trim().toLowerCase();
    if (token === '' || HOP_BY_HOP.has(token)) return undefined; // dropped anyway
    return token === 'close' ? CLOSE : new Set([token]);
  }
  const tokens = (Array.isArray(value) ? value.join(',') : value).split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  return tokens.length ? new Set(tokens) : undefined;
}

/**
 * Flat [name, value, ...] list for the origin. `authority` is the name the request was routed
 * by (its Host, or the authority of an absolute-form request line), sent as the Host.
 * `cdnId` is added to CDN-Loop (cdn-loop.ts). `keepUpgrade` keeps Connection/Upgrade (WebSocket).
 */
export function originRequestHeaders(req: IncomingMessage, scheme: Scheme, requestId: string, authority: string, cdnId: string, keepUpgrade = false): string[] {
  const listed = connectionTokens(req.headers.connection);
  const out: string[] = ['host', authority];
  const raw = req.rawHeaders;
  // HTTP/2 may split the Cookie into one field per crumb; HTTP/1.1 origins get one line (RFC 9113 §8.2.3).
  const joinCookies = req.httpVersionMajor === 2;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.charCodeAt(0) === 58) continue; // ':': HTTP/2's pseudo-headers are the request line, not headers
    if (REPLACED.has(name) || (joinCookies && name === 'cookie') || passesForReplaced(name)) continue;
    if (keepUpgrade && (name === 'connection' || name === 'upgrade')) {
      out.push(raw[i]!, raw[i + 1]!);
      continue;
    }
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (joinCookies && req.headers.cookie !== undefined) out.push('cookie', req.headers.cookie);
  const prior = req.headers['x-forwarded-for'];
  const client = clientAddress(req.socket.remoteAddress);
  out.push('x-forwarded-for', prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client);
  out.push('cf-connecting-ip', client);
  out.push('x-forwarded-proto', scheme);
  out.push('cf-visitor', CF_VISITOR[scheme]);
  out.push('x-forwarded-host', authority);
  out.push(REQUEST_ID_HEADER, requestId);
  out.push(CDN_LOOP_HEADER, cdnId); // a line of its own after the client's: the list, appended to (RFC 8586 §2)
  return out;
}

/**
 * A header the origin repeated, as one value for an HTTP/2 client: Node refuses a repeated
 * Content-Type, Location, X-Content-Type-Options… there (and apps behind nginx often send the
 * last one twice). Copies of one value become that value; different values are combined with
 * commas, as RFC 9110 §5.3 allows for any field but Set-Cookie.
 */
function oneValue(values: string[]): string {
  return values.every((value) => value === values[0]) ? values[0]! : values.join(', ');
}

const PRINTABLE_REASON = /^[\x20-\x7e]+$/;

/**
 * The origin's reason phrase, to pass on as nginx does, when it is printable ASCII; else none
 * (Node's own is used). Node's parser takes bytes its writeHead refuses.
 */
export function passableReason(statusMessage: string | undefined): string | undefined {
  return statusMessage !== undefined && PRINTABLE_REASON.test(statusMessage) ? statusMessage : undefined;
}

/** Response headers for the client, without hop-by-hop ones, with the request id. */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>, requestId: string, http2 = false): Record<string, string | string[]> {
  const listed = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = http2 && Array.isArray(value) && name !== 'set-cookie' ? oneValue(value) : value;
  }
  out[REQUEST_ID_HEADER] = requestId;
  return out;
}
