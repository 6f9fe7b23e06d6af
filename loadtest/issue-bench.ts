// npm run bench:issue — issuance over HTTP at concurrency 16, origin-ecc and origin-rsa,
// side by side with cfssl's `serve` sign API (Debian golang-cfssl) measured in the same run.
// Rounds are interleaved and medians reported: this machine is shared and noisy.
//   flags: --duration S (per round, default 5) --rounds N (default 3) --connections N (default 16)
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { createKeyAndCsr } from '../src/pki/csr-build.js';
import { CLI } from '../test/helpers/serve.js';
import { SERVER_NODE_FLAGS } from '../src/node-flags.js';
import { createBenchWorkspace, median, runBenchmark } from './processes.js';
import { freePort } from '../test/helpers/nginx.js';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' } },
});
const DURATION = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);
const CSRS_PER_TYPE = 64; // distinct CSRs, so nothing can be cached per request
const HOSTS = ['bench.test', '*.bench.test'];

interface Target {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly bodies: string[];
}

interface RoundResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

const workspace = createBenchWorkspace('strictedge-bench-');
const work = workspace.dir;

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`nothing listening on ${port}`);
}

async function startStrictedge(csrs: Record<'ecc' | 'rsa', string[]>): Promise<Target[]> {
  const state = join(work, 'strictedge');
  const key = spawnSync(process.execPath, [CLI, 'accounts', 'create', 'bench', '--state', state], { encoding: 'utf8' }).stdout.trim();
  spawnSync(process.execPath, [CLI, 'zones', 'add', 'bench.test', '--account', 'bench', '--state', state]);
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, CLI, 'serve', '--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  workspace.track(child);
  const ready = await new Promise<{ api: string }>((resolve) => createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line))));
  const headers = { 'content-type': 'application/json', 'x-auth-user-service-key': key };
  const body = (csr: string, requestType: string) => JSON.stringify({ csr, hostnames: HOSTS, request_type: requestType, requested_validity: 5475 });
  return [
    { name: 'strictedge origin-ecc', url: `${ready.api}/certificates`, headers, bodies: csrs.ecc.map((csr) => body(csr, 'origin-ecc')) },
    { name: 'strictedge origin-rsa', url: `${ready.api}/certificates`, headers, bodies: csrs.rsa.map((csr) => body(csr, 'origin-rsa')) },
  ];
}

async function startCfssl(keyType: 'ecc' | 'rsa', csrs: string[]): Promise<Target> {
  const dir = join(work, `cfssl-${keyType}`);
  spawnSync('mkdir', ['-p', dir]);
  const keyArgs = keyType === 'ecc' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  const made = spawnSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-days', '3650', '-subj', `/O=bench/CN=cfssl ${keyType} root`, '-keyout', join(dir, 'root.key'), '-out', join(dir, 'root.pem')]);
  if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ signing: { default: { expiry: '131400h', usages: ['digital signature', 'key encipherment', 'server auth'] } } }));
  const port = await freePort();
  const child = spawn('cfssl', ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', join(dir, 'root.pem'), '-ca-key', join(dir, 'root.key'), '-config', join(dir, 'config.json'), '-loglevel', '5'], { stdio: 'ignore' });
  workspace.track(child);
  await waitListening(port);
  return {
    name: `cfssl serve (${keyType === 'ecc' ? 'ECDSA' : 'RSA'} root)`,
    url: `http://127.0.0.1:${port}/api/v1/cfssl/sign`,
    headers: { 'content-type': 'application/json' },
    bodies: csrs.map((csr) => JSON.stringify({ certificate_request: csr, hosts: HOSTS })),
  };
}

async function measure(target: Target): Promise<RoundResult> {
  let next = 0;
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ method: 'POST', headers: target.headers, setupRequest: (request) => ({ ...request, body: target.bodies[next++ % target.bodies.length] }) }],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}


async function main(): Promise<void> {
  process.stderr.write(`making ${CSRS_PER_TYPE} ECDSA and ${CSRS_PER_TYPE} RSA CSRs...\n`);
  const csrs = { ecc: [] as string[], rsa: [] as string[] };
  for (let i = 0; i < CSRS_PER_TYPE; i++) {
    csrs.ecc.push((await createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, HOSTS)).csrPem);
    csrs.rsa.push((await createKeyAndCsr({ keyType: 'rsa', size: 2048 }, HOSTS)).csrPem);
  }
  const targets = await startStrictedge(csrs);
  const hasCfssl = spawnSync('cfssl', ['version']).status === 0;
  if (hasCfssl) targets.push(await startCfssl('ecc', csrs.ecc), await startCfssl('rsa', csrs.rsa));
  else process.stderr.write('cfssl not installed (apt-get install golang-cfssl): strictedge figures only\n');

  const rounds = new Map<string, RoundResult[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of targets) {
      process.stderr.write(`round ${round}/${ROUNDS}: ${target.name}... `);
      const result = await measure(target);
      rounds.get(target.name)!.push(result);
      process.stderr.write(`${Math.round(result.rps)} certs/s\n`);
    }
  }

  const summary = targets.map((t) => {
    const rs = rounds.get(t.name)!;
    return { name: t.name, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), failures: rs.reduce((n, r) => n + r.errors + r.non2xx, 0) };
  });
  const baseline = (name: string) => summary.find((s) => s.name.startsWith('cfssl') && s.name.includes(name))?.rps;
  console.log(`\nIssuance over HTTP, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s, medians (${new Date().toISOString()})\n`);
  console.log('| server | certs/s | p50 ms | p99 ms | failed requests | × cfssl, same root type |');
  console.log('|---|--:|--:|--:|--:|--:|');
  for (const s of summary) {
    const base = s.name.startsWith('strictedge') ? baseline(s.name.endsWith('ecc') ? 'ECDSA' : 'RSA') : undefined;
    console.log(`| ${s.name} | ${Math.round(s.rps)} | ${s.p50} | ${s.p99} | ${s.failures} | ${base ? (s.rps / base).toFixed(2) : '–'} |`);
  }
  if (summary.some((s) => s.failures > 0)) {
    console.log('\nSome requests failed: the figures above are not valid.');
    process.exitCode = 1;
  }
}

runBenchmark(main, workspace);
