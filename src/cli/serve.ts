// strictedge serve: the CA API and the edge in one process (the embedded default).
// Prints one JSON `ready` line on stdout once everything listens.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { openCa, openEmbeddedEdge } from '../app.js';
import { createApiServer, API_BASE } from '../api/server.js';
import type { Clock } from '../clock.js';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { createCaMetrics, createEdgeMetrics } from '../metrics/metrics.js';
import { createMetricsServer } from '../metrics/server.js';
import { pemBlocks, derToPem } from '../pki/formats.js';
import { logLevelFlag, parseFlags, portFlag, secondsFlag, stateOption } from './args.js';
import { listenOn } from './listen.js';
import { demoUsage, ensureDemo, DEMO_ACCOUNT } from './demo.js';
import { demoTable, startDemoOrigins } from '../origin/demo.js';

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
} as const;

function publicRoots(setting: string): readonly string[] {
  if (setting === 'system') return rootCertificates;
  if (setting === 'none') return [];
  try {
    return pemBlocks(readFileSync(setting, 'utf8')).filter((b) => b.label === 'CERTIFICATE').map((b) => derToPem(b.der, 'CERTIFICATE'));
  } catch (error) {
    throw new ConfigError(`edge.public_roots: cannot read ${setting}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
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
    publicRoots: publicRoots(config.edge.public_roots),
    originSessionResumption: values['origin-session-resumption'] ?? config.edge.origin_session_resumption,
  };
  const ports = {
    api: portFlag(values['api-port'], 'api-port') ?? config.api_port,
    http: portFlag(values['http-port'], 'http-port') ?? config.edge.http_port,
    https: portFlag(values['https-port'], 'https-port') ?? config.edge.https_port,
    metrics: portFlag(values['metrics-port'], 'metrics-port') ?? config.edge.metrics_port,
  };

  const caMetrics = createCaMetrics();
  const edgeMetrics = createEdgeMetrics();
  const app = await openCa({ dir: values.state, clock, maxHostnames: config.max_hostnames, metrics: caMetrics });
  const demoCreated = values.demo && ensureDemo(app, log);
  const api = createApiServer({ accounts: app.accounts, ca: app.ca, zones: app.zones, crls: app.crls, edgeFeed: app.edgeFeed, metrics: caMetrics, logger, bodyLimit: config.max_body_bytes });
  const demoOrigins = values.demo ? await startDemoOrigins(app, DEMO_ACCOUNT, clock) : undefined;
  const edge = await openEmbeddedEdge(app, edgeOptions, logger, clock, edgeMetrics);
  const metricsServer = createMetricsServer(edgeMetrics.registry, () => edge.refreshGauges());

  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const apiPort = await listenOn(api, ports.api, host);
  const httpPort = await listenOn(edge.http, ports.http, host);
  const httpsPort = await listenOn(edge.https, ports.https, host);
  const metricsPort = await listenOn(metricsServer, ports.metrics, host);
  const apiUrl = `http://${hostForUrl}:${apiPort}${API_BASE}`;
  const dashboardUrl = `http://${hostForUrl}:${apiPort}/`;
  if (values.demo) {
    log(`dashboard: ${dashboardUrl} (sign in with the key in ${app.paths.demoApiKey})`);
    log(demoUsage(app.paths.demoApiKey, apiUrl));
    log(`\nthe edge, one zone per case (origin timeout ${edgeOptions.responseTimeoutMs / 1000} s):\n${demoTable(app.paths.edgeCaCert, httpsPort)}\n`);
  }
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      api: apiUrl,
      dashboard: dashboardUrl,
      http: `http://${hostForUrl}:${httpPort}`,
      https: `https://${hostForUrl}:${httpsPort}`,
      metrics: `http://${hostForUrl}:${metricsPort}/metrics`,
      ca_metrics: `http://${hostForUrl}:${apiPort}/metrics`,
      edge_ca: app.paths.edgeCaCert,
      state: app.paths.root,
      roots: { ecc: app.paths.rootCert('ecdsa'), rsa: app.paths.rootCert('rsa') },
      demo: values.demo,
      demo_created: demoCreated,
    })}\n`,
  );

  const stop = () => {
    api.close();
    api.closeAllConnections();
    metricsServer.close();
    Promise.allSettled([edge.close(), demoOrigins?.close()])
      .then(() => app.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
