// The load test's scenarios, what serves each, and which ones a run measures (--only, --soak).
// Pure: the harness starts only the runners its selection needs.
import { ZONES } from './fixtures.js';
import type { Group, Kind } from './report.js';

/** What serves a scenario: the origin itself, one of the edges, or a reference proxy. */
export type Runner = 'origin' | 'serve' | 'resume' | 'big' | 'workers' | 'separate' | 'minimal-keepalive' | 'minimal-new' | 'b';
export const RUNNERS: readonly Runner[] = ['origin', 'serve', 'resume', 'big', 'workers', 'separate', 'minimal-keepalive', 'minimal-new', 'b'];

export type AnchorName = 'nginx' | 'haproxy' | 'caddy';

export interface ScenarioDef {
  readonly id: string;
  readonly name: string;
  readonly group: Group;
  readonly kind: Kind;
  readonly runner: Runner;
  readonly host: string;
  /** The nginx scenario it is compared with. */
  readonly nginx?: string;
}

/**
 * The edge, reference and origin scenarios; `indexLabel` names the large index ("1M"). With
 * `abEdge`, a second strict edge (runner `b`, --ab) is measured beside the first, interleaved.
 */
export function edgeScenarios(indexLabel: string, abEdge = false): readonly ScenarioDef[] {
  // B runs right after A, so that each pair shares the machine's speed of the moment.
  const b = (def: ScenarioDef): ScenarioDef[] => (abEdge ? [{ ...def, id: `${def.id}-b`, name: `B: ${def.name} (--ab)`, runner: 'b' }] : []);
  const strictKeepalive: ScenarioDef = { id: 'strict-keepalive', name: 'edge strict, keep-alive', group: 'keepalive', kind: 'edge', runner: 'serve', host: ZONES.strict, nginx: 'nginx-keepalive' };
  const strictNew: ScenarioDef = { id: 'strict-new', name: 'edge strict, new handshake, resumption off (origin-ecc)', group: 'handshake', kind: 'edge', runner: 'serve', host: ZONES.strictNew, nginx: 'nginx-new' };
  return [
    { id: 'direct', name: 'origin direct (HTTPS)', group: 'keepalive', kind: 'direct', runner: 'origin', host: ZONES.strict },
    { id: 'flexible', name: 'edge flexible', group: 'keepalive', kind: 'edge', runner: 'serve', host: ZONES.flexible },
    { id: 'full', name: 'edge full', group: 'keepalive', kind: 'edge', runner: 'serve', host: ZONES.full, nginx: 'nginx-keepalive' },
    strictKeepalive,
    ...b(strictKeepalive),
    { id: 'strict-keepalive-big', name: `edge strict, keep-alive, ${indexLabel}-entry index`, group: 'keepalive', kind: 'edge', runner: 'big', host: ZONES.strict, nginx: 'nginx-keepalive' },
    { id: 'strict-keepalive-2w', name: 'edge strict, keep-alive, --workers 2', group: 'keepalive', kind: 'edge', runner: 'workers', host: ZONES.strict, nginx: 'nginx-keepalive' },
    { id: 'node-minimal-keepalive', name: 'reference: minimal Node https + undici proxy, keep-alive', group: 'keepalive', kind: 'reference', runner: 'minimal-keepalive', host: ZONES.strict, nginx: 'nginx-keepalive' },
    { id: 'strict-keepalive-separate', name: 'separate edge process (strictedge edge), strict, keep-alive', group: 'keepalive', kind: 'edge', runner: 'separate', host: ZONES.strict, nginx: 'nginx-keepalive' },
    // The client does the handshakes itself here: the origin answers with `Connection: close`.
    { id: 'direct-new', name: 'origin direct, new client TLS per request', group: 'handshake', kind: 'direct', runner: 'origin', host: ZONES.strictNew },
    strictNew,
    ...b(strictNew),
    { id: 'node-minimal-new', name: 'reference: minimal Node https + undici proxy, new handshake', group: 'handshake', kind: 'reference', runner: 'minimal-new', host: ZONES.strictNew, nginx: 'nginx-new' },
    { id: 'strict-new-resume', name: 'edge strict, new connection, resumption on', group: 'handshake', kind: 'edge', runner: 'resume', host: ZONES.strictNew, nginx: 'nginx-new-reuse' },
    { id: 'strict-new-2w', name: 'edge strict, new handshake, resumption off, --workers 2', group: 'handshake', kind: 'edge', runner: 'workers', host: ZONES.strictNew, nginx: 'nginx-new' },
    { id: 'strict-new-rsa', name: 'edge strict, new handshake, origin-rsa', group: 'handshake', kind: 'edge', runner: 'serve', host: ZONES.strictRsaNew, nginx: 'nginx-new' },
  ];
}

