// --access-log FILE (serve, edge) and the config's edge.access_log: opened before anything starts,
// so that a path the edge cannot append to is said in one line rather than found at the first request.
import { openAccessLog, UNWRITTEN_MAX_BYTES, type AccessLog } from '../edge/access-log.js';
import type { Logger } from '../log.js';

export function openAccessLogFile(path: string, logger: Logger): { readonly log: AccessLog } | { readonly error: string } {
  try {
    const warn = (code: string) => logger.log('warn', `the access log cannot be written; lines are kept (up to ${UNWRITTEN_MAX_BYTES / 1024 / 1024} MiB) and written once it can`, { path, code });
    return { log: openAccessLog(path, warn) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { error: `cannot append to ${path} (${code})` };
  }
}
