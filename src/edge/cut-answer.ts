// Cutting a client's answer short so that the client can tell it is short. Over HTTP/1.1 the
// connection is closed: the body stops before its length or its last chunk. Over HTTP/2 the
// stream is reset with INTERNAL_ERROR, as nginx resets a stream whose upstream failed
// mid-answer. Node's plain destroy() resets it with NO_ERROR, which without END_STREAM reads as a
// complete answer to clients: curl exits 0 and Node's client ends the body, so a truncated file
// could be kept as whole.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

const CUT = new Error('the edge cut the answer short');

export function cutAnswer(res: ServerResponse): void {
  // Destroyed with an error, Node resets with INTERNAL_ERROR. Not close(code): that says
  // 'aborted' before it resets, and the handler that destroys a stream its client reset
  // (client-http2.ts) would destroy it first, so that the reset was never sent.
  if (res.req.httpVersionMajor === 2) (res as unknown as Http2ServerResponse).stream.destroy(CUT);
  else res.destroy();
}
