// Closes an HTTP(S) server without cutting answers in flight, as a rolling restart needs: it stops
// accepting at once, asks clients on kept-alive connections to close (Connection: close on every
// answer from now on), closes those connections as soon as they are idle, and after graceMs cuts
// the HTTP connections left (a request still waiting on a slow origin). An upgraded WebSocket is
// no longer the server's to cut; it is given the grace too, and ends with the process.
import type { Server } from 'node:http';

/** How often connections that have become idle are closed while draining. */
const IDLE_SWEEP_MS = 100;

export function closeGracefully(server: Server, graceMs: number): Promise<void> {
  if (graceMs <= 0) {
    server.close();
    server.closeAllConnections();
    return Promise.resolve();
  }
  server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const finish = () => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    };
    // An upgraded socket keeps 'close' from firing: the deadline ends the wait either way.
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      finish();
    }, graceMs);
    server.close(finish);
  });
}
