// nginx's client_body_timeout: a request body that stops coming is given up on after the body
// timeout (60 s), over HTTP/1.1 and HTTP/2 alike. Before any answer the origin request is stopped
// and the client gets 408; once its answer is out, the connection (HTTP/1.1) or stream (HTTP/2)
// that still waits for the rest of the body is closed. Only the gaps count: Node's own
// requestTimeout, which bounded a whole HTTP/1.1 request however steadily it came (300 s), is off
// at the edge (a 100 MiB upload over a 2 Mbit/s uplink takes 7 minutes), and nginx has no such
// bound either. Nor does time in which the edge holds the body back count: an origin slow to take
// it, or not reached yet.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2Constants, type Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';

/** A request body that stopped coming for the body timeout: the origin request stops, the client gets 408. */
export class RequestBodyTimedOut extends Error {
  readonly code = 'STRICTEDGE_BODY_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no byte of the request body for ${timeoutMs} ms`);
  }
}

/** What a 408 says. */
export function bodyTimedOutDetail(timeoutMs: number): string {
  return `The request body stopped coming for ${timeoutMs / 1000} s; the edge gave up on it.`;
}

/** What the client's connection looked like after a body timeout with nothing received. */
export interface IdleBody {
  /** The answer is out whole: the rest of the body is only waited for to be dropped. */
  readonly answerSent: boolean;
  /** The answer has begun (its status line is out). */
  readonly answerStarted: boolean;
  /** The edge is taking the body (not holding it back for the origin, nor before reaching one). */
  readonly edgeReading: boolean;
}

/**
 * cut: close what still waits for the body (the answer is out); give_up: stop the origin request
 * and answer 408; wait: the time was not the client's, or its answer is still going out.
 */
export function bodyIdleAction(body: IdleBody): 'cut' | 'give_up' | 'wait' {
  if (body.answerSent) return 'cut';
  if (body.answerStarted || !body.edgeReading) return 'wait';
  return 'give_up';
}

/**
 * Watches a request's body until it has all come: after each timeoutMs in which none of it came,
 * acts as bodyIdleAction says; `giveUp` stops the origin request and answers 408.
 */
export function watchRequestBody(req: IncomingMessage, res: ServerResponse, timeoutMs: number, giveUp: () => void): void {
  const act = (cut: () => void, wait: () => void) => {
    const action = bodyIdleAction({ answerSent: res.writableFinished, answerStarted: res.headersSent, edgeReading: req.readableFlowing === true });
    if (action === 'cut') cut();
    else if (action === 'wait') wait();
    else giveUp();
  };
  if (req.httpVersionMajor === 2) {
    // The stream's own timer, which frames either way on this stream put off; it fires once per arming.
    const stream = (req as unknown as Http2ServerRequest).stream;
    const onTimeout = () => act(() => stream.close(http2Constants.NGHTTP2_NO_ERROR), () => stream.setTimeout(timeoutMs, onTimeout));
    stream.setTimeout(timeoutMs, onTimeout);
    req.once('end', () => stream.setTimeout(0));
    return;
  }
  // Not the socket's timer, which Node's server uses for keep-alive between requests: bytes read
  // on the connection tell whether any of the body came.
  const socket = req.socket as Socket;
  let seen = socket.bytesRead;
  const timer = setTimeout(() => {
    if (socket.destroyed || req.complete) return;
    if (socket.bytesRead !== seen) {
      seen = socket.bytesRead;
      return void timer.refresh();
    }
    act(() => socket.destroy(), () => timer.refresh());
  }, timeoutMs);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
}
