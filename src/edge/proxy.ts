// The edge's request handler: Host -> zone -> mode -> origin pool, streaming both ways.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { classifyOriginError } from './classify.js';
import { sendEdgeError, type EdgeFailure } from './error-pages.js';
import { clientResponseHeaders, originRequestHeaders, requestIdFor, REQUEST_ID_HEADER } from './headers.js';
import { decideRoute, type Scheme } from './route.js';
import type { Upstreams } from './upstream.js';
import { hostOf, type ZoneTable } from './zone-table.js';

export interface ProxyDeps {
  readonly zones: () => ZoneTable;
  readonly upstreams: Upstreams;
  readonly logger: Logger;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function createProxy({ zones, upstreams, logger }: ProxyDeps) {
  function fail(req: IncomingMessage, res: ServerResponse, failure: EdgeFailure, requestId: string, error?: unknown): void {
    if (logger.enabled('info')) {
      logger.log('info', 'origin request failed', { status: failure.status, verdict: failure.verdict, host: req.headers.host, request_id: requestId, code: (error as { code?: string } | undefined)?.code });
    }
    sendEdgeError(req, res, failure, requestId);
  }

  return function handle(req: IncomingMessage, res: ServerResponse, scheme: Scheme): void {
    const requestId = requestIdFor(req);
    const host = hostOf(req.headers.host);
    const zone = host === undefined ? undefined : zones().lookup(host);
    if (!zone || host === undefined) return fail(req, res, { status: 421 }, requestId);

    const decision = decideRoute(zone, scheme);
    if (decision.kind === 'redirect_to_http') {
      res.writeHead(301, { location: `http://${req.headers.host}${req.url ?? '/'}`, [REQUEST_ID_HEADER]: requestId, 'content-length': 0 });
      res.end();
      return;
    }
    if (decision.kind === 'no_origin') return fail(req, res, { status: 521 }, requestId);

    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    upstreams
      .pool(decision.policy, decision.origin, host)
      .stream(
        {
          path: req.url ?? '/',
          method: req.method as 'GET',
          headers: originRequestHeaders(req, scheme, requestId),
          body: hasBody(req) ? req : null,
          signal: abort.signal,
          opaque: res,
        },
        ({ statusCode, headers, opaque }) => {
          const out = opaque as ServerResponse;
          out.writeHead(statusCode, clientResponseHeaders(headers as Record<string, string | string[]>, requestId));
          return out;
        },
      )
      .catch((error: unknown) => {
        if (abort.signal.aborted) return; // the client left; nothing to tell it
        if (res.headersSent) {
          res.destroy(); // mid-body failure: cut the response so the client sees it is incomplete
          return;
        }
        fail(req, res, classifyOriginError(error), requestId, error);
      });
  };
}
