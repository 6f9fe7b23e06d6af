// A separate edge follows the CA: it long-polls the event feed, records each batch in its
// replica (one transaction), then applies it to the running edge (applied all the same when the
// replica cannot take it, and fetched again until it does); it also refreshes zones.
// When the CA cannot be reached it keeps the last known state (never fails open), retries
// with backoff, and past `maxStalenessMs` says so in its log and status.
// Each poll says what the edge's last event was; a CA whose history differs (restored from a
// backup: it numbers new events from where the backup ended, so asking for events after the
// edge's last one would skip them, revocations included) answers EDGE_FEED_DIVERGED. The edge
// then follows the feed again from seq 0: every event still reaches the running index at once,
// while a new index is built aside, from those events and the revocations kept from before,
// and swapped in when it has caught up, so certificates the CA no longer knows stop counting.
import type { CertEvent } from '../store/certificates.js';
import { Errors } from '../errors/catalogue.js';
import type { Logger } from '../log.js';
import type { Clock } from '../clock.js';
import type { Zone } from '../store/zones.js';
import { edgeZone, type Replica, type ReplicaZone } from './replica.js';
import { createRevocationIndex, type RevocationIndex } from './revocation-index.js';
import { isCertificateRefusal } from '../certificate-refusal.js';
import { CA_CERT_HINT, type CaFetch } from './ca-fetch.js';

export interface FollowerDeps {
  readonly caUrl: string;
  readonly token: string;
  /** How to reach the CA (its trust anchors); Node's fetch when not given. */
  readonly fetch?: CaFetch;
  readonly replica: Replica;
  /** Called with each event once, oldest first: after its batch is recorded, or when the replica refused it. */
  readonly onEvents: (events: readonly CertEvent[]) => void;
  /** Called with the zone list the CA gives when it differs from the last one. */
  readonly onZones: (zones: readonly Zone[]) => void;
  /** Called when the feed diverged and is followed again from seq 0 (the index snapshot is stale). */
  readonly onFeedReset?: () => void;
  /** Called with the index rebuilt from the feed since the reset; the edge adopts it. */
  readonly onIndexRebuilt: (index: RevocationIndex) => void;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly maxStalenessMs: number;
  readonly waitSeconds?: number;
  readonly zonePollMs?: number;
}

export interface FollowerStatus {
  readonly last_seq: number;
  readonly last_contact: string | null;
  readonly staleness_seconds: number | null;
  readonly stale: boolean;
  /** Following the feed again from seq 0 after it diverged; the index is being rebuilt. */
  readonly rebuilding: boolean;
  /** The replica holds the last batch and the zones as the CA gave them; when not, `stale` is true too. */
  readonly replica_writable: boolean;
}

interface WireEvent {
  seq: number;
  kind: 'issued' | 'revoked';
  serial: string;
  sha256: string;
  not_after: string;
  at: string;
}

