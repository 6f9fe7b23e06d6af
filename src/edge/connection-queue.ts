// Requests waiting for a connection to an origin whose pool is at its cap (--max-origin-
// connections). undici queues such requests itself but cannot drop one: a request whose client
// left, or that waited too long, stayed in its queue until a connection came free, so behind
// connections held for ever (server-sent events) they piled up without bound. Here they wait in
// a queue of the edge's own, each for `waitMs` at most, and the pool is handed a request only
// while it can take one at once: until a dispatch says it is full, then again at its 'drain'.
import type { Dispatcher } from 'undici';

/**
 * No connection to the origin was free within the wait: answered 522, like a connect that timed
 * out (HAProxy's `timeout queue` defaults to its connect timeout likewise, and answers 503).
 */
export class NoOriginConnectionInTime extends Error {
  readonly code = 'STRICTEDGE_ORIGIN_QUEUE_TIMEOUT';
  /** Classified as a connect timeout (classify.ts), and never sent again on another connection. */
  readonly originPhase = 'tcp_timeout';
  constructor(readonly waitedMs: number) {
    super(`no connection to the origin was free within ${waitedMs} ms`);
  }
}

/** A request's handler that can wait here. */
export interface QueueableHandler extends Dispatcher.DispatchHandler {
  /** Still to be sent: its client is there and it has not failed meanwhile. */
  readonly wanted: boolean;
  /** It waited the whole wait without a connection. */
  expire(error: NoOriginConnectionInTime): void;
}

export interface OriginDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: QueueableHandler): void;
}

/** `counted(+1 | -1)` follows the number waiting (the zone's gauge). */
export function queueForConnections(pool: Dispatcher, waitMs: number, counted: (delta: number) => void): OriginDispatcher {
  interface Entry {
    readonly options: Dispatcher.DispatchOptions;
    readonly handler: QueueableHandler;
    readonly timer: NodeJS.Timeout;
  }
  // Insertion-ordered, and an entry leaves from anywhere in O(1).
  const waiting = new Set<Entry>();
  let full = false;
  const send = (options: Dispatcher.DispatchOptions, handler: QueueableHandler) => {
    full = !pool.dispatch(options, handler);
  };
  const leave = (entry: Entry) => {
    waiting.delete(entry);
    counted(-1);
  };
  pool.on('drain', () => {
    full = false;
    for (const entry of waiting) {
      if (full) break;
      leave(entry);
      clearTimeout(entry.timer);
      if (entry.handler.wanted) send(entry.options, entry.handler);
    }
  });
  return {
    dispatch(options, handler) {
      if (!full && waiting.size === 0) return send(options, handler);
      const entry: Entry = {
        options,
        handler,
        timer: setTimeout(() => {
          leave(entry);
          handler.expire(new NoOriginConnectionInTime(waitMs));
        }, waitMs),
      };
      entry.timer.unref();
      waiting.add(entry);
      counted(1);
    },
  };
}
