// npm run loadtest [-- --quick] [-- --client wrk] [-- --soak 300]
// The edge in each mode, the origin direct, and nginx / HAProxy / Caddy on the same strict job,
// all on loopback, the same client settings for every scenario, interleaved rounds, medians.
// Writes loadtest/results/<timestamp>.json, .md and .svg. Ctrl-C stops everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { waitForPort } from '../test/helpers/nginx.js';
import { reservePort } from '../test/helpers/ports.js';
import { caddyConfig, haproxyConfig, INSTALLED, nginxConfig, startAnchorProcess, versionOf, writeCombinedPem, type AnchorFiles } from './anchors.js';
import { runAutocannon, runWrk, WRK_INSTALLED, type ClientName, type ClientSettings, type RunResult, type Target } from './clients.js';
import { copyState, fillIndex, makeFixtures, ZONES, type OriginPorts } from './fixtures.js';
import { edgeScenarios, inRoundOrder, parseEnvPairs, RUNNERS, selectScenarios, type Runner, type Selection } from './scenarios.js';
import { createBenchWorkspace, median, runBenchmark } from './processes.js';
import { treeCpuSeconds } from './proc-cpu.js';
import { addCounts, countsSince, describeOriginTls, type OriginTlsCounts } from './origin-tls.js';
import { markdown, svgChart, type Group, type HandshakeFigures, type Kind, type Report, type ScenarioResult } from './report.js';
import { issueTargets } from './targets.js';
import { edgeStarters, readyLine, rssMb, type EdgeProcess } from './edge-processes.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    client: { type: 'string', default: 'autocannon' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string', default: '50' },
    pipelining: { type: 'string', default: '1' },
    anchors: { type: 'boolean', default: true },
    soak: { type: 'string' },
    only: { type: 'string' },
    'profile-edge': { type: 'string' },
    // A/B on this noisy machine: a second strict edge measured in the same rounds as the first.
    ab: { type: 'boolean', default: false },
    'b-env': { type: 'string', multiple: true, default: [] },
    'b-node-flag': { type: 'string', multiple: true, default: [] },
    // B's own `serve` arguments on top of A's (--b-arg=--access-log=/tmp/b.log).
    'b-arg': { type: 'string', multiple: true, default: [] },
    // B on another Node binary and/or another built checkout (its own native modules, or another commit).
    'b-node': { type: 'string' },
    'b-root': { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('../../loadtest/results/', import.meta.url)) },
  },
  allowNegative: true,
});
/** A bad argument: said in one line, before anything is started. */
function usageError(message: string): never {
  process.stderr.write(`loadtest: ${message}\n`);
  process.exit(2);
}
const QUICK = values.quick;
const CLIENT = values.client as ClientName;
if (CLIENT !== 'autocannon' && CLIENT !== 'wrk') usageError('--client must be autocannon or wrk');
if (CLIENT === 'wrk' && !WRK_INSTALLED) usageError('--client wrk needs Debian\'s wrk: apt-get install -y wrk');
const SETTINGS: ClientSettings = { connections: Number(values.connections), pipelining: Number(values.pipelining), durationS: Number(values.duration ?? (QUICK ? 2 : 6)) };
/** Each target is exercised this long before round 1 (JIT, pools, session caches), unrecorded; --quick skips it. */
const WARMUP_S = QUICK ? 0 : 2;
const ROUNDS = Number(values.rounds ?? (QUICK ? 1 : 3));
const INDEX = QUICK ? { issued: 100_000, revoked: 10_000 } : { issued: 1_000_000, revoked: 100_000 };
const INDEX_LABEL = INDEX.issued >= 1_000_000 ? `${INDEX.issued / 1_000_000}M` : `${INDEX.issued / 1000}k`;
const PATH = '/bytes/6';

