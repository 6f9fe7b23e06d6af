// Every metric strictedge exports, defined in one place on registries the application creates
// (one for the CA's API port, one for the edge's metrics listener; no global registry).
// Label values stay bounded: zones come from the store, unknown hosts fold into "unknown",
// API routes are templates.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EdgeInfo } from '../store/edges.js';

// Few buckets on purpose: series count is what a scrape costs (100 zones must scrape in ≤ 10 ms).
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
const HANDSHAKE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.5];
/** A client's handshake includes its round trips over the internet, so the range reaches seconds. */
const CLIENT_HANDSHAKE_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5];
/** 128 B to 16 KiB, fine enough to tell a ~900 B origin-ecc handshake from a ~1,500 B origin-rsa one. */
export const HANDSHAKE_BYTE_BUCKETS = [128, 512, 1024, 1280, 1536, 2048, 4096, 16384];

/**
 * prom-client's default process metrics, less three gauges whose names end in _total, which
 * `promtool check metrics` rejects (the same counts exist as nodejs_active_*).
 */
function defaultMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
}

// With --workers, the primary sums the workers' series (prom-client AggregatorRegistry); the
// index gauges are the same in every worker, so they show the worker furthest behind instead.
export function createEdgeMetrics(registry: Registry = new Registry()) {
  defaultMetrics(registry);
  const r = [registry];
  return {
    registry,
    requests: new Counter({ name: 'strictedge_edge_requests_total', help: 'Client requests answered by the edge', labelNames: ['zone', 'mode', 'code'], registers: r }),
    requestDuration: new Histogram({ name: 'strictedge_edge_request_duration_seconds', help: 'Client request duration, to the last byte', labelNames: ['zone', 'mode'], buckets: LATENCY_BUCKETS, registers: r }),
    originTtfb: new Histogram({ name: 'strictedge_edge_origin_ttfb_seconds', help: 'From the client request to the origin response headers', labelNames: ['zone'], buckets: LATENCY_BUCKETS, registers: r }),
    originConnect: new Histogram({ name: 'strictedge_edge_origin_connect_seconds', help: 'TCP connect to the origin', labelNames: ['zone'], buckets: HANDSHAKE_BUCKETS, registers: r }),
    originTlsHandshake: new Histogram({ name: 'strictedge_edge_origin_tls_handshake_seconds', help: 'TLS handshake with the origin, verification included', labelNames: ['zone', 'resumed'], buckets: HANDSHAKE_BUCKETS, registers: r }),
    originTlsHandshakes: new Counter({ name: 'strictedge_edge_origin_tls_handshakes_total', help: 'TLS handshakes with origins by result', labelNames: ['zone', 'result', 'resumed'], registers: r }),
    originHandshakeBytes: new Histogram({ name: 'strictedge_edge_origin_tls_handshake_bytes', help: 'TLS record bytes the edge read from / wrote to the origin during the handshake (as openssl s_client counts them)', labelNames: ['zone', 'direction'], buckets: HANDSHAKE_BYTE_BUCKETS, registers: r }),
    clientHandshakeBytes: new Histogram({ name: 'strictedge_edge_client_tls_handshake_bytes', help: 'TLS record bytes the edge read from / wrote to clients during the handshake', labelNames: ['direction'], buckets: HANDSHAKE_BYTE_BUCKETS, registers: r }),
    clientHandshakeTime: new Histogram({ name: 'strictedge_edge_client_tls_handshake_seconds', help: "Completed client TLS handshakes, from the TCP accept to the handshake's end: the client's round trips and the zone certificate's lookup included", labelNames: ['resumed'], buckets: CLIENT_HANDSHAKE_BUCKETS, registers: r }),
    clientHandshakes: new Counter({ name: 'strictedge_edge_client_tls_handshakes_total', help: 'Completed client TLS handshakes, by the protocol chosen in ALPN (h2, http/1.1, http/1.0, or none offered)', labelNames: ['resumed', 'protocol'], registers: r }),
    ticketKeysSetAt: new Gauge({ aggregator: 'min', name: 'strictedge_edge_client_ticket_keys_set_timestamp_seconds', help: "When the keys that encrypt clients' session tickets were made (Unix time); with workers, the oldest worker's. Older than the rotation interval means rotation has stopped", registers: r }),
    websockets: new Counter({ name: 'strictedge_edge_websockets_total', help: 'WebSocket upgrades (HTTP/1.1, or extended CONNECT over HTTP/2) by the status the client got: 101 (HTTP/1.1) or 200 (HTTP/2) when opened, else the edge\'s answer or the origin\'s refusal', labelNames: ['zone', 'code'], registers: r }),
    websocketsOpen: new Gauge({ name: 'strictedge_edge_websockets_open', help: 'WebSockets open through the edge', labelNames: ['zone'], registers: r }),
    verifyFailures: new Counter({ name: 'strictedge_edge_origin_verify_failures_total', help: 'Origin certificates refused in strict mode, by verdict', labelNames: ['zone', 'reason'], registers: r }),
    originRetries: new Counter({ name: 'strictedge_edge_origin_retries_total', help: 'Requests sent once more on another connection because the one they went out on was lost before any answer (an origin closing a kept-alive connection as the request arrived)', labelNames: ['zone'], registers: r }),
    clientSendTimeouts: new Counter({ name: 'strictedge_edge_client_send_timeouts_total', help: 'Answers cut off because their client took none of them for the send timeout (a client that stopped reading); the origin request is stopped too', labelNames: ['zone'], registers: r }),
    responsesCut: new Counter({ name: 'strictedge_edge_origin_responses_cut_total', help: 'Answers cut short because the origin failed after its status line: timeout (no body byte within the origin timeout) or error', labelNames: ['zone', 'reason'], registers: r }),
    originQueued: new Gauge({ name: 'strictedge_edge_origin_requests_queued', help: "Requests waiting for a connection to the zone's origin, whose connections are all in use at --max-origin-connections; each waits the connect timeout at most, then gets 522", labelNames: ['zone'], registers: r }),
    originPools: new Gauge({ name: 'strictedge_edge_origin_pools', help: 'Origin connection pools kept (per origin, and per TLS name): bounded, the least recently used closed first', registers: r }),
    originCertificateExpiry: new Gauge({ aggregator: 'min', name: 'strictedge_edge_origin_certificate_expiry_timestamp_seconds', help: "The notAfter (Unix time) of the zone's origin certificate that expires first among those strict mode accepted in the last hour: past it, strict mode refuses the certificate and visitors get 526", labelNames: ['zone'], registers: r }),
    originCertificateNotBefore: new Gauge({ aggregator: 'min', name: 'strictedge_edge_origin_certificate_not_before_timestamp_seconds', help: 'The notBefore (Unix time) of that same certificate: with its notAfter, how long it was made for', labelNames: ['zone'], registers: r }),
    originSockets: new Gauge({ name: 'strictedge_edge_origin_sockets', help: 'Open connections to origins', labelNames: ['zone', 'state'], registers: r }),
    socketsClosed: new Counter({ name: 'strictedge_edge_origin_sockets_closed_total', help: 'Origin connections closed, by why: revoked, expired (the certificate reached its notAfter), idle (Connection: close or keep-alive timeout), aborted (a request in flight stopped because its client left), origin_closed, error', labelNames: ['reason'], registers: r }),
    indexEntries: new Gauge({ aggregator: 'min', name: 'strictedge_edge_revocation_index_entries', help: 'Certificates in the revocation index', labelNames: ['kind'], registers: r }),
    lastSeq: new Gauge({ aggregator: 'min', name: 'strictedge_edge_revocation_last_seq', help: 'Sequence number of the last certificate event applied', registers: r }),
    feedStaleness: new Gauge({ aggregator: 'max', name: 'strictedge_edge_revocation_feed_staleness_seconds', help: 'Seconds since the edge last heard from the CA (0 when embedded)', registers: r }),
    feedResets: new Counter({ name: 'strictedge_edge_revocation_feed_resets_total', help: "Times a separate edge found the CA's event feed no longer continuing from its last event (a CA restored from a backup) and followed it again from seq 0", registers: r }),
    applyDelay: new Histogram({ name: 'strictedge_edge_revocation_apply_delay_seconds', help: 'From a certificate event at the CA to the edge applying it', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60], registers: r }),
  };
}