/** `NAME=VALUE` pairs (--b-env) as an environment; throws on one without a name. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`--b-env takes NAME=VALUE, not ${JSON.stringify(pair)}`);
    env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return env;
}

/** The scenarios each anchor serves (anchors.ts configures them; loadtest.ts names them). */
export const ANCHOR_SCENARIO_IDS: Record<AnchorName, readonly string[]> = {
  nginx: ['nginx-keepalive', 'nginx-new', 'nginx-new-reuse', 'nginx-new-tls13', 'nginx-new-reuse-tls13'],
  haproxy: ['haproxy-keepalive', 'haproxy-new'],
  caddy: ['caddy-keepalive', 'caddy-new'],
};

/**
 * The order of the scenarios within a round: each edge scenario next to what it is compared
 * with (full, nginx, Caddy, B), because this machine's speed changes for tens of seconds at a
 * time and a ratio is only as good as the two runs are close. Ids not listed go last.
 */
const ROUND_ORDER: readonly string[] = [
  'direct', 'flexible', 'full', 'strict-keepalive', 'strict-keepalive-b', 'nginx-keepalive', 'caddy-keepalive', 'haproxy-keepalive',
  'node-minimal-keepalive', 'strict-keepalive-big', 'strict-keepalive-2w', 'strict-keepalive-separate',
  'direct-new', 'strict-new', 'strict-new-b', 'nginx-new', 'nginx-new-tls13', 'haproxy-new', 'caddy-new', 'node-minimal-new',
  'strict-new-resume', 'nginx-new-reuse', 'nginx-new-reuse-tls13', 'strict-new-2w', 'strict-new-rsa',
];

export function inRoundOrder<T extends { readonly id: string }>(scenarios: readonly T[]): T[] {
  const rank = (id: string) => (ROUND_ORDER.includes(id) ? ROUND_ORDER.indexOf(id) : ROUND_ORDER.length);
  return [...scenarios].sort((a, b) => rank(a.id) - rank(b.id));
}

export interface Selection {
  /** Whether a scenario is measured in this run. */
  wants(id: string): boolean;
  /** The runners to start: those of a wanted scenario, and `serve` always (the separate edge follows its CA; the soak measures it). */
  readonly runners: ReadonlySet<Runner>;
  /** The installed anchors a wanted scenario needs. */
  readonly anchors: readonly AnchorName[];
}

export interface SelectOptions {
  readonly only?: string;
  readonly soak?: boolean;
  readonly installed: Record<AnchorName, boolean>;
}

/**
 * All scenarios; with `only` (comma-separated ids) those and the two origin-direct ceilings;
 * with `soak` none. Throws, naming what exists, for an unknown id or an anchor not installed.
 */
export function selectScenarios(defs: readonly ScenarioDef[], options: SelectOptions): Selection {
  let wanted: ReadonlySet<string> | undefined;
  if (options.soak) wanted = new Set();
  else if (options.only !== undefined) {
    const named = options.only.split(',').map((id) => id.trim()).filter(Boolean);
    const known = [...defs.map((s) => s.id), ...Object.values(ANCHOR_SCENARIO_IDS).flat()];
    const unknown = named.filter((id) => !known.includes(id));
    if (unknown.length || named.length === 0) throw new Error(`--only: no scenario ${unknown.join(', ') || '(none named)'}; there are ${known.join(', ')}`);
    const missing = (Object.keys(ANCHOR_SCENARIO_IDS) as AnchorName[]).filter((name) => !options.installed[name] && ANCHOR_SCENARIO_IDS[name].some((id) => named.includes(id)));
    if (missing.length) throw new Error(`--only: ${missing.join(', ')} not installed (scripts/test-deps.sh installs the anchors)`);
    wanted = new Set([...named, 'direct', 'direct-new']);
  }
  const wants = (id: string) => wanted === undefined || wanted.has(id);
  const runners = new Set<Runner>(['serve', ...defs.filter((s) => wants(s.id)).map((s) => s.runner)]);
  const anchors = (Object.keys(ANCHOR_SCENARIO_IDS) as AnchorName[]).filter((name) => options.installed[name] && ANCHOR_SCENARIO_IDS[name].some(wants));
  return { wants, runners, anchors };
}
