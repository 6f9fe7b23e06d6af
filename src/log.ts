// Structured logs: pino, one JSON line per event, on stderr (stdout carries only the `ready`
// line and command output). Callers pass the fields they mean to log; nothing here serializes
// requests or headers, so keys, tokens and private keys have no way in.
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  enabled(level: LogLevel): boolean;
  log(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void;
}

/** Errors after which a log's file descriptor takes no more lines: its reader went away, or its terminal hung up. */
export const SINK_GONE: ReadonlySet<string> = new Set(['EPIPE', 'EIO', 'EBADF']);
/** Lines a log that cannot be written keeps (a full disk) before it drops new ones. */
const UNWRITTEN_MAX_BYTES = 1024 * 1024;

/**
 * A log that can no longer be written must not stop the edge: pino silences its destination on
 * EPIPE but throws any other error from the next line, and EIO is what a terminal gives once it
 * hung up (an ssh session that dropped `npm start`), which crashed `serve` at its next line.
 */
export function createLogger(level: LogLevel = 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true, maxLength: UNWRITTEN_MAX_BYTES })): Logger {
  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  let sinkGone = false;
  (destination as Partial<NodeJS.EventEmitter>).on?.('error', (error: NodeJS.ErrnoException) => {
    if (SINK_GONE.has(error.code ?? '')) sinkGone = true;
  });
  return {
    enabled: (at) => !sinkGone && at !== 'silent' && logger.isLevelEnabled(at),
    log(at, msg, fields) {
      if (!sinkGone) logger[at](fields ?? {}, msg);
    },
  };
}

export const silentLogger: Logger = createLogger('silent');
