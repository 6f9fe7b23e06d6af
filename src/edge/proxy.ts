// The edge's request handler: Host (or the request line's authority) -> zone -> mode -> origin
// pool, streaming both ways (request body to the origin by undici, response back by
// OriginResponseRelay).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import { accessEntry, type AccessLog } from './access-log.js';
import { countBodyBytes } from './body-bytes.js';
import { bodyTooLargeDetail, declaredBodyTooLarge, RequestBodyTooLarge } from './body-limit.js';
import { headTooLargeDetail, http2HeadBytes } from './request-head.js';
import { classifyOriginError, sendAgainOnAnotherConnection } from './classify.js';
import { CDN_LOOP_HEADER, listsCdnId } from './cdn-loop.js';
import { LOOP_DETECTED, NO_ZONE, OTHER_ZONE, TRACE_REFUSED, sendEdgeError, type EdgeFailure } from './error-pages.js';
import { createCutShortReporter, createFailureReporter } from './failure-report.js';
import { clientAddress, clientResponseHeaders, originRequestHeaders, requestIdFor, REQUEST_ID_HEADER } from './headers.js';
import { hasBody, originRequestBody } from './request-body.js';
import { bodyTimedOutDetail, RequestBodyTimedOut, watchRequestBody } from './body-timeout.js';
import { requestTarget } from './request-target.js';
import { decideRoute, type Scheme } from './route.js';
import { OriginResponseRelay } from './relay.js';
import type { Upstreams } from './upstream.js';
import type { EdgeInstruments } from './instruments.js';
import { hostOf, servesOnConnection, type EdgeZone, type ZoneTable } from './zone-table.js';
import type { Verdict } from './verify.js';

export interface ProxyDeps {
  readonly zones: () => ZoneTable;
  readonly upstreams: Upstreams;
  readonly logger: Logger;
  readonly instruments: EdgeInstruments;
  /** This edge's id in CDN-Loop (cdn-loop.ts). */
  readonly cdnId: string;
  /** The largest request body passed to an origin, in bytes; 0 for no limit (body-limit.ts). */
  readonly maxRequestBodyBytes: number;
  /** The largest request head, HTTP/1's and HTTP/2's alike, in bytes (request-head.ts). */
  readonly maxRequestHeadBytes: number;
  /** One line per answered request (--access-log); absent, nothing is recorded. */
  readonly accessLog?: AccessLog;
  /** How long a client may take none of its answer before it is cut off (send-watch.ts); 0 for ever. */
  readonly clientSendTimeoutMs: number;
  /** How long a request body may stop coming before the client gets 408 (body-timeout.ts); 0 for ever. */
  readonly clientBodyTimeoutMs: number;
}

/**
 * The code a finished request is counted under: its status, or 499 (nginx's "client closed
 * request") when the client left before any status line, where Node would still say 200.
 */
function answeredCode(res: ServerResponse): number {
  return res.headersSent ? res.statusCode : 499;
}

/** Records a request once it is answered (or its client left), with what routing learned of it. */
function recordAccess(accessLog: AccessLog, req: IncomingMessage, res: ServerResponse, scheme: Scheme, startedAt: number, requestId: string, routed: () => { host?: string; zone?: EdgeZone; verdict?: Verdict; originHeadAt?: number }) {
  // Read now: an HTTP/2 stream's socket may be gone by the time it closes.
  const clientIp = clientAddress(req.socket.remoteAddress);
  const bodyBytesSent = countBodyBytes(res);
  res.once('close', () => accessLog.write(accessEntry({ req, scheme, startedAt, answeredAt: performance.now(), requestId, clientIp, ...routed(), status: answeredCode(res), bodyBytesSent: bodyBytesSent() })));
}

/**
 * 408, the client's doing, like a 413: counted under the zone, not logged. What is left of an
 * HTTP/1 body will not come, so its connection cannot go on.
 */
function answerBodyTimedOut(req: IncomingMessage, res: ServerResponse, error: RequestBodyTimedOut, requestId: string): void {
  if (req.httpVersionMajor === 1) res.setHeader('connection', 'close');
  sendEdgeError(req, res, { status: 408, detail: bodyTimedOutDetail(error.timeoutMs) }, requestId);
}