const B_NODE_FLAGS = values['b-node-flag'];
const B_ARGS = values['b-arg'];
const B_ENV = (() => {
  try {
    return parseEnvPairs(values['b-env']);
  } catch (error) {
    return usageError((error as Error).message);
  }
})();
/** How B's process is started when it differs from A's: another Node binary, another checkout's CLI. */
const B_PROGRAM = (() => {
  const node = values['b-node'] === undefined ? undefined : resolve(values['b-node']);
  if (node !== undefined) {
    try {
      accessSync(node, fsConstants.X_OK);
      if (!statSync(node).isFile()) throw new Error('not a file');
    } catch {
      usageError(`--b-node ${node}: not an executable file`);
    }
  }
  const root = values['b-root'] === undefined ? undefined : resolve(values['b-root']);
  const cli = root === undefined ? undefined : join(root, 'dist/src/cli/main.js');
  if (cli !== undefined && !existsSync(cli)) usageError(`--b-root ${root}: no ${cli} (a strictedge checkout after npm ci, which builds it)`);
  return { node, cli };
})();
/** --ab, or what B differs by: a second strict edge, started with these on top of A's. */
const AB = values.ab || B_NODE_FLAGS.length > 0 || B_ARGS.length > 0 || Object.keys(B_ENV).length > 0 || B_PROGRAM.node !== undefined || B_PROGRAM.cli !== undefined;
const AB_TEXT =
  [
    ...(B_PROGRAM.node ? [`node ${B_PROGRAM.node}`] : []),
    ...(B_PROGRAM.cli ? [`CLI ${B_PROGRAM.cli}`] : []),
    ...Object.entries(B_ENV).map(([name, value]) => `${name}=${value}`),
    ...B_NODE_FLAGS,
    ...B_ARGS.map((arg) => `serve ${arg}`),
  ].join(' ') || 'identical (A/A)';
const SCENARIOS = edgeScenarios(INDEX_LABEL, AB);
if (values.soak !== undefined && !(Number(values.soak) >= 1)) usageError('--soak takes a number of seconds (300 for the issue\'s five minutes)');
const SELECTION: Selection = (() => {
  try {
    return selectScenarios(SCENARIOS, { only: values.only, soak: values.soak !== undefined, installed: INSTALLED });
  } catch (error) {
    return usageError((error as Error).message);
  }
})();
const wants = SELECTION.wants;

const workspace = createBenchWorkspace('strictedge-loadtest-');
const work = workspace.dir;
const began = performance.now();
const { startEdge, startSeparateEdge, startMinimalProxy } = edgeStarters((child) => workspace.track(child), PATH);
const progress = (line: string) => process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

interface Scenario {
  readonly id: string;
  readonly name: string;
  readonly group: Group;
  readonly kind: Kind;
  readonly target: Target;
  /** The edge process whose memory is sampled during the run. */
  readonly edge?: EdgeProcess;
  /** The nginx scenario it is compared with. */
  readonly nginx?: string;
  /** The process (with its children) whose CPU time per request is reported, when not `edge`'s. */
  readonly cpuPid?: number;
}

