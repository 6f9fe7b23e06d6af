// The largest request body the edge passes to an origin, as Cloudflare's plan limits (100 MB on
// its Free and Pro plans) and nginx's client_max_body_size: an origin behind the edge can rely on
// never being sent more. A declared Content-Length over it is answered 413 before any byte of the
// body is asked for (no 100 Continue); a body without one (chunked, or HTTP/2 without
// content-length) is counted on its way and the origin request stopped at the first byte over.
import { Transform, type TransformCallback } from 'node:stream';

export const MIB = 1024 * 1024;
/** Cloudflare's limit on its Free and Pro plans. */
export const DEFAULT_MAX_REQUEST_BODY_MIB = 100;
/** Above this a limit means nothing: 1 TiB. */
export const MAX_REQUEST_BODY_MIB = 1024 * 1024;

/** What a 413 says: the limit, which is no secret (Cloudflare publishes its own). */
export function bodyTooLargeDetail(limitBytes: number): string {
  return `The request body is larger than this edge passes to origins (${limitBytes / MIB} MiB).`;
}

/**
 * Whether a request's declared length is over the limit (0: no limit). Node has already refused
 * a Content-Length that is not a number, or two that differ, with 400.
 */
export function declaredBodyTooLarge(contentLength: string | undefined, limitBytes: number): boolean {
  if (limitBytes === 0 || contentLength === undefined) return false;
  return Number(contentLength) > limitBytes;
}

export class RequestBodyTooLarge extends Error {
  readonly code = 'STRICTEDGE_BODY_TOO_LARGE';
  constructor(readonly limitBytes: number) {
    super(`request body over ${limitBytes} bytes`);
  }
}

/** Passes a body through and fails with RequestBodyTooLarge at the first byte past limitBytes. */
export function limitedBody(limitBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > limitBytes) return callback(new RequestBodyTooLarge(limitBytes));
      callback(null, chunk);
    },
  });
}