export function createCaMetrics(registry: Registry = new Registry()) {
  defaultMetrics(registry);
  const r = [registry];
  // The separate edges registered with this CA, read at each scrape once the CA has its store.
  let followers: () => readonly EdgeInfo[] = () => [];
  const live = () => followers().filter((edge) => edge.revokedAt === null && edge.lastContactAt !== null);
  return {
    registry,
    /** Gives the edge gauges their source (the CA's edge store). */
    followEdges(source: () => readonly EdgeInfo[]): void {
      followers = source;
    },
    edgeLastContact: new Gauge({
      name: 'strictedge_ca_edge_last_contact_timestamp_seconds',
      help: 'When each separate edge with a token in force last asked this CA for certificate events (Unix time); it long-polls, so more than a minute or two ago means it stopped following',
      labelNames: ['edge'],
      registers: r,
      collect() {
        this.reset();
        for (const edge of live()) this.set({ edge: edge.name }, Date.parse(edge.lastContactAt!) / 1000);
      },
    }),
    edgeEventsBehind: new Gauge({
      name: 'strictedge_ca_edge_events_behind',
      help: 'Certificate events (issuances, revocations) this CA has that each separate edge had not applied when it last asked',
      labelNames: ['edge'],
      registers: r,
      collect() {
        this.reset();
        for (const edge of live()) this.set({ edge: edge.name }, edge.eventsBehind ?? 0);
      },
    }),
    issued: new Counter({ name: 'strictedge_ca_certificates_issued_total', help: 'Certificates issued', labelNames: ['request_type'], registers: r }),
    revoked: new Counter({ name: 'strictedge_ca_certificates_revoked_total', help: 'Certificates revoked', registers: r }),
    issueDuration: new Histogram({ name: 'strictedge_ca_issue_duration_seconds', help: 'Issuance, from the parsed request to the committed row', labelNames: ['request_type'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: r }),
    apiRequests: new Counter({ name: 'strictedge_ca_api_requests_total', help: 'API requests by route template and status', labelNames: ['route', 'code'], registers: r }),
  };
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>;
export type CaMetrics = ReturnType<typeof createCaMetrics>;
