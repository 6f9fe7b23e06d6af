// The client's request body on its way to the origin, and what happens to the part of it undici
// leaves unread when the origin answers first (an upload it refuses or answers at the head).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2Constants, type Http2ServerRequest } from 'node:http2';
import { PassThrough, type Readable } from 'node:stream';
import { limitedBody } from './body-limit.js';

export function hasBody(req: IncomingMessage): boolean {
  // An HTTP/2 request has a body unless its headers ended the stream; it needs no Content-Length.
  if (req.httpVersionMajor === 2) return !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The body to hand undici, or null for a request without one. undici destroys the body it was
 * given when the origin's answer is complete before the body is, and a destroyed HTTP/1 request
 * leaves Node's parser stopped mid-body: the client could neither finish sending nor send its
 * next request on that connection. So an HTTP/1 body goes through a pipe (about 1.1x the edge's
 * CPU on a large upload); destroying an HTTP/2 request leaves its stream alone, so it goes as it
 * is, unless it must be counted against the limit (it declared no length; a declared one was
 * checked, and nghttp2 holds the stream to it). Either way, what is still coming once the
 * client's answer is out is dropped. With limitBytes (0: none) the body fails with
 * RequestBodyTooLarge at its first byte over, which stops the origin request.
 */
export function originRequestBody(req: IncomingMessage, res: ServerResponse, limitBytes: number): Readable | null {
  if (!hasBody(req)) return null;
  if (req.httpVersionMajor === 2) {
    const stream = (req as unknown as Http2ServerRequest).stream;
    // Node's HTTP/2 response says 'finish' only when its stream closes, which an unread body never
    // lets it do: the answer is out once the stream's own writing is. The RST_STREAM(NO_ERROR)
    // that tells the client to stop sending (RFC 9113 §8.1) waits a turn of the event loop, for
    // Node to send END_STREAM (its own server waits the same way); before it, the client's
    // answer would be cut short.
    stream.once('finish', () => req.complete || setImmediate(() => stream.close(http2Constants.NGHTTP2_NO_ERROR)));
    if (limitBytes === 0 || req.headers['content-length'] !== undefined) return req;
    return req.pipe(limitedBody(limitBytes)); // pipe unpipes on its error: the rest waits, unread
  }
  const body = req.pipe(limitBytes === 0 ? new PassThrough() : limitedBody(limitBytes));
  // The rest is read and dropped, as Node and nginx do, so that the connection stays usable
  // (the body timeout bounds a body that stops coming).
  res.once('finish', () => {
    if (req.complete) return;
    req.unpipe(body);
    body.destroy();
    req.resume();
  });
  return body;
}
