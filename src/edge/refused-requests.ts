// Requests Node's HTTP/1 parser refuses before the edge sees them: a malformed request line or
// header, a head over the limit (request-head.ts; a browser's oversized cookies), a head still
// incomplete after the headers timeout. Node answers them by itself (400, 431, 408) and nobody
// counted them, so an operator could not see clients failing on their cookies. With a
// 'clientError' listener Node leaves the answer to it: the same statuses, counted like the edge's
// other answers given before routing, and given a request id and a page saying why as they are
// (Node's had no body, so a browser showed a blank page to a user whose cookies had grown too large).
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { rawEdgeAnswer, renderEdgePage, type EdgeFailure } from './error-pages.js';
import { clientAddress } from './headers.js';
import { headTooLargeDetail } from './request-head.js';

/**
 * The status a refused request is answered with, as Node answers it; undefined for a connection
 * that broke or a client that left mid-head (Node would still answer it 400; nginx logs nothing).
 */
export function refusedRequestStatus(code: string | undefined): RefusedStatus | undefined {
  if (code === 'HPE_INVALID_EOF_STATE') return undefined; // the client ended its side mid-head
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return code?.startsWith('HPE_') ? 400 : undefined; // ECONNRESET and the like: nobody to answer
}

export type RefusedStatus = 400 | 408 | 413 | 431;

/** What the refusal's page says (the limits are the server's own, no secret). */
export function refusalFailure(status: RefusedStatus, limits: { readonly maxHeadBytes: number; readonly headersTimeoutMs: number }): EdgeFailure {
  switch (status) {
    case 431:
      return { status, detail: headTooLargeDetail(limits.maxHeadBytes) };
    case 408:
      return { status, detail: `The request's headers did not arrive whole within ${limits.headersTimeoutMs / 1000} s.` };
    case 413:
      return { status, detail: "The request body's chunk extensions are too large." };
    case 400:
      return { status, detail: 'The request is not valid HTTP/1.1: its request line or a header line is malformed.' };
  }
}

/**
 * Whether a refusal answered a request: a connection that sent nothing before the headers timeout
 * (a browser's preconnect, left unused) made none, and nginx logs none for it either.
 */
export function refusalAnsweredRequest(status: number, bytesRead: number): boolean {
  return status !== 408 || bytesRead > 0;
}

/**
 * How long a refused connection is read on after its answer, as nginx's lingering close
 * (lingering_timeout): a client still sending a large head would otherwise meet a reset for the
 * bytes the edge never read, and may lose the answer with it (curl did, with a 200 KB head).
 */
export const LINGER_MS = 5000;

/** A refused request once answered, for the metrics and the access log. */
export interface Refusal {
  readonly status: RefusedStatus;
  /** How long its head took: the headers timeout for a 408, none known otherwise. */
  readonly seconds: number;
  readonly requestId: string;
  readonly clientIp: string;
  /** The page's bytes. */
  readonly bodyBytes: number;
}

/**
 * Answers the requests `server`'s parser refuses with Node's statuses and the edge's page, and
 * tells `answered` of each. `maxHeadBytes` is the server's maxHeaderSize, for the 431's page.
 */
export function answerRefusedRequests(server: HttpServer, maxHeadBytes: number, answered: (refusal: Refusal) => void): void {
  // Connections answered and lingering: Node's parser fails again on each chunk they send.
  const lingering = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (lingering.has(socket)) return;
    const status = refusedRequestStatus(error.code);
    // As Node: no status line in the middle of an answer already going out (to a request pipelined
    // before the refused one). Node keeps that answer on the socket's _httpMessage.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (status !== undefined && socket.writable && !answering) {
      const requestId = randomUUID();
      const failure = refusalFailure(status, { maxHeadBytes, headersTimeoutMs: server.headersTimeout });
      // HTML: the request's Accept header is not to be trusted, if it was read at all.
      const page = renderEdgePage(failure, requestId, false);
      // The answer, then the connection's end; what the client still sends is read and dropped
      // until it closes its side or LINGER_MS pass.
      socket.end(rawEdgeAnswer(failure, requestId, page));
      lingering.add(socket);
      const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
      socket.once('close', () => clearTimeout(linger));
      if (refusalAnsweredRequest(status, (socket as Socket).bytesRead)) {
        const seconds = status === 408 ? server.headersTimeout / 1000 : 0;
        answered({ status, seconds, requestId, clientIp: clientAddress((socket as Socket).remoteAddress), bodyBytes: Buffer.byteLength(page.body) });
      }
      return;
    }
    socket.destroy();
  });
}
