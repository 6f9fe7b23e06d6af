// strictedge serve: the CA API and the edge in one process (the embedded default).
// Prints one JSON `ready` line on stdout once everything listens.
import { readFileSync } from 'node:fs';
import { AggregatorRegistry } from 'prom-client';
import { createSecureContext } from 'node:tls';
import { openCa, openEmbeddedEdge } from '../app.js';
import { createApiServer, API_BASE } from '../api/server.js';
import { createKeyUseRecorder } from '../api/key-use.js';
import type { Clock } from '../clock.js';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { createCaMetrics, createEdgeMetrics } from '../metrics/metrics.js';
import { createMetricsServer } from '../metrics/server.js';
import { logLevelFlag, originConnectionLimitFlag, parseFlags, portFlag, requestBodyLimitFlag, requestHeadLimitFlag, secondsFlag, stateOption, ticketKeyRotationFlag } from './args.js';
import { MIB } from '../edge/body-limit.js';
import { KIB } from '../edge/request-head.js';
import { isLoopbackHost, listenOn } from './listen.js';
import { readPublicRoots } from './public-roots.js';
import { openAccessLogFile, reopenOnSignal } from './access-log.js';
import type { AccessLog } from '../edge/access-log.js';
import { closeGracefully, exitAfterStop, STOP_SIGNALS } from '../graceful-close.js';
import { demoUsage, ensureDemo, DEMO_ACCOUNT } from './demo.js';
import { demoTable, startDemoOrigins } from '../origin/demo.js';
import { openEdgeCa } from '../edge/edge-ca.js';
import type { Edge, EdgeOptions } from '../edge/edge.js';
import { isEdgeWorker, receiveCertEvents, receiveReopenAccessLog, receiveTicketKeys, startEdgeWorkers, WORKER_MESSAGES } from '../edge/workers.js';
import type { Logger } from '../log.js';
import { ensureStateFolders, statePaths } from '../store/state-folder.js';
import { lockStateFolder } from '../store/state-lock.js';

const FLAGS = {
  ...stateOption,
  'api-port': { type: 'string' },
  'http-port': { type: 'string' },
  'https-port': { type: 'string' },
  'metrics-port': { type: 'string' },
  'origin-connect-timeout': { type: 'string' },
  'origin-timeout': { type: 'string' },
  listen: { type: 'string' },
  'log-level': { type: 'string' },
  config: { type: 'string' },
  demo: { type: 'boolean', default: false },
  'origin-session-resumption': { type: 'boolean' },
  http2: { type: 'boolean' },
  'ticket-key-rotation': { type: 'string' },
  'max-request-body-mib': { type: 'string' },
  'max-request-head-kib': { type: 'string' },
  'max-origin-connections': { type: 'string' },
  'client-header-timeout': { type: 'string' },
  'client-body-timeout': { type: 'string' },
  'client-send-timeout': { type: 'string' },
  'access-log': { type: 'string' },
  workers: { type: 'string' },
  'shutdown-grace': { type: 'string' },
  'api-tls-cert': { type: 'string' },
  'api-tls-key': { type: 'string' },
} as const;

