// Keep-alive pools to origins (undici), one per origin address + TLS policy (+ SNI name, for
// TLS), each built once with its connector. Idle sockets are dropped after 4 s, well before the
// usual origin keep-alive (nginx: 75 s, Node: 5 s), so a socket the origin is closing is not
// reused. Every name under a zone routes to it, so a client inventing names (h1.zone, h2.zone,
// ...) would make pools without end: they are kept in two generations, and when the current one
// fills up, the pools of the one before that saw no use since are closed.
import type { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { Client, Pool } from 'undici';
import type { RevocationIndex } from '../revocation/revocation-index.js';
import { connectOrigin, type OriginAddress, type TlsPolicy } from './origin-connector.js';
import { queueForConnections, type OriginDispatcher } from './connection-queue.js';
import type { OriginSessions } from './origin-sessions.js';
import type { OriginSockets } from './origin-sockets.js';
import type { EdgeInstruments } from './instruments.js';

export type PolicyKind = TlsPolicy['kind'];

/**
 * undici keeps a Client (about 8 KB) for every connection a pool ever had at once, for the pool's
 * life: a burst of 5,000 requests in flight left 41.6 MB in it. A pool that has made this many
 * is replaced for the requests after, and closes once its own are done, its clients with it.
 * (undici's clientTtl frees them too, but cost about 10 % of the edge's CPU per request with
 * keep-alive in the load test: B without it spent 0.90x A's, 9 rounds.)
 */
const MAX_CLIENTS_PER_POOL = 1024;

export interface UpstreamOptions {
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** ca = the Origin CA roots and the configured public roots; built once. */
  readonly strictContext: SecureContext;
  readonly originRoots: readonly X509Certificate[];
  readonly index: RevocationIndex;
  readonly sockets: OriginSockets;
  /** Present when strict origins' TLS sessions may be resumed. */
  readonly sessions?: OriginSessions;
  /**
   * Connections to one origin (per pool) at most; 0 or absent: as many as requests in flight, as
   * nginx by default. Past it, requests wait in the edge's queue for a connection, for the
   * connect timeout at most (then 522; connection-queue.ts).
   */
  readonly maxConnectionsPerOrigin?: number;
  /** A pool that has made this many clients is replaced (default MAX_CLIENTS_PER_POOL). */
  readonly maxClientsPerPool?: number;
  /** At most this many pools are kept (default 512, ~100 KB each); the least recently used go first. */
  readonly maxPools?: number;
  readonly instruments: EdgeInstruments;
  /** The clock resumed sessions' notAfter is checked against. */
  readonly nowMs?: () => number;
}

export function parseOrigin(origin: string): OriginAddress {
  const colon = origin.lastIndexOf(':');
  const host = origin.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host, port: Number(origin.slice(colon + 1)) };
}

