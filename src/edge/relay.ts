// Relays one origin response to the client, as an undici dispatch handler: headers when they
// arrive, body chunks with backpressure (the origin is paused while the client is slow), and an
// abort of the origin request when the client leaves. Using dispatch() directly rather than
// Pool.stream() saves, per request, the AsyncResource, the promise, the AbortSignal listeners
// and the stream.finished() listeners that stream() adds around the same handler. A client that
// takes none of its answer for the send timeout is cut off (send-watch.ts). A request may wait
// for a connection in the edge's queue first (connection-queue.ts).
import type { ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { cutAnswer } from './cut-answer.js';
import { passableReason } from './headers.js';
import { watchClientSend, type SendWatch } from './send-watch.js';
import type { NoOriginConnectionInTime, QueueableHandler } from './connection-queue.js';

type Controller = Dispatcher.DispatchController;

export interface RelayEvents {
  /** The origin's status and headers arrived; returns the headers to send to the client. */
  headers(statusCode: number, headers: IncomingHttpHeaders): Record<string, string | string[]>;
  /** The exchange failed before the client got a status line: the edge answers instead. */
  failed(error: Error): void;
  /** The exchange failed after the client got the status line: the response is cut short. */
  cutShort(error: Error): void;
  /** The client took none of its answer for the send timeout: it is cut off, the origin request stopped. */
  clientStalled(): void;
}

const CLIENT_GONE = Object.assign(new Error('the client closed the connection'), { code: 'STRICTEDGE_CLIENT_GONE' });
const CLIENT_STALLED = Object.assign(new Error('the client took none of its answer for the send timeout'), { code: 'STRICTEDGE_CLIENT_SEND_TIMEOUT' });

export class OriginResponseRelay implements QueueableHandler {
  /** Set once undici gives the request a connection. */
  #controller: Controller | undefined;
  #clientGone = false;
  #abortedWith: Error | undefined;
  /** Made the first time the client falls behind: most answers never wait on their client. */
  #watch: SendWatch | undefined;

  /** sendTimeoutMs: how long the client may take none of its answer (0: for ever). */
  constructor(
    private readonly res: ServerResponse,
    private readonly events: RelayEvents,
    private readonly sendTimeoutMs: number,
  ) {}

  get #sendWatch(): SendWatch {
    return (this.#watch ??= watchClientSend(this.res, this.sendTimeoutMs, () => this.#stalled()));
  }

  /** The client went away before the response was complete: stop asking the origin. */
  clientGone(): void {
    this.#clientGone = true;
    this.#watch?.flowing();
    this.#controller?.abort(CLIENT_GONE);
  }

  /**
   * Stops the origin request with `error`, which `failed` gets if the client has no status line
   * yet: at once for a request still waiting for a connection, which is then never sent. The
   * first error stands.
   */
  abort(error: Error): void {
    if (this.#abortedWith) return;
    this.#abortedWith = error;
    if (this.#controller) return this.#controller.abort(error);
    if (!this.#clientGone) this.events.failed(error);
  }

  get wanted(): boolean {
    return !this.#clientGone && !this.#abortedWith;
  }

  /** It waited in the edge's queue for a connection too long (connection-queue.ts): 522. */
  expire(error: NoOriginConnectionInTime): void {
    this.abort(error);
  }

  #stalled(): void {
    if (this.#clientGone || this.res.destroyed) return;
    this.#clientGone = true;
    this.events.clientStalled();
    this.#controller?.abort(CLIENT_STALLED);
    cutAnswer(this.res);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    // The client left, or the request failed, while its connection was being made: this abort
    // closes that connection too. One that does so while still in the edge's queue is never
    // handed to undici (connection-queue.ts), and no connection is lost for it.
    if (this.#clientGone) controller.abort(CLIENT_GONE);
    else if (this.#abortedWith) controller.abort(this.#abortedWith);
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) {
      if (statusCode === 103) this.#passEarlyHints(headers.link);
      return; // other 1xx interim answers stay between edge and origin
    }
    const out = this.events.headers(statusCode, headers);
    if (statusCode === 204) delete out['content-length']; // never allowed on a 204 (RFC 9110 §8.6), as nginx drops it
    try {
      // The origin's own reason phrase goes on, as nginx passes it; an empty or odd one gets Node's.
      const reason = this.res.req.httpVersionMajor === 1 ? passableReason(statusMessage) : undefined;
      if (reason !== undefined) this.res.writeHead(statusCode, reason, out);
      else this.res.writeHead(statusCode, out);
    } catch (error) {
      // Node refused a header line the origin sent. Left alone, the client would wait for an
      // answer that never comes: it gets the edge's 520, with none of the origin's headers.
      for (const name of this.res.getHeaderNames()) this.res.removeHeader(name);
      this.events.failed(error as Error);
      this.#controller?.abort(error as Error);
      return;
    }
    // A 204 or 304 has no body, so the client's answer is complete now. undici 7 still holds a
    // 304's Content-Length (the size of the representation, which RFC 9110 allows) against the
    // empty body and fails the exchange; that must not cut an answer the client already has.
    if (statusCode === 204 || statusCode === 304) this.res.end();
  }

  /**
   * An origin's 103 Early Hints go on to the client, Link alone (what browsers act on), so that
   * the client can fetch those resources while the origin works (HTTP/1.1 and HTTP/2). Never to
   * an HTTP/1.0 client, which must not get a 1xx (RFC 9110 §15.2).
   */
  #passEarlyHints(link: string | string[] | undefined): void {
    const req = this.res.req;
    if (link === undefined || this.res.headersSent || (req.httpVersionMajor === 1 && req.httpVersionMinor === 0)) return;
    try {
      this.res.writeEarlyHints({ link });
    } catch {
      // Node refuses a Link value it cannot vouch for as a header line; the hint is only a hint.
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.res.writableEnded) return;
    if (this.res.write(chunk)) return;
    controller.pause();
    this.#sendWatch.waiting();
    this.res.once('drain', () => {
      this.#sendWatch.flowing();
      controller.resume();
    });
  }

  onResponseEnd(): void {
    if (this.res.writableEnded) return;
    this.res.end();
    // The origin is done, but the client may not have taken the last bytes: watched until it does.
    if (this.res.writableFinished || this.res.destroyed) return;
    this.#sendWatch.waiting();
    this.res.once('finish', () => this.#sendWatch.flowing());
  }

  onResponseError(_controller: Controller, error: Error): void {
    if (this.#clientGone || this.res.writableEnded) return; // nobody to tell, or the answer is complete
    // After the status line the only honest signal left is to cut the response short.
    if (!this.res.headersSent) return this.events.failed(error);
    this.events.cutShort(error);
    cutAnswer(this.res);
  }
}
