// The load tests' origins, in a process of their own so that they do not share a thread with
// the edge or the client. argv: JSON {httpPort, httpsPort, closePort, certFile, keyFile} and,
// optionally, {rsaClosePort, rsaCertFile, rsaKeyFile}. Prints "ready" when all listen.
import { readFileSync } from 'node:fs';
import { startOrigin } from '../src/origin/server.js';

const config = JSON.parse(process.argv[2]!) as { httpPort: number; httpsPort: number; closePort: number; certFile: string; keyFile: string; rsaClosePort?: number; rsaCertFile?: string; rsaKeyFile?: string };
const tls = { cert: readFileSync(config.certFile, 'utf8'), key: readFileSync(config.keyFile, 'utf8') };
await startOrigin({ name: 'http', port: config.httpPort });
await startOrigin({ name: 'https', port: config.httpsPort, tls });
await startOrigin({ name: 'https-close', port: config.closePort, tls, keepAlive: false });
if (config.rsaClosePort && config.rsaCertFile && config.rsaKeyFile) {
  const rsa = { cert: readFileSync(config.rsaCertFile, 'utf8'), key: readFileSync(config.rsaKeyFile, 'utf8') };
  await startOrigin({ name: 'https-rsa-close', port: config.rsaClosePort, tls: rsa, keepAlive: false });
}
process.stdout.write('ready\n');
