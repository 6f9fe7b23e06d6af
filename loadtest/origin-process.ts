// The load tests' origins, in a process of their own so that they do not share a thread with
// the edge or the client. argv: JSON {httpPort, httpsPort, closePort, certFile, keyFile} and,
// optionally, {rsaClosePort, rsaCertFile, rsaKeyFile}. Prints "ready" when all listen.
// Over the IPC channel it answers the message 'tls-counts' with the handshakes it has
// completed so far, by TLS version and resumption (origin-tls.ts).
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { startOrigin, type RunningOrigin } from '../src/origin/server.js';
import { countHandshake, type OriginTlsCounts } from './origin-tls.js';

const config = JSON.parse(process.argv[2]!) as { httpPort: number; httpsPort: number; closePort: number; certFile: string; keyFile: string; rsaClosePort?: number; rsaCertFile?: string; rsaKeyFile?: string };
const tls = { cert: readFileSync(config.certFile, 'utf8'), key: readFileSync(config.keyFile, 'utf8') };
const counts: OriginTlsCounts = {};
const counted = (origin: RunningOrigin) => origin.server.on('secureConnection', (socket: TLSSocket) => countHandshake(counts, socket.getProtocol() ?? 'unknown', socket.isSessionReused()));
await startOrigin({ name: 'http', port: config.httpPort });
counted(await startOrigin({ name: 'https', port: config.httpsPort, tls }));
counted(await startOrigin({ name: 'https-close', port: config.closePort, tls, keepAlive: false }));
if (config.rsaClosePort && config.rsaCertFile && config.rsaKeyFile) {
  const rsa = { cert: readFileSync(config.rsaCertFile, 'utf8'), key: readFileSync(config.rsaKeyFile, 'utf8') };
  counted(await startOrigin({ name: 'https-rsa-close', port: config.rsaClosePort, tls: rsa, keepAlive: false }));
}
process.on('message', (message) => {
  if (message === 'tls-counts') process.send?.(counts);
});
process.stdout.write('ready\n');
