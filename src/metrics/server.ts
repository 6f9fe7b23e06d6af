// The listener Prometheus scrapes: GET /metrics in the text format, from one registry.
import { createServer, type Server } from 'node:http';

/** A prom-client Registry, or the primary's view of all workers' registries. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export function createMetricsServer(registry: MetricsSource, beforeScrape: () => void = () => undefined): Server {
  return createServer((req, res) => {
    if (req.url !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('GET /metrics\n');
      return;
    }
    beforeScrape();
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics unavailable\n');
      },
    );
  });
}
