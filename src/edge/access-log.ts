// The edge's access log (`--access-log FILE`, off by default): one JSON line per answered
// request, as nginx's access_log or Cloudflare's HTTP request logs give, for what metrics cannot
// say (which client, which path, which request id). The path is logged without its query, which
// often carries tokens (signed URLs, OAuth codes) the log's readers must not see. Lines go out
// through pino's destination (sonic-boom), written behind the requests, never in their way.
import { openSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { SINK_GONE } from '../log.js';

export interface AccessEntry {
  /** When the request arrived (ISO 8601). */
  readonly time: string;
  readonly request_id: string;
  readonly client_ip: string;
  /** HTTP/1.0, HTTP/1.1 or HTTP/2; absent, with the method and path, on a request the parser refused. */
  readonly protocol?: string;
  readonly scheme: 'http' | 'https';
  readonly method?: string;
  /** The authority the request was routed by; absent when it named none the edge could use. */
  readonly host?: string;
  /** The request's path, without its query. */
  readonly path?: string;
  /** The zone it was routed to, or "unknown" (400, 405, 421, and what the parser refused). */
  readonly zone: string;
  readonly mode?: string;
  /** What the client got; 499 when it left before any status line. */
  readonly status: number;
  /** The answer's body bytes that went out to the client (none for HEAD); for a WebSocket, what it carried to the client. */
  readonly body_bytes_sent?: number;
  /** Strict mode's verdict on the origin's certificate, on a 526. */
  readonly verdict?: string;
  /** To the last byte; for a WebSocket, its whole life (its line is written when it closes). */
  readonly duration_ms: number;
  /** From the request's arrival to the origin's answer head (nginx's $upstream_header_time); absent when no origin answered. */
  readonly origin_header_ms?: number;
  readonly user_agent?: string;
}

/** What the edge knows of a request once it is answered, for its line. */
export interface AccessFacts {
  readonly req: IncomingMessage;
  readonly scheme: 'http' | 'https';
  /** performance.now() when the request arrived, and when it was answered. */
  readonly startedAt: number;
  readonly answeredAt: number;
  readonly requestId: string;
  /** Read when the request arrived: an HTTP/2 stream's socket may be gone by the time it closes. */
  readonly clientIp: string;
  readonly host?: string;
  readonly zone?: { readonly name: string; readonly mode: string };
  readonly status: number;
  readonly bodyBytesSent?: number;
  readonly verdict?: string;
  /** performance.now() when the origin's answer head came, if one did. */
  readonly originHeadAt?: number;
}

/** To the microsecond. */
const milliseconds = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * A request's line: one shape for plain requests and WebSocket upgrades. One object literal, an
 * absent field undefined (JSON leaves it out): spreading optional fields in took a quarter longer.
 */
export function accessEntry(facts: AccessFacts): AccessEntry {
  const { req, zone, verdict } = facts;
  return {
    time: new Date(performance.timeOrigin + facts.startedAt).toISOString(),
    request_id: facts.requestId,
    client_ip: facts.clientIp,
    protocol: req.httpVersionMajor === 2 ? 'HTTP/2' : `HTTP/${req.httpVersion}`,
    scheme: facts.scheme,
    method: req.method ?? '',
    host: facts.host,
    path: pathWithoutQuery(req.url ?? '/'),
    zone: zone?.name ?? 'unknown',
    mode: zone?.mode,
    status: facts.status,
    body_bytes_sent: facts.bodyBytesSent,
    verdict: verdict || undefined,
    duration_ms: milliseconds(facts.answeredAt - facts.startedAt),
    origin_header_ms: facts.originHeadAt === undefined ? undefined : milliseconds(facts.originHeadAt - facts.startedAt),
    user_agent: req.headers['user-agent'],
  };
}

/** What the edge knows of a request Node's HTTP/1 parser refused (400, 408, 413, 431). */
export interface RefusedFacts {
  readonly scheme: 'http' | 'https';
  /** performance.now() when it was answered, and how long its head took (known only for a 408). */
  readonly answeredAt: number;
  readonly seconds: number;
  readonly requestId: string;
  readonly clientIp: string;
  readonly status: number;
  /** The refusal page's bytes. */
  readonly bodyBytes: number;
}

/**
 * A refused request's line, as nginx logs a 400 it could not parse: no method, path or headers the
 * edge could trust.
 */
export function refusedRequestEntry(facts: RefusedFacts): AccessEntry {
  const startedAt = facts.answeredAt - facts.seconds * 1000;
  return {
    time: new Date(performance.timeOrigin + startedAt).toISOString(),
    request_id: facts.requestId,
    client_ip: facts.clientIp,
    scheme: facts.scheme,
    zone: 'unknown',
    status: facts.status,
    body_bytes_sent: facts.bodyBytes,
    duration_ms: milliseconds(facts.seconds * 1000),
  };
}

/** The path part of a request target, without its query. */
export function pathWithoutQuery(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/** One line of the log: JSON, which escapes whatever a client put in its path or User-Agent. */
export function accessLogLine(entry: AccessEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

export interface AccessLog {
  write(entry: AccessEntry): void;
  /**
   * Opens the path anew (SIGUSR2, after logrotate moved the file away): later lines go to the new
   * file, what was written behind goes on to the old one. A path that cannot be opened keeps the
   * old file, and says why.
   */
  reopen(): void;
  /** Writes what is buffered (giving up after CLOSE_WAIT_MS) and closes the file. */
  close(): Promise<void>;
}

/** What the access log tells its operator: a spell of failed writes, a reopen that failed. */
export interface AccessLogEvents {
  writeFailed(code: string): void;
  reopenFailed(code: string): void;
}

/** Lines kept while the file cannot be written (a full disk), before new ones are dropped. */
export const UNWRITTEN_MAX_BYTES = 4 * 1024 * 1024;
/** How long closing waits for buffered lines to be written. */
const CLOSE_WAIT_MS = 2000;

const openForAppending = (path: string) => openSync(path, 'a', 0o640);

/**
 * Opens (creates, 0640, or appends to) the access log. The file is opened here, at once, so that
 * a path that cannot be written is refused before the edge starts; appending, so that logrotate's
 * copytruncate and several edge workers writing the same file both keep whole lines (each write
 * is whole lines, and appends do not overwrite one another).
 */
export function openAccessLog(path: string, events: Partial<AccessLogEvents> = {}): AccessLog {
  let failing = false;
  let closing = false;
  // A write error must never reach the requests. sonic-boom keeps what it could not write (up to
  // UNWRITTEN_MAX_BYTES) and tries again with the next lines, so a disk that fills up and is
  // cleared loses only what overflowed; a descriptor that is gone takes no more. The operator
  // hears of it once per spell of failures, not once per request.
  const sink = (fd: number) => {
    // Lines are gathered into writes of 8 KiB or a second's worth, whichever comes first: one
    // write per line cost the edge 1.13x its CPU per request under load (loadtest --b-arg).
    const destination = pino.destination({ fd, sync: false, minLength: 8192, periodicFlush: 1000, maxLength: UNWRITTEN_MAX_BYTES });
    const state = { destination, broken: false };
    destination.on('error', (error: NodeJS.ErrnoException) => {
      if (SINK_GONE.has(error.code ?? '')) state.broken = true; // as for the process log
      if (!failing && !closing) events.writeFailed?.(error.code ?? String(error));
      failing = true;
    });
    destination.on('write', () => (failing = false));
    return state;
  };
  let current = sink(openForAppending(path));
  return {
    write(entry) {
      if (!current.broken) current.destination.write(accessLogLine(entry));
    },
    reopen() {
      if (closing) return;
      let fd: number;
      try {
        fd = openForAppending(path);
      } catch (error) {
        return events.reopenFailed?.((error as NodeJS.ErrnoException).code ?? String(error));
      }
      const old = current;
      current = sink(fd);
      void retire(old); // its lines written, then its descriptor closed
    },
    close() {
      closing = true; // a write cut short by the close below is no news
      return retire(current);
    },
  };
}

/**
 * Writes what a sink holds, giving up after CLOSE_WAIT_MS, and closes its descriptor. Not
 * sonic-boom's flushSync, which retries a full disk's ENOSPC for ever: shutdown would hang.
 */
function retire({ destination, broken }: { destination: ReturnType<typeof pino.destination>; broken: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      destination.destroy(); // what could not be written is lost with the log, not the shutdown
      resolve();
    };
    const timer = setTimeout(done, CLOSE_WAIT_MS);
    if (broken) return done();
    destination.flush(done);
  });
}
