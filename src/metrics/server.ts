// The listener Prometheus scrapes: GET /metrics in the text format, from one registry.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A prom-client Registry, or the primary's view of all workers' registries. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** The path of a request's target, without its query (Prometheus adds one for a job's `params`). */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** Answers a scrape of /metrics: GET and HEAD; any other method gets 405. */
export function answerScrape(req: IncomingMessage, res: ServerResponse, source: MetricsSource, beforeScrape: () => void = () => undefined): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    res.end('GET /metrics\n');
    return;
  }
  beforeScrape();
  source.metrics().then(
    (body) => {
      res.writeHead(200, { 'content-type': source.contentType, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    () => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('metrics unavailable\n');
    },
  );
}

export function createMetricsServer(source: MetricsSource, beforeScrape: () => void = () => undefined): Server {
  return createServer((req, res) => {
    if (pathOf(req) === '/metrics') return answerScrape(req, res, source, beforeScrape);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('GET /metrics\n');
  });
}
