// The platform's floor for the edge's job: a Node `https` server and an undici Pool.stream() to
// one origin, verified by Node alone (root, name), nothing else — no zones, headers, metrics,
// revocation or error pages. The load test runs it beside the edge so that the report shows
// what the edge's own code costs over Node + undici. argv: JSON {port, origin, servername,
// certFile, keyFile, rootFile}. Prints "ready" once it listens.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { connect, createSecureContext } from 'node:tls';
import { Pool } from 'undici';

const config = JSON.parse(process.argv[2]!) as { port: number; origin: string; servername: string; certFile: string; keyFile: string; rootFile: string };
const secureContext = createSecureContext({ ca: readFileSync(config.rootFile, 'utf8') });
const [host, port] = [config.origin.slice(0, config.origin.lastIndexOf(':')), Number(config.origin.slice(config.origin.lastIndexOf(':') + 1))];
const pool = new Pool(`https://${config.origin}`, {
  connections: 256,
  connect: (_options, callback) => {
    const socket = connect({ host, port, servername: config.servername, secureContext, ALPNProtocols: ['http/1.1'] });
    socket.once('secureConnect', () => callback(null, socket)).once('error', (error) => callback(error, null));
  },
});

const server = createServer({ cert: readFileSync(config.certFile, 'utf8'), key: readFileSync(config.keyFile, 'utf8') }, (req, res) => {
  pool
    .stream({ path: req.url ?? '/', method: 'GET', headers: { host: config.servername }, opaque: res }, ({ statusCode, headers, opaque }) => {
      const out = opaque as typeof res;
      // The origin's Connection: close (new-handshake origin) is its own business, not the client's.
      delete headers.connection;
      delete headers['keep-alive'];
      out.writeHead(statusCode, headers as Record<string, string>);
      return out;
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
});
server.keepAliveTimeout = 65_000;
server.listen(config.port, '127.0.0.1', () => process.stdout.write('ready\n'));