export function createFollower(deps: FollowerDeps) {
  const headers = { authorization: `Bearer ${deps.token}` };
  const abort = new AbortController();
  let running = false;
  let lastSeq = deps.replica.lastSeq();
  let lastContact: number | undefined;
  let staleReported = false;
  let tokenRefusedReported = false;
  let certificateRefusedReported = false;
  /** Events up to this seq are in the running index; past lastSeq only while the replica cannot record them. */
  let appliedUpTo = lastSeq;
  /** The replica refused the last batch of events, or the zones as the CA last gave them. */
  let eventsUnrecorded = false;
  let zonesUnrecorded = false;
  /** The index being rebuilt since the feed diverged, until it has caught up. */
  let rebuilding: RevocationIndex | undefined;
  const zonesKey = (zones: readonly Zone[]) => JSON.stringify(zones.map((z) => z.id + z.sslMode + z.originHttp + z.originHttps));
  /** The zones last handed to the edge, and the zones in the replica. */
  let appliedZones = zonesKey(deps.replica.zones());
  let recordedZones = appliedZones;

  async function getJson<T>(path: string): Promise<T> {
    const response = await (deps.fetch ?? fetch)(`${deps.caUrl}${path}`, { headers, signal: abort.signal });
    const body = (await response.json()) as { success: boolean; result: T; errors: { code: number; message: string }[] };
    if (!body.success) throw Object.assign(new Error(`CA answered ${response.status}: ${body.errors[0]?.message ?? 'error'}`), { apiCode: body.errors[0]?.code });
    lastContact = deps.clock().getTime();
    tokenRefusedReported = false;
    certificateRefusedReported = false;
    if (staleReported) {
      staleReported = false;
      deps.logger.log('info', 'event feed reachable again', { last_seq: lastSeq });
    }
    return body.result;
  }

  /**
   * A token the CA refuses (revoked, or not this CA's), or a CA certificate this edge does not
   * trust, is said once, at once: it is no outage, and waiting will not mend it.
   */
  function noteRefusal(error: unknown): void {
    if (isCertificateRefusal(error) && !certificateRefusedReported) {
      certificateRefusedReported = true;
      deps.logger.log('error', `${CA_CERT_HINT}; enforcing the last known state`, { ca_url: deps.caUrl, error: String((error as { cause?: unknown }).cause) });
    }
    if ((error as { apiCode?: number }).apiCode !== Errors.EDGE_TOKEN_INVALID.code || tokenRefusedReported) return;
    tokenRefusedReported = true;
    deps.logger.log('error', "the CA refuses this edge's token (revoked, or not this CA's): enforcing the last known state; `strictedge edges create NAME` on the CA makes a new one", { last_seq: lastSeq });
  }

  /** The feed's URL for the events after the last one, saying what that one was. */
  function eventsPath(): string {
    // While rebuilding, an empty answer at once means caught up, rather than after a long poll.
    let path = `/edge/events?since=${lastSeq}&wait=${rebuilding ? 0 : (deps.waitSeconds ?? 25)}`;
    const last = lastSeq > 0 ? deps.replica.eventAt(lastSeq) : undefined;
    if (last) path += `&since_kind=${last.kind}&since_sha256=${last.sha256}`;
    return path;
  }

  function startOver(why: string): void {
    deps.replica.forgetEventsKeepingRevocations();
    const fresh = createRevocationIndex();
    const kept = deps.replica.forEachKeptRevocation((event) => fresh.apply(event));
    deps.logger.log('error', "the CA's event feed does not continue from this edge's last event (the CA was restored from a backup, or replaced); following it again from seq 0, keeping every revocation applied so far", { last_seq: lastSeq, kept_revocations: kept, ca_said: why });
    rebuilding = fresh;
    lastSeq = 0;
    appliedUpTo = 0;
    deps.onFeedReset?.();
  }

  function noteReplicaFailure(error: unknown): void {
    if (!eventsUnrecorded && !zonesUnrecorded) deps.logger.log('error', "cannot record the CA's events or zones in the replica: they are enforced in memory and recorded when it can; a restart before then needs the CA to get them back", { last_seq: lastSeq, error: String(error) });
  }

  function noteReplicaRecovered(): void {
    if (!eventsUnrecorded && !zonesUnrecorded) deps.logger.log('info', 'the replica records events and zones again', { last_seq: lastSeq });
  }

  /**
   * Records a batch in the replica (durable first: a restart never forgets an applied
   * revocation). When the replica cannot take it (a full disk), the batch is applied in memory all
   * the same, so that revocations are enforced now, and fetched again until it is recorded: the
   * replica must have no gaps. Returns whether it was recorded.
   */
  function recordAndApply(events: readonly CertEvent[]): boolean {
    let failure: unknown;
    try {
      deps.replica.record(events);
    } catch (error) {
      failure = error;
    }
    const unapplied = events.filter((event) => event.seq > appliedUpTo);
    if (rebuilding) for (const event of unapplied) rebuilding.apply(event);
    if (unapplied.length > 0) deps.onEvents(unapplied);
    appliedUpTo = Math.max(appliedUpTo, events[events.length - 1]!.seq);
    if (failure !== undefined) {
      noteReplicaFailure(failure);
      eventsUnrecorded = true;
      return false;
    }
    lastSeq = events[events.length - 1]!.seq;
    if (eventsUnrecorded) {
      eventsUnrecorded = false;
      noteReplicaRecovered();
    }
    return true;
  }

  async function followEvents(): Promise<void> {
    let backoff = 250;
    const pause = async () => {
      await new Promise((resolve) => setTimeout(resolve, backoff).unref());
      backoff = Math.min(backoff * 2, 5000);
    };
    while (running) {
      try {
        const wire = await getJson<WireEvent[]>(eventsPath());
        backoff = 250;
        if (wire.length === 0) {
          if (rebuilding) {
            deps.onIndexRebuilt(rebuilding);
            rebuilding = undefined;
            deps.logger.log('info', "the index is rebuilt from the CA's event feed", { last_seq: lastSeq });
          }
          continue;
        }
        const events: CertEvent[] = wire.map((e) => ({ seq: e.seq, kind: e.kind, serial: e.serial, sha256: e.sha256, notAfter: e.not_after, at: e.at }));
        if (!recordAndApply(events)) await pause();
      } catch (error) {
        if (!running) return;
        if ((error as { apiCode?: number }).apiCode === Errors.EDGE_FEED_DIVERGED.code) {
          try {
            startOver((error as Error).message);
          } catch (resetError) {
            // The replica could not be reset (a read-only disk): keep the last known state and try again.
            deps.logger.log('error', 'cannot reset the replica to follow the feed again from seq 0', { error: String(resetError) });
            await pause();
          }
          continue;
        }
        noteRefusal(error);
        if (deps.logger.enabled('debug')) deps.logger.log('debug', 'event feed unreachable', { error: String(error) });
        await pause();
      }
    }
  }

  async function pollZones(): Promise<void> {
    let zones: ReplicaZone[];
    try {
      zones = await getJson<ReplicaZone[]>('/edge/zones');
    } catch (error) {
      noteRefusal(error); // outages are the event loop's backoff and the staleness check's to report
      return;
    }
    const edgeZones = zones.map(edgeZone);
    const key = zonesKey(edgeZones);
    // Recorded first, like events; a replica that cannot take them does not hold back a mode
    // switch, and they are written again on every poll until it takes them.
    if (key !== recordedZones) {
      try {
        deps.replica.replaceZones(zones);
        recordedZones = key;
        if (zonesUnrecorded) {
          zonesUnrecorded = false;
          noteReplicaRecovered();
        }
      } catch (error) {
        noteReplicaFailure(error);
        zonesUnrecorded = true;
      }
    }
    if (key !== appliedZones) {
      appliedZones = key;
      deps.onZones(edgeZones);
    }
  }

  function status(): FollowerStatus {
    const staleness = lastContact === undefined ? null : (deps.clock().getTime() - lastContact) / 1000;
    const replicaWritable = !eventsUnrecorded && !zonesUnrecorded;
    const stale = staleness === null || staleness * 1000 > deps.maxStalenessMs || !replicaWritable;
    return { last_seq: lastSeq, last_contact: lastContact === undefined ? null : new Date(lastContact).toISOString(), staleness_seconds: staleness, stale, rebuilding: rebuilding !== undefined, replica_writable: replicaWritable };
  }

  let zoneTimer: NodeJS.Timeout | undefined;
  let staleTimer: NodeJS.Timeout | undefined;
  const startedAt = deps.clock().getTime();
  return {
    start(): void {
      running = true;
      void followEvents();
      void pollZones();
      zoneTimer = setInterval(() => void pollZones(), deps.zonePollMs ?? 500);
      staleTimer = setInterval(() => {
        const since = lastContact ?? startedAt;
        if (!staleReported && deps.clock().getTime() - since > deps.maxStalenessMs) {
          staleReported = true;
          deps.logger.log('warn', 'event feed unreachable for longer than max_feed_staleness; enforcing the last known state', { last_seq: lastSeq, last_contact: status().last_contact });
        }
      }, 1000);
    },
    status,
    stop(): void {
      running = false;
      abort.abort();
      clearInterval(zoneTimer);
      clearInterval(staleTimer);
    },
  };
}

export type Follower = ReturnType<typeof createFollower>;
