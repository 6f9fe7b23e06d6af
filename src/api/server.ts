// The CA's HTTP API: Cloudflare v4 paths under /client/v4, one envelope for every answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import type { Ca } from '../ca/service.js';
import type { ZoneService } from '../ca/zones.js';
import type { AccountStore } from '../store/accounts.js';
import type { Logger } from '../log.js';
import { authenticate } from './auth.js';
import { readJsonBody } from './body.js';
import { sendError, sendResult } from './envelope.js';
import { createRouter } from './router.js';
import { certificateRoutes } from './routes/certificates.js';
import { zoneRoutes } from './routes/zones.js';
import { CRL_PATHS, serveCrl } from './routes/crl.js';
import { createRootFiles, serveRoot } from './routes/roots.js';
import type { OriginRoots } from '../ca/roots.js';
import type { CrlService } from '../ca/crl.js';
import type { CaMetrics } from '../metrics/metrics.js';
import { answerScrape } from '../metrics/server.js';
import { serveEdgeFeed, type EdgeFeedDeps } from './routes/edge-feed.js';
import { headerTimeoutCheckMs } from '../head-timeout.js';
import { createDashboard, isDashboardPath } from './dashboard.js';

export const API_BASE = '/client/v4';
export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface ApiDeps {
  readonly accounts: AccountStore;
  readonly ca: Ca;
  readonly zones: ZoneService;
  readonly crls: CrlService;
  readonly roots: OriginRoots;
  readonly edgeFeed: EdgeFeedDeps;
  readonly metrics?: CaMetrics;
  readonly logger: Logger;
  readonly bodyLimit?: number;
  /** Told of each request's API key once it is authenticated (key-use.ts). */
  readonly keyUse?: (keyId: string) => void;
  /** How long a request's head may take to arrive whole before Node answers 408 (default 20 s). */
  readonly headersTimeoutMs?: number;
}

const METHODS_WITH_BODY = new Set(['POST', 'PATCH', 'PUT']);

export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const match = createRouter([...certificateRoutes(deps.ca), ...zoneRoutes(deps.zones)]);
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const dashboard = createDashboard();
  const rootFiles = createRootFiles(deps.roots);

  // Paths outside the router, with the methods they answer: files anyone may fetch, and the edges' feed.
  const SPECIAL_ALLOW = new Map<string, string>([
    ...[...CRL_PATHS.keys(), ...rootFiles.keys()].map((path) => [path, 'GET, HEAD'] as const),
    ...['/edge/events', '/edge/zones', '/edge/roots'].map((path) => [path, 'GET'] as const),
  ]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/metrics' && deps.metrics) return answerScrape(req, res, deps.metrics.registry);
    if (isDashboardPath(url.pathname)) {
      dashboard.serve(req.method ?? 'GET', url.pathname, res);
      return;
    }
    if (url.pathname !== API_BASE && !url.pathname.startsWith(`${API_BASE}/`)) throw new StrictedgeError(Errors.ROUTE_NOT_FOUND);
    const path = url.pathname.slice(API_BASE.length);
    const found = match(req.method ?? 'GET', path);
    // Counted under a template, never the raw path, so label values stay bounded.
    const allow = SPECIAL_ALLOW.get(path);
    const route = allow ? path : found.kind === 'not_found' ? 'unmatched' : found.route.template;
    const metrics = deps.metrics;
    if (metrics) res.once('finish', () => metrics.apiRequests.labels(route, String(res.statusCode)).inc());
    if (allow && !allow.split(', ').includes(req.method ?? 'GET')) {
      sendError(res, Errors.METHOD_NOT_ALLOWED, req.method, { allow });
      return;
    }
    if (await serveCrl(req.method ?? 'GET', path, res, deps.crls)) return;
    if (serveRoot(req.method ?? 'GET', path, res, rootFiles)) return;
    if (await serveEdgeFeed(req, res, path, url, deps.edgeFeed, deps.logger)) return;
    if (found.kind === 'not_found') throw new StrictedgeError(Errors.ROUTE_NOT_FOUND);
    if (found.kind === 'method_not_allowed') {
      sendError(res, Errors.METHOD_NOT_ALLOWED, req.method, { allow: found.allow });
      return;
    }
    const { account, keyId } = authenticate(req.headers, deps.accounts);
    deps.keyUse?.(keyId);
    const body = METHODS_WITH_BODY.has(req.method!) ? await readJsonBody(req, bodyLimit) : undefined;
    const outcome = await found.handler({ account, params: found.params, query: url.searchParams, body });
    sendResult(res, outcome.status ?? 200, outcome.result, outcome.resultInfo);
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof StrictedgeError) {
        // A body we refused to read: close the connection rather than drain it.
        const headers: Record<string, string> = error.def === Errors.BODY_TOO_LARGE ? { connection: 'close' } : {};
        sendError(res, error.def, error.detail, headers);
        if (error.def.http >= 500) deps.logger.log('error', 'request failed', { code: error.code, cause: String(error.cause) });
        return;
      }
      deps.logger.log('error', 'unexpected error', { method: req.method, error: error instanceof Error ? error.stack : String(error) });
      sendError(res, Errors.INTERNAL);
    });
  };
}

/** The API server; over HTTPS with this certificate and key (PEM), else plain HTTP. */
export function createApiServer(deps: ApiDeps, tls?: { readonly cert: string; readonly key: string }): Server {
  const headersTimeout = deps.headersTimeoutMs ?? 20_000;
  // Checked a quarter of the timeout apart: with Node's 30 s, a trickled head held a socket 50 s.
  const options = { keepAliveTimeout: 10_000, headersTimeout, requestTimeout: Math.max(30_000, headersTimeout), connectionsCheckingInterval: headerTimeoutCheckMs(headersTimeout) };
  return tls ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, createApiHandler(deps)) : createServer(options, createApiHandler(deps));
}
