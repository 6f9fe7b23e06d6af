// How often Node checks request heads against a server's headersTimeout. Node checks every 30 s by
// default (connectionsCheckingInterval), so a head could take the timeout and up to 30 s more: a
// bare server with a 1 s headersTimeout answered three half-sent heads after 23–30 s. A quarter
// of the timeout keeps the overshoot a quarter, at one pass over the open connections each time.
export function headerTimeoutCheckMs(timeoutMs: number): number {
  return Math.min(30_000, Math.max(100, Math.round(timeoutMs / 4)));
}
