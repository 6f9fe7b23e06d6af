// The load test's pure parts: reading wrk's output, the report it writes, which scenarios it runs
// and how it judges the issue's targets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrk } from '../../loadtest/clients.js';
import { parseStat, treeCpuSeconds } from '../../loadtest/proc-cpu.js';
import { addCounts, countHandshake, countsSince, describeOriginTls, type OriginTlsCounts } from '../../loadtest/origin-tls.js';
import { cpuRatioText, markdown, pairedCpuText, ratioText, svgChart, type Report, type ScenarioResult, type TargetCheck } from '../../loadtest/report.js';
import { issueTargets } from '../../loadtest/targets.js';
import { edgeScenarios, inRoundOrder, parseEnvPairs, RUNNERS, selectScenarios } from '../../loadtest/scenarios.js';

const WRK_OUTPUT = `Running 15s test @ https://strict.bench.test:8443/bytes/6
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  512.00us  20.10ms   90.00%
  Latency Distribution
     50%  1.06ms
     75%  1.30ms
     90%  1.70ms
     99%    2.35ms
  600000 requests in 15.00s, 80.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  40299.12
Transfer/sec:      5.33MB
`;

function scenario(id: string, rps: number, extra: Partial<ScenarioResult> = {}): ScenarioResult {
  return { id, name: id, group: 'keepalive', kind: 'edge', runs: [], rps, p50: 1, p975: 2, p99: 3, errors: 0, non2xx: 0, clientBound: false, vsDirect: 0.5, vsNginx: null, edgeRssMaxMb: null, cpuUsPerRequest: null, originCpuUsPerRequest: null, originTls: null, ...extra };
}

function report(overrides: Partial<Report> = {}): Report {
  return {
    startedAt: '2026-11-27T00:00:00.000Z',
    finishedAt: '2026-11-27T00:08:00.000Z',
    machine: { cpus: 2, node: 'v20', anchors: { nginx: '1.22.1' } },
    client: 'autocannon',
    settings: { connections: 50, pipelining: 1, durationS: 8, rounds: 3, quick: false, index: { issued: 1_000_000, revoked: 100_000 } },
    clientCeilingRps: 25_000,
    scenarios: [scenario('direct', 25_000, { kind: 'direct', name: 'origin <direct>' }), scenario('strict', 3_400, { vsNginx: 0.3 }), scenario('nginx', 11_000, { kind: 'anchor', group: 'handshake', clientBound: true, originTls: '1.2; 99.5 % resumed', cpuUsPerRequest: 262.4, originCpuUsPerRequest: 512 })],
    handshakes: [{ keyType: 'ecdsa', handshakesPerS: 526, bytesRead: 984, bytesWritten: 474 }],
    targets: [{ target: 'strict ≥ 0.6 × nginx', measured: '0.30×', met: false }, { target: 'info', measured: 'not run', met: null }],
    valid: true,
    invalidBecause: [],
    ...overrides,
  };
}

describe('load test report', () => {
  it("reads wrk's rate, percentiles and errors", () => {
    assert.deepEqual(parseWrk(WRK_OUTPUT), { rps: 40299.12, requests: 600000, p50: 1.06, p975: null, p99: 2.35, errors: 3, non2xx: 4 });
    assert.throws(() => parseWrk('wrk: connection refused'), /cannot read wrk/);
  });

  it('writes every scenario, the targets, and says when a run is not valid', () => {
    const md = markdown(report(), 'chart.svg');
    assert.match(md, /!\[req\/s per scenario\]\(chart\.svg\)/);
    assert.match(md, /\| strict \| 3,400 \| 0\.50× \| 0\.30× \|/);
    assert.match(md, /\| nginx \| 11,000 .*client-bound \|/);
    assert.match(md, /\| nginx \| 11,000 \| 0\.50× \| – \| 262 \| 512 \| 1\.2; 99\.5 % resumed \| 1\.00 \|/, 'the handshake table says what the proxy and the origin spent and what the origin saw');
    assert.match(md, /\| strict \| 3,400 \| 0\.50× \| 0\.30× \| – \| – \| 1\.00 \|/, 'the keep-alive table has no origin-TLS column');
    assert.match(md, /\| strict ≥ 0\.6 × nginx \| 0\.30× \| \*\*no\*\* \|/);
    assert.match(md, /\| info \| not run \| not measured \|/);
    assert.doesNotMatch(md, /not valid/);
    assert.match(markdown(report({ valid: false, invalidBecause: ['edge full: 3 errors, 0 non-2xx'] }), 'c.svg'), /\*\*This run is not valid:\*\* edge full: 3 errors/);
  });

  it('draws one bar per scenario, escaping names', () => {
    const svg = svgChart(report());
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((svg.match(/<rect x="330"/g) ?? []).length, 3);
    assert.match(svg, /origin &lt;direct&gt;/);
    assert.match(svg, /11,000 \(client-bound\)/);
  });
});

