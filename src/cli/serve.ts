// strictedge serve: the CA API (later the edge joins it). Prints one JSON `ready` line.
import type { AddressInfo } from 'node:net';
import { openCa } from '../app.js';
import { createApiServer, API_BASE } from '../api/server.js';
import type { Clock } from '../clock.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { parseFlags, portFlag, stateOption } from './args.js';
import { demoUsage, ensureDemo } from './demo.js';

const FLAGS = {
  ...stateOption,
  'api-port': { type: 'string' },
  listen: { type: 'string' },
  config: { type: 'string' },
  demo: { type: 'boolean', default: false },
} as const;

export async function serve(argv: readonly string[], clock: Clock): Promise<void> {
  const { values } = parseFlags(argv, FLAGS);
  const config = loadConfig(values.config);
  const apiPort = portFlag(values['api-port'], 'api-port') ?? config.api_port;
  const host = values.listen ?? config.listen;
  const logger = createLogger(config.log_level);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const app = await openCa({ dir: values.state, clock, maxHostnames: config.max_hostnames });
  const demoCreated = values.demo && ensureDemo(app, log);

  const server = createApiServer({ accounts: app.accounts, ca: app.ca, zones: app.zones, logger, bodyLimit: config.max_body_bytes });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(apiPort, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const api = `http://${hostForUrl}:${port}${API_BASE}`;
  if (values.demo) log(demoUsage(app.paths.demoApiKey, api));
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', api, state: app.paths.root, roots: { ecc: app.paths.rootCert('ecdsa'), rsa: app.paths.rootCert('rsa') }, demo: values.demo, demo_created: demoCreated })}\n`,
  );

  const stop = () => {
    server.close();
    server.closeAllConnections();
    app.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