async function startAnchors(files: AnchorFiles): Promise<{ scenarios: Scenario[]; versions: Record<string, string> }> {
  const scenarios: Scenario[] = [];
  const versions: Record<string, string> = {};
  const target = (port: number, host: string): Target => ({ port, host, path: PATH });
  const started: [ChildProcess, number[]][] = [];
  if (SELECTION.anchors.includes('nginx')) {
    const ports = { keepalive: await reservePort(), new: await reservePort(), 'new-reuse': await reservePort(), 'new-tls13': await reservePort(), 'new-reuse-tls13': await reservePort() };
    const nginx = workspace.track(startAnchorProcess('nginx', files, nginxConfig(files, ports)));
    started.push([nginx, Object.values(ports)]);
    versions.nginx = versionOf('/usr/sbin/nginx', ['-v'], /nginx\/(\S+)/);
    scenarios.push({ id: 'nginx-keepalive', name: 'nginx, 1 worker, upstream keep-alive', group: 'keepalive', kind: 'anchor', target: target(ports.keepalive, files.hosts.keepalive), cpuPid: nginx.pid });
    scenarios.push({ id: 'nginx-new', name: 'nginx, new handshake, session reuse off', group: 'handshake', kind: 'anchor', target: target(ports.new, files.hosts.new), cpuPid: nginx.pid });
    scenarios.push({ id: 'nginx-new-reuse', name: 'nginx, new connection, session reuse on (default)', group: 'handshake', kind: 'anchor', target: target(ports['new-reuse'], files.hosts['new-reuse']), cpuPid: nginx.pid });
    scenarios.push({ id: 'nginx-new-tls13', name: 'nginx, new handshake, session reuse off, TLS 1.3 allowed', group: 'handshake', kind: 'anchor', target: target(ports['new-tls13'], files.hosts.new), cpuPid: nginx.pid });
    scenarios.push({ id: 'nginx-new-reuse-tls13', name: 'nginx, new connection, session reuse on, TLS 1.3 allowed', group: 'handshake', kind: 'anchor', target: target(ports['new-reuse-tls13'], files.hosts['new-reuse']), cpuPid: nginx.pid });
  }
  if (SELECTION.anchors.includes('haproxy')) {
    const ports = { keepalive: await reservePort(), new: await reservePort() };
    const haproxy = workspace.track(startAnchorProcess('haproxy', files, haproxyConfig(files, ports, writeCombinedPem(files))));
    started.push([haproxy, Object.values(ports)]);
    versions.haproxy = versionOf('/usr/sbin/haproxy', ['-v'], /version (\S+)/);
    scenarios.push({ id: 'haproxy-keepalive', name: 'HAProxy, 1 thread, http-reuse always', group: 'keepalive', kind: 'anchor', target: target(ports.keepalive, files.hosts.keepalive), cpuPid: haproxy.pid });
    scenarios.push({ id: 'haproxy-new', name: 'HAProxy, new handshake, no-ssl-reuse', group: 'handshake', kind: 'anchor', target: target(ports.new, files.hosts.new), cpuPid: haproxy.pid });
  }
  if (SELECTION.anchors.includes('caddy')) {
    const ports = { keepalive: await reservePort(), new: await reservePort() };
    const caddy = workspace.track(startAnchorProcess('caddy', files, caddyConfig(files, ports)));
    started.push([caddy, Object.values(ports)]);
    versions.caddy = versionOf('/usr/bin/caddy', ['version'], /v?(\d+\.\d+\.\d+)/);
    scenarios.push({ id: 'caddy-keepalive', name: 'Caddy, upstream keep-alive', group: 'keepalive', kind: 'anchor', target: target(ports.keepalive, files.hosts.keepalive), cpuPid: caddy.pid });
    scenarios.push({ id: 'caddy-new', name: 'Caddy, new handshake (keepalive off)', group: 'handshake', kind: 'anchor', target: target(ports.new, files.hosts.new), cpuPid: caddy.pid });
  }
  for (const [child, ports] of started) for (const port of ports) await waitForPort(port, child, () => 'see stderr above');
  return { scenarios, versions };
}

type MeasuredRun = RunResult & { rssMaxMb: number | null; cpuUsPerRequest: number | null; originCpuUsPerRequest: number | null; originTls: OriginTlsCounts | null };

/** The origin process's handshake counts so far (origin-process.ts answers over IPC). */
function originTlsCounts(origin: ChildProcess): Promise<OriginTlsCounts> {
  return new Promise((resolve) => {
    origin.once('message', (counts) => resolve(counts as OriginTlsCounts));
    origin.send('tls-counts');
  });
}

function perRequestUs(cpuSeconds: number, requests: number): number | null {
  return Number.isNaN(cpuSeconds) || requests === 0 ? null : (cpuSeconds * 1e6) / requests;
}