describe('ratios between two scenarios', () => {
  it('gives the ratio of the medians and the ratio within each round', () => {
    const runs = (...rps: number[]) => rps.map((r) => ({ rps: r, requests: r, p50: 1, p975: null, p99: 1, errors: 0, non2xx: 0 }));
    assert.equal(ratioText({ rps: 600, runs: runs(600, 300, 900) }, { rps: 1000, runs: runs(1000, 1000, 900) }), '0.60× (600 vs 1000), per round 0.60 / 0.30 / 1.00, median 0.60');
    assert.equal(ratioText({ rps: 50, runs: runs(50) }, { rps: 100, runs: runs(100) }), '0.50× (50 vs 100)', 'one round: nothing more to say');
  });

  it('gives the ratio of CPU per request, or a dash when one side was not measured', () => {
    assert.equal(cpuRatioText({ cpuUsPerRequest: 120 }, { cpuUsPerRequest: 112 }), '1.07× CPU per request');
    assert.equal(cpuRatioText({ cpuUsPerRequest: 120 }, { cpuUsPerRequest: null }), 'CPU per request not measured');
  });
});

describe('what the origin saw of the handshakes', () => {
  it('counts by version and resumption, takes differences and describes them', () => {
    const before: OriginTlsCounts = {};
    countHandshake(before, 'TLSv1.3', false);
    const after = structuredClone(before);
    for (let i = 0; i < 3; i++) countHandshake(after, 'TLSv1.2', true);
    countHandshake(after, 'TLSv1.2', false);
    const run = countsSince(before, after);
    assert.deepEqual(run, { 'TLSv1.2': { full: 1, resumed: 3 } }, 'a version with nothing new is left out');
    assert.equal(describeOriginTls(run), '1.2; 75 % resumed');
    const both = addCounts(structuredClone(run), { 'TLSv1.3': { full: 4, resumed: 0 } });
    assert.equal(describeOriginTls(both), '1.2 50 %, 1.3 50 %; 37.5 % resumed');
    assert.equal(describeOriginTls({}), null, 'no handshakes: nothing to say');
  });
});

