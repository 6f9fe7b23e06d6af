// The body bytes an answer sent its client, for the access log (nginx's $body_bytes_sent, Caddy's
// size): counted where every writer of an answer passes, its write() and end(), so that the
// origin's bodies, the edge's own pages and anything added later are counted alike. Only answers
// the access log records are counted; with the log off nothing is wrapped.
import type { ServerResponse } from 'node:http';

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0; // end(callback) passes none
}

/**
 * Counts the body bytes written to `res` from now on; the returned function tells how many. Like
 * nginx's count of what it passed to the kernel, an answer cut short counts what was handed to
 * the client's connection, some of which may not have reached the client. A HEAD answer's body is
 * never sent, so it counts none.
 */
export function countBodyBytes(res: ServerResponse): () => number {
  let written = 0;
  // HTTP/2's end(chunk) writes its chunk through write(), HTTP/1's does not: counted once either way.
  let ending = false;
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (!ending) written += byteLength(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    written += byteLength(chunk, rest[0]);
    ending = true;
    try {
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } finally {
      ending = false;
    }
  } as ServerResponse['end'];
  return () => (res.req.method === 'HEAD' ? 0 : written);
}
