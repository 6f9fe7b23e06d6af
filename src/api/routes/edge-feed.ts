// What separate edges read from the CA, with an edge token (never an account key):
//   GET /edge/events?since=SEQ&wait=S   certificate events after SEQ, long-polled up to S s (max 60);
//       with since_kind and since_sha256 (what the edge's event SEQ was), 409 EDGE_FEED_DIVERGED
//       when this CA's event SEQ is another or missing: the edge's history is not this CA's
//   GET /edge/zones                      every zone with its mode and origins
//   GET /edge/roots                      the Origin CA root certificates
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Errors, StrictedgeError } from '../../errors/catalogue.js';
import { apiKeyMatches, edgeTokenId } from '../../ca/api-keys.js';
import type { EventWaiter } from '../../ca/event-waiter.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log.js';
import type { OriginRoots } from '../../ca/roots.js';
import type { CertificateStore } from '../../store/certificates.js';
import type { EdgeStore } from '../../store/edges.js';
import type { ZoneStore } from '../../store/zones.js';
import { sendResult } from '../envelope.js';

export interface EdgeFeedDeps {
  readonly edges: EdgeStore;
  /** When an edge last asked for events is recorded by it (`edges list`, the CA's metrics). */
  readonly clock: Clock;
  readonly certificates: CertificateStore;
  readonly zones: ZoneStore;
  readonly roots: OriginRoots;
  readonly waiter: EventWaiter;
}

const MAX_EVENTS = 1000;
const MAX_WAIT_S = 60;

/** Returns the edge's id. */
function authenticateEdge(req: IncomingMessage, edges: EdgeStore): string {
  const authorization = req.headers.authorization;
  const bearer = typeof authorization === 'string' && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
  const token = bearer ?? (req.headers['x-edge-token'] as string | undefined);
  if (token === undefined || !token.startsWith('edge-v1-')) {
    if (token !== undefined || req.headers['x-auth-user-service-key'] !== undefined) throw new StrictedgeError(Errors.EDGE_TOKEN_REQUIRED);
    throw new StrictedgeError(Errors.AUTH_MISSING);
  }
  const id = edgeTokenId(token);
  const record = id === undefined ? undefined : edges.byId(id);
  const matches = record !== undefined && apiKeyMatches(token, record.tokenHash);
  if (!record || !matches || record.revokedAt !== null) throw new StrictedgeError(Errors.EDGE_TOKEN_INVALID);
  return record.id;
}

/**
 * Throws EDGE_FEED_DIVERGED when the edge says what its event `since` was and this store's differs
 * (or has no such event): after a restore from a backup the CA numbers new events from where the
 * backup ended, so an edge asking for events after its own last one would never see them.
 */
function checkContinuity(url: URL, since: number, certificates: CertificateStore): void {
  const kind = url.searchParams.get('since_kind');
  const sha256 = url.searchParams.get('since_sha256');
  if (since === 0 || kind === null || sha256 === null) return; // older edges do not send them
  if ((kind !== 'issued' && kind !== 'revoked') || !/^[0-9a-f]{64}$/.test(sha256)) throw new StrictedgeError(Errors.INVALID_FIELD, 'since_kind must be issued or revoked, since_sha256 64 hex digits');
  const known = certificates.eventAt(since);
  if (!known) throw new StrictedgeError(Errors.EDGE_FEED_DIVERGED, `this CA has no event ${since}`);
  if (known.kind !== kind || known.sha256 !== sha256) throw new StrictedgeError(Errors.EDGE_FEED_DIVERGED, `event ${since} here is another certificate's`);
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new StrictedgeError(Errors.INVALID_FIELD, `${name} must be an integer from 0 to ${max}`);
  return value;
}

/** Serves an /edge/... route; returns false for any other path. */
export async function serveEdgeFeed(req: IncomingMessage, res: ServerResponse, path: string, url: URL, deps: EdgeFeedDeps, logger: Logger): Promise<boolean> {
  if (!path.startsWith('/edge/')) return false;
  if (req.method !== 'GET') throw new StrictedgeError(Errors.METHOD_NOT_ALLOWED, req.method);
  const edgeId = authenticateEdge(req, deps.edges);
  switch (path) {
    case '/edge/events': {
      const since = intParam(url, 'since', 0, Number.MAX_SAFE_INTEGER);
      const waitS = intParam(url, 'wait', 0, MAX_WAIT_S);
      checkContinuity(url, since, deps.certificates);
      // One small write per long poll (a minute apart when nothing happens), so that the CA can
      // tell an edge that stopped following it, which cannot say so itself. Bookkeeping: a store
      // that refuses writes (a full disk) must not keep revocations already made from the edges.
      try {
        deps.edges.recordContact(edgeId, since, deps.clock().toISOString());
      } catch (error) {
        if (logger.enabled('warn')) logger.log('warn', "an edge's contact could not be recorded", { edge_id: edgeId, error: String(error) });
      }
      // Ask to be woken before looking, so an event committed in between is not slept through.
      const wake = deps.waiter.next(waitS * 1000);
      let events = deps.certificates.eventsSince(since, MAX_EVENTS);
      if (events.length === 0 && waitS > 0) {
        res.once('close', () => wake.cancel());
        await wake.promise;
        events = deps.certificates.eventsSince(since, MAX_EVENTS);
      }
      wake.cancel();
      const result = events.map((e) => ({ seq: e.seq, kind: e.kind, serial: e.serial, sha256: e.sha256, not_after: e.notAfter, at: e.at }));
      sendResult(res, 200, result, { page: 1, per_page: MAX_EVENTS, count: result.length, total_count: result.length, total_pages: 1 });
      return true;
    }
    case '/edge/zones':
      sendResult(
        res,
        200,
        deps.zones.all().map((z) => ({ id: z.id, name: z.name, ssl_mode: z.sslMode, origin_http: z.originHttp, origin_https: z.originHttps, modified_on: z.modifiedOn })),
      );
      return true;
    case '/edge/roots':
      sendResult(res, 200, { ecc: deps.roots.ecdsa.certPem, rsa: deps.roots.rsa.certPem });
      return true;
    default:
      throw new StrictedgeError(Errors.ROUTE_NOT_FOUND);
  }
}
