// Every live TLS socket to an origin, by the serial of the certificate its peer presented,
// so that a revocation can close exactly the sockets that rely on the revoked certificate.
import type { TLSSocket } from 'node:tls';

/** Sockets closed because their certificate was revoked: their close is counted as `revoked`. */
export const closedForRevocation = new WeakSet<object>();

export interface OriginSockets {
  /** Records the socket; false (and the socket destroyed) when its certificate is already revoked. */
  add(socket: TLSSocket, serial: string): boolean;
  /** Destroys every live socket whose peer certificate has this serial; returns how many. */
  closeBySerial(serial: string): number;
  readonly size: number;
}

/**
 * `isRevoked` closes a race: a handshake that passed its index probe just before the
 * revocation was applied registers its socket just after; such a socket is closed at once.
 */
export function createOriginSockets(isRevoked: (serial: string) => boolean): OriginSockets {
  const bySerial = new Map<string, Set<TLSSocket>>();
  let size = 0;
  return {
    add(socket, serial) {
      if (isRevoked(serial)) {
        socket.destroy();
        return false;
      }
      let set = bySerial.get(serial);
      if (!set) bySerial.set(serial, (set = new Set()));
      set.add(socket);
      size++;
      socket.once('close', () => {
        size--;
        set!.delete(socket);
        if (set!.size === 0 && bySerial.get(serial) === set) bySerial.delete(serial);
      });
      return true;
    },
    closeBySerial(serial) {
      const set = bySerial.get(serial);
      if (!set) return 0;
      const count = set.size;
      for (const socket of set) {
        closedForRevocation.add(socket);
        socket.destroy();
      }
      return count;
    },
    get size() {
      return size;
    },
  };
}
