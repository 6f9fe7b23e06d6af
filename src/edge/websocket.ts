// WebSockets over HTTP/1.1 through the edge, in every mode: the same routing and origin
// verification as plain requests, then bytes are piped both ways once the origin has switched
// protocols. Node's HTTP/1 client reads the origin's answer (requestOriginUpgrade, shared with
// WebSockets over HTTP/2 in websocket-h2.ts): its head must come within the origin timeout (else
// 524, as for a request) and before the origin hangs up (else 520). A refusal is relayed to the
// client as an answer with its own end, after which both connections close. Other upgrades (h2c)
// are answered as plain requests (answerWithoutUpgrade).
// routeUpgrade and connectUpgradeOrigin are shared with WebSockets over HTTP/2 too.
import { request as httpRequest, ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import { classifyOriginError } from './classify.js';
import { CDN_LOOP_HEADER, listsCdnId } from './cdn-loop.js';
import { LOOP_DETECTED, NO_ZONE, OTHER_ZONE, rawEdgeAnswer, renderEdgeError, type EdgeFailure } from './error-pages.js';
import { createFailureReporter } from './failure-report.js';
import type { EdgeInstruments } from './instruments.js';
import { clientAddress, clientResponseHeaders, originRequestHeaders, passableReason, requestIdFor } from './headers.js';
import { connectOrigin } from './origin-connector.js';
import { requestTarget } from './request-target.js';
import { decideRoute, type Scheme } from './route.js';
import { parseOrigin, type PolicyKind, type Upstreams } from './upstream.js';
import { hostOf, servesOnConnection, type EdgeZone, type ZoneTable } from './zone-table.js';
import { accessEntry, type AccessLog } from './access-log.js';
import { countBodyBytes } from './body-bytes.js';
import type { Verdict } from './verify.js';
import type { OriginSockets } from './origin-sockets.js';

export interface UpgradeDeps {
  readonly zones: () => ZoneTable;
  readonly upstreams: Upstreams;
  readonly sockets: OriginSockets;
  readonly connectTimeoutMs: number;
  /** How long the origin has to begin its answer to the upgrade request. */
  readonly responseTimeoutMs: number;
  /**
   * An open WebSocket with no byte either way for this long is closed at both ends: a peer that
   * vanished without a FIN (a dropped mobile network) would otherwise hold the client's and the
   * origin's connections for ever. Applications keep theirs alive with pings.
   */
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
  readonly instruments: EdgeInstruments;
  /** This edge's id in CDN-Loop (cdn-loop.ts). */
  readonly cdnId: string;
  /** The largest request head, in bytes: HTTP/1's parser holds heads to it, websocket-h2.ts HTTP/2's. */
  readonly maxRequestHeadBytes: number;
  /**
   * One line per upgrade request: for the edge's own answer at once; for the origin's refusal
   * once its body is sent; for a WebSocket once it closes, as nginx logs one.
   */
  readonly accessLog?: AccessLog;
  /**
   * The client ends (connections, or HTTP/2 streams) of the WebSockets open now. The edge's close
   * ends those still open after its grace, so that each is counted closed and logged before the
   * access log closes.
   */
  readonly tunnels: Set<Duplex>;
}

/** An open WebSocket, counted open until it closes; `bodyBytesSent` is what its client was sent after the answer's head. */
export interface OpenWebSocket {
  close(bodyBytesSent: number): void;
}

/**
 * Counts an upgrade request's answer (websockets_total, and the open gauge while a WebSocket is
 * open) and writes its access-log line. A WebSocket's line, like nginx's, comes when it closes:
 * its `duration_ms` is the WebSocket's life, `origin_header_ms` the wait for the origin's 101,
 * and `body_bytes_sent` the bytes sent to the client after the answer's head.
 */
export function upgradeCounter(deps: UpgradeDeps, req: IncomingMessage, scheme: Scheme, requestId: string, route: UpgradeRoute) {
  const startedAt = performance.now();
  const clientIp = clientAddress(req.socket.remoteAddress);
  const instruments = deps.instruments.forZone(route.zoneName);
  const log = (status: number, more: { readonly verdict?: Verdict; readonly originHeadAt?: number; readonly bodyBytesSent?: number }) =>
    deps.accessLog?.write(accessEntry({ req, scheme, startedAt, answeredAt: performance.now(), requestId, clientIp, ...route.logged, status, ...more }));
  return {
    /** Whether lines are written: bytes are counted for them only. */
    logging: deps.accessLog !== undefined,
    /** The edge's own answer (its page's body bytes), or 499 for a client that left first: counted and logged now. */
    answered(code: number, bodyBytesSent: number, verdict?: Verdict): void {
      instruments.websocket(code, false);
      log(code, verdict ? { verdict, bodyBytesSent } : { bodyBytesSent });
    },
    /** The origin's own answer, not a switch, passed on in `res`: logged once `res` is done, with its body's bytes. */
    passedOn(code: number, res: ServerResponse): void {
      instruments.websocket(code, false);
      if (!deps.accessLog) return;
      const originHeadAt = performance.now();
      const bodyBytesSent = countBodyBytes(res);
      res.once('close', () => log(code, { originHeadAt, bodyBytesSent: bodyBytesSent() }));
    },
    /** The origin switched, and the client got `code` (101, or 200 over HTTP/2). */
    opened(code: number): OpenWebSocket {
      const open = instruments.websocket(code, true);
      const originHeadAt = performance.now();
      let closed = false;
      return {
        close(bodyBytesSent) {
          if (closed) return;
          closed = true;
          open?.close();
          log(code, { originHeadAt, bodyBytesSent });
        },
      };
    },
  };
}

/** Ends the WebSockets still open (UpgradeDeps.tunnels); resolves once each has closed. */
export async function closeTunnels(tunnels: Set<Duplex>): Promise<void> {
  await Promise.all(
    [...tunnels].map((end) => {
      const closed = end.closed ? Promise.resolve() : new Promise((resolve) => end.once('close', resolve));
      end.destroy();
      return closed;
    }),
  );
}

/** Counts the bytes `from` gives (piped to a client): the log's body_bytes_sent of a WebSocket. */
export function countBytesFrom(from: Socket, initial: number): () => number {
  let bytes = initial;
  from.on('data', (chunk: Buffer) => (bytes += chunk.length));
  return () => bytes;
}

const noop = () => undefined;

/**
 * Closes the client's connection once what was written to it has gone out, without waiting for
 * the client to close its side: Node's HTTP server leaves its sockets half-open, and a client
 * that keeps its side open after an answer would hold the connection until the idle timeout.
 */
function closeAfterWrites(client: Duplex): void {
  (client as Socket).destroySoon();
}

/** Answers with the edge's page and closes the connection after it; returns the page's body bytes. */
function refuse(req: IncomingMessage, client: Duplex, failure: EdgeFailure, requestId: string): number {
  const page = renderEdgeError(req, failure, requestId);
  client.write(rawEdgeAnswer(failure, requestId, page));
  closeAfterWrites(client);
  return Buffer.byteLength(page.body);
}

/**
 * A WebSocket's opening handshake (RFC 6455 §4.1): a GET whose Upgrade names websocket. Only
 * those become tunnels. An h2c upgrade that an origin accepted would let the client speak HTTP/2
 * to the origin directly, past everything the edge does per request (h2c smuggling).
 */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.method === 'GET' && /(?:^|,)[ \t]*websocket[ \t]*(?:,|$)/i.test(req.headers.upgrade ?? '');
}

