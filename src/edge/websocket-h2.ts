// WebSockets over HTTP/2 (RFC 8441). A browser that already has an h2 connection to the edge
// opens a WebSocket on it as an extended CONNECT stream (`:protocol: websocket`) rather than as a
// new HTTP/1.1 connection. Origins speak HTTP/1.1, so the edge asks the origin for the HTTP/1.1
// upgrade it knows (GET with `Upgrade: websocket` and a Sec-WebSocket-Key of the edge's own:
// RFC 8441 §5 has no key or accept on HTTP/2), checks the origin's 101 against that key, answers
// the stream 200 and then carries the WebSocket frames both ways, as HAProxy does. Routing,
// origin verification, the 52x codes and the origin timeout are those of an HTTP/1.1 upgrade.
// Node's HTTP/1 client reads the origin's answer (requestOriginUpgrade).
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2Constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { cutAnswer } from './cut-answer.js';
import { countBodyBytes } from './body-bytes.js';
import { sendEdgeError, type EdgeFailure } from './error-pages.js';
import { classifyOriginError } from './classify.js';
import { createFailureReporter } from './failure-report.js';
import { clientResponseHeaders, originRequestHeaders, requestIdFor, REQUEST_ID_HEADER } from './headers.js';
import { connectUpgradeOrigin, countBytesFrom, requestOriginUpgrade, routeUpgrade, upgradeCounter, upgradeError, type UpgradeDeps, type UpgradeRoute } from './websocket.js';
import { headTooLargeDetail, http2HeadBytes } from './request-head.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const EDGE_HANDSHAKE_HEADER = /^sec-websocket-(key|accept)$/i;

