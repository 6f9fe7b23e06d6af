// Keep-alive pools to origins (undici), one per origin address + SNI name + TLS policy, each
// built once with its connector. Idle sockets are dropped after 4 s, well before the usual
// origin keep-alive (nginx: 75 s, Node: 5 s), so a socket the origin is closing is not reused.
import type { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { Pool } from 'undici';
import type { RevocationIndex } from '../revocation/revocation-index.js';
import { connectOrigin, type OriginAddress, type TlsPolicy } from './origin-connector.js';
import type { OriginSessions } from './origin-sessions.js';
import type { OriginSockets } from './origin-sockets.js';
import type { EdgeInstruments } from './instruments.js';

export type PolicyKind = TlsPolicy['kind'];

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
  readonly maxSocketsPerOrigin?: number;
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
  const pools = new Map<string, Pool>();
  const strictPolicy: TlsPolicy = { kind: 'strict', secureContext: options.strictContext, originRoots: options.originRoots, index: options.index };
  // full mode checks no certificate; its context is built once, like strict's.
  const anyPolicy: TlsPolicy = { kind: 'any', secureContext: createSecureContext() };
  const policies: Record<PolicyKind, TlsPolicy> = { plain: { kind: 'plain' }, any: anyPolicy, strict: strictPolicy };
  // Only strict connections depend on a certificate staying valid; full mode accepts any, revoked or not.
  const onTlsSocket = (socket: TLSSocket, serial: string, notAfterMs?: number) => options.sockets.add(socket, serial, notAfterMs);

  function policyFor(kind: PolicyKind): TlsPolicy {
    return policies[kind];
  }

  return {
    policyFor,
    /** The pool for this origin, SNI name and policy; made on first use and kept. */
    pool(kind: PolicyKind, origin: string, servername: string, zone: string): Pool {
      const key = `${kind} ${origin} ${servername}`;
      let pool = pools.get(key);
      if (!pool) {
        const address = parseOrigin(origin);
        const policy = policies[kind];
        const observer = options.instruments.forZone(zone).connect;
        pool = new Pool(`${kind === 'plain' ? 'http' : 'https'}://${origin}`, {
          connections: options.maxSocketsPerOrigin ?? 256,
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
        pools.set(key, pool);
      }
      return pool;
    },
    async close(): Promise<void> {
      await Promise.all([...pools.values()].map((pool) => pool.destroy()));
      pools.clear();
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;
