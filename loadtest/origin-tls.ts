// What the origin saw of each proxy's handshakes: the TLS version negotiated and whether the
// session was resumed. Proxies differ here by default (nginx 1.22 offers its upstreams only
// TLS 1.0-1.2, and resumes those sessions without a new key exchange), so a handshake
// comparison means little without it.

/** Handshakes the origin completed, by protocol ("TLSv1.3") and whether they resumed. */
export type OriginTlsCounts = Record<string, { full: number; resumed: number }>;

export function countHandshake(counts: OriginTlsCounts, protocol: string, resumed: boolean): void {
  const entry = (counts[protocol] ??= { full: 0, resumed: 0 });
  if (resumed) entry.resumed++;
  else entry.full++;
}

/** after − before, per protocol. */
export function countsSince(before: OriginTlsCounts, after: OriginTlsCounts): OriginTlsCounts {
  const diff: OriginTlsCounts = {};
  for (const [protocol, now] of Object.entries(after)) {
    const then = before[protocol] ?? { full: 0, resumed: 0 };
    const full = now.full - then.full;
    const resumed = now.resumed - then.resumed;
    if (full + resumed > 0) diff[protocol] = { full, resumed };
  }
  return diff;
}

export function addCounts(into: OriginTlsCounts, more: OriginTlsCounts): OriginTlsCounts {
  for (const [protocol, { full, resumed }] of Object.entries(more)) {
    const entry = (into[protocol] ??= { full: 0, resumed: 0 });
    entry.full += full;
    entry.resumed += resumed;
  }
  return into;
}

/** "1.3; 0 % resumed"; with several versions, each with its share: "1.2 80 %, 1.3 20 %; 75 % resumed". */
export function describeOriginTls(counts: OriginTlsCounts): string | null {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((n, [, c]) => n + c.full + c.resumed, 0);
  if (total === 0) return null;
  const resumed = entries.reduce((n, [, c]) => n + c.resumed, 0);
  const percent = (n: number) => `${Number(((n / total) * 100).toFixed(1))} %`;
  const version = (protocol: string) => protocol.replace(/^TLSv/, '');
  const versions = entries.length === 1 ? version(entries[0]![0]) : entries.map(([protocol, c]) => `${version(protocol)} ${percent(c.full + c.resumed)}`).join(', ');
  return `${versions}; ${percent(resumed)} resumed`;
}