/** The Sec-WebSocket-Accept an origin must answer `key` with (RFC 6455 §4.2.2). */
function websocketAccept(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

export function createHttp2UpgradeHandler(deps: UpgradeDeps) {
  const reportOriginFailure = createFailureReporter(deps.logger, deps.instruments);
  return function upgradeHttp2(h2req: Http2ServerRequest, h2res: Http2ServerResponse): void {
    // Node's compatibility objects stand in for HTTP/1's where the edge's helpers read them.
    const req = h2req as unknown as IncomingMessage;
    const res = h2res as unknown as ServerResponse;
    const stream = h2req.stream;
    const requestId = requestIdFor(req);
    // Held to HTTP/1's limit on a head, as the proxy holds HTTP/2's plain requests (request-head.ts).
    const route: UpgradeRoute =
      http2HeadBytes(req.rawHeaders) > deps.maxRequestHeadBytes
        ? { kind: 'refuse', failure: { status: 431, detail: headTooLargeDetail(deps.maxRequestHeadBytes) }, zoneName: 'unknown', logged: {} }
        : routeUpgrade(deps.zones, req, (req.socket as TLSSocket).servername, 'https', deps.cdnId);
    const count = upgradeCounter(deps, req, 'https', requestId, route);
    /** The edge's page on the stream; returns its body bytes when they are logged. */
    const edgePage = (failure: EdgeFailure): number => {
      const bodyBytes = count.logging ? countBodyBytes(res) : undefined;
      sendEdgeError(req, res, failure, requestId);
      return bodyBytes?.() ?? 0;
    };
    if (route.kind === 'refuse') return count.answered(route.failure.status, edgePage(route.failure));
    if (route.kind === 'redirect') {
      count.answered(301, 0);
      res.writeHead(301, { location: route.location, [REQUEST_ID_HEADER]: requestId, 'content-length': '0' });
      return void res.end();
    }
    let settled = false; // the stream has its answer: the edge's, the origin's refusal, or 200
    // The client left first: nobody to answer, nothing to blame.
    const clientLeft = () => {
      if (settled) return;
      settled = true;
      count.answered(499, 0);
    };
    const fail = (failure: EdgeFailure, error: unknown) => {
      if (stream.destroyed) return clientLeft();
      if (settled) return;
      settled = true;
      reportOriginFailure(route.zoneName, failure, requestId, error, true);
      count.answered(failure.status, edgePage(failure), failure.verdict);
    };

    connectUpgradeOrigin(deps, route).then(
      (origin) => {
        if (stream.destroyed) {
          origin.destroy();
          return clientLeft();
        }
        const key = randomBytes(16).toString('base64');
        const headers: string[] = [];
        const forwarded = originRequestHeaders(req, 'https', requestId, route.authority, deps.cdnId);
        for (let i = 0; i < forwarded.length; i += 2) {
          // The key is the edge's own: a client's stray one would make two.
          if (!EDGE_HANDSHAKE_HEADER.test(forwarded[i]!)) headers.push(forwarded[i]!, forwarded[i + 1]!);
        }
        headers.push('connection', 'Upgrade', 'upgrade', 'websocket', 'sec-websocket-key', key);
        const pending = requestOriginUpgrade(origin, route.path, headers, deps.responseTimeoutMs, {
          switched(answer, socket, head) {
            if (stream.destroyed) {
              socket.destroy();
              return clientLeft();
            }
            if (answer.headers['sec-websocket-accept'] !== websocketAccept(key)) {
              socket.destroy();
              return fail({ status: 520 }, upgradeError("the origin's 101 does not accept the edge's Sec-WebSocket-Key", 'STRICTEDGE_UPGRADE_BAD_ACCEPT'));
            }
            settled = true;
            const open = count.opened(200);
            const sent = count.logging ? countBytesFrom(socket, head.length) : () => 0;
            deps.tunnels.add(stream);
            stream.once('close', () => {
              deps.tunnels.delete(stream);
              open.close(sent());
            });
            const agreed: Record<string, string> = { [REQUEST_ID_HEADER]: requestId };
            for (const name of ['sec-websocket-protocol', 'sec-websocket-extensions']) {
              const value = answer.headers[name];
              if (typeof value === 'string') agreed[name] = value;
            }
            res.writeHead(200, agreed);
            socket.on('error', () => socket.destroy());
            stream.on('error', () => stream.destroy());
            // An origin that ended cleanly has ended the stream through the pipe (END_STREAM); one
            // that went away without ending resets it with CONNECT_ERROR, as a proxy passes a TCP
            // reset on (RFC 9113 §8.5), never with the NO_ERROR of destroy().
            socket.once('close', () => {
              if (!stream.writableEnded) stream.close(http2Constants.NGHTTP2_CONNECT_ERROR);
            });
            stream.once('close', () => socket.destroy());
            // Every frame either way passes through the stream, so its timer is the WebSocket's.
            stream.setTimeout(deps.idleTimeoutMs, () => stream.destroy());
            if (head.length) stream.write(head);
            socket.pipe(stream);
            stream.pipe(socket);
          },
          answered(answer) {
            if (stream.destroyed) {
              answer.destroy();
              return clientLeft();
            }
            // A 2xx without the upgrade would tell the client its WebSocket is open (RFC 8441 §5).
            if (answer.statusCode! < 300) {
              answer.destroy();
              return fail({ status: 520 }, upgradeError(`the origin answered the upgrade with ${answer.statusCode} instead of 101`, 'STRICTEDGE_UPGRADE_NOT_SWITCHED'));
            }
            try {
              res.writeHead(answer.statusCode!, clientResponseHeaders(answer.headers, requestId, true));
            } catch (error) {
              // A status above 599, which HTTP/2 cannot carry, or a header line Node refuses: the
              // stream would wait for ever. It gets the edge's 520 with none of the origin's headers.
              for (const name of res.getHeaderNames()) res.removeHeader(name);
              answer.destroy();
              return fail({ status: 520 }, error);
            }
            settled = true;
            count.passedOn(answer.statusCode!, res);
            answer.on('error', () => cutAnswer(res));
            answer.pipe(res);
          },
          failed: fail,
        });
        stream.once('close', () => {
          if (pending.cancel()) clientLeft();
        });
      },
      (error: unknown) => fail(classifyOriginError(error), error),
    );
  };
}