export function createProxy({ zones, upstreams, logger, instruments, cdnId, maxRequestBodyBytes, maxRequestHeadBytes, accessLog, clientSendTimeoutMs, clientBodyTimeoutMs }: ProxyDeps) {
  const unknownZone = instruments.forZone('unknown');
  /** An answer the edge gives before any zone is known (400, 421) is counted under zone "unknown". */
  const countAsUnknown = (res: ServerResponse, startedAt: number) =>
    res.once('close', () => unknownZone.answered('none', answeredCode(res), (performance.now() - startedAt) / 1000));

  const reportOriginFailure = createFailureReporter(logger, instruments);
  const reportCutShort = createCutShortReporter(logger, instruments);

  function fail(req: IncomingMessage, res: ServerResponse, failure: EdgeFailure, requestId: string, zone: string, error?: unknown): void {
    reportOriginFailure(zone, failure, requestId, error);
    sendEdgeError(req, res, failure, requestId);
  }

  // Connections that carried a malformed request: requests pipelined behind it on the same
  // connection were parsed already, but none of them reaches an origin.
  const distrusted = new WeakSet<object>();

  // HTTP/1 requests a client pipelines, waiting for their turn (see handle), by connection.
  const waiting = new WeakMap<object, number>();
  function waitForTurn(req: IncomingMessage, res: ServerResponse, scheme: Scheme, continueAwaited: boolean): void {
    const connection = req.socket;
    waiting.set(connection, (waiting.get(connection) ?? 0) + 1);
    connection.pause();
    res.once('socket', () => {
      const left = waiting.get(connection)! - 1;
      waiting.set(connection, left);
      if (left === 0) connection.resume();
      handle(req, res, scheme, continueAwaited);
    });
  }

  /**
   * continueAwaited: the client sent `Expect: 100-continue` (Node's 'checkContinue'), and waits
   * for a 100 before it sends the body. It gets one only once the request goes to an origin; any
   * answer of the edge's own comes instead, so a body that would be refused is never sent.
   */
  function handle(req: IncomingMessage, res: ServerResponse, scheme: Scheme, continueAwaited = false): void {
    if (distrusted.has(req.socket)) return void res.destroy();
    // Node hands over every request a client pipelines at once, though it answers them in
    // order: one connection could hold an origin connection for each request it pipelined. A request
    // whose answer waits its turn (Node has not given it the connection yet) is handled when its
    // turn comes, one after another as nginx does, and the connection is read no further meanwhile.
    if (!res.socket && req.httpVersionMajor === 1) return waitForTurn(req, res, scheme, continueAwaited);
    const startedAt = performance.now();
    const requestId = requestIdFor(req);
    // What routing learns, for the access log: the zone only once the request is counted under it.
    let loggedHost: string | undefined;
    let loggedZone: EdgeZone | undefined;
    let loggedVerdict: Verdict | undefined;
    let originHeadAt: number | undefined; // performance.now() when the origin's answer head came
    if (accessLog) recordAccess(accessLog, req, res, scheme, startedAt, requestId, () => ({ host: loggedHost, zone: loggedZone, verdict: loggedVerdict, originHeadAt }));
    let relay: OriginResponseRelay | undefined;
    if (clientBodyTimeoutMs > 0 && hasBody(req)) {
      watchRequestBody(req, res, clientBodyTimeoutMs, () => {
        const timedOut = new RequestBodyTimedOut(clientBodyTimeoutMs);
        // The origin request fails with it, and `failed` below answers 408.
        if (relay) relay.abort(timedOut);
        else answerBodyTimedOut(req, res, timedOut, requestId);
      });
    }
    // HTTP/1's parser has held the head to the limit already (refused-requests.ts).
    if (req.httpVersionMajor === 2 && http2HeadBytes(req.rawHeaders) > maxRequestHeadBytes) {
      countAsUnknown(res, startedAt);
      return sendEdgeError(req, res, { status: 431, detail: headTooLargeDetail(maxRequestHeadBytes) }, requestId);
    }
    const target = requestTarget(req.url ?? '/', req.rawHeaders);
    if (!target.ok) {
      countAsUnknown(res, startedAt);
      // The client's fault: no origin is involved or blamed, and an HTTP/1 connection ends with
      // the answer (an HTTP/2 stream ends by itself, and the others on its connection are whole).
      if (req.httpVersionMajor === 1) {
        distrusted.add(req.socket);
        res.setHeader('connection', 'close');
      }
      return sendEdgeError(req, res, { status: 400, detail: target.why }, requestId);
    }
    if (req.method === 'TRACE') {
      countAsUnknown(res, startedAt);
      return sendEdgeError(req, res, { status: 405, detail: TRACE_REFUSED }, requestId);
    }
    const host = hostOf(target.authority);
    loggedHost = host;
    const table = zones();
    const zone = host === undefined ? undefined : table.lookup(host);
    if (!zone || host === undefined) {
      countAsUnknown(res, startedAt);
      // Counted, not logged: no origin is involved, and a scanner's random names would flood the log.
      return sendEdgeError(req, res, { status: 421, detail: NO_ZONE }, requestId);
    }
    if (!servesOnConnection(table, zone, (req.socket as TLSSocket).servername)) {
      countAsUnknown(res, startedAt);
      return sendEdgeError(req, res, { status: 421, detail: OTHER_ZONE }, requestId);
    }
    loggedZone = zone;
    const metrics = instruments.forZone(zone.name);
    const decision = decideRoute(zone, scheme);
    if (decision.kind === 'redirect_to_http') {
      res.once('close', () => metrics.answered(zone.mode, answeredCode(res), (performance.now() - startedAt) / 1000));
      // Same name, plain scheme, default port (the client's :443-style port would be wrong for HTTP).
      res.writeHead(301, { location: `http://${host}${target.path}`, [REQUEST_ID_HEADER]: requestId, 'content-length': 0 });
      res.end();
      return;
    }
    metrics.inflight++;
    // One listener for both jobs: the request's metrics, and stopping the origin if the client left early.
    res.once('close', () => {
      metrics.inflight--;
      metrics.answered(zone.mode, answeredCode(res), (performance.now() - startedAt) / 1000);
      if (relay && !res.writableFinished) relay.clientGone();
    });
    if (decision.kind === 'no_origin') return fail(req, res, { status: 521 }, requestId, zone.name);
    if (listsCdnId(req.headers[CDN_LOOP_HEADER] as string | undefined, cdnId)) return fail(req, res, { status: 508, detail: LOOP_DETECTED }, requestId, zone.name);
    // The client's doing, not the origin's: counted under the zone's 413s, not logged.
    const tooLarge = () => sendEdgeError(req, res, { status: 413, detail: bodyTooLargeDetail(maxRequestBodyBytes) }, requestId);
    if (declaredBodyTooLarge(req.headers['content-length'], maxRequestBodyBytes)) return tooLarge();

    const originRequest = {
      path: target.path,
      method: req.method as 'GET',
      headers: originRequestHeaders(req, scheme, requestId, target.authority!, cdnId),
      body: originRequestBody(req, res, maxRequestBodyBytes),
    };
    const send = (retried: boolean) => {
      relay = new OriginResponseRelay(res, {
        headers(_statusCode, headers) {
          originHeadAt = performance.now();
          metrics.ttfb((originHeadAt - startedAt) / 1000);
          return clientResponseHeaders(headers as Record<string, string | string[]>, requestId, req.httpVersionMajor === 2);
        },
        failed: (error) => {
          if (error instanceof RequestBodyTooLarge) return tooLarge();
          if (error instanceof RequestBodyTimedOut) return answerBodyTimedOut(req, res, error, requestId);
          if (!retried && sendAgainOnAnotherConnection(originRequest.method, originRequest.body !== null, error)) {
            metrics.retried();
            return send(true);
          }
          const failure = classifyOriginError(error);
          loggedVerdict = failure.verdict;
          fail(req, res, failure, requestId, zone.name, error);
        },
        cutShort: (error) => reportCutShort(zone.name, res.statusCode, requestId, error),
        clientStalled: () => {
          metrics.clientStalled();
          if (logger.enabled('info')) logger.log('info', 'client took none of its answer: cut off', { zone: zone.name, status: res.statusCode, request_id: requestId, send_timeout_ms: clientSendTimeoutMs });
        },
      }, clientSendTimeoutMs);
      // Looked up for each send: a request sent again may find its first pool replaced (upstream.ts).
      upstreams.pool(decision.policy, decision.origin, host, zone.name).dispatch(originRequest, relay);
    };
    if (continueAwaited) res.writeContinue();
    send(false);
  }
  return handle;
}
