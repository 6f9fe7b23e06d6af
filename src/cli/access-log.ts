// --access-log FILE (serve, edge) and the config's edge.access_log: opened before anything starts,
// so that a path the edge cannot append to is said in one line rather than found at the first request.
import { openAccessLog, type AccessLog } from '../edge/access-log.js';

export function openAccessLogFile(path: string): { readonly log: AccessLog } | { readonly error: string } {
  try {
    return { log: openAccessLog(path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { error: `cannot append to ${path} (${code})` };
  }
}
