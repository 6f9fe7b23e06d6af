// The edge's metric children, bound once per zone (and mode/code as they appear), so a request
// costs a few Map lookups and increments. Also tracks open origin sockets per zone.
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { EdgeMetrics } from '../metrics/metrics.js';
import type { CutShortReason, SocketCloseReason } from './classify.js';
import type { Verdict } from './verify.js';
import { createCertificateSightings, type AcceptedCertificate } from './origin-certificates.js';

export type HandshakeResult = 'ok' | 'resumed' | 'handshake_failed' | 'verify_failed';

/** What the origin connector reports about one connection attempt. */
export interface ConnectObserver {
  tcpConnected(seconds: number): void;
  tlsHandshake(result: HandshakeResult, seconds: number): void;
  handshakeBytes(read: number, written: number): void;
  /** Strict mode accepted this certificate, in a full handshake or a resumption re-checked (origin-certificates.ts). */
  certificateAccepted(serial: string, certificate: AcceptedCertificate): void;
  opened(): void;
  closed(reason: SocketCloseReason): void;
}

export interface ZoneInstruments {
  readonly connect: ConnectObserver;
  inflight: number;
  answered(mode: string, code: number, seconds: number): void;
  ttfb(seconds: number): void;
  verifyFailure(reason: Verdict): void;
  /**
   * A WebSocket upgrade answered with `code`; an `opened` one (101 over HTTP/1.1, 200 over
   * HTTP/2) is open until `close`. Over HTTP/1.1 a 200 is an origin that did not switch.
   */
  websocket(code: number, opened: boolean): { close(): void } | undefined;
  cutShort(reason: CutShortReason): void;
  /** A request sent once more because its connection was lost before any answer (classify.ts). */
  retried(): void;
  /** A client took none of its answer for the send timeout and was cut off (send-watch.ts). */
  clientStalled(): void;
  /** Requests waiting for a connection to the zone's origin rose or fell by `delta` (connection-queue.ts). */
  queued(delta: number): void;
}

/** nowMs: the clock the origin certificates' sightings are timed by. */
export function createEdgeInstruments(metrics: EdgeMetrics | undefined, nowMs: () => number = Date.now) {
  const zones = new Map<string, ZoneInstruments & { live: number }>();
  const certificates = createCertificateSightings();
  /** Zones whose certificate gauges are set, to remove those whose certificates were not seen lately. */
  let certificateZones = new Set<string>();
  function make(zone: string): ZoneInstruments & { live: number } {
    if (!metrics) {
      const noop = () => undefined;
      return { live: 0, inflight: 0, answered: noop, ttfb: noop, verifyFailure: noop, cutShort: noop, retried: noop, clientStalled: noop, queued: noop, websocket: noop, connect: { tcpConnected: noop, tlsHandshake: noop, handshakeBytes: noop, certificateAccepted: noop, opened: noop, closed: noop } };
    }
    const counters = new Map<string, Counter.Internal>();
    const durations = new Map<string, Histogram.Internal<string>>();
    const ttfb = metrics.originTtfb.labels(zone);
    // Made on first use: without --max-origin-connections no request ever waits, and no series shows.
    let waitingForConnection: Gauge.Internal<string> | undefined;
    const connect = metrics.originConnect.labels(zone);
    const handshakeTime = { ok: metrics.originTlsHandshake.labels(zone, 'false'), resumed: metrics.originTlsHandshake.labels(zone, 'true') };
    const handshakes = { ok: metrics.originTlsHandshakes.labels(zone, 'ok', 'false'), resumed: metrics.originTlsHandshakes.labels(zone, 'ok', 'true'), handshake_failed: metrics.originTlsHandshakes.labels(zone, 'handshake_failed', 'false'), verify_failed: metrics.originTlsHandshakes.labels(zone, 'verify_failed', 'false') };
    const bytesRead = metrics.originHandshakeBytes.labels(zone, 'read');
    const bytesWritten = metrics.originHandshakeBytes.labels(zone, 'written');
    const closed: Record<SocketCloseReason, Counter.Internal> = {
      revoked: metrics.socketsClosed.labels('revoked'),
      expired: metrics.socketsClosed.labels('expired'),
      idle: metrics.socketsClosed.labels('idle'),
      aborted: metrics.socketsClosed.labels('aborted'),
      origin_closed: metrics.socketsClosed.labels('origin_closed'),
      error: metrics.socketsClosed.labels('error'),
    };
    const instruments: ZoneInstruments & { live: number } = {
      live: 0,
      inflight: 0,
      answered(mode, code, seconds) {
        const key = `${mode} ${code}`;
        let counter = counters.get(key);
        if (!counter) counters.set(key, (counter = metrics.requests.labels(zone, mode, String(code))));
        counter.inc();
        let duration = durations.get(mode);
        if (!duration) durations.set(mode, (duration = metrics.requestDuration.labels(zone, mode)));
        duration.observe(seconds);
      },
      ttfb: (seconds) => ttfb.observe(seconds),
      verifyFailure: (reason) => metrics.verifyFailures.labels(zone, reason).inc(),
      retried: () => metrics.originRetries.labels(zone).inc(),
      clientStalled: () => metrics.clientSendTimeouts.labels(zone).inc(),
      queued: (delta) => (waitingForConnection ??= metrics.originQueued.labels(zone)).inc(delta),
      websocket(code, opened) {
        metrics.websockets.labels(zone, String(code)).inc();
        if (!opened) return undefined;
        const open = metrics.websocketsOpen.labels(zone);
        open.inc();
        let closed = false;
        return {
          close() {
            if (closed) return;
            closed = true;
            open.dec();
          },
        };
      },
      cutShort: (reason) => metrics.responsesCut.labels(zone, reason).inc(),
      connect: {
        tcpConnected: (seconds) => connect.observe(seconds),
        tlsHandshake(result, seconds) {
          handshakes[result].inc();
          // Failed handshakes are counted, not timed: their time says little about the origin.
          if (result === 'ok' || result === 'resumed') handshakeTime[result].observe(seconds);
        },
        handshakeBytes(read, written) {
          bytesRead.observe(read);
          bytesWritten.observe(written);
        },
        certificateAccepted: (serial, certificate) => certificates.seen(zone, serial, certificate, nowMs()),
        opened: () => void instruments.live++,
        closed(reason) {
          instruments.live--;
          closed[reason].inc();
        },
      },
    };
    return instruments;
  }

  return {
    forZone(zone: string): ZoneInstruments {
      let found = zones.get(zone);
      if (!found) zones.set(zone, (found = make(zone)));
      return found;
    },
    /** Sets the origin-socket and origin-certificate gauges; call before a scrape. */
    refreshGauges(): void {
      if (!metrics) return;
      for (const [zone, z] of zones) {
        const active = Math.min(z.inflight, Math.max(z.live, 0));
        metrics.originSockets.labels(zone, 'active').set(active);
        metrics.originSockets.labels(zone, 'idle').set(Math.max(z.live - active, 0));
      }
      const earliest = certificates.earliest(nowMs());
      for (const zone of certificateZones) {
        if (earliest.has(zone)) continue;
        metrics.originCertificateExpiry.remove(zone);
        metrics.originCertificateNotBefore.remove(zone);
      }
      for (const [zone, certificate] of earliest) {
        metrics.originCertificateExpiry.labels(zone).set(certificate.notAfterMs / 1000);
        metrics.originCertificateNotBefore.labels(zone).set(certificate.notBeforeMs / 1000);
      }
      certificateZones = new Set(earliest.keys());
    },
  };
}

export type EdgeInstruments = ReturnType<typeof createEdgeInstruments>;
