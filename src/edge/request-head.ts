// How large a request's head may be, as nginx's large_client_header_buffers: an origin behind the
// edge can rely on never being sent more, whichever protocol the client spoke. Node's HTTP/1
// parser holds a head (request line and header lines) to its server's maxHeaderSize and answers
// 431 past it (refused-requests.ts counts and logs it). Node's HTTP/2 has no such bound (nghttp2
// takes header lists up to the session's memory), so a head refused over HTTP/1.1 went to the
// origin over HTTP/2. The edge measures an HTTP/2 request's head as HTTP/1.1 would carry it and
// holds it to the same limit.
export const KIB = 1024;
/** Node's default maxHeaderSize. */
export const DEFAULT_MAX_REQUEST_HEAD_KIB = 16;
/** Above this a head is no longer a head: 1 MiB. */
export const MAX_REQUEST_HEAD_KIB = 1024;

/**
 * An HTTP/2 request's head in HTTP/1.1's bytes: each field's name, ": ", value and CRLF, the
 * pseudo-headers (:method, :path, :scheme, :authority) standing in for the request line.
 */
export function http2HeadBytes(rawHeaders: readonly string[]): number {
  let bytes = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) bytes += rawHeaders[i]!.length + rawHeaders[i + 1]!.length + 4;
  return bytes;
}

/** What a 431 says: the limit, which is no secret. */
export function headTooLargeDetail(limitBytes: number): string {
  return `The request's headers are larger than this edge passes to origins (${limitBytes / KIB} KiB): often too many or too large cookies.`;
}