/**
 * An upgrade the edge does not tunnel (h2c, TLS/1.0, anything but a WebSocket) is a plain request
 * to it, as to nginx and Cloudflare: `curl --http2 http://…` gets its answer over HTTP/1.1. Node
 * has already taken the connection from its HTTP server, so the request is answered on it by
 * `handle`, and the connection closes after the answer. Node has stopped reading at the request
 * head, so a body cannot be passed on: such a request gets 400, counted in requests_total under
 * zone "unknown" like the request handler's other refusals.
 */
export function answerWithoutUpgrade(req: IncomingMessage, client: Duplex, scheme: Scheme, handle: (req: IncomingMessage, res: ServerResponse) => void, instruments: EdgeInstruments, accessLog?: AccessLog): void {
  client.on('error', () => client.destroy());
  if (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0') {
    // Counted and logged as the request handler does the edge's own refusals: under zone
    // "unknown". It is answered from the request head alone, at once.
    const requestId = requestIdFor(req);
    const now = performance.now();
    instruments.forZone('unknown').answered('none', 400, 0);
    const bodyBytesSent = refuse(req, client, { status: 400, detail: 'This edge takes a body with an Upgrade header only for a WebSocket; send the request without the Upgrade.' }, requestId);
    accessLog?.write(accessEntry({ req, scheme, startedAt: now, answeredAt: now, requestId, clientIp: clientAddress(req.socket.remoteAddress), status: 400, bodyBytesSent }));
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(client as Socket);
  res.once('finish', () => closeAfterWrites(client));
  handle(req, res);
}

/**
 * Where an upgrade request goes: to an origin, or the edge answers it itself. `zoneName` is what
 * it is counted under: "unknown" when refused before a zone is known, as requests are.
 */
export type UpgradeRoute = (
  | { readonly kind: 'refuse'; readonly failure: EdgeFailure; readonly zoneName: string }
  | { readonly kind: 'redirect'; readonly location: string; readonly zoneName: string }
  | { readonly kind: 'origin'; readonly zoneName: string; readonly host: string; readonly authority: string; readonly path: string; readonly policy: PolicyKind; readonly origin: string }
) & {
  /** For the access log: the host the request named and the zone it is counted under, when known. */
  readonly logged: { readonly host?: string; readonly zone?: EdgeZone };
};

/** `servername` is the TLS server name of the client's connection (none over plain HTTP); `cdnId` this edge's id in CDN-Loop. */
export function routeUpgrade(zones: () => ZoneTable, req: IncomingMessage, servername: string | false | null | undefined, scheme: Scheme, cdnId: string): UpgradeRoute {
  const target = requestTarget(req.url ?? '/', req.rawHeaders);
  if (!target.ok) return { kind: 'refuse', failure: { status: 400, detail: target.why }, zoneName: 'unknown', logged: {} };
  const host = hostOf(target.authority);
  const table = zones();
  const zone = host === undefined ? undefined : table.lookup(host);
  if (!zone || host === undefined) return { kind: 'refuse', failure: { status: 421, detail: NO_ZONE }, zoneName: 'unknown', logged: { host } };
  if (!servesOnConnection(table, zone, servername)) return { kind: 'refuse', failure: { status: 421, detail: OTHER_ZONE }, zoneName: 'unknown', logged: { host } };
  const logged = { host, zone };
  const decision = decideRoute(zone, scheme);
  if (decision.kind === 'redirect_to_http') return { kind: 'redirect', location: `http://${host}${target.path}`, zoneName: zone.name, logged };
  if (decision.kind === 'no_origin') return { kind: 'refuse', failure: { status: 521 }, zoneName: zone.name, logged };
  if (listsCdnId(req.headers[CDN_LOOP_HEADER] as string | undefined, cdnId)) return { kind: 'refuse', failure: { status: 508, detail: LOOP_DETECTED }, zoneName: zone.name, logged };
  return { kind: 'origin', zoneName: zone.name, host, authority: target.authority!, path: target.path, policy: decision.policy, origin: decision.origin, logged };
}

/**
 * A connection of its own to the route's origin, verified as the zone's mode requires. Its
 * handshake is measured like a pooled one's; it is not pooled, so it stays out of the
 * open-sockets gauge and the close reasons, which describe the pools.
 */
export function connectUpgradeOrigin(deps: UpgradeDeps, route: Extract<UpgradeRoute, { kind: 'origin' }>): Promise<Socket> {
  const connect = deps.instruments.forZone(route.zoneName).connect;
  return connectOrigin({
    address: parseOrigin(route.origin),
    servername: route.host,
    policy: deps.upstreams.policyFor(route.policy),
    connectTimeoutMs: deps.connectTimeoutMs,
    onTlsSocket: route.policy === 'strict' ? (socket, serial, notAfterMs) => deps.sockets.add(socket, serial, notAfterMs) : undefined,
    observer: { ...connect, opened: noop, closed: noop },
  });
}

export function upgradeError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** What became of an upgrade request: exactly one of these runs, unless the client left first. */
export interface OriginUpgradeAnswer {
  /** The origin switched protocols (101); `head` is what it sent after its answer's head. */
  switched(answer: IncomingMessage, socket: Socket, head: Buffer): void;
  /** A final answer instead: a refusal, or a 2xx from an origin that did not switch. */
  answered(answer: IncomingMessage): void;
  /** No answer: 524 after the origin timeout; 520 if the origin hung up or sent no HTTP. */
  failed(failure: EdgeFailure, error: unknown): void;
}

/**
 * Asks the origin, on its connection `origin`, for an HTTP/1.1 upgrade, and reads its answer with
 * Node's HTTP/1 client. `cancel()` is for a client that left: it closes the origin connection
 * and says whether the answer was still awaited (then none of `on` runs).
 */
export function requestOriginUpgrade(origin: Socket, path: string, headers: string[], timeoutMs: number, on: OriginUpgradeAnswer): { cancel(): boolean } {
  let awaited = true;
  const settle = () => {
    if (!awaited) return false;
    awaited = false;
    clearTimeout(timer);
    return true;
  };
  const request = httpRequest({ method: 'GET', path, headers, setHost: false, createConnection: () => origin });
  const timer = setTimeout(() => {
    if (!settle()) return;
    request.destroy();
    on.failed({ status: 524 }, upgradeError('no answer to the upgrade in time', 'STRICTEDGE_UPGRADE_TIMEOUT'));
  }, timeoutMs);
  request.on('error', (error) => {
    if (settle()) on.failed({ status: 520 }, error);
  });
  request.on('upgrade', (answer: IncomingMessage, socket: Socket, head: Buffer) => (settle() ? on.switched(answer, socket, head) : socket.destroy()));
  request.on('response', (answer: IncomingMessage) => (settle() ? on.answered(answer) : answer.destroy()));
  request.end();
  return {
    cancel() {
      const wasAwaited = settle();
      request.destroy();
      return wasAwaited;
    },
  };
}

export function createUpgradeHandler(deps: UpgradeDeps) {
  const reportOriginFailure = createFailureReporter(deps.logger, deps.instruments);
  return function upgrade(req: IncomingMessage, client: Duplex, head: Buffer, scheme: Scheme): void {
    const requestId = requestIdFor(req);
    client.on('error', () => client.destroy());
    const route = routeUpgrade(deps.zones, req, (client as TLSSocket).servername, scheme, deps.cdnId);
    const count = upgradeCounter(deps, req, scheme, requestId, route);
    if (route.kind === 'refuse') {
      return count.answered(route.failure.status, refuse(req, client, route.failure, requestId));
    }
    if (route.kind === 'redirect') {
      count.answered(301, 0);
      client.write(`HTTP/1.1 301 Moved Permanently\r\nlocation: ${route.location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return closeAfterWrites(client);
    }
    const fail = (failure: EdgeFailure, error: unknown) => {
      reportOriginFailure(route.zoneName, failure, requestId, error, true);
      count.answered(failure.status, refuse(req, client, failure, requestId), failure.verdict);
    };
    connectUpgradeOrigin(deps, route).then(
      (origin) => {
        if (client.destroyed) {
          count.answered(499, 0);
          return origin.destroy();
        }
        // Every byte either way is read or written on the client's socket, so its timer is the
        // WebSocket's (and a refusal's whose body stalls).
        (client as Socket).setTimeout(deps.idleTimeoutMs, () => client.destroy());
        // Nothing more of the client's (`head`) goes to the origin before it has switched
        // protocols: bytes sent behind the upgrade request would otherwise reach the origin as
        // requests of their own, past the edge (their X-Forwarded-For and CF-Connecting-IP the
        // client's to make up), whenever the origin refuses the upgrade.
        const pending = requestOriginUpgrade(origin, route.path, originRequestHeaders(req, scheme, requestId, route.authority, deps.cdnId, true), deps.responseTimeoutMs, {
          switched(answer, socket, originHead) {
            const open = count.opened(101);
            const sent = count.logging ? countBytesFrom(socket, originHead.length) : () => 0;
            let answerHead = `HTTP/1.1 101 ${answer.statusMessage}\r\n`;
            for (let i = 0; i < answer.rawHeaders.length; i += 2) answerHead += `${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}\r\n`;
            client.write(`${answerHead}\r\n`);
            if (originHead.length) client.write(originHead);
            socket.on('error', () => socket.destroy());
            socket.once('close', () => client.destroy());
            deps.tunnels.add(client);
            client.once('close', () => {
              deps.tunnels.delete(client);
              socket.destroy();
              open.close(sent());
            });
            if (head.length) socket.write(head);
            socket.pipe(client);
            client.pipe(socket);
          },
          // The origin's answer goes to the client with its own end, and nothing more of the
          // client's to the origin: both connections close after it.
          answered(answer) {
            const res = new ServerResponse(req);
            res.shouldKeepAlive = false;
            res.assignSocket(client as Socket);
            const reason = passableReason(answer.statusMessage);
            try {
              if (reason !== undefined) res.writeHead(answer.statusCode!, reason, clientResponseHeaders(answer.headers, requestId));
              else res.writeHead(answer.statusCode!, clientResponseHeaders(answer.headers, requestId));
            } catch (error) {
              // A header line Node refuses to write: the edge's 520, as for a request.
              res.detachSocket(client as Socket);
              answer.destroy();
              return fail({ status: 520 }, error);
            }
            count.passedOn(answer.statusCode!, res);
            res.once('finish', () => {
              origin.destroy();
              closeAfterWrites(client);
            });
            client.once('close', () => origin.destroy());
            answer.on('error', () => client.destroy());
            answer.pipe(res);
          },
          failed: fail,
        });
        client.once('close', () => {
          // The client left first: nobody to answer, nothing to blame.
          if (pending.cancel()) count.answered(499, 0);
        });
      },
      (error: unknown) => fail(classifyOriginError(error), error),
    );
  };
}
