// What the edge tells operators when it answers for an origin (52x): a refused certificate is
// counted by verdict and logged as a warning; any other failure is logged at info. Shared by
// plain requests and upgrades, so that a WebSocket to a bad origin is seen like a request.
// An answer the origin broke off after its status line is counted and logged too: the client
// saw only a cut connection, and the request is counted under the origin's status.
import type { Logger } from '../log.js';
import { cutShortReason } from './classify.js';
import type { EdgeFailure } from './error-pages.js';
import type { EdgeInstruments } from './instruments.js';

export function createFailureReporter(logger: Logger, instruments: EdgeInstruments) {
  return function reportOriginFailure(zone: string, failure: EdgeFailure, requestId: string, error?: unknown, upgrade = false): void {
    const extra = upgrade ? { upgrade: true } : {};
    if (failure.verdict) {
      instruments.forZone(zone).verifyFailure(failure.verdict);
      if (logger.enabled('warn')) logger.log('warn', 'origin certificate refused', { zone, verdict: failure.verdict, serial: (error as { serial?: string } | undefined)?.serial, request_id: requestId, ...extra });
    } else if (logger.enabled('info')) {
      logger.log('info', 'origin request failed', { zone, status: failure.status, request_id: requestId, code: (error as { code?: string } | undefined)?.code, ...extra });
    }
  };
}

export function createCutShortReporter(logger: Logger, instruments: EdgeInstruments) {
  return function reportCutShort(zone: string, status: number, requestId: string, error: unknown): void {
    const reason = cutShortReason(error);
    instruments.forZone(zone).cutShort(reason);
    if (logger.enabled('info')) logger.log('info', 'origin response cut short', { zone, status, reason, request_id: requestId, code: (error as { code?: string } | undefined)?.code });
  };
}
