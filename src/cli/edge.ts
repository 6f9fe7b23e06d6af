// strictedge edge: an edge on its own, following a CA over HTTP with an edge token. Its state
// folder holds its edge CA, the Origin CA roots (fetched once), and its replica database.
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { edgeTokenId } from '../ca/api-keys.js';
import type { Clock } from '../clock.js';
import { openEdgeCa } from '../edge/edge-ca.js';
import { createEdge } from '../edge/edge.js';
import { createLogger } from '../log.js';
import { createEdgeMetrics } from '../metrics/metrics.js';
import { createMetricsServer } from '../metrics/server.js';
import { createCaFetch, readTrustedPem, type CaFetch } from '../revocation/ca-fetch.js';
import { createFollower } from '../revocation/follower.js';
import { openReplica } from '../revocation/replica.js';
import { capacityFor, createRevocationIndex, type RevocationIndex } from '../revocation/revocation-index.js';
import { readIndexSnapshot, writeIndexSnapshot } from '../revocation/index-snapshot.js';
import { ensureStateFolders, statePaths } from '../store/state-folder.js';
import type { Zone } from '../store/zones.js';
import { lockStateFolder } from '../store/state-lock.js';
import { logLevelFlag, originConnectionLimitFlag, parseFlags, portFlag, requestBodyLimitFlag, requestHeadLimitFlag, secondsFlag, stateOption, ticketKeyRotationFlag, UsageError } from './args.js';
import { DEFAULT_MAX_REQUEST_BODY_MIB, MIB } from '../edge/body-limit.js';
import { DEFAULT_MAX_REQUEST_HEAD_KIB, KIB } from '../edge/request-head.js';
import { openAccessLogFile, reopenOnSignal } from './access-log.js';
import { originRoots } from './edge-roots.js';
import { readPublicRoots } from './public-roots.js';
import { isLoopbackHost, listenOn } from './listen.js';
import { exitAfterStop, STOP_SIGNALS } from '../graceful-close.js';

const FLAGS = {
  ...stateOption,
  'ca-url': { type: 'string' },
  'ca-cert': { type: 'string' },
  'public-roots': { type: 'string', default: 'system' },
  'edge-token': { type: 'string' },
  'http-port': { type: 'string' },
  'https-port': { type: 'string' },
  'status-port': { type: 'string' },
  'metrics-port': { type: 'string' },
  'origin-connect-timeout': { type: 'string', default: '15' },
  'origin-timeout': { type: 'string', default: '100' },
  'max-feed-staleness': { type: 'string', default: '600' },
  listen: { type: 'string', default: '127.0.0.1' },
  'log-level': { type: 'string', default: 'info' },
  'origin-session-resumption': { type: 'boolean', default: false },
  http2: { type: 'boolean', default: true },
  'ticket-key-rotation': { type: 'string', default: '3600' },
  'max-request-body-mib': { type: 'string', default: String(DEFAULT_MAX_REQUEST_BODY_MIB) },
  'max-request-head-kib': { type: 'string', default: String(DEFAULT_MAX_REQUEST_HEAD_KIB) },
  'max-origin-connections': { type: 'string', default: '0' },
  'client-header-timeout': { type: 'string', default: '60' },
  'client-body-timeout': { type: 'string', default: '60' },
  'client-send-timeout': { type: 'string', default: '60' },
  'access-log': { type: 'string' },
  'shutdown-grace': { type: 'string', default: '10' },
} as const;

/** Whether a URL names this machine. */
function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

const milliseconds = (value: string, name: string): number => secondsFlag(value, name)! * 1000;

const SNAPSHOT_AFTER_EVENTS = 10_000;

/**
 * The index from the snapshot plus the replica's later events, or from the replica alone; with
 * the revocations kept from a history the CA no longer has (see replica.ts) either way.
 */
function loadIndex(replica: ReturnType<typeof openReplica>, snapshotPath: string): { index: RevocationIndex; loaded: number } {
  const snapshot = readIndexSnapshot(snapshotPath);
  if (snapshot && snapshot.lastSeq <= replica.lastSeq()) {
    const loaded = replica.forEachKeptRevocation((event) => snapshot.index.apply(event));
    return { index: snapshot.index, loaded: loaded + replica.forEachEvent((event) => snapshot.index.apply(event), snapshot.lastSeq) };
  }
  const index = createRevocationIndex(capacityFor(replica.count()));
  const loaded = replica.forEachKeptRevocation((event) => index.apply(event));
  return { index, loaded: loaded + replica.forEachEvent((event) => index.apply(event)) };
}

