// Starts a server on host:port and resolves with the port it got (port 0 = any free port).
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
