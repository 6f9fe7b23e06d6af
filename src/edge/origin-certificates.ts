// The origin certificates strict mode accepted lately, per zone, for the expiry gauges: once a
// zone's origin certificate expires, strict mode refuses it and every visitor gets 526, so the
// edge, which sees each one at every handshake, tells how long the zone has left. Certificates
// made for 7 days are allowed, and an origin may serve several (one per name), so each zone
// shows the certificate that expires first among those accepted within the window: a renewed
// one drops out once no handshake has presented it for that long. Pure: the clock is passed in.

export interface AcceptedCertificate {
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** How long a certificate counts as the zone's after the last handshake that presented it. */
export const SIGHTING_WINDOW_MS = 60 * 60 * 1000;

export function createCertificateSightings(windowMs = SIGHTING_WINDOW_MS) {
  /** zone -> serial -> the certificate and when a handshake last presented it. */
  const zones = new Map<string, Map<string, AcceptedCertificate & { seenAtMs: number }>>();
  return {
    /** A handshake (full, or a resumption re-checked) accepted this certificate for the zone. */
    seen(zone: string, serial: string, certificate: AcceptedCertificate, nowMs: number): void {
      let serials = zones.get(zone);
      if (!serials) zones.set(zone, (serials = new Map()));
      serials.set(serial, { notBeforeMs: certificate.notBeforeMs, notAfterMs: certificate.notAfterMs, seenAtMs: nowMs });
    },
    /** Each zone's certificate that expires first among those seen within the window; older sightings are forgotten. */
    earliest(nowMs: number): Map<string, AcceptedCertificate> {
      const result = new Map<string, AcceptedCertificate>();
      for (const [zone, serials] of zones) {
        let first: AcceptedCertificate | undefined;
        for (const [serial, sighting] of serials) {
          if (nowMs - sighting.seenAtMs > windowMs) serials.delete(serial);
          else if (!first || sighting.notAfterMs < first.notAfterMs) first = sighting;
        }
        if (first) result.set(zone, { notBeforeMs: first.notBeforeMs, notAfterMs: first.notAfterMs });
        else zones.delete(zone);
      }
      return result;
    },
  };
}

export type CertificateSightings = ReturnType<typeof createCertificateSightings>;
