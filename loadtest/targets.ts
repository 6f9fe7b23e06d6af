// Issue 6's targets, judged from a run's medians: each as the issue words it, what was
// measured, and whether it was met (null where the issue sets no bar, or it was not run).
import { cpuRatioText, pairedCpuText, ratioText, type ScenarioResult, type TargetCheck } from './report.js';

export interface TargetInputs {
  /** Share of the resumption edge's origin handshakes that resumed; NaN when not run. */
  readonly resumedShare: number;
  /** The large index's size as the scenario names it ("1M"). */
  readonly indexLabel: string;
}

type Measure = (a: ScenarioResult, b: ScenarioResult) => [measured: string, met: boolean | null];

function check(target: string, a: ScenarioResult | undefined, b: ScenarioResult | undefined, measure: Measure): TargetCheck {
  if (!a || !b) return { target, measured: 'not run', met: null };
  const [measured, met] = measure(a, b);
  return { target, measured, met };
}

function rssCheck(target: string, edge: ScenarioResult | undefined): TargetCheck {
  const rss = edge?.edgeRssMaxMb;
  return rss == null ? { target, measured: 'not sampled', met: null } : { target, measured: `${rss.toFixed(0)} MB max`, met: rss <= 150 };
}

export function issueTargets(byId: ReadonlyMap<string, ScenarioResult>, inputs: TargetInputs): TargetCheck[] {
  const get = (id: string) => byId.get(id);
  const strict = get('strict-keepalive');
  const versusReference: Measure = (a, b) => [`${(a.rps / b.rps).toFixed(2)}× req/s, ${cpuRatioText(a, b)}`, null];
  return [
    check('strict keep-alive ≥ 0.6 × nginx req/s', strict, get('nginx-keepalive'), (a, b) => [ratioText(a, b), a.rps >= 0.6 * b.rps]),
    check('strict keep-alive p99 ≤ 2 × nginx p99', strict, get('nginx-keepalive'), (a, b) => [`${a.p99} ms vs ${b.p99} ms`, a.p99 <= 2 * b.p99]),
    check('strict keep-alive ahead of Caddy', strict, get('caddy-keepalive'), (a, b) => [ratioText(a, b), a.rps > b.rps]),
    check('strict new handshake, resumption off ≥ 0.8 × nginx (reuse off)', get('strict-new'), get('nginx-new'), (a, b) => [ratioText(a, b), a.rps >= 0.8 * b.rps]),
    check('strict with resumption ahead of nginx with its default session reuse', get('strict-new-resume'), get('nginx-new-reuse'), (a, b) => [ratioText(a, b), a.rps > b.rps]),
    // The same two targets against nginx speaking the edge's TLS version to the origin.
    check('the same, nginx with TLS 1.3 allowed: strict new handshake ≥ 0.8 × nginx (reuse off)', get('strict-new'), get('nginx-new-tls13'), (a, b) => [ratioText(a, b), a.rps >= 0.8 * b.rps]),
    check('the same, nginx with TLS 1.3 allowed: strict with resumption ahead of nginx with session reuse', get('strict-new-resume'), get('nginx-new-reuse-tls13'), (a, b) => [ratioText(a, b), a.rps > b.rps]),
    { target: 'origin handshakes resumed in the resumption scenario', measured: Number.isNaN(inputs.resumedShare) ? 'not run' : `${(inputs.resumedShare * 100).toFixed(1)} %`, met: null },
    check('strict ≤ 3 % fewer req/s than full (keep-alive)', strict, get('full'), (a, b) => [`${ratioText(a, b)}; ${cpuRatioText(a, b)}`, a.rps >= 0.97 * b.rps]),
    check('strict keep-alive, 2 workers against 1', get('strict-keepalive-2w'), strict, (a, b) => [ratioText(a, b), null]),
    check('strict new handshake, 2 workers against 1', get('strict-new-2w'), get('strict-new'), (a, b) => [ratioText(a, b), null]),
    check('strict new handshake against the minimal Node + undici proxy', get('strict-new'), get('node-minimal-new'), versusReference),
    check('strict keep-alive against the minimal Node + undici proxy', strict, get('node-minimal-keepalive'), versusReference),
    check(`strict keep-alive with a ${inputs.indexLabel}-entry index vs an empty one`, get('strict-keepalive-big'), strict, (a, b) => [ratioText(a, b), null]),
    rssCheck('edge RSS ≤ 150 MB during strict keep-alive (serve: CA and edge in one process)', strict),
    rssCheck('edge RSS ≤ 150 MB during strict keep-alive (separate strictedge edge)', get('strict-keepalive-separate')),
    // --ab: the second edge against the first, in the same rounds (no bar: a measurement).
    ...(get('strict-keepalive-b') || get('strict-new-b')
      ? [
          check('--ab: B against A, strict keep-alive', get('strict-keepalive-b'), strict, (a, b) => [`${ratioText(a, b)}; ${pairedCpuText(a, b)}`, null]),
          check('--ab: B against A, strict new handshake', get('strict-new-b'), get('strict-new'), (a, b) => [`${ratioText(a, b)}; ${pairedCpuText(a, b)}`, null]),
        ]
      : []),
  ];
}
