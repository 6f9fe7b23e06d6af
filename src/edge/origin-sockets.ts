// Every live TLS socket to a strict origin, by the serial of the certificate its peer presented,
// so that a revocation can close exactly the sockets that rely on the revoked certificate; and
// each closed when its certificate's notAfter passes, since a pooled socket kept busy is never
// idle long enough to be dropped and would otherwise outlive the certificate that admitted it.
import type { TLSSocket } from 'node:tls';

export type ClosedByEdge = 'revoked' | 'expired';
/** Sockets the edge closed because of their certificate: their close is counted under why. */
export const closedByEdge = new WeakMap<object, ClosedByEdge>();

/** setTimeout's longest delay (about 24.8 days); a later notAfter is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface OriginSockets {
  /**
   * Records the socket, to be closed at `notAfterMs` when given. Returns why it was refused
   * (and destroyed) instead: its certificate was revoked, or expired, since the handshake.
   */
  add(socket: TLSSocket, serial: string, notAfterMs?: number): ClosedByEdge | undefined;
  /** Destroys every live socket whose peer certificate has this serial; returns how many. */
  closeBySerial(serial: string): number;
  readonly size: number;
}

/**
 * `isRevoked` closes a race: a handshake that passed its index probe just before the
 * revocation was applied registers its socket just after; such a socket is closed at once.
 */
export function createOriginSockets(isRevoked: (serial: string) => boolean, nowMs: () => number = Date.now): OriginSockets {
  const bySerial = new Map<string, Set<TLSSocket>>();
  let size = 0;

  function closeAtExpiry(socket: TLSSocket, notAfterMs: number): void {
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const left = notAfterMs - nowMs();
      if (left > 0) {
        timer = setTimeout(check, Math.min(left, MAX_TIMER_MS)).unref();
        return;
      }
      closedByEdge.set(socket, 'expired');
      socket.destroy();
    };
    socket.once('close', () => clearTimeout(timer));
    check();
  }

  return {
    add(socket, serial, notAfterMs) {
      const refused = isRevoked(serial) ? 'revoked' : notAfterMs !== undefined && notAfterMs <= nowMs() ? 'expired' : undefined;
      if (refused) {
        socket.destroy();
        return refused;
      }
      if (notAfterMs !== undefined) closeAtExpiry(socket, notAfterMs);
      let set = bySerial.get(serial);
      if (!set) bySerial.set(serial, (set = new Set()));
      set.add(socket);
      size++;
      socket.once('close', () => {
        size--;
        set!.delete(socket);
        if (set!.size === 0 && bySerial.get(serial) === set) bySerial.delete(serial);
      });
      return undefined;
    },
    closeBySerial(serial) {
      const set = bySerial.get(serial);
      if (!set) return 0;
      const count = set.size;
      for (const socket of set) {
        closedByEdge.set(socket, 'revoked');
        socket.destroy();
      }
      return count;
    },
    get size() {
      return size;
    },
  };
}
