// JSON-lines logger on stderr (stdout carries only the `ready` line and command output).
// Callers pass fields explicitly; nothing here serializes requests, so keys cannot leak in.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  enabled(level: LogLevel): boolean;
  log(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const threshold = RANK[level];
  return {
    enabled: (at) => RANK[at] >= threshold,
    log(at, msg, fields) {
      if (RANK[at] < threshold) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields })}\n`);
    },
  };
}

export const silentLogger: Logger = createLogger('silent');