async function runOne(scenario: Scenario, origin: ChildProcess): Promise<MeasuredRun> {
  const tlsBefore = scenario.group === 'handshake' ? await originTlsCounts(origin) : null;
  let rssMax = NaN;
  const sampler = scenario.edge ? setInterval(() => (rssMax = Math.max(Number.isNaN(rssMax) ? 0 : rssMax, rssMb(scenario.edge!.child.pid!))), 250) : undefined;
  const cpuPid = scenario.cpuPid ?? scenario.edge?.child.pid;
  const cpuBefore = cpuPid === undefined ? NaN : treeCpuSeconds(cpuPid);
  // The origin is shared by every proxy: what each one makes it spend is part of its cost.
  const originCpuBefore = treeCpuSeconds(origin.pid!);
  try {
    const result = CLIENT === 'wrk' ? await runWrk(scenario.target, SETTINGS, work, (child) => workspace.track(child)) : await runAutocannon(scenario.target, SETTINGS);
    const cpu = cpuPid === undefined ? NaN : treeCpuSeconds(cpuPid) - cpuBefore;
    const originCpu = treeCpuSeconds(origin.pid!) - originCpuBefore;
    const originTls = tlsBefore ? countsSince(tlsBefore, await originTlsCounts(origin)) : null;
    return { ...result, rssMaxMb: Number.isNaN(rssMax) ? null : rssMax, cpuUsPerRequest: perRequestUs(cpu, result.requests), originCpuUsPerRequest: perRequestUs(originCpu, result.requests), originTls };
  } finally {
    if (sampler) clearInterval(sampler);
  }
}

