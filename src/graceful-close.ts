// Closes an HTTP(S) server without cutting answers in flight, as a rolling restart needs: it stops
// accepting at once, asks clients on kept-alive connections to close (Connection: close on every
// answer from now on), closes those connections as soon as they are idle, and after graceMs cuts
// the HTTP connections left (a request still waiting on a slow origin). An upgraded WebSocket is
// no longer the server's to cut; it is given the grace too, and ends with the process.
import type { Server } from 'node:http';

/**
 * The signals that stop `serve` and `edge` gracefully. SIGHUP is among them because Node's
 * default for it is to end the process at once, answers in flight cut and nothing logged: what
 * a closed terminal (an ssh session that dropped `npm start`) or `kill -HUP` did. There is nothing
 * to reload: zones, modes and revocations apply while running; flags and the config file need a restart.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Ends the process once it has stopped: exit 0, or after a hangup by SIGHUP itself, as an
 * unhandled one would have (systemd counts either as a clean stop). Exiting normally after a
 * hangup makes Node 20 abort: at exit it restores the terminal's settings, and tcsetattr on a
 * terminal that is gone fails its assertion (nodejs/node#51519, fixed in later Node). Dying by
 * the signal skips that. Call it with no SIGHUP listener left, so that the default applies.
 */
export function exitAfterStop(hungUp: boolean): never {
  if (hungUp) {
    process.kill(process.pid, 'SIGHUP');
    // Delivered at once in practice; wait rather than race it to a normal exit.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
  process.exit(0);
}

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
