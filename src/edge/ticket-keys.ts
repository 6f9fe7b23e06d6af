// The keys that encrypt the session tickets the edge gives its clients (STEKs). Node makes one
// set when the server starts and keeps it for the process's life, so whoever reads it from the
// edge's memory can decrypt every TLS 1.2 session resumed with those tickets, recorded or yet to
// come: TLS 1.2 resumption makes no new key exchange. The edge replaces it every interval, as
// Cloudflare rotates its keys hourly. Node holds one set at a time: a client whose ticket is
// older than the last rotation makes one full handshake.
import { randomBytes } from 'node:crypto';

/**
 * The rotation interval: 0 (never), or from a second (a typo such as 0.001 would rotate a
 * thousand times a second and break every resumption) to a day (Node's timers cannot wait
 * beyond 24.8 days, and a key kept longer defeats rotating it).
 */
export const TICKET_KEY_ROTATION_MAX_S = 86_400;
export const isTicketKeyRotation = (seconds: number): boolean => seconds === 0 || (seconds >= 1 && seconds <= TICKET_KEY_ROTATION_MAX_S);
export const TICKET_KEY_ROTATION_RANGE = `must be 0 (never) or from 1 to ${TICKET_KEY_ROTATION_MAX_S} seconds`;

/** Node's ticket keys: 16 bytes of key name, 16 of HMAC secret, 16 of AES key. */
export const newTicketKeys = (): Buffer => randomBytes(48);

export interface TicketKeyRotation {
  stop(): void;
}

/**
 * Gives `apply` new keys now and then every `intervalMs`; nothing at all when it is 0 (Node's
 * own keys stay). The timer does not keep the process alive.
 */
export function rotateTicketKeys(apply: (keys: Buffer) => void, intervalMs: number, makeKeys: () => Buffer = newTicketKeys): TicketKeyRotation {
  if (intervalMs <= 0) return { stop: () => undefined };
  apply(makeKeys());
  const timer = setInterval(() => apply(makeKeys()), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