export function createUpstreams(options: UpstreamOptions) {
  // Two generations: a hit in `current` costs one Map lookup; one in `previous` moves the pool
  // to `current`; a full `current` becomes `previous`, and what was left in `previous` closes
  // (gracefully: requests in flight on those pools finish first).
  const generationSize = Math.max(1, Math.floor((options.maxPools ?? 512) / 2));
  let current = new Map<string, Pool>();
  let previous = new Map<string, Pool>();
  const strictPolicy: TlsPolicy = { kind: 'strict', secureContext: options.strictContext, originRoots: options.originRoots, index: options.index };
  // full mode checks no certificate; its context is built once, like strict's.
  const anyPolicy: TlsPolicy = { kind: 'any', secureContext: createSecureContext() };
  const policies: Record<PolicyKind, TlsPolicy> = { plain: { kind: 'plain' }, any: anyPolicy, strict: strictPolicy };
  // Only strict connections depend on a certificate staying valid; full mode accepts any, revoked or not.
  const onTlsSocket = (socket: TLSSocket, serial: string, notAfterMs?: number) => options.sockets.add(socket, serial, notAfterMs);

  const maxClients = options.maxClientsPerPool ?? MAX_CLIENTS_PER_POOL;
  /** Pools taken out of use, closing once their requests are done; destroyed at shutdown like the others. */
  const retiring = new Set<Pool>();
  /** Takes a pool that has made maxClients out of use: later requests get a new one; it closes once its own are done. */
  function retire(key: string, pool: Pool): void {
    if (current.get(key) === pool) current.delete(key);
    if (previous.get(key) === pool) previous.delete(key);
    retiring.add(pool);
    // Not now: undici is making a client for a request in this very pool.
    setImmediate(() =>
      pool
        .close()
        .catch(() => undefined)
        .finally(() => retiring.delete(pool)),
    );
  }

  function policyFor(kind: PolicyKind): TlsPolicy {
    return policies[kind];
  }
  /** The queues in front of capped pools. */
  const queues = new WeakMap<Pool, OriginDispatcher>();

  return {
    policyFor,
    /**
     * Where a request for this origin, SNI name and policy goes: its pool, made on first use and
     * kept while in use; with a cap, the queue in front of it.
     */
    pool(kind: PolicyKind, origin: string, servername: string, zone: string): OriginDispatcher {
      const pool = poolFor(kind, origin, servername, zone);
      return options.maxConnectionsPerOrigin ? queues.get(pool)! : pool;
    },
    /** Pools kept (the current generation and the one before). */
    get poolCount(): number {
      return current.size + previous.size;
    },
    async close(): Promise<void> {
      await Promise.all([...current.values(), ...previous.values(), ...retiring].map((pool) => pool.destroy()));
      current.clear();
      previous.clear();
      retiring.clear();
    },
  };

  function poolFor(kind: PolicyKind, origin: string, servername: string, zone: string): Pool {
    // Plain HTTP carries the name in the Host header only: one pool serves the zone's every name
    // (per zone still, so that connection metrics go to the right zone).
    const key = kind === 'plain' ? `plain ${origin} ${zone}` : `${kind} ${origin} ${servername}`;
    let pool = current.get(key);
    if (pool) return pool;
    pool = previous.get(key);
    if (pool) previous.delete(key);
    else {
      const address = parseOrigin(origin);
      const policy = policies[kind];
      const observer = options.instruments.forZone(zone).connect;
      let clientsMade = 0;
      const made: Pool = new Pool(`${kind === 'plain' ? 'http' : 'https'}://${origin}`, {
        // A cap (it was 256) queued every other request behind an origin's long polls or
        // server-sent events once that many clients held them open.
        connections: options.maxConnectionsPerOrigin || null,
        factory: (url, clientOptions) => {
          // With a cap the pool never holds more than it; replacing it would lift the cap.
          if (++clientsMade === maxClients && !options.maxConnectionsPerOrigin) retire(key, made);
          return new Client(url, clientOptions as Client.Options);
        },
        pipelining: 1,
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 30_000,
        headersTimeout: options.responseTimeoutMs,
        bodyTimeout: options.responseTimeoutMs,
        connect: (_opts, callback) => {
          connectOrigin({ address, servername, policy, connectTimeoutMs: options.connectTimeoutMs, onTlsSocket: policy.kind === 'strict' ? onTlsSocket : undefined, observer, sessions: options.sessions, now: options.nowMs }).then(
            (socket) => callback(null, socket),
            (error: Error) => callback(error, null),
          );
        },
      });
      pool = made;
      // The wait for a connection is the connect timeout's, as HAProxy's `timeout queue`
      // defaults to its `timeout connect`.
      if (options.maxConnectionsPerOrigin) queues.set(made, queueForConnections(made, options.connectTimeoutMs, options.instruments.forZone(zone).queued));
    }
    if (current.size >= generationSize) {
      for (const unused of previous.values()) unused.close().catch(() => undefined);
      previous = current;
      current = new Map();
    }
    current.set(key, pool);
    return pool;
  }
}

export type Upstreams = ReturnType<typeof createUpstreams>;
