// Pure: which authority a client's request names, and the path to ask the origin for
// (RFC 9112 §3.2). A request with more than one Host line, or an empty one, is refused, as the
// RFC requires of a server; in absolute-form (`GET http://a.test/x`) the request-target's
// authority wins over Host (§3.2.2), so that the edge routes, and the origin sees, the name the
// request line gave, and the origin gets the origin-form path; the asterisk-form (`OPTIONS *`)
// and anything else cannot be proxied. An HTTP/2 request names its authority in `:authority`
// (RFC 9113 §8.3.1), which wins over a Host header, and one whose Host names another is refused
// as malformed. An authority that is not `host[:port]` (RFC 3986 §3.2.2–3.2.3: a port is digits,
// a name has no '/', '@', space…) is refused too: RFC 9112 §3.2 requires a 400 for a Host with an
// invalid value, where routing by the part before the colon would pass `a.test:abc` on as is.
// A name must also be one a certificate can hold (labels of letters, digits, '-' and '_'), as
// zones are: the origin's certificate is checked against it, and OpenSSL reads a leading dot as
// "any name under this one", so `Host: .a.test` would have matched a certificate for b.a.test.

export type RequestTarget =
  | { readonly ok: true; readonly authority: string | undefined; readonly path: string }
  | { readonly ok: false; /** For the client's 400 page. */ readonly why: string };

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]+)([^#]*)$/i;
/** RFC 3986 authority without userinfo: an IP-literal or a reg-name (unreserved, sub-delims, %HH), then an optional port. */
const HOST_AND_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::[0-9]*)?$/;
/** A DNS name: labels of 1–63 letters, digits, '-' or '_' (which real names use), 253 at most, one trailing dot allowed. */
const DNS_NAME = /^(?=[^:]{1,253}\.?(?::|$))(?:[A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}\.?(?::[0-9]*)?$/;
const INVALID_AUTHORITY: RequestTarget = { ok: false, why: 'The request names its host in a form that is not host[:port].' };
const NOT_A_HOSTNAME: RequestTarget = { ok: false, why: "The request's host is not a DNS name: an empty label, a leading dot, or a character other than a letter, a digit, '-' or '_'." };

/** Why `authority` (host[:port]) cannot be routed, or undefined. IP literals pass: they never name a zone (421). */
function authorityRefusal(authority: string): RequestTarget | undefined {
  if (!HOST_AND_PORT.test(authority)) return INVALID_AUTHORITY;
  if (!authority.startsWith('[') && !DNS_NAME.test(authority)) return NOT_A_HOSTNAME;
  return undefined;
}

/** `rawHeaders` as Node gives them: [name, value, name, value, ...]. */
export function requestTarget(url: string, rawHeaders: readonly string[]): RequestTarget {
  let host: string | undefined;
  let authority: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name === ':authority') authority = rawHeaders[i + 1]!;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (host !== undefined) return { ok: false, why: 'The request has more than one Host header.' };
    host = rawHeaders[i + 1]!;
    if (host === '') return { ok: false, why: 'The Host header is empty.' }; // no http(s) URI has an empty host
  }
  if (authority !== undefined) {
    if (authority === '') return { ok: false, why: 'The :authority is empty.' };
    // HTTP/2 has no absolute-form: the :path of an http(s) request is a path (RFC 9113 §8.3.1).
    if (!url.startsWith('/')) return { ok: false, why: 'The :path is not a path.' };
    if (host !== undefined && host.toLowerCase() !== authority.toLowerCase()) return { ok: false, why: 'The Host header names another authority than :authority.' };
    host = authority;
  }
  if (url.startsWith('/')) {
    const refusal = host === undefined ? undefined : authorityRefusal(host);
    return refusal ?? { ok: true, authority: host, path: url };
  }
  const absolute = ABSOLUTE_FORM.exec(url);
  if (!absolute || absolute[1]!.includes('@')) return { ok: false, why: 'The request line names neither a path nor an http(s) URL with a host (and no credentials).' };
  // The Host line must be valid even where the request line's authority wins over it (§3.2).
  const refusal = authorityRefusal(absolute[1]!) ?? (host === undefined ? undefined : authorityRefusal(host));
  if (refusal) return refusal;
  const rest = absolute[2]!;
  return { ok: true, authority: absolute[1], path: rest.startsWith('/') ? rest : `/${rest}` };
}
