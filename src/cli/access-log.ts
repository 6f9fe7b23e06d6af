// --access-log FILE (serve, edge) and the config's edge.access_log: opened before anything starts,
// so that a path the edge cannot append to is said in one line rather than found at the first request.
import { openAccessLog, UNWRITTEN_MAX_BYTES, type AccessLog } from '../edge/access-log.js';
import type { Logger } from '../log.js';

export function openAccessLogFile(path: string, logger: Logger): { readonly log: AccessLog } | { readonly error: string } {
  try {
    const log = openAccessLog(path, {
      writeFailed: (code) => logger.log('warn', `the access log cannot be written; lines are kept (up to ${UNWRITTEN_MAX_BYTES / 1024 / 1024} MiB) and written once it can`, { path, code }),
      reopenFailed: (code) => logger.log('warn', 'the access log cannot be reopened; lines go on to the file open before', { path, code }),
    });
    return { log };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { error: `cannot append to ${path} (${code})` };
  }
}

/**
 * The signal that reopens the access log after logrotate moved it away (`postrotate kill -USR2`):
 * nginx uses USR1, which Node keeps for its inspector. Listened for even without a log, so that
 * the signal never ends the process (Node's default for it).
 */
export const REOPEN_SIGNAL = 'SIGUSR2';

export function reopenOnSignal(reopen: () => void): void {
  process.on(REOPEN_SIGNAL, reopen);
}
