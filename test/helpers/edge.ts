// An in-process CA + edge on a temp state folder, with loopback listeners on free ports,
// and a client that speaks to the edge as a browser would (Host header, SNI, edge CA trust).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { openCa, openEmbeddedEdge, type CaApp } from '../../src/app.js';
import { createApiServer, API_BASE } from '../../src/api/server.js';
import type { Edge } from '../../src/edge/edge.js';
import type { AccessLog } from '../../src/edge/access-log.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { readFileSync } from 'node:fs';
import { startDemoOrigins, type DemoOrigins } from '../../src/origin/demo.js';
import { createCaMetrics, createEdgeMetrics, type CaMetrics, type EdgeMetrics } from '../../src/metrics/metrics.js';
import { createMetricsServer } from '../../src/metrics/server.js';

export interface TestEdge {
  readonly app: CaApp;
  readonly edge: Edge;
  readonly api: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly edgeCaPem: string;
  readonly edgeMetrics: EdgeMetrics;
  readonly caMetrics: CaMetrics;
  /** The edge's /metrics, and the CA's (on the API port). */
  readonly metricsUrl: string;
  readonly caMetricsUrl: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startTestEdge(dir: string, options: { connectTimeoutMs?: number; responseTimeoutMs?: number; originSessionResumption?: boolean; edgeLogger?: Logger; edgeClock?: Clock; maxOriginPools?: number; maxOriginConnections?: number; maxClientsPerOriginPool?: number; clientBodyTimeoutMs?: number; clientSendTimeoutMs?: number; websocketIdleTimeoutMs?: number; ticketKeyRotationMs?: number; maxRequestBodyBytes?: number; maxRequestHeadBytes?: number; clientHandshakeTimeoutMs?: number; accessLog?: AccessLog } = {}): Promise<TestEdge> {
  const caMetrics = createCaMetrics();
  const edgeMetrics = createEdgeMetrics();
  const app = await openCa({ dir, clock: systemClock, metrics: caMetrics });
  const edge = await openEmbeddedEdge(app, { connectTimeoutMs: options.connectTimeoutMs ?? 2000, responseTimeoutMs: options.responseTimeoutMs ?? 1500, publicRoots: [], zoneRefreshMs: 100, originSessionResumption: options.originSessionResumption ?? false, ...(options.maxOriginPools ? { maxOriginPools: options.maxOriginPools } : {}), ...(options.maxOriginConnections ? { maxOriginConnections: options.maxOriginConnections } : {}), ...(options.maxClientsPerOriginPool ? { maxClientsPerOriginPool: options.maxClientsPerOriginPool } : {}), ...(options.clientBodyTimeoutMs ? { clientBodyTimeoutMs: options.clientBodyTimeoutMs } : {}), ...(options.clientSendTimeoutMs !== undefined ? { clientSendTimeoutMs: options.clientSendTimeoutMs } : {}), ...(options.websocketIdleTimeoutMs ? { websocketIdleTimeoutMs: options.websocketIdleTimeoutMs } : {}), ...(options.ticketKeyRotationMs ? { ticketKeyRotationMs: options.ticketKeyRotationMs } : {}), ...(options.maxRequestBodyBytes !== undefined ? { maxRequestBodyBytes: options.maxRequestBodyBytes } : {}), ...(options.maxRequestHeadBytes ? { maxRequestHeadBytes: options.maxRequestHeadBytes } : {}), ...(options.clientHandshakeTimeoutMs ? { clientHandshakeTimeoutMs: options.clientHandshakeTimeoutMs } : {}) }, options.edgeLogger ?? silentLogger, options.edgeClock ?? systemClock, edgeMetrics, options.accessLog);
  const api = createApiServer({ accounts: app.accounts, ca: app.ca, zones: app.zones, crls: app.crls, roots: app.roots, edgeFeed: app.edgeFeed, metrics: caMetrics, logger: silentLogger });
  const metricsServer = createMetricsServer(edgeMetrics.registry, () => edge.refreshGauges());
  const [apiPort, httpPort, httpsPort, metricsPort] = [await listen(api), await listen(edge.http), await listen(edge.https), await listen(metricsServer)];
  return {
    app,
    edge,
    api: `http://127.0.0.1:${apiPort}${API_BASE}`,
    httpPort,
    httpsPort,
    edgeCaPem: readFileSync(app.paths.edgeCaCert, 'utf8'),
    edgeMetrics,
    caMetrics,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    caMetricsUrl: `http://127.0.0.1:${apiPort}/metrics`,
    async close() {
      api.closeAllConnections();
      api.close();
      metricsServer.close();
      await edge.close();
      await app.close();
    },
  };
}

export interface EdgeResponse {
  readonly status: number;
  /** The status line's reason phrase. */
  readonly reason: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface EdgeRequest {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** One request to the edge with a fresh connection; resolves with the whole response. */
export function edgeRequest(edge: TestEdge, request: EdgeRequest): Promise<EdgeResponse> {
  return new Promise((resolve, reject) => {
    const common = {
      host: '127.0.0.1',
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      headers: { host: request.host, ...(request.headers ?? {}) },
      agent: false as const,
    };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, reason: res.statusMessage!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    };
    const req =
      request.scheme === 'https'
        ? httpsRequest({ ...common, port: edge.httpsPort, servername: request.host, ca: edge.edgeCaPem }, onResponse)
        : httpRequest({ ...common, port: edge.httpPort }, onResponse);
    req.on('error', reject);
    req.end(request.body);
  });
}

/** A test edge with an account "site" owning the demo zones, their origins running. */
export async function startEdgeWithDemo(dir: string, options: Parameters<typeof startTestEdge>[1] = {}): Promise<{ edge: TestEdge; demo: DemoOrigins; apiKey: string }> {
  const edge = await startTestEdge(dir, options);
  const apiKey = edge.app.admin.createAccount('site').apiKey;
  const demo = await startDemoOrigins(edge.app, 'site', () => new Date());
  edge.edge.refreshZones();
  return { edge, demo, apiKey };
}
