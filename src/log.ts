// Structured logs: pino, one JSON line per event, on stderr (stdout carries only the `ready`
// line and command output). Callers pass the fields they mean to log; nothing here serializes
// requests or headers, so keys, tokens and private keys have no way in.
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  enabled(level: LogLevel): boolean;
  log(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  return {
    enabled: (at) => at !== 'silent' && logger.isLevelEnabled(at),
    log(at, msg, fields) {
      logger[at](fields ?? {}, msg);
    },
  };
}

export const silentLogger: Logger = createLogger('silent');