describe('CPU time from /proc', () => {
  it('reads ppid, utime and stime after a command name with spaces and parentheses', () => {
    const line = '4242 (node (edge) x) S 4200 4242 10771 0 -1 4194304 99 0 0 0 1234 567 8 9 20 0 12 0 1682881 3133440 360';
    assert.deepEqual(parseStat(line), { ppid: 4200, ticks: 1234 + 567 });
  });

  it('counts a child process in its parent\'s tree', async () => {
    const { spawn } = await import('node:child_process');
    // A child that burns 300 ms of CPU, then exits only when told to (so it is still in the tree).
    // Burnt by its own CPU clock, not the wall's: on a busy machine 300 ms of wall time gave it
    // less than the 200 ms asserted below.
    const child = spawn(process.execPath, ['-e', 'const used = () => { const u = process.cpuUsage(); return u.user + u.system; }; while (used() < 300_000); process.stdout.write("done"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      const tree = treeCpuSeconds(process.pid);
      const own = process.cpuUsage();
      assert.ok(tree - (own.user + own.system) / 1e6 >= 0.2, `the child's CPU time is missing: tree ${tree} s`);
      assert.equal(treeCpuSeconds(2 ** 22 + 1), 0, 'no such process: no time');
    } finally {
      child.kill();
    }
  });
});


describe('load-test scenario selection', () => {
  const defs = edgeScenarios('1M');
  const all = { nginx: true, haproxy: true, caddy: true };

  it('runs everything by default, starting every runner and installed anchor', () => {
    const selection = selectScenarios(defs, { installed: { nginx: true, haproxy: false, caddy: true } });
    assert.ok(defs.every((s) => selection.wants(s.id)) && selection.wants('caddy-new'));
    assert.deepEqual([...selection.runners].sort(), RUNNERS.filter((runner) => runner !== 'b').sort());
    assert.deepEqual(selection.anchors, ['nginx', 'caddy']);
  });

  it('with --only, measures those and the two ceilings, and starts only what they need', () => {
    const selection = selectScenarios(defs, { only: 'strict-new-resume,nginx-new-reuse', installed: all });
    assert.deepEqual(defs.filter((s) => selection.wants(s.id)).map((s) => s.id), ['direct', 'direct-new', 'strict-new-resume']);
    assert.ok(selection.wants('nginx-new-reuse') && !selection.wants('nginx-keepalive'));
    assert.deepEqual([...selection.runners].sort(), ['origin', 'resume', 'serve']);
    assert.deepEqual(selection.anchors, ['nginx']);
  });

  it('a soak starts serve alone', () => {
    const selection = selectScenarios(defs, { soak: true, only: 'strict-new', installed: all });
    assert.deepEqual([...selection.runners], ['serve']);
    assert.deepEqual(selection.anchors, []);
    assert.equal(selection.wants('strict-keepalive'), false);
  });

  it('adds the A/B edge only with --ab, and runs it by default then', () => {
    assert.ok(!defs.some((s) => s.runner === 'b'));
    assert.throws(() => selectScenarios(defs, { only: 'strict-new-b', installed: all }), /no scenario strict-new-b/);
    const withB = edgeScenarios('1M', true);
    assert.deepEqual(withB.filter((s) => s.runner === 'b').map((s) => s.id), ['strict-keepalive-b', 'strict-new-b']);
    assert.ok(selectScenarios(withB, { installed: all }).runners.has('b'));
    assert.deepEqual([...selectScenarios(withB, { only: 'strict-new', installed: all }).runners].sort(), ['origin', 'serve']);
  });

  it('runs each edge scenario next to what it is compared with', () => {
    const anchors = ['caddy-keepalive', 'nginx-new-reuse', 'nginx-keepalive', 'nginx-new', 'some-new-anchor'].map((id) => ({ id }));
    const order = inRoundOrder([...edgeScenarios('1M', true), ...anchors]).map((s) => s.id);
    const next = (id: string) => order[order.indexOf(id) + 1];
    assert.equal(next('full'), 'strict-keepalive');
    assert.equal(next('strict-keepalive'), 'strict-keepalive-b');
    assert.equal(next('strict-keepalive-b'), 'nginx-keepalive');
    assert.equal(next('nginx-keepalive'), 'caddy-keepalive');
    assert.equal(next('strict-new-b'), 'nginx-new');
    assert.equal(next('strict-new-resume'), 'nginx-new-reuse');
    assert.equal(order.at(-1), 'some-new-anchor');
    assert.ok(order.indexOf('strict-keepalive-separate') < order.indexOf('direct-new'), 'keep-alive scenarios first');
  });

  it('reads --b-env as NAME=VALUE pairs', () => {
    assert.deepEqual(parseEnvPairs(['LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', 'A=b=c', 'EMPTY=']), { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', A: 'b=c', EMPTY: '' });
    assert.throws(() => parseEnvPairs(['NOVALUE']), /--b-env takes NAME=VALUE, not "NOVALUE"/);
    assert.throws(() => parseEnvPairs(['=x']), /NAME=VALUE/);
  });

  it('refuses unknown scenarios and anchors that are not installed, naming what exists', () => {
    assert.throws(() => selectScenarios(defs, { only: 'strict,full', installed: all }), /no scenario strict; there are direct, flexible, full/);
    assert.throws(() => selectScenarios(defs, { only: ' , ', installed: all }), /no scenario \(none named\)/);
    assert.throws(() => selectScenarios(defs, { only: 'full,haproxy-new', installed: { ...all, haproxy: false } }), /haproxy not installed/);
  });
});

describe('paired CPU ratios', () => {
  const run = (cpuUsPerRequest: number | null) => ({ rps: 1, requests: 1, p50: 1, p975: null, p99: 1, errors: 0, non2xx: 0, cpuUsPerRequest });
  it('takes the median of the per-round ratios, not the ratio of the medians', () => {
    // Fast, slow, slow for A; fast, fast, slow for B: the medians (100 vs 200) would say 0.5×.
    assert.equal(pairedCpuText({ runs: [run(100), run(100), run(200)] }, { runs: [run(100), run(200), run(200)] }), 'CPU per request per round 1.00 / 0.50 / 1.00, median 1.00');
    assert.equal(pairedCpuText({ runs: [run(110), run(90), run(null)] }, { runs: [run(100), run(100), run(100)] }), 'CPU per request per round 1.10 / 0.90, median 1.00');
    assert.equal(pairedCpuText({ runs: [run(null)] }, { runs: [run(100)] }), 'CPU per request not measured');
  });
});

describe('issue 6 targets judged from a run', () => {
  const byId = (entries: ScenarioResult[]) => new Map(entries.map((s) => [s.id, s]));
  const met = (targets: TargetCheck[], prefix: string) => targets.find((t) => t.target.startsWith(prefix))!;

  it('judges each bar at its edge: 0.6 × nginx, 2 × p99, ahead of Caddy, 0.8 × on handshakes, 3 % behind full, 150 MB', () => {
    const targets = issueTargets(
      byId([
        scenario('strict-keepalive', 600, { p99: 20, edgeRssMaxMb: 150, cpuUsPerRequest: 100 }),
        scenario('nginx-keepalive', 1000, { p99: 10 }),
        scenario('caddy-keepalive', 600),
        scenario('full', 619, { cpuUsPerRequest: 98 }),
        scenario('strict-new', 79, { group: 'handshake' }),
        scenario('nginx-new', 100, { group: 'handshake' }),
        scenario('strict-keepalive-separate', 600, { edgeRssMaxMb: 150.5 }),
      ]),
      { resumedShare: 0.987, indexLabel: '1M' },
    );
    assert.equal(met(targets, 'strict keep-alive ≥ 0.6').met, true);
    assert.equal(met(targets, 'strict keep-alive p99').met, true);
    assert.equal(met(targets, 'strict keep-alive ahead of Caddy').met, false, 'level is not ahead');
    assert.equal(met(targets, 'strict new handshake, resumption off').met, false);
    assert.equal(met(targets, 'strict ≤ 3 %').met, false);
    assert.match(met(targets, 'strict ≤ 3 %').measured, /0\.97× \(600 vs 619\); 1\.02× CPU per request/);
    assert.equal(met(targets, 'edge RSS ≤ 150 MB during strict keep-alive (serve').met, true);
    assert.deepEqual(met(targets, 'edge RSS ≤ 150 MB during strict keep-alive (separate'), { target: 'edge RSS ≤ 150 MB during strict keep-alive (separate strictedge edge)', measured: '151 MB max', met: false });
    assert.equal(met(targets, 'origin handshakes resumed').measured, '98.7 %');
  });

  it('reports what was not run as not run, never as met or missed', () => {
    const targets = issueTargets(byId([scenario('strict-keepalive', 600)]), { resumedShare: NaN, indexLabel: '100k' });
    assert.equal(targets.length, 16);
    for (const target of targets) assert.equal(target.met, null, target.target);
    assert.equal(met(targets, 'strict keep-alive ≥ 0.6').measured, 'not run');
    assert.equal(met(targets, 'origin handshakes resumed').measured, 'not run');
    assert.equal(met(targets, 'edge RSS ≤ 150 MB during strict keep-alive (serve').measured, 'not sampled');
    assert.ok(targets.some((t) => t.target === 'strict keep-alive with a 100k-entry index vs an empty one'));
    assert.ok(!targets.some((t) => t.target.startsWith('--ab')), 'no A/B lines without a B edge');
  });

  it('compares the A/B edge with the first one when it ran', () => {
    const runs = (...cpu: number[]) => cpu.map((cpuUsPerRequest) => ({ rps: 1e6 / cpuUsPerRequest, requests: 1, p50: 1, p975: 2, p99: 3, errors: 0, non2xx: 0, cpuUsPerRequest }));
    const targets = issueTargets(byId([scenario('strict-keepalive', 1000, { runs: runs(100, 100) }), scenario('strict-keepalive-b', 900, { runs: runs(110, 90) })]), { resumedShare: NaN, indexLabel: '1M' });
    assert.deepEqual(met(targets, '--ab: B against A, strict keep-alive'), { target: '--ab: B against A, strict keep-alive', measured: '0.90× (900 vs 1000), per round 0.91 / 1.11, median 1.01; CPU per request per round 1.10 / 0.90, median 1.00', met: null });
    assert.equal(met(targets, '--ab: B against A, strict new handshake').measured, 'not run');
  });
});
