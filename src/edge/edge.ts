// The edge: client listeners (HTTP and HTTPS with SNI), the zone table kept in step with the
// store, the revocation index, and the origin pools. Dependencies come in; nothing is global.
import { constants, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import { closeGracefully } from '../graceful-close.js';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { RevocationIndex } from '../revocation/revocation-index.js';
import type { Zone } from '../store/zones.js';
import type { CertEvent } from '../store/certificates.js';
import type { EdgeCa } from './edge-ca.js';
import { createOriginSockets, type OriginSockets } from './origin-sockets.js';
import { createOriginSessions } from './origin-sessions.js';
import { cdnLoopId } from './cdn-loop.js';
import { createProxy } from './proxy.js';
import { refusedRequestEntry, type AccessLog } from './access-log.js';
import { DEFAULT_MAX_REQUEST_BODY_MIB, MIB } from './body-limit.js';
import { DEFAULT_MAX_REQUEST_HEAD_KIB, KIB } from './request-head.js';
import { createUpstreams } from './upstream.js';
import { serveHttp2 } from './client-http2.js';
import { answerWithoutUpgrade, closeTunnels, createUpgradeHandler, isWebSocketUpgrade } from './websocket.js';
import type { Scheme } from './route.js';
import { createHttp2UpgradeHandler } from './websocket-h2.js';
import { rotateTicketKeys } from './ticket-keys.js';
import { buildZoneTable, type ZoneTable } from './zone-table.js';
import { createEdgeInstruments } from './instruments.js';
import { answerRefusedRequests } from './refused-requests.js';
import { headerTimeoutCheckMs } from '../head-timeout.js';
import type { EdgeMetrics } from '../metrics/metrics.js';
import type { Counter } from 'prom-client';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface EdgeOptions {
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** Origin pools kept at most (default 512): every name under a zone routes to it. */
  readonly maxOriginPools?: number;
  /** Connections to one origin at most (--max-origin-connections); 0 or absent: no limit. */
  readonly maxOriginConnections?: number;
  /** An uncapped origin pool that has made this many clients is replaced (upstream.ts; default 1024). */
  readonly maxClientsPerOriginPool?: number;
  /** PEM roots trusted in strict mode besides the Origin CA roots (default: Node's bundle). */
  readonly publicRoots?: readonly string[];
  /** How often the zone table is checked against the store. */
  readonly zoneRefreshMs?: number;
  /** Resume TLS sessions to strict origins (re-checked against the index on every resumption). */
  readonly originSessionResumption?: boolean;
  /**
   * How long a request body may stop coming (default 60 s, nginx's client_body_timeout) before
   * the client gets 408 and the origin request stops (body-timeout.ts).
   */
  readonly clientBodyTimeoutMs?: number;
  /**
   * How long an HTTP/1 request's head may take to arrive whole (default 60 s, nginx's
   * client_header_timeout) before the client gets 408 (refused-requests.ts). Node's headersTimeout.
   */
  readonly clientHeaderTimeoutMs?: number;
  /**
   * How long a client may take none of its answer before the edge cuts it off and stops the
   * origin request (nginx's send_timeout; default 60 s; 0: for ever). See send-watch.ts.
   */
  readonly clientSendTimeoutMs?: number;
  /** Offer HTTP/2 to clients (default true); off, they stay on HTTP/1.1. */
  readonly clientHttp2?: boolean;
  /** A WebSocket with no byte either way for this long is closed at both ends (default 100 s, as Cloudflare). */
  readonly websocketIdleTimeoutMs?: number;
  /**
   * New session ticket keys for clients this often (ticket-keys.ts); 0 or absent keeps Node's,
   * made at start. Edge workers get theirs from the primary through setTicketKeys instead.
   */
  readonly ticketKeyRotationMs?: number;
  /** The largest request body passed to an origin (default 100 MiB, as Cloudflare); 0 for no limit. */
  readonly maxRequestBodyBytes?: number;
  /**
   * The largest request head passed to an origin (default 16 KiB, Node's): HTTP/1's parser holds
   * heads to it, and the proxy holds HTTP/2's (request-head.ts). Over it the client gets 431.
   */
  readonly maxRequestHeadBytes?: number;
  /** How long a client has from its TCP connect to a finished TLS handshake (default 10 s). */
  readonly clientHandshakeTimeoutMs?: number;
}

export interface EdgeDeps {
  readonly originRootsPem: readonly string[];
  readonly edgeCa: EdgeCa;
  readonly index: RevocationIndex;
  /** All zones, and a stamp that changes whenever they may have changed. */
  readonly loadZones: () => readonly Zone[];
  readonly zonesStamp: () => string;
  readonly logger: Logger;
  readonly options: EdgeOptions;
  readonly metrics?: EdgeMetrics;
  /** Seconds since the edge last heard from the CA; 0 when it shares the CA's process. */
  readonly feedStalenessSeconds?: () => number;
  /** Sequence number of the last event already in the index when the edge starts. */
  readonly initialSeq?: number;
  /** For origin certificates' notAfter on live sockets and resumed sessions (OpenSSL reads its own). */
  readonly clock?: Clock;
  /** One line per answered request (--access-log); its opener closes it. */
  readonly accessLog?: AccessLog;
}

/** A certificate event as the edge applies it; seq and at when the source knows them. */
export type AppliedEvent = Pick<CertEvent, 'kind' | 'serial' | 'sha256'> & { readonly seq?: number; readonly at?: string };

export interface Edge {
  readonly http: HttpServer;
  readonly https: HttpsServer;
  readonly sockets: OriginSockets;
  zones(): ZoneTable;
  /**
   * Applies an issuance or revocation: new handshakes see it in the index at once, and every
   * live origin socket whose peer presented a revoked certificate is closed (a request in
   * flight on it is cut; the next one makes a new, refused handshake).
   */
  applyCertEvent(event: AppliedEvent): void;
  /** Brings the gauges up to date; the metrics listener calls it before each scrape. */
  refreshGauges(): void;
  /** Re-reads zones now (the timer does it within zoneRefreshMs anyway). */
  refreshZones(): void;
  /** Encrypts client session tickets with these keys from now on (48 bytes); older tickets no longer resume. */
  setTicketKeys(keys: Buffer): void;
  /**
   * Stops accepting clients; answers in flight get up to graceMs (default 0: none) to finish
   * before their connections are cut, then the origin pools close.
   */
  close(graceMs?: number): Promise<void>;
}

const CLIENT_HANDSHAKE_TIMEOUT_MS = 10_000;
const CLIENT_SEND_TIMEOUT_MS = 60_000;
const CLIENT_BODY_TIMEOUT_MS = 60_000;
const CLIENT_HEADER_TIMEOUT_MS = 60_000;

export function createEdge(deps: EdgeDeps): Edge {
  const { options, logger } = deps;
  let table = buildZoneTable(deps.loadZones());
  let stamp = deps.zonesStamp();
  const refreshZones = () => {
    stamp = deps.zonesStamp();
    const previous = new Map(table.zones.map((zone) => [zone.id, zone.mode]));
    table = buildZoneTable(deps.loadZones());
    if (logger.enabled('info')) {
      for (const zone of table.zones) {
        const before = previous.get(zone.id);
        if (before !== undefined && before !== zone.mode) logger.log('info', 'zone mode changed', { zone: zone.name, from: before, to: zone.mode });
      }
    }
  };
  const timer = setInterval(() => {
    if (deps.zonesStamp() !== stamp) refreshZones();
  }, options.zoneRefreshMs ?? 250);
  timer.unref();

  const clock = deps.clock ?? systemClock;
  const nowMs = () => clock().getTime();
  const sockets = createOriginSockets((serial) => deps.index.isRevoked(serial), nowMs);
  const sessions = options.originSessionResumption ? createOriginSessions() : undefined;
  const instruments = createEdgeInstruments(deps.metrics, nowMs);
  let lastSeq = deps.initialSeq ?? 0;
  const upstreams = createUpstreams({
    connectTimeoutMs: options.connectTimeoutMs,
    responseTimeoutMs: options.responseTimeoutMs,
    strictContext: createSecureContext({ ca: [...deps.originRootsPem, ...(options.publicRoots ?? rootCertificates)] }),
    originRoots: deps.originRootsPem.map((pem) => new X509Certificate(pem)),
    index: deps.index,
    sockets,
    ...(sessions ? { sessions } : {}),
    instruments,
    nowMs,
    ...(options.maxOriginPools ? { maxPools: options.maxOriginPools } : {}),
    ...(options.maxOriginConnections ? { maxConnectionsPerOrigin: options.maxOriginConnections } : {}),
    ...(options.maxClientsPerOriginPool ? { maxClientsPerPool: options.maxClientsPerOriginPool } : {}),
  });
  const zones = () => table;
  const cdnId = cdnLoopId(deps.edgeCa.certPem);
  const clientBodyTimeoutMs = options.clientBodyTimeoutMs ?? CLIENT_BODY_TIMEOUT_MS;
  const maxRequestHeadBytes = options.maxRequestHeadBytes ?? DEFAULT_MAX_REQUEST_HEAD_KIB * KIB;
  const proxy = createProxy({ zones, upstreams, logger, instruments, cdnId, maxRequestBodyBytes: options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_MIB * MIB, maxRequestHeadBytes, clientSendTimeoutMs: options.clientSendTimeoutMs ?? CLIENT_SEND_TIMEOUT_MS, clientBodyTimeoutMs, ...(deps.accessLog ? { accessLog: deps.accessLog } : {}) });
  const tunnels = new Set<Duplex>();
  const upgradeDeps = { zones, upstreams, sockets, tunnels, cdnId, connectTimeoutMs: options.connectTimeoutMs, responseTimeoutMs: options.responseTimeoutMs, idleTimeoutMs: options.websocketIdleTimeoutMs ?? 100_000, logger, instruments, maxRequestHeadBytes, ...(deps.accessLog ? { accessLog: deps.accessLog } : {}) };
  const upgrade = createUpgradeHandler(upgradeDeps);

  const clientHttp2 = options.clientHttp2 ?? true;
  // Node's requestTimeout (300 s) bounds a whole request, however steadily its body comes: a large
  // upload over a slow link got 408 half-way. The body timeout bounds a body that stops coming
  // instead, and Node's headersTimeout still bounds the head.
  const headersTimeout = options.clientHeaderTimeoutMs ?? CLIENT_HEADER_TIMEOUT_MS;
  const headTimeouts = { headersTimeout, connectionsCheckingInterval: headerTimeoutCheckMs(headersTimeout) };
  const http = createHttpServer({ keepAliveTimeout: 65_000, requestTimeout: 0, ...headTimeouts, maxHeaderSize: maxRequestHeadBytes }, (req, res) => proxy(req, res, 'http'));
  /** Node hands over every request with an Upgrade header; only a WebSocket's becomes a tunnel. */
  const takeUpgrade = (scheme: Scheme) => (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    isWebSocketUpgrade(req) ? upgrade(req, socket, head, scheme) : answerWithoutUpgrade(req, socket, scheme, (r, res) => proxy(r, res, scheme), instruments, deps.accessLog);
  http.on('upgrade', takeUpgrade('http'));
  const https = createHttpsServer(
    {
      // h2 first, as the edge's choice (see client-http2.ts). HTTP/1.0 clients offer http/1.0
      // (curl --http1.0); without it Node refuses their handshake.
      ALPNProtocols: [...(clientHttp2 ? ['h2'] : []), 'http/1.1', 'http/1.0'],
      // Client-initiated renegotiation costs the edge a full handshake for nothing; nginx refuses
      // it too (Node would allow three per connection every ten minutes).
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
      // Node's default is 120 s: a connection that never sends its ClientHello would hold a socket
      // and its buffers that long, so a few hundred new ones a second could use up the edge's file
      // descriptors. A real client's handshake takes a few round trips: well under a second.
      handshakeTimeout: options.clientHandshakeTimeoutMs ?? CLIENT_HANDSHAKE_TIMEOUT_MS,
      requestTimeout: 0, // as the plain server's, above
      ...headTimeouts,
      maxHeaderSize: maxRequestHeadBytes,
      SNICallback: (servername, callback) => {
        const zone = table.lookup(servername.toLowerCase());
        // The default context has no certificate, so OpenSSL ends the handshake with an alert
        // (handshake_failure), as it does for a client that sends no name; an error here would
        // make Node drop the connection without a word.
        if (!zone) return callback(null, undefined);
        deps.edgeCa.contextFor(zone.name).then((context) => callback(null, context), (error: Error) => callback(error, undefined));
      },
    },
    (req, res) => proxy(req, res, 'https'),
  );
  https.keepAliveTimeout = 65_000;
  const http2 = clientHttp2 ? serveHttp2(https, (req, res) => proxy(req, res, 'https'), { websocket: createHttp2UpgradeHandler(upgradeDeps) }) : undefined;
  https.on('upgrade', takeUpgrade('https'));
  // With a listener, Node leaves `Expect: 100-continue` to the edge instead of answering 100 at once.
  http.on('checkContinue', (req, res) => proxy(req, res, 'http', true));
  https.on('checkContinue', (req, res) => proxy(req, res, 'https', true));
  https.on('tlsClientError', () => undefined); // unknown SNI and scanners: the alert is the answer
  const setTicketKeys = (keys: Buffer) => {
    https.setTicketKeys(keys);
    deps.metrics?.ticketKeysSetAt.set(nowMs() / 1000);
  };
  deps.metrics?.ticketKeysSetAt.set(nowMs() / 1000); // Node made the server's own just now
  const ticketRotation = rotateTicketKeys(setTicketKeys, options.ticketKeyRotationMs ?? 0);
  // Requests Node's parser refuses (400, 431, 408) are counted under zone "unknown", as the edge's own 400s, and logged.
  const unknownZone = instruments.forZone('unknown');
  for (const [server, scheme] of [[http, 'http'], [https, 'https']] as const) {
    answerRefusedRequests(server, maxRequestHeadBytes, (refusal) => {
      unknownZone.answered('none', refusal.status, refusal.seconds);
      deps.accessLog?.write(refusedRequestEntry({ ...refusal, scheme, answeredAt: performance.now() }));
    });
  }
  // CONNECT asks for a tunnel, as of a forward proxy; the edge is not one (Node would just drop it).
  for (const server of [http, https]) {
    server.on('connect', (_req, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      socket.end('HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
  }
  if (deps.metrics) {
    const { clientHandshakeBytes, clientHandshakes, clientHandshakeTime } = deps.metrics;
    const [read, written] = [clientHandshakeBytes.labels('read'), clientHandshakeBytes.labels('written')];
    const handshakeTime = { true: clientHandshakeTime.labels('true'), false: clientHandshakeTime.labels('false') };
    // When each TCP connection was accepted (first of the 'connection' listeners, before TLS
    // wraps it), for the handshake's duration.
    const acceptedAt = new WeakMap<Socket, number>();
    https.prependListener('connection', (raw: Socket) => void acceptedAt.set(raw, performance.now()));
    // By the protocol the client chose in ALPN: the share of clients on HTTP/2.
    const handshakes = new Map<string, Counter.Internal>();
    https.on('secureConnection', (socket: TLSSocket) => {
      const resumed = socket.isSessionReused() ? 'true' : 'false';
      const protocol = socket.alpnProtocol || 'none';
      const key = `${resumed} ${protocol}`;
      let counter = handshakes.get(key);
      if (!counter) handshakes.set(key, (counter = clientHandshakes.labels(resumed, protocol)));
      counter.inc();
      // The TCP socket under the TLS one counts record bytes; the TLS socket counts only data.
      const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
      if (raw) {
        read.observe(raw.bytesRead);
        written.observe(raw.bytesWritten);
        const accepted = acceptedAt.get(raw);
        if (accepted !== undefined) handshakeTime[resumed].observe((performance.now() - accepted) / 1000);
      }
    });
  }

  return {
    http,
    https,
    sockets,
    zones,
    refreshZones,
    applyCertEvent(event) {
      deps.index.apply(event);
      if (event.seq !== undefined) lastSeq = Math.max(lastSeq, event.seq);
      if (event.at !== undefined) deps.metrics?.applyDelay.observe(Math.max(0, Date.now() - Date.parse(event.at)) / 1000);
      if (event.kind === 'revoked') {
        sessions?.dropSerial(event.serial);
        const closed = sockets.closeBySerial(event.serial);
        if (logger.enabled('info')) logger.log('info', 'revocation applied', { serial: event.serial, seq: event.seq, sockets_closed: closed });
      }
    },
    setTicketKeys,
    refreshGauges() {
      const metrics = deps.metrics;
      if (!metrics) return;
      instruments.refreshGauges();
      metrics.originPools.set(upstreams.poolCount);
      metrics.indexEntries.labels('issued').set(deps.index.issuedCount);
      metrics.indexEntries.labels('revoked').set(deps.index.revokedCount);
      metrics.lastSeq.set(lastSeq);
      metrics.feedStaleness.set(deps.feedStalenessSeconds?.() ?? 0);
    },
    async close(graceMs = 0) {
      clearInterval(timer);
      ticketRotation.stop();
      await Promise.all([closeGracefully(http, graceMs), closeGracefully(https, graceMs), http2?.close(graceMs)]);
      await closeTunnels(tunnels); // WebSockets outlast any grace
      await upstreams.close();
    },
  };
}