/** Average handshake bytes for one zone, from the edge's histogram sums and counts. */
async function handshakeBytes(metricsUrl: string, zone: string): Promise<{ read: number; written: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const value = (name: string, direction: string) => Number(new RegExp(`^strictedge_edge_origin_tls_handshake_bytes_${name}\\{zone="${zone.replace(/\./g, '\\.')}",direction="${direction}"\\} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return { read: value('sum', 'read') / value('count', 'read'), written: value('sum', 'written') / value('count', 'written') };
}

/** Of the origin handshakes an edge made for a zone, the share that resumed a session. */
async function resumedShare(metricsUrl: string, zone: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const count = (resumed: string) => Number(new RegExp(`^strictedge_edge_origin_tls_handshakes_total\\{zone="${zone.replace(/\./g, '\\.')}",result="ok",resumed="${resumed}"\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  const [yes, no] = [count('true'), count('false')];
  return yes + no === 0 ? NaN : yes / (yes + no);
}

/** The edge's V8 heap in use, MB, from its own metrics (nodejs_heap_size_used_bytes). */
async function heapUsedMb(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1e6;
}

async function soak(edge: EdgeProcess, target: Target, seconds: number): Promise<void> {
  // Every 5 s; a short soak more often, so that its first and last thirds hold samples too.
  const everyS = Math.min(5, seconds / 12);
  progress(`soak: edge strict keep-alive for ${seconds} s, RSS and V8 heap in use every ${everyS.toFixed(1)} s`);
  const samples: { t: number; rss: number; heap: number }[] = [];
  const started = Date.now();
  const timer = setInterval(() => {
    void heapUsedMb(edge.metrics).then((heap) => samples.push({ t: (Date.now() - started) / 1000, rss: rssMb(edge.child.pid!), heap }));
  }, everyS * 1000);
  const result = await runAutocannon(target, { ...SETTINGS, durationS: seconds });
  clearInterval(timer);
  const window = Math.min(60, seconds / 3);
  const growth = (key: 'rss' | 'heap') => {
    const first = median(samples.filter((s) => s.t <= window).map((s) => s[key]));
    const last = median(samples.filter((s) => s.t >= seconds - window).map((s) => s[key]));
    return `first ${window} s median ${first.toFixed(1)} MB, last ${window} s median ${last.toFixed(1)} MB (${(((last - first) / first) * 100).toFixed(1)} %), max ${Math.max(...samples.map((s) => s[key])).toFixed(1)} MB`;
  };
  const text = `soak ${seconds} s: ${Math.round(result.rps)} req/s, errors ${result.errors + result.non2xx}\n  RSS: ${growth('rss')}\n  V8 heap in use: ${growth('heap')}`;
  console.log(text);
  mkdirSync(values.out, { recursive: true });
  const file = join(values.out, `${new Date(started).toISOString().replace(/[:.]/g, '-')}-soak.md`);
  writeFileSync(file, `# strictedge soak — edge strict keep-alive, ${seconds} s\n\nautocannon, ${SETTINGS.connections} connections; RSS and V8 heap in use of the \`serve\` process every ${everyS.toFixed(1)} s.\n\n\`\`\`\n${text}\n\`\`\`\n\n| t s | RSS MB | heap in use MB |\n|--:|--:|--:|\n${samples.map((s) => `| ${s.t.toFixed(0)} | ${s.rss.toFixed(1)} | ${s.heap.toFixed(1)} |`).join('\n')}\n`);
  progress(`wrote ${file}`);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  progress(`load test: ${CLIENT}, ${SETTINGS.connections} connections, ${SETTINGS.durationS} s per run, ${ROUNDS} round(s)${QUICK ? ' (quick)' : ''}`);
  const ports: OriginPorts = { http: await reservePort(), https: await reservePort(), close: await reservePort(), rsaClose: await reservePort() };
  progress('making the state: account, zones, origin-ecc and origin-rsa certificates...');
  const fixtures = await makeFixtures(work, ports);
  const copy = (name: string) => copyState(fixtures.state, join(work, name));

  const origin = workspace.track(
    spawn(process.execPath, [fileURLToPath(new URL('./origin-process.js', import.meta.url)), JSON.stringify({ httpPort: ports.http, httpsPort: ports.https, closePort: ports.close, certFile: fixtures.eccCert, keyFile: fixtures.eccKey, rsaClosePort: ports.rsaClose, rsaCertFile: fixtures.rsaCert, rsaKeyFile: fixtures.rsaKey })], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] }),
  );
  await readyLine(origin);
  // --profile-edge DIR: CPU profiles (node --cpu-prof) of the edges, written when they stop.
  const profile = values['profile-edge'] ? ['--cpu-prof', '--cpu-prof-dir', values['profile-edge']] : [];
  const runners: Partial<Record<Runner, EdgeProcess>> = {};
  const bigState = SELECTION.runners.has('big') ? copy('state-big') : undefined;
  if (bigState) {
    progress(`filling a copy with ${INDEX.issued.toLocaleString()} issued and ${INDEX.revoked.toLocaleString()} revoked certificates...`);
    fillIndex(bigState, INDEX.issued, INDEX.revoked);
  }
  const anchorsWanted = values.anchors && (values.only === undefined || SELECTION.anchors.length > 0) && values.soak === undefined;
  // The separate edge follows serve's CA, so it starts as soon as serve answers.
  const starting: Promise<unknown>[] = [
    startEdge(fixtures.state, [], profile).then(async (edge) => {
      runners.serve = edge;
      if (SELECTION.runners.has('separate')) runners.separate = await startSeparateEdge(join(work, 'edge-only'), edge.api!, fixtures.edgeToken, ZONES.strict);
    }),
  ];
  // The anchors need nothing from the edges, so they start alongside them.
  const anchorsStarting = anchorsWanted
    ? startAnchors({ dir: join(work, 'anchors'), cert: fixtures.eccCert, key: fixtures.eccKey, root: fixtures.eccRoot, origin: ports, hosts: { keepalive: ZONES.strict, new: ZONES.strictNew, 'new-reuse': ZONES.strictNew } })
    : undefined;
  progress(`starting ${RUNNERS.filter((runner) => runner !== 'origin' && SELECTION.runners.has(runner)).join(', ')}${anchorsWanted ? ` and the anchors: ${SELECTION.anchors.join(', ') || 'none installed'}` : ''}...`);
  if (SELECTION.runners.has('resume')) starting.push(startEdge(copy('state-resume'), ['--origin-session-resumption'], profile).then((edge) => (runners.resume = edge)));
  if (SELECTION.runners.has('workers')) starting.push(startEdge(copy('state-workers'), ['--workers', '2'], profile).then((edge) => (runners.workers = edge)));
  if (bigState) starting.push(startEdge(bigState, [], profile).then((edge) => (runners.big = edge)));
  if (SELECTION.runners.has('b')) starting.push(startEdge(copy('state-b'), B_ARGS, [...profile, ...B_NODE_FLAGS], B_ENV, B_PROGRAM).then((edge) => (runners.b = edge)));
  if (SELECTION.runners.has('minimal-keepalive')) starting.push(startMinimalProxy(fixtures, ports.https, ZONES.strict, profile).then((proxy) => (runners['minimal-keepalive'] = proxy)));
  if (SELECTION.runners.has('minimal-new')) starting.push(startMinimalProxy(fixtures, ports.close, ZONES.strictNew, profile).then((proxy) => (runners['minimal-new'] = proxy)));
  const [anchors] = await Promise.all([anchorsStarting, ...starting]);
  const edge = runners.serve!;

  const target = (port: number, host: string): Target => ({ port, host, path: PATH });
  const scenarios: Scenario[] = SCENARIOS.filter((def) => wants(def.id)).map(({ runner, host, ...def }) => {
    if (runner === 'origin') return { ...def, target: target(def.group === 'keepalive' ? ports.https : ports.close, host), cpuPid: origin.pid };
    const server = runners[runner]!;
    // A cluster's memory is spread over its workers, so for `--workers 2` only CPU (the whole tree) is measured.
    if (runner === 'workers') return { ...def, target: target(server.httpsPort, host), cpuPid: server.child.pid };
    return { ...def, target: target(server.httpsPort, host), edge: server };
  });
  const versions = anchors?.versions ?? {};
  if (anchors) scenarios.push(...anchors.scenarios.filter((scenario) => wants(scenario.id)));

  if (values.soak) return soak(edge, target(edge.httpsPort, ZONES.strict), Number(values.soak));
  scenarios.splice(0, scenarios.length, ...inRoundOrder(scenarios));

  const runs = new Map<string, MeasuredRun[]>(scenarios.map((s) => [s.id, []]));
  if (WARMUP_S > 0) {
    progress(`warming up each target for ${WARMUP_S} s...`);
    for (const scenario of scenarios) await runAutocannon(scenario.target, { ...SETTINGS, durationS: WARMUP_S });
  }
  const total = ROUNDS * scenarios.length;
  let done = 0;
  const runsBegan = Date.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      const result = await runOne(scenario, origin);
      runs.get(scenario.id)!.push(result);
      done++;
      const eta = Math.round(((Date.now() - runsBegan) / done) * (total - done) / 1000);
      progress(`[${String(done).padStart(2)}/${total}] round ${round}: ${scenario.name.padEnd(58)} ${Math.round(result.rps).toLocaleString().padStart(7)} req/s  p99 ${result.p99} ms${result.errors + result.non2xx ? `  ERRORS ${result.errors} non-2xx ${result.non2xx}` : ''}  (about ${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, '0')}s left)`);
    }
  }

  const ceiling = median(runs.get('direct')!.map((r) => r.rps));
  const byId = new Map<string, ScenarioResult>();
  const invalidBecause: string[] = [];
  for (const s of scenarios) {
    const rs = runs.get(s.id)!;
    const rps = median(rs.map((r) => r.rps));
    const errors = rs.reduce((n, r) => n + r.errors, 0);
    const non2xx = rs.reduce((n, r) => n + r.non2xx, 0);
    if (errors + non2xx > 0) invalidBecause.push(`${s.name}: ${errors} errors, ${non2xx} non-2xx`);
    const rss = rs.map((r) => r.rssMaxMb).filter((v): v is number => v !== null);
    const medianOf = (values: (number | null)[]) => {
      const known = values.filter((v): v is number => v !== null);
      return known.length ? median(known) : null;
    };
    byId.set(s.id, {
      id: s.id, name: s.name, group: s.group, kind: s.kind, runs: rs, rps,
      p50: median(rs.map((r) => r.p50)), p975: rs[0]!.p975 === null ? null : median(rs.map((r) => r.p975!)), p99: median(rs.map((r) => r.p99)),
      errors, non2xx, clientBound: s.id !== 'direct' && rps >= 0.8 * ceiling,
      vsDirect: rps / median(runs.get(s.group === 'keepalive' ? 'direct' : 'direct-new')!.map((r) => r.rps)),
      vsNginx: null, edgeRssMaxMb: rss.length ? Math.max(...rss) : null, cpuUsPerRequest: medianOf(rs.map((r) => r.cpuUsPerRequest)),
      originCpuUsPerRequest: s.kind === 'direct' ? null : medianOf(rs.map((r) => r.originCpuUsPerRequest)),
      originTls: describeOriginTls(rs.reduce((all: OriginTlsCounts, r) => addCounts(all, r.originTls ?? {}), {})),
    });
  }
  for (const s of scenarios) {
    const nginxId = s.nginx ?? (s.kind === 'anchor' ? (s.group === 'keepalive' ? 'nginx-keepalive' : 'nginx-new') : undefined);
    const nginx = nginxId ? byId.get(nginxId) : undefined;
    if (nginx) byId.set(s.id, { ...byId.get(s.id)!, vsNginx: byId.get(s.id)!.rps / nginx.rps });
  }
  const results = scenarios.map((s) => byId.get(s.id)!);

  const handshakes: HandshakeFigures[] = [];
  for (const [id, zone, keyType] of [['strict-new', ZONES.strictNew, 'ecdsa'], ['strict-new-rsa', ZONES.strictRsaNew, 'rsa']] as const) {
    const scenario = byId.get(id);
    if (!scenario) continue;
    const bytes = await handshakeBytes(edge.metrics, zone);
    handshakes.push({ keyType, handshakesPerS: scenario.rps, bytesRead: bytes.read, bytesWritten: bytes.written });
  }

  const resumed = runners.resume ? await resumedShare(runners.resume.metrics, ZONES.strictNew) : NaN;
  const targets = issueTargets(byId, { resumedShare: resumed, indexLabel: INDEX_LABEL });

  const report: Report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, anchors: versions },
    client: CLIENT === 'wrk' ? 'wrk -t1' : 'autocannon (programmatic, 1 process)',
    settings: { ...SETTINGS, rounds: ROUNDS, quick: QUICK, index: INDEX, ...(AB ? { ab: AB_TEXT } : {}) },
    clientCeilingRps: ceiling,
    scenarios: results,
    handshakes,
    targets,
    valid: invalidBecause.length === 0,
    invalidBecause,
  };
  mkdirSync(values.out, { recursive: true });
  const stamp = `${startedAt.toISOString().replace(/[:.]/g, '-')}${QUICK ? '-quick' : ''}${CLIENT === 'wrk' ? '-wrk' : ''}`;
  writeFileSync(join(values.out, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(values.out, `${stamp}.svg`), svgChart(report));
  const md = markdown(report, `${stamp}.svg`);
  writeFileSync(join(values.out, `${stamp}.md`), md);
  console.log(md);
  progress(`wrote ${join(values.out, `${stamp}.{json,md,svg}`)}`);
  if (!report.valid) process.exitCode = 1;
}

runBenchmark(main, workspace);
