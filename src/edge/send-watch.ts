// nginx's send_timeout: a client that takes none of its answer for this long is cut off. Without
// it a client that stops reading (a slow-read attack, or a dead peer behind a NAT that never
// resets) holds its connection, the answer buffered for it and, while the relay has the origin
// paused, an origin connection from the zone's pool, for ever: Node's servers have no write
// timeout, and undici's body timeout stops counting while a response is paused.

/** What the watch reads of a client response: bytes written but not yet taken by the connection. */
export interface PendingWrites {
  readonly writableLength: number;
}

export interface SendWatch {
  /**
   * The answer waits on the client: its buffer is full, or its last bytes are not out yet.
   * Idempotent; the clock starts at the first call after `flowing()`.
   */
  waiting(): void;
  /** The client took what was buffered (drain, finish or close): nothing to watch. */
  flowing(): void;
}

/**
 * Calls `stalled` once no buffered byte of `response` has gone out for `timeoutMs` while it
 * waits. Progress is judged by the buffered length: Node completes a write only once the kernel
 * took all of it, so a client must take a whole chunk (up to 64 KiB) within the timeout, about
 * 1 KiB/s for the default minute.
 */
export function watchClientSend(response: PendingWrites, timeoutMs: number, stalled: () => void): SendWatch {
  let timer: NodeJS.Timeout | undefined;
  let pending = 0;
  const check = () => {
    const now = response.writableLength;
    if (now < pending) {
      pending = now;
      timer!.refresh();
      return;
    }
    timer = undefined;
    stalled();
  };
  return {
    waiting() {
      if (timer !== undefined || timeoutMs <= 0) return;
      pending = response.writableLength;
      timer = setTimeout(check, timeoutMs);
      timer.unref();
    },
    flowing() {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
