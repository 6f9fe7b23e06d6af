// Starts a server on host:port and resolves with the port it got (port 0 = any free port).
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Whether a listen address or URL host names this machine: 127.0.0.0/8, ::1 (bracketed or not) or localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
