// Opens a connection to an origin: TCP, then TLS when the mode says so. Every failure is
// tagged with the phase it happened in (see classify.ts). Strict verification runs inside the
// handshake: OpenSSL checks the chain against the trusted roots and dates, then
// checkServerIdentity checks the name and probes the revocation index. A resumed session
// (only with --origin-session-resumption) skips all that in OpenSSL and Node, so it is checked
// against what its full handshake verified, the clock and the index again. The socket is
// handed to the HTTP client only after all of that passed.
import type { X509Certificate } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import type { RevocationIndex } from '../revocation/revocation-index.js';
import { socketCloseReason, type OriginPhase } from './classify.js';
import { identityVerdict, OriginVerifyError, resumedSessionVerdict, X509_VERIFY_CODES } from './verify.js';
import type { OriginSessions, VerifiedSession } from './origin-sessions.js';
import type { ConnectObserver } from './instruments.js';
import { closedByEdge, type ClosedByEdge } from './origin-sockets.js';
import { compactSession } from './session-blob.js';

export type TlsPolicy =
  | { readonly kind: 'plain' }
  /** full mode: TLS, any certificate; one SecureContext for every connection. */
  | { readonly kind: 'any'; readonly secureContext: SecureContext }
  | { readonly kind: 'strict'; readonly secureContext: SecureContext; readonly originRoots: readonly X509Certificate[]; readonly index: RevocationIndex };

export interface OriginAddress {
  readonly host: string;
  readonly port: number;
}

export interface ConnectOptions {
  readonly address: OriginAddress;
  /** Sent as SNI and checked against the certificate: the request's Host. */
  readonly servername: string;
  readonly policy: TlsPolicy;
  /** Budget for TCP connect plus TLS handshake. */
  readonly connectTimeoutMs: number;
  /**
   * Told about every TLS socket once it is accepted, with the peer certificate's serial and
   * (strict) its notAfter; returns why it refused the socket (its certificate was revoked, or
   * expired, since the handshake's checks), or undefined.
   */
  readonly onTlsSocket?: (socket: TLSSocket, serial: string, notAfterMs?: number) => ClosedByEdge | undefined;
  readonly observer?: ConnectObserver;
  /** strict only: resumable sessions per origin + SNI; absent means every handshake is full. */
  readonly sessions?: OriginSessions;
  /** For resumed sessions' notAfter check. */
  readonly now?: () => number;
}

type Verified = Omit<VerifiedSession, 'session'>;

function tagged(error: Error, originPhase: OriginPhase): Error {
  return Object.assign(error, { originPhase });
}

/**
 * strict mode's checkServerIdentity: hostname, then (Origin CA leaves) the index. It runs after
 * OpenSSL verified the chain, and reads the leaf through `peer` (getPeerX509Certificate).
 */
export function strictIdentityCheck(policy: Extract<TlsPolicy, { kind: 'strict' }>, peer: () => X509Certificate | undefined, onVerified?: (verified: Verified) => void) {
  return (hostname: string): Error | undefined => {
    const cert = peer();
    if (!cert) return new OriginVerifyError('untrusted');
    // The chain is verified; the leaf names an Origin CA root as its issuer (subject and key
    // identifier) only if that root signed it. Misnaming one would only send it to the index,
    // which refuses certificates it does not hold.
    const originLeaf = policy.originRoots.some((root) => cert.checkIssued(root));
    const serial = cert.serialNumber.toLowerCase();
    const sha256 = cert.fingerprint256.replaceAll(':', '').toLowerCase();
    const verdict = identityVerdict({
      // RFC 6125 as OpenSSL implements it: DNS SANs, one-label wildcards, CN only without SANs.
      // OpenSSL takes a name with a leading dot as "any name under it": never one to check.
      hostnameMatches: !hostname.startsWith('.') && cert.checkHost(hostname) !== undefined,
      issuedByOriginRoot: originLeaf,
      probe: () => policy.index.probe(serial, sha256),
    });
    if (verdict) return new OriginVerifyError(verdict, serial);
    onVerified?.({ serial, sha256, originLeaf, notBeforeMs: Date.parse(cert.validFrom), notAfterMs: Date.parse(cert.validTo) });
    return undefined;
  };
}

/**
 * Node builds getPeerCertificate(true) (the whole chain as JavaScript objects, ~25 % of a client
 * handshake's CPU here) only to hand it to checkServerIdentity, which in strict mode reads the
 * leaf through getPeerX509Certificate instead. During the handshake the socket answers that
 * call with an empty object; `restoreDetailedCertificate` puts the real method back.
 */
function skipDetailedCertificate(socket: TLSSocket): void {
  Object.defineProperty(socket, 'getPeerCertificate', { value: () => ({}), configurable: true, writable: true });
}

function restoreDetailedCertificate(socket: TLSSocket): void {
  Reflect.deleteProperty(socket, 'getPeerCertificate');
}

