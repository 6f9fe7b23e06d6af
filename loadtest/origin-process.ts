// The load tests' origins, in a process of their own so that they do not share a thread with
// the edge or the client. argv: JSON {httpPort, httpsPort, closePort, certFile, keyFile}.
// Prints "ready" when all three listen.
import { readFileSync } from 'node:fs';
import { startOrigin } from '../src/origin/server.js';

const config = JSON.parse(process.argv[2]!) as { httpPort: number; httpsPort: number; closePort: number; certFile: string; keyFile: string };
const tls = { cert: readFileSync(config.certFile, 'utf8'), key: readFileSync(config.keyFile, 'utf8') };
await startOrigin({ name: 'http', port: config.httpPort });
await startOrigin({ name: 'https', port: config.httpsPort, tls });
await startOrigin({ name: 'https-close', port: config.closePort, tls, keepAlive: false });
process.stdout.write('ready\n');
