// Host -> zone, the longest registered zone that equals or contains the host. Pure and
// rebuilt whole when zones change; a lookup is at most one Map probe per label.
import type { SslMode, Zone } from '../store/zones.js';

export interface EdgeZone {
  readonly id: string;
  readonly name: string;
  readonly mode: SslMode;
  readonly originHttp: string | null;
  readonly originHttps: string | null;
}

export interface ZoneTable {
  lookup(host: string): EdgeZone | undefined;
  readonly zones: readonly EdgeZone[];
}

export function buildZoneTable(zones: readonly Zone[]): ZoneTable {
  const byName = new Map<string, EdgeZone>();
  for (const zone of zones) {
    byName.set(zone.name, { id: zone.id, name: zone.name, mode: zone.sslMode, originHttp: zone.originHttp, originHttps: zone.originHttps });
  }
  return {
    zones: [...byName.values()],
    lookup(host) {
      let name = host;
      for (;;) {
        const zone = byName.get(name);
        if (zone) return zone;
        const dot = name.indexOf('.');
        if (dot < 0) return undefined;
        name = name.slice(dot + 1);
      }
    },
  };
}

/** The host part of a Host header, lower-cased, without port or trailing dot; undefined if unusable. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let host = header.toLowerCase();
  if (host.startsWith('[')) return undefined; // IP literals never name a zone
  const colon = host.indexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host || undefined;
}

/**
 * Whether a request names the zone its TLS connection was opened for (the SNI the edge chose the
 * certificate by). Over HTTP/1.1 a client sends the name it connected to; a Host in another zone
 * is domain fronting, which hides the real destination from whoever sees the handshake, so the
 * edge answers 421 (RFC 9110 §15.5.20) rather than serve it. Plain HTTP has no server name.
 */
export function servesOnConnection(table: ZoneTable, zone: EdgeZone, servername: string | false | null | undefined): boolean {
  if (!servername) return true;
  return table.lookup(servername.toLowerCase())?.id === zone.id;
}
