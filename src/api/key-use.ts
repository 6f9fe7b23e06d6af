// When each API key was last used, for operators rotating keys (`strictedge keys list`): which
// of an account's keys still authenticate anything. Written at most once a minute per key, since
// a write per request would cost the CA's SQLite more than the request, and never at a request's
// expense: a write that fails (a full disk) is logged and the request goes on.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

export const KEY_USE_INTERVAL_MS = 60_000;

export function createKeyUseRecorder(record: (keyId: string, at: string) => void, clock: Clock, logger: Logger, intervalMs = KEY_USE_INTERVAL_MS): (keyId: string) => void {
  /** When each key's use was last written; at most one entry per key the CA has. */
  const written = new Map<string, number>();
  return (keyId) => {
    const now = clock().getTime();
    const last = written.get(keyId);
    if (last !== undefined && now - last < intervalMs) return;
    written.set(keyId, now);
    try {
      record(keyId, new Date(now).toISOString());
    } catch (error) {
      if (logger.enabled('warn')) logger.log('warn', "an API key's last use could not be recorded", { key_id: keyId, error: String(error) });
    }
  };
}