export function connectOrigin(options: ConnectOptions): Promise<Socket> {
  const { address, servername, policy, observer } = options;
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    let tlsStartedAt = 0;
    let phase: 'tcp' | 'tls' = 'tcp';
    let settled = false;
    const tcp = netConnect({ host: address.host, port: address.port });
    let tls: TLSSocket | undefined;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tcp.destroy();
      tls?.destroy();
      reject(error);
    };
    const succeed = (socket: Socket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (observer) {
        observer.opened();
        // undici destroys every connection it closes with an error, so 'close' says hadError even
        // for a clean one: the reason comes from who ended it and with what (classify.ts).
        let originEnded = false;
        let errorCode: string | undefined;
        let errorMessage: string | undefined;
        socket.once('end', () => (originEnded = true));
        socket.on('error', (error: Error & { code?: string }) => {
          if (errorCode !== undefined) return;
          errorCode = error.code ?? 'unknown';
          errorMessage = error.message;
        });
        socket.once('close', () => observer.closed(socketCloseReason({ closedByEdge: closedByEdge.get(socket), originEnded, errorCode, errorMessage })));
      }
      resolve(socket); // our error listeners stay: after settling they do nothing, and the socket is never without one
    };
    const timer = setTimeout(() => {
      const timeout = new Error(`origin ${phase === 'tcp' ? 'connect' : 'TLS handshake'} timed out`);
      fail(tagged(Object.assign(timeout, { code: 'STRICTEDGE_ORIGIN_TIMEOUT' }), phase === 'tcp' ? 'tcp_timeout' : 'tls_timeout'));
    }, options.connectTimeoutMs);
    tcp.setNoDelay(true);
    // After the hand-off errors belong to the HTTP client: they must not be tagged as ours.
    tcp.on('error', (error) => settled || fail(tagged(error, phase)));
    tcp.once('connect', () => {
      tlsStartedAt = performance.now();
      observer?.tcpConnected((tlsStartedAt - startedAt) / 1000);
      if (policy.kind === 'plain') return succeed(tcp);
      phase = 'tls';
      const sessions = policy.kind === 'strict' ? options.sessions : undefined;
      const sessionKey = `${address.host}:${address.port} ${servername}`;
      const offered = sessions?.get(sessionKey);
      let verified: Verified | undefined;
      if (policy.kind === 'strict') {
        tls = tlsConnect({
          socket: tcp,
          servername,
          secureContext: policy.secureContext,
          rejectUnauthorized: true,
          checkServerIdentity: strictIdentityCheck(policy, () => tls!.getPeerX509Certificate(), (facts) => (verified = facts)),
          ALPNProtocols: ['http/1.1'],
          ...(offered ? { session: offered.session } : {}),
        });
        skipDetailedCertificate(tls);
      } else {
        tls = tlsConnect({
          socket: tcp,
          servername,
          // Without one, Node builds a SecureContext per connection: 1.2-1.8x the client CPU per handshake.
          secureContext: policy.secureContext,
          rejectUnauthorized: false, // full mode: any certificate is accepted, by definition (insecure)
          ALPNProtocols: ['http/1.1'],
        });
      }
      tls.on('error', (error) => {
        if (settled) return;
        restoreDetailedCertificate(tls!);
        const verifyFailed = error instanceof OriginVerifyError || X509_VERIFY_CODES.has((error as { code?: string }).code ?? '');
        observer?.tlsHandshake(verifyFailed ? 'verify_failed' : 'handshake_failed', (performance.now() - tlsStartedAt) / 1000);
        fail(tagged(error, 'tls'));
      });
      if (sessions) {
        // TLS 1.3 tickets come after secureConnect; only a verified (or re-checked) session is
        // kept, the first of the connection's tickets, without the certificate (session-blob.ts).
        let kept = false;
        tls.on('session', (session: Buffer) => {
          if (!verified || kept) return;
          kept = true;
          sessions.set(sessionKey, { ...verified, session: compactSession(session) });
        });
      }
      tls.once('secureConnect', () => {
        const socket = tls!;
        restoreDetailedCertificate(socket);
        if (policy.kind === 'strict' && socket.isSessionReused()) {
          const verdict = offered
            ? resumedSessionVerdict({ nowMs: (options.now ?? Date.now)(), notAfterMs: offered.notAfterMs, originLeaf: offered.originLeaf, probe: () => policy.index.probe(offered.serial, offered.sha256) })
            : 'unknown_certificate';
          if (verdict) {
            sessions?.delete(sessionKey);
            observer?.tlsHandshake('verify_failed', (performance.now() - tlsStartedAt) / 1000);
            // Not from inside the secureConnect callback: destroying the socket there crashes Node 20 (SIGSEGV).
            const error = tagged(new OriginVerifyError(verdict, offered?.serial), 'tls');
            return void setImmediate(() => fail(error));
          }
          verified = { serial: offered!.serial, sha256: offered!.sha256, originLeaf: offered!.originLeaf, notBeforeMs: offered!.notBeforeMs, notAfterMs: offered!.notAfterMs };
        }
        observer?.tlsHandshake(socket.isSessionReused() ? 'resumed' : 'ok', (performance.now() - tlsStartedAt) / 1000);
        // Handshake bytes as openssl s_client counts them: what was read by now (TLS 1.3 session
        // tickets come later and are not counted), and what was written once the client's last
        // flight, sent just after this event, has gone out: one turn of the loop later, before
        // the socket carries any request.
        const read = tcp.bytesRead;
        setImmediate(() => {
          observer?.handshakeBytes(read, tcp.bytesWritten);
          if (options.onTlsSocket) {
            const serial = verified?.serial ?? socket.getPeerCertificate().serialNumber?.toLowerCase() ?? '';
            const refused = options.onTlsSocket(socket, serial, verified?.notAfterMs);
            if (refused) return fail(tagged(new OriginVerifyError(refused, serial), 'tls'));
          }
          if (verified) observer?.certificateAccepted(verified.serial, verified);
          succeed(socket);
        });
      });
    });
  });
}