/** The API's certificate and key when both are given, read and checked to be a pair. */
function apiTls(certPath: string | undefined, keyPath: string | undefined): { cert: string; key: string } | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) throw new ConfigError("--api-tls-cert and --api-tls-key (the config's api_tls_cert and api_tls_key) go together: PEM files of the API's certificate and its key");
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`--${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  const tls = { cert: read(certPath, 'api-tls-cert'), key: read(keyPath, 'api-tls-key') };
  try {
    createSecureContext(tls);
  } catch (error) {
    // OpenSSL's reason only ("key values mismatch", "no start line"): never the key itself.
    throw new ConfigError(`--api-tls-cert / --api-tls-key: ${(error as Error).message.split('\n')[0]}`);
  }
  return tls;
}

/** The access log, if one is asked for, open for appending; a path that cannot be is refused in one line. */
function configuredAccessLog(path: string | undefined, logger: Logger): AccessLog | undefined {
  if (path === undefined) return undefined;
  const opened = openAccessLogFile(path, logger);
  if ('error' in opened) throw new ConfigError(`--access-log / edge.access_log: ${opened.error}`);
  return opened.log;
}

function configuredPublicRoots(setting: string): readonly string[] {
  const found = readPublicRoots(setting);
  if ('error' in found) throw new ConfigError(`edge.public_roots: ${found.error}`);
  return found.roots;
}

export async function serve(argv: readonly string[], clock: Clock): Promise<void> {
  const { values } = parseFlags(argv, FLAGS);
  const config: Config = loadConfig(values.config);
  const host = values.listen ?? config.listen;
  const logger = createLogger(values['log-level'] === undefined ? config.log_level : logLevelFlag(values['log-level']));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // The demo's "slow" origin never answers: a short wait shows its 524 without keeping you waiting.
  const demoTimeout = values.demo && values.config === undefined ? 3 : undefined;
  const edgeOptions = {
    connectTimeoutMs: (secondsFlag(values['origin-connect-timeout'], 'origin-connect-timeout') ?? config.edge.connect_timeout_s) * 1000,
    responseTimeoutMs: (secondsFlag(values['origin-timeout'], 'origin-timeout') ?? demoTimeout ?? config.edge.origin_timeout_s) * 1000,
    publicRoots: configuredPublicRoots(config.edge.public_roots),
    originSessionResumption: values['origin-session-resumption'] ?? config.edge.origin_session_resumption,
    clientHttp2: values.http2 ?? config.edge.http2,
    ticketKeyRotationMs: (ticketKeyRotationFlag(values['ticket-key-rotation']) ?? config.edge.ticket_key_rotation_s) * 1000,
    maxRequestBodyBytes: (requestBodyLimitFlag(values['max-request-body-mib']) ?? config.edge.max_request_body_mib) * MIB,
    maxRequestHeadBytes: (requestHeadLimitFlag(values['max-request-head-kib']) ?? config.edge.max_request_head_kib) * KIB,
    maxOriginConnections: originConnectionLimitFlag(values['max-origin-connections']) ?? config.edge.max_origin_connections,
    clientHeaderTimeoutMs: (secondsFlag(values['client-header-timeout'], 'client-header-timeout') ?? config.edge.client_header_timeout_s) * 1000,
    clientBodyTimeoutMs: (secondsFlag(values['client-body-timeout'], 'client-body-timeout', { zeroAllowed: true }) ?? config.edge.client_body_timeout_s) * 1000,
    clientSendTimeoutMs: (secondsFlag(values['client-send-timeout'], 'client-send-timeout', { zeroAllowed: true }) ?? config.edge.client_send_timeout_s) * 1000,
  };
  const ports = {
    api: portFlag(values['api-port'], 'api-port') ?? config.api_port,
    http: portFlag(values['http-port'], 'http-port') ?? config.edge.http_port,
    https: portFlag(values['https-port'], 'https-port') ?? config.edge.https_port,
    metrics: portFlag(values['metrics-port'], 'metrics-port') ?? config.edge.metrics_port,
  };

  const graceMs = (secondsFlag(values['shutdown-grace'], 'shutdown-grace', { zeroAllowed: true }) ?? config.shutdown_grace_s) * 1000;

  const accessLogPath = values['access-log'] ?? config.edge.access_log;
  if (isEdgeWorker()) return serveEdgeWorker(values.state, edgeOptions, ports, host, logger, clock, graceMs, configuredAccessLog(accessLogPath, logger));
  const tls = apiTls(values['api-tls-cert'] ?? config.api_tls_cert, values['api-tls-key'] ?? config.api_tls_key); // the API is the primary's alone
  const workerCount = values.workers === undefined ? config.edge.workers : Number(values.workers);
  if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > 64) throw new ConfigError('--workers must be a whole number from 1 to 64');
  // Checked here, before anything starts; with workers, each appends to the file on its own.
  const accessLog = configuredAccessLog(accessLogPath, logger);
  if (workerCount > 1) void accessLog?.close();

  const paths = statePaths(values.state);
  ensureStateFolders(paths);
  const lock = lockStateFolder(paths.lock, paths.root); // held by the primary; its workers share the folder
  const caMetrics = createCaMetrics();
  const app = await openCa({ dir: values.state, clock, maxHostnames: config.max_hostnames, metrics: caMetrics });
  const demoCreated = values.demo && ensureDemo(app, log);
  const keyUse = createKeyUseRecorder((keyId, at) => app.accounts.recordKeyUse(keyId, at), clock, logger);
  const api = createApiServer({ accounts: app.accounts, ca: app.ca, zones: app.zones, crls: app.crls, roots: app.roots, edgeFeed: app.edgeFeed, metrics: caMetrics, logger, keyUse, bodyLimit: config.max_body_bytes }, tls);
  if (!tls && !isLoopbackHost(host)) {
    logger.log('warn', 'the API listens beyond this machine over plain HTTP: API keys and edge tokens cross the network in clear; give --api-tls-cert and --api-tls-key', { listen: host });
  }
  const demoOrigins = values.demo ? await startDemoOrigins(app, DEMO_ACCOUNT, clock) : undefined;
  const edgeSide = workerCount > 1 ? await startWorkers(workerCount, app, logger, clock, edgeOptions.ticketKeyRotationMs) : await startEmbeddedEdge(app, edgeOptions, ports, host, logger, clock, accessLog);

  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const apiPort = await listenOn(api, ports.api, host);
  const { http: httpPort, https: httpsPort } = edgeSide.ports;
  const metricsPort = await listenOn(edgeSide.metricsServer, ports.metrics, host);
  const apiScheme = tls ? 'https' : 'http';
  const apiUrl = `${apiScheme}://${hostForUrl}:${apiPort}${API_BASE}`;
  const dashboardUrl = `${apiScheme}://${hostForUrl}:${apiPort}/`;
  if (values.demo) {
    log(`dashboard: ${dashboardUrl} (sign in with the key in ${app.paths.demoApiKey})`);
    log(demoUsage(app.paths.demoApiKey, apiUrl));
    log(`\nthe edge, one zone per case (origin timeout ${edgeOptions.responseTimeoutMs / 1000} s):\n${demoTable(app.paths.edgeCaCert, httpsPort)}\n`);
  }

  // Answers in flight on the API and the edge get graceMs; the demo origins behind the edge close
  // after it. Being `once`, a second signal ends the process at once.
  const stop = (signal: NodeJS.Signals) => {
    logger.log('info', 'shutting down', { signal, grace_s: graceMs / 1000 });
    app.edgeFeed.waiter.close(); // separate edges' long polls answer now rather than at their end
    edgeSide.metricsServer.close();
    edgeSide.metricsServer.closeAllConnections();
    Promise.allSettled([closeGracefully(api, graceMs), edgeSide.close(graceMs)])
      .then(() => demoOrigins?.close())
      .then(() => app.close())
      .finally(() => {
        lock.release();
        exitAfterStop(signal === 'SIGHUP');
      });
  };
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
  reopenOnSignal(() => edgeSide.reopenAccessLog());
  // Only now that the signals are taken: a supervisor may send one the moment it reads this line.
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      api: apiUrl,
      dashboard: dashboardUrl,
      http: `http://${hostForUrl}:${httpPort}`,
      https: `https://${hostForUrl}:${httpsPort}`,
      metrics: `http://${hostForUrl}:${metricsPort}/metrics`,
      ca_metrics: `${apiScheme}://${hostForUrl}:${apiPort}/metrics`,
      edge_ca: app.paths.edgeCaCert,
      state: app.paths.root,
      roots: { ecc: app.paths.rootCert('ecdsa'), rsa: app.paths.rootCert('rsa') },
      demo: values.demo,
      demo_created: demoCreated,
      workers: workerCount,
    })}\n`,
  );
}

interface EdgeSide {
  readonly ports: { readonly http: number; readonly https: number };
  readonly metricsServer: ReturnType<typeof createMetricsServer>;
  /** Reopens the access log, in this process or in every worker (SIGUSR2). */
  reopenAccessLog(): void;
  close(graceMs: number): Promise<void>;
}

type Ports = { readonly http: number; readonly https: number };

/** The default: the edge in this process, fed by the CA's commits in memory. */
async function startEmbeddedEdge(app: Awaited<ReturnType<typeof openCa>>, options: EdgeOptions, ports: Ports, host: string, logger: Logger, clock: Clock, accessLog?: AccessLog): Promise<EdgeSide> {
  const edgeMetrics = createEdgeMetrics();
  const edge = await openEmbeddedEdge(app, options, logger, clock, edgeMetrics, accessLog);
  return {
    ports: { http: await listenOn(edge.http, ports.http, host), https: await listenOn(edge.https, ports.https, host) },
    metricsServer: createMetricsServer(edgeMetrics.registry, () => edge.refreshGauges()),
    reopenAccessLog: () => accessLog?.reopen(),
    close: (graceMs) => edge.close(graceMs).finally(() => accessLog?.close()),
  };
}

/** --workers N: the edge listeners in N cluster workers; this process forwards events and sums metrics. */
async function startWorkers(count: number, app: Awaited<ReturnType<typeof openCa>>, logger: Logger, clock: Clock, ticketKeyRotationMs: number): Promise<EdgeSide> {
  await openEdgeCa(app.paths, clock); // made once here, so that workers only read it
  const workers = startEdgeWorkers(count, logger, ticketKeyRotationMs);
  app.onCertEvent((event) => workers.forward(event));
  return { ports: await workers.listening, metricsServer: createMetricsServer(workers.metrics), reopenAccessLog: () => workers.reopenAccessLogs(), close: (graceMs) => workers.stop(graceMs) };
}

/** One edge worker: the same edge as the embedded one, on the shared ports, events from the primary. */
async function serveEdgeWorker(dir: string, options: EdgeOptions, ports: Ports, host: string, logger: Logger, clock: Clock, graceMs: number, accessLog?: AccessLog): Promise<void> {
  const events = receiveCertEvents(); // before the index loads: an event is applied twice, never missed
  const edgeMetrics = createEdgeMetrics();
  let edge: Edge | undefined;
  // Gauges are brought up to date before each scrape: this listener runs before prom-client's,
  // which the AggregatorRegistry below installs and which answers the primary's request.
  process.on('message', (message: { type?: string }) => message?.type === 'prom-client:getMetricsReq' && edge?.refreshGauges());
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([edgeMetrics.registry]);
  const app = await openCa({ dir, clock });
  // The primary rotates the session ticket keys for all workers at once.
  edge = await openEmbeddedEdge(app, { ...options, ticketKeyRotationMs: 0 }, logger, clock, edgeMetrics, accessLog);
  events.attach((event) => edge!.applyCertEvent(event));
  const http = await listenOn(edge.http, ports.http, host);
  const https = await listenOn(edge.https, ports.https, host);
  receiveTicketKeys((keys) => edge!.setTicketKeys(keys));
  // From the primary, or the signal itself when it reached the whole group.
  receiveReopenAccessLog(() => accessLog?.reopen());
  reopenOnSignal(() => accessLog?.reopen());
  let stopping = false;
  let hungUp = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    edge!
      .close(graceMs)
      .finally(() => accessLog?.close())
      .finally(() => app.close().finally(() => exitAfterStop(hungUp)));
  };
  // Every SIGTERM, not just the first: systemd (KillMode=control-group) or `kill` on the group
  // signals the workers too, and then the primary passes its own on. With `once` that second
  // one ended the worker at once, cutting the answers it was draining; the primary kills a
  // worker still running after the grace anyway.
  process.on('SIGTERM', stop);
  // Ctrl-C and a closed terminal reach the whole group; the primary stops us. After a hangup
  // the worker ends by SIGHUP too (see exitAfterStop): it shares the primary's terminal.
  process.once('SIGINT', () => undefined);
  process.once('SIGHUP', () => (hungUp = true));
  // Only now that the signals are taken: the primary's ready line waits for this.
  process.send!({ type: WORKER_MESSAGES.listening, http, https });
}
