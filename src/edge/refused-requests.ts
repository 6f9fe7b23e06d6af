// Requests Node's HTTP/1 parser refuses before the edge sees them: a malformed request line or
// header, a head over 16 KiB (a browser's oversized cookies), a head still incomplete after the
// headers timeout. Node answers them by itself (400, 431, 408) and nobody counted them, so an
// operator could not see clients failing on their cookies. With a 'clientError' listener Node
// leaves the answer to it: the same answers, counted like the edge's other answers given before
// routing, and given a request id as they are.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { clientAddress, REQUEST_ID_HEADER } from './headers.js';

/**
 * The status a refused request is answered with, as Node answers it; undefined for a connection
 * that broke or a client that left mid-head (Node would still answer it 400; nginx logs nothing).
 */
export function refusedRequestStatus(code: string | undefined): number | undefined {
  if (code === 'HPE_INVALID_EOF_STATE') return undefined; // the client ended its side mid-head
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return code?.startsWith('HPE_') ? 400 : undefined; // ECONNRESET and the like: nobody to answer
}

/**
 * Whether a refusal answered a request: a connection that sent nothing before the headers timeout
 * (a browser's preconnect, left unused) made none, and nginx logs none for it either.
 */
export function refusalAnsweredRequest(status: number, bytesRead: number): boolean {
  return status !== 408 || bytesRead > 0;
}

/**
 * How often Node checks heads against the headers timeout (the 408s above): it checks every 30 s
 * by default, so a head could take the timeout and up to 30 s more. A quarter of the timeout keeps
 * the overshoot a quarter, at one pass over the open connections each time.
 */
export function headerTimeoutCheckMs(timeoutMs: number): number {
  return Math.min(30_000, Math.max(100, Math.round(timeoutMs / 4)));
}

/** A refused request once answered, for the metrics and the access log. */
export interface Refusal {
  readonly status: number;
  /** How long its head took: the headers timeout for a 408, none known otherwise. */
  readonly seconds: number;
  readonly requestId: string;
  readonly clientIp: string;
}

/** Answers the requests `server`'s parser refuses as Node does, with a request id, and tells `answered` of each. */
export function answerRefusedRequests(server: HttpServer, answered: (refusal: Refusal) => void): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const status = refusedRequestStatus(error.code);
    // As Node: no status line in the middle of an answer already going out (to a request pipelined
    // before the refused one). Node keeps that answer on the socket's _httpMessage.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (status !== undefined && socket.writable && !answering) {
      const requestId = randomUUID();
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nConnection: close\r\n\r\n`);
      if (refusalAnsweredRequest(status, (socket as Socket).bytesRead)) {
        const seconds = status === 408 ? server.headersTimeout / 1000 : 0;
        answered({ status, seconds, requestId, clientIp: clientAddress((socket as Socket).remoteAddress) });
      }
    }
    socket.destroy();
  });
}