export async function edgeCommand(argv: readonly string[], clock: Clock): Promise<void> {
  const { values } = parseFlags(argv, FLAGS);
  const caUrl = values['ca-url']?.replace(/\/+$/, '');
  const token = values['edge-token'] ?? process.env.STRICTEDGE_EDGE_TOKEN;
  if (!caUrl) throw new UsageError('--ca-url is required, e.g. http://127.0.0.1:8787/client/v4');
  if (!token) throw new UsageError('--edge-token (or STRICTEDGE_EDGE_TOKEN) is required; `strictedge edges create NAME` on the CA makes one');
  if (edgeTokenId(token) === undefined) throw new UsageError('--edge-token is not an edge token (edge-v1-…); `strictedge edges create NAME` on the CA makes one, and an account API key cannot follow the CA');
  let caFetch: CaFetch = createCaFetch();
  if (values['ca-cert'] !== undefined) {
    const trusted = readTrustedPem(values['ca-cert']);
    if ('error' in trusted) throw new UsageError(`--ca-cert: ${trusted.error}`);
    if (!caUrl.startsWith('https:')) throw new UsageError('--ca-cert is for a CA reached over HTTPS; --ca-url is not https://');
    caFetch = createCaFetch(trusted.pem);
  }
  const publicRoots = readPublicRoots(values['public-roots']);
  if ('error' in publicRoots) throw new UsageError(`--public-roots: ${publicRoots.error}`);
  const logger = createLogger(logLevelFlag(values['log-level']));
  if (caUrl.startsWith('http:') && !isLoopbackUrl(caUrl)) {
    logger.log('warn', "the CA is reached over plain HTTP: this edge's token and the feed cross the network in clear; serve the API over HTTPS (serve --api-tls-cert/--api-tls-key) and give --ca-url https://…", { ca_url: caUrl });
  }
  const graceMs = secondsFlag(values['shutdown-grace'], 'shutdown-grace', { zeroAllowed: true })! * 1000;
  const ticketKeyRotationMs = ticketKeyRotationFlag(values['ticket-key-rotation'])! * 1000; // before the CA is asked for anything
  const maxRequestBodyBytes = requestBodyLimitFlag(values['max-request-body-mib'])! * MIB;
  const maxRequestHeadBytes = requestHeadLimitFlag(values['max-request-head-kib'])! * KIB;
  const maxOriginConnections = originConnectionLimitFlag(values['max-origin-connections'])!;
  const clientHeaderTimeoutMs = secondsFlag(values['client-header-timeout'], 'client-header-timeout')! * 1000;
  const clientBodyTimeoutMs = secondsFlag(values['client-body-timeout'], 'client-body-timeout', { zeroAllowed: true })! * 1000;
  const clientSendTimeoutMs = secondsFlag(values['client-send-timeout'], 'client-send-timeout', { zeroAllowed: true })! * 1000;
  const accessLog = values['access-log'] === undefined ? undefined : openAccessLogFile(values['access-log'], logger);
  if (accessLog && 'error' in accessLog) throw new UsageError(`--access-log: ${accessLog.error}`);
  const paths = statePaths(values.state);
  ensureStateFolders(paths);
  const lock = lockStateFolder(paths.lock, paths.root);

  const roots = await originRoots(paths.root, caUrl, token, caFetch, logger);
  const replica = openReplica(join(paths.data, 'edge.db'));
  const snapshotPath = join(paths.data, 'edge-index.snapshot');
  const startedAt = performance.now();
  const { index, loaded } = loadIndex(replica, snapshotPath);
  const loadMs = performance.now() - startedAt;

  let zonesVersion = 0;
  let zones: readonly Zone[] = replica.zones();
  const metrics = createEdgeMetrics();
  let follower: ReturnType<typeof createFollower> | undefined;
  const edge = createEdge({
    metrics,
    initialSeq: replica.lastSeq(),
    feedStalenessSeconds: () => follower?.status().staleness_seconds ?? (performance.now() - startedAt) / 1000,
    originRootsPem: roots,
    edgeCa: await openEdgeCa(paths, clock),
    index,
    loadZones: () => zones,
    zonesStamp: () => String(zonesVersion),
    logger,
    clock,
    ...(accessLog ? { accessLog: accessLog.log } : {}),
    options: {
      connectTimeoutMs: milliseconds(values['origin-connect-timeout'], 'origin-connect-timeout'),
      responseTimeoutMs: milliseconds(values['origin-timeout'], 'origin-timeout'),
      publicRoots: publicRoots.roots,
      originSessionResumption: values['origin-session-resumption'],
      clientHttp2: values.http2,
      ticketKeyRotationMs,
      maxRequestBodyBytes,
      maxRequestHeadBytes,
      maxOriginConnections,
      clientHeaderTimeoutMs,
      clientBodyTimeoutMs,
      clientSendTimeoutMs,
    },
  });
  follower = createFollower({
    caUrl,
    token,
    fetch: caFetch,
    replica,
    logger,
    clock,
    maxStalenessMs: milliseconds(values['max-feed-staleness'], 'max-feed-staleness'),
    onEvents: (events) => events.forEach((event) => edge.applyCertEvent(event)),
    onFeedReset: () => {
      metrics.feedResets.inc();
      rmSync(snapshotPath, { force: true }); // it holds the history the CA no longer has
    },
    onIndexRebuilt: (rebuilt) => index.adopt(rebuilt),
    onZones: (given) => {
      zones = given;
      zonesVersion++;
      edge.refreshZones();
    },
  });

  // GET / (or HEAD) for health checks; anything else is said to be a mistake rather than answered alike.
  const status = createServer((req, res) => {
    const answer = (code: number, value: unknown, headers: Record<string, string> = {}) => {
      const body = JSON.stringify(value);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (new URL(req.url ?? '/', 'http://status').pathname !== '/') return answer(404, { error: 'no such path: the status is at /' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { error: `${req.method} is not allowed: GET or HEAD` }, { allow: 'GET, HEAD' });
    answer(200, { role: 'edge', ...follower!.status(), index: { issued: index.issuedCount, revoked: index.revokedCount }, zones: zones.length });
  });
  const host = values.listen;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const httpPort = await listenOn(edge.http, portFlag(values['http-port'], 'http-port') ?? 8080, host);
  const httpsPort = await listenOn(edge.https, portFlag(values['https-port'], 'https-port') ?? 8443, host);
  const statusPort = await listenOn(status, portFlag(values['status-port'], 'status-port') ?? 0, host);
  const metricsServer = createMetricsServer(metrics.registry, () => edge.refreshGauges());
  const metricsPort = await listenOn(metricsServer, portFlag(values['metrics-port'], 'metrics-port') ?? 9464, host);
  follower.start();

  // Answers in flight get graceMs; being `once`, a second signal ends the process at once.
  const stop = (signal: NodeJS.Signals) => {
    logger.log('info', 'shutting down', { signal, grace_s: graceMs / 1000 });
    follower?.stop();
    status.close();
    metricsServer.close();
    edge.close(graceMs).finally(() => accessLog?.log.close()).finally(() => {
      try {
        // Mid-rebuild the running index still holds certificates the CA no longer has: no snapshot.
        if (!follower?.status().rebuilding) writeIndexSnapshot(snapshotPath, index, replica.lastSeq());
      } finally {
        replica.close();
        lock.release();
        exitAfterStop(signal === 'SIGHUP');
      }
    });
  };
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
  reopenOnSignal(() => accessLog?.log.reopen());
  // Only now that the signals are taken: a supervisor may send one the moment it reads this line.
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      role: 'edge',
      http: `http://${hostForUrl}:${httpPort}`,
      https: `https://${hostForUrl}:${httpsPort}`,
      status: `http://${hostForUrl}:${statusPort}/`,
      metrics: `http://${hostForUrl}:${metricsPort}/metrics`,
      edge_ca: paths.edgeCaCert,
      ca_url: caUrl,
      last_seq: replica.lastSeq(),
      index_loaded: { events: loaded, ms: Math.round(loadMs) },
    })}\n`,
  );

  // Events applied from SQLite rather than a snapshot: save one so the next start is quick.
  if (loaded > SNAPSHOT_AFTER_EVENTS) setImmediate(() => writeIndexSnapshot(snapshotPath, index, replica.lastSeq()));
}
