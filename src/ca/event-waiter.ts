// Wakes long-polling feed requests when the CA commits an event, instead of having them poll.
export interface EventWaiter {
  /** Call after every committed event. */
  notify(): void;
  /** Resolves at the next notify() or after timeoutMs; cancel() releases it early. */
  next(timeoutMs: number): { readonly promise: Promise<void>; cancel(): void };
  /** The CA is shutting down: wakes every waiter, and later ones do not wait. */
  close(): void;
}

export function createEventWaiter(): EventWaiter {
  const waiting = new Set<() => void>();
  let closed = false;
  const notify = () => {
    const wake = [...waiting];
    waiting.clear();
    for (const resolve of wake) resolve();
  };
  return {
    notify,
    close() {
      closed = true;
      notify();
    },
    next(timeoutMs) {
      if (closed) return { promise: Promise.resolve(), cancel: () => undefined };
      let release!: () => void;
      const promise = new Promise<void>((resolve) => {
        const timer = setTimeout(() => release(), timeoutMs);
        release = () => {
          clearTimeout(timer);
          waiting.delete(release);
          resolve();
        };
        waiting.add(release);
      });
      return { promise, cancel: () => release() };
    },
  };
}
