// Clients' session tickets as a test sees them: a TLS connection that may resume a ticket, and
// the gauge saying when the edge's ticket keys were made.
import { connect as tlsConnect } from 'node:tls';

/**
 * One TLS connection to `servername` on 127.0.0.1:`port` carrying one request: whether it resumed
 * `session`, and the first ticket it got.
 */
export function connectWithTicket(port: number, servername: string, ca: string, session?: Buffer): Promise<{ reused: boolean; ticket: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['http/1.1'], ...(session ? { session } : {}) });
    let ticket: Buffer | undefined;
    socket.on('session', (next: Buffer) => (ticket ??= next));
    socket.once('secureConnect', () => {
      // A TLS 1.3 ticket arrives after the handshake, with the first bytes the server sends.
      socket.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      socket.resume();
      socket.once('end', () => resolve({ reused: socket.isSessionReused(), ticket }));
    });
    socket.once('error', reject);
  });
}

/** strictedge_edge_client_ticket_keys_set_timestamp_seconds from a metrics endpoint. */
export async function ticketKeysSetAt(metricsUrl: string): Promise<number> {
  return Number(/^strictedge_edge_client_ticket_keys_set_timestamp_seconds (\S+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1]);
}
