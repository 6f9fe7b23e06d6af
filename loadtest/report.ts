// The load test's results as JSON, Markdown and an SVG bar chart (embedded in the Markdown).
// Pure: from a Report to strings.
import type { RunResult } from './clients.js';

export type Group = 'keepalive' | 'handshake';
export type Kind = 'direct' | 'edge' | 'reference' | 'anchor';

/** One run of a scenario, with the CPU per response of the process measured (when it was). */
export type ScenarioRun = RunResult & { readonly cpuUsPerRequest?: number | null };

export interface ScenarioResult {
  readonly id: string;
  readonly name: string;
  readonly group: Group;
  readonly kind: Kind;
  readonly runs: readonly ScenarioRun[];
  readonly rps: number;
  readonly p50: number;
  readonly p975: number | null;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly clientBound: boolean;
  readonly vsDirect: number;
  /** Ratio to the matching nginx scenario, when nginx ran. */
  readonly vsNginx: number | null;
  readonly edgeRssMaxMb: number | null;
  /** CPU time of the proxy's processes (or the origin's, for direct) per response, median of the runs. */
  readonly cpuUsPerRequest: number | null;
  /** The origin's CPU time per response while this proxy ran (null for the direct rows, where it is the figure above). */
  readonly originCpuUsPerRequest: number | null;
  /** What the origin saw of the handshakes (version, share resumed), for the handshake group. */
  readonly originTls: string | null;
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface HandshakeFigures {
  readonly keyType: 'ecdsa' | 'rsa';
  readonly handshakesPerS: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export interface Report {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { readonly cpus: number; readonly node: string; readonly anchors: Record<string, string> };
  readonly client: string;
  readonly settings: { readonly connections: number; readonly pipelining: number; readonly durationS: number; readonly rounds: number; readonly quick: boolean; readonly index: { issued: number; revoked: number }; readonly ab?: string };
  readonly clientCeilingRps: number;
  readonly scenarios: readonly ScenarioResult[];
  readonly handshakes: readonly HandshakeFigures[];
  readonly targets: readonly TargetCheck[];
  readonly valid: boolean;
  readonly invalidBecause: readonly string[];
}

const medianOf = (values: readonly number[]): number => {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * "0.57× (5497 vs 9564), per round 0.69 / 0.52 / 0.86, median 0.69": the ratio of the medians
 * (what the targets judge), and the ratio within each round with its median, for scenarios run
 * close together (loadtest runs each edge next to the anchor it is compared with).
 */
export function ratioText(a: Pick<ScenarioResult, 'rps' | 'runs'>, b: Pick<ScenarioResult, 'rps' | 'runs'>): string {
  const rounds = Math.min(a.runs.length, b.runs.length);
  const perRound = Array.from({ length: rounds }, (_, i) => a.runs[i]!.rps / b.runs[i]!.rps);
  const detail = rounds > 1 ? `, per round ${perRound.map((r) => r.toFixed(2)).join(' / ')}, median ${medianOf(perRound).toFixed(2)}` : '';
  return `${(a.rps / b.rps).toFixed(2)}× (${Math.round(a.rps)} vs ${Math.round(b.rps)})${detail}`;
}

/** "1.07× CPU per request": CPU time per response of a over b, steadier than req/s here. */
export function cpuRatioText(a: Pick<ScenarioResult, 'cpuUsPerRequest'>, b: Pick<ScenarioResult, 'cpuUsPerRequest'>): string {
  return a.cpuUsPerRequest && b.cpuUsPerRequest ? `${(a.cpuUsPerRequest / b.cpuUsPerRequest).toFixed(2)}× CPU per request` : 'CPU per request not measured';
}

/**
 * "CPU per request per round 1.03 / 1.64 / 0.98, median 1.03": a over b within each round, for
 * scenarios run back to back. Their median is robust where the ratio of two medians is not: this
 * machine switches between a fast and a slow speed for tens of seconds at a time, and two
 * medians can come from different speeds.
 */
export function pairedCpuText(a: Pick<ScenarioResult, 'runs'>, b: Pick<ScenarioResult, 'runs'>): string {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.runs.length, b.runs.length); i++) {
    const [x, y] = [a.runs[i]!.cpuUsPerRequest, b.runs[i]!.cpuUsPerRequest];
    if (x && y) ratios.push(x / y);
  }
  if (ratios.length === 0) return 'CPU per request not measured';
  return `CPU per request per round ${ratios.map((r) => r.toFixed(2)).join(' / ')}, median ${medianOf(ratios).toFixed(2)}`;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (n: number | null) => (n === null ? '–' : `${n.toFixed(2)}×`);
const ms = (n: number | null) => (n === null || Number.isNaN(n) ? '–' : n.toFixed(n < 10 ? 2 : 1));

export function markdown(report: Report, svgFile: string): string {
  const lines: string[] = [];
  lines.push(`# strictedge load test — ${report.startedAt}`);
  lines.push('');
  lines.push(
    `${report.client}, ${report.settings.connections} connections, pipelining ${report.settings.pipelining}, ${report.settings.durationS} s per run, ${report.settings.rounds} interleaved round(s), medians. ` +
      `Client, proxies and origins share this machine's ${report.machine.cpus} cores (Node ${report.machine.node}): relative figures, not capacities.`,
  );
  if (!report.valid) lines.push('', `**This run is not valid:** ${report.invalidBecause.join('; ')}.`);
  lines.push('', `![req/s per scenario](${svgFile})`, '');
  lines.push(`Client ceiling (origin direct over HTTPS with the same client): ${fmt(report.clientCeilingRps)} req/s; a scenario at ≥ 80 % of it is marked client-bound. CPU µs / req: user + system CPU time of the proxy's processes (the origin's, for the direct rows) over the run, per response — steadier than req/s on a shared machine. Origin CPU µs / req: the same for the origin process, which every proxy shares: a proxy that makes the origin work harder per request leaves less of the machine to everyone. Origin saw TLS: the version the origin negotiated with the proxy (or the client, for direct) and the share of those handshakes that resumed a session.`, '');
  for (const group of ['keepalive', 'handshake'] as const) {
    lines.push(group === 'keepalive' ? '## Keep-alive to the origin' : '## A new origin TLS handshake per request', '');
    const handshakes = group === 'handshake';
    lines.push(`| scenario | req/s | × direct | × nginx | CPU µs / req | origin CPU µs / req |${handshakes ? ' origin saw TLS |' : ''} p50 ms | p97.5 ms | p99 ms | errors | non-2xx | RSS max MB | note |`);
    lines.push(`|---|--:|--:|--:|--:|--:|${handshakes ? '---|' : ''}--:|--:|--:|--:|--:|--:|---|`);
    for (const s of report.scenarios.filter((x) => x.group === group)) {
      lines.push(`| ${s.name} | ${fmt(s.rps)} | ${ratio(s.vsDirect)} | ${ratio(s.vsNginx)} | ${s.cpuUsPerRequest === null ? '–' : fmt(s.cpuUsPerRequest)} | ${s.originCpuUsPerRequest === null ? '–' : fmt(s.originCpuUsPerRequest)} |${handshakes ? ` ${s.originTls ?? '–'} |` : ''} ${ms(s.p50)} | ${ms(s.p975)} | ${ms(s.p99)} | ${s.errors} | ${s.non2xx} | ${s.edgeRssMaxMb === null ? '–' : s.edgeRssMaxMb.toFixed(0)} | ${s.clientBound ? 'client-bound' : ''} |`);
    }
    lines.push('');
  }
  if (report.handshakes.length) {
    lines.push('## origin-ecc against origin-rsa (new handshake per request, from the edge\'s own metrics)', '');
    lines.push('| certificate | handshakes/s | bytes read per handshake | bytes written per handshake |');
    lines.push('|---|--:|--:|--:|');
    for (const h of report.handshakes) lines.push(`| origin-${h.keyType === 'ecdsa' ? 'ecc' : 'rsa'} | ${fmt(h.handshakesPerS)} | ${fmt(h.bytesRead)} | ${fmt(h.bytesWritten)} |`);
    lines.push('');
  }
  lines.push('## Targets (issue 6), as ratios in this run', '');
  lines.push('| target | measured | met |');
  lines.push('|---|---|---|');
  for (const t of report.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met === null ? (t.measured === 'not run' ? 'not measured' : '–') : t.met ? 'yes' : '**no**'} |`);
  lines.push('');
  if (report.settings.ab) lines.push(`--ab: B is a second strict edge, ${report.settings.ab}; A is the first.`, '');
  lines.push(`Anchors: ${Object.entries(report.machine.anchors).map(([name, version]) => `${name} ${version}`).join(', ') || 'none installed'}. Synthetic index for the large-index scenario: ${fmt(report.settings.index.issued)} issued, ${fmt(report.settings.index.revoked)} revoked.`);
  lines.push('');
  return lines.join('\n');
}

const COLORS: Record<Kind, string> = { direct: '#8c8f94', edge: '#2271b1', reference: '#72aee6', anchor: '#d63638' };

export function svgChart(report: Report): string {
  const barHeight = 18;
  const gap = 6;
  // Wide enough for the longest scenario name at ~6.6 px per character (12 px sans-serif).
  const labelWidth = Math.max(330, Math.ceil(Math.max(...report.scenarios.map((s) => s.name.length)) * 6.6) + 16);
  const chartWidth = 420;
  const panels = (['keepalive', 'handshake'] as const).map((group) => ({ group, items: report.scenarios.filter((s) => s.group === group) }));
  let y = 10;
  const parts: string[] = [];
  for (const { group, items } of panels) {
    if (!items.length) continue;
    const max = Math.max(...items.map((s) => s.rps), 1);
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${group === 'keepalive' ? 'Keep-alive to the origin (req/s)' : 'New origin TLS handshake per request (req/s)'}</text>`);
    y += 24;
    for (const s of items) {
      const width = Math.max(1, (s.rps / max) * chartWidth);
      parts.push(`<text x="${labelWidth - 6}" y="${y + 13}" text-anchor="end">${escapeXml(s.name)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${COLORS[s.kind]}"/>`);
      parts.push(`<text x="${labelWidth + width + 4}" y="${y + 13}">${fmt(s.rps)}${s.clientBound ? ' (client-bound)' : ''}</text>`);
      y += barHeight + gap;
    }
    y += 12;
  }
  const legend = (Object.entries(COLORS) as [Kind, string][]).map(([kind, color], i) => `<rect x="${10 + i * 110}" y="${y}" width="12" height="12" fill="${color}"/><text x="${26 + i * 110}" y="${y + 11}">${kind}</text>`);
  y += 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + chartWidth + 140}" height="${y}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n${legend.join('\n')}\n</svg>\n`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
