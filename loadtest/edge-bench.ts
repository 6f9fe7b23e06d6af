// npm run bench:edge — autocannon against the origin directly and through the edge in each
// mode, all over HTTPS from the client, 3 interleaved rounds, medians, ratio to the origin.
// The client (this process), the edge (`strictedge serve`) and the origins (origin-process)
// are three processes sharing this machine's cores: relative figures, not capacities.
//   flags: --duration S (per round, default 5) --rounds N (default 3) --connections N (default 50)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createKeyAndCsr } from '../src/pki/csr-build.js';
import { CLI } from '../test/helpers/serve.js';
import { createBenchWorkspace, median, runBenchmark } from './processes.js';
import { freePort } from '../test/helpers/nginx.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '50' } } });
const DURATION = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);

const workspace = createBenchWorkspace('strictedge-edge-bench-');
const work = workspace.dir;

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

const cli = (...args: string[]) => {
  const result = spawnSync(process.execPath, [CLI, ...args, '--state', join(work, 'state')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
};

interface Scenario {
  readonly name: string;
  readonly port: number;
  readonly host: string;
}

async function main(): Promise<void> {
  const ports = { http: await freePort(), https: await freePort(), close: await freePort() };
  const key = cli('accounts', 'create', 'bench');
  const zones = {
    flexible: ['flexible.bench.test', 'flexible'],
    full: ['full.bench.test', 'full'],
    strict: ['strict.bench.test', 'strict'],
    strictNew: ['strict-new.bench.test', 'strict'],
  } as const;
  for (const [name, mode] of Object.values(zones)) {
    const https = name === zones.strictNew[0] ? ports.close : ports.https;
    cli('zones', 'add', name, '--account', 'bench', '--mode', mode, '--origin-http', `127.0.0.1:${ports.http}`, '--origin-https', `127.0.0.1:${https}`);
  }
  const edgeProcess = spawn(process.execPath, [CLI, 'serve', '--state', join(work, 'state'), '--log-level', 'warn', '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
  workspace.track(edgeProcess);
  const ready = JSON.parse(await firstLine(edgeProcess)) as { api: string; https: string };

  const hostnames = Object.values(zones).map(([name]) => name);
  const { keyPem, csrPem } = await createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, hostnames);
  const issued = (await (await fetch(`${ready.api}/certificates`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-auth-user-service-key': key }, body: JSON.stringify({ csr: csrPem, hostnames, request_type: 'origin-ecc', requested_validity: 7 }) })).json()) as { result: { certificate: string } };
  writeFileSync(join(work, 'origin.pem'), issued.result.certificate);
  writeFileSync(join(work, 'origin.key'), keyPem, { mode: 0o600 });
  const originProcess = spawn(process.execPath, [fileURLToPath(new URL('./origin-process.js', import.meta.url)), JSON.stringify({ httpPort: ports.http, httpsPort: ports.https, closePort: ports.close, certFile: join(work, 'origin.pem'), keyFile: join(work, 'origin.key') })], { stdio: ['ignore', 'pipe', 'inherit'] });
  workspace.track(originProcess);
  await firstLine(originProcess);

  const edgePort = Number(new URL(ready.https).port);
  const scenarios: Scenario[] = [
    { name: 'origin direct (HTTPS)', port: ports.https, host: zones.strict[0] },
    { name: 'edge flexible', port: edgePort, host: zones.flexible[0] },
    { name: 'edge full', port: edgePort, host: zones.full[0] },
    { name: 'edge strict, keep-alive to origin', port: edgePort, host: zones.strict[0] },
    { name: 'edge strict, new origin handshake per request', port: edgePort, host: zones.strictNew[0] },
  ];
  const results = new Map<string, { rps: number; p50: number; p99: number; bad: number }[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      process.stderr.write(`round ${round}/${ROUNDS}: ${scenario.name}... `);
      const result = await autocannon({ url: `https://127.0.0.1:${scenario.port}/`, servername: scenario.host, headers: { host: scenario.host }, connections: CONNECTIONS, duration: DURATION });
      results.get(scenario.name)!.push({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, bad: result.errors + result.timeouts + result.non2xx });
      process.stderr.write(`${Math.round(result.requests.average)} req/s\n`);
    }
  }
  const direct = median(results.get(scenarios[0]!.name)!.map((r) => r.rps));
  console.log(`\nautocannon, ${CONNECTIONS} connections, HTTPS from the client, ${ROUNDS} interleaved rounds of ${DURATION} s, medians (${new Date().toISOString()})\n`);
  console.log('| scenario | req/s | × direct | p50 ms | p99 ms | errors + non-2xx |');
  console.log('|---|--:|--:|--:|--:|--:|');
  let invalid = false;
  for (const scenario of scenarios) {
    const rs = results.get(scenario.name)!;
    const rps = median(rs.map((r) => r.rps));
    const bad = rs.reduce((n, r) => n + r.bad, 0);
    invalid ||= bad > 0;
    console.log(`| ${scenario.name} | ${Math.round(rps)} | ${(rps / direct).toFixed(2)} | ${median(rs.map((r) => r.p50))} | ${median(rs.map((r) => r.p99))} | ${bad} |`);
  }
  if (invalid) {
    console.log('\nSome requests failed: the run is not valid.');
    process.exitCode = 1;
  }
}

runBenchmark(main, workspace);
