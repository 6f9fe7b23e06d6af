// npm run bench:revocation
//  1. index probes (ns/op) with 1,000,000 issued and 100,000 revoked entries, beside an empty index;
//  2. a real `strictedge edge` started on a replica holding those 1.1 M events: start-up time to
//     load it and resident memory, beside the same edge on an empty replica;
//  3. propagation: one CA, two edge processes, 100 revocations through the API; time from the
//     API's answer until both edges report the event applied (their status endpoint), p50/p99.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeyAndCsr } from '../src/pki/csr-build.js';
import { openReplica } from '../src/revocation/replica.js';
import { createRevocationIndex } from '../src/revocation/revocation-index.js';
import type { CertEvent } from '../src/store/certificates.js';
import { CLI } from '../test/helpers/serve.js';
import { createBenchWorkspace, median, runBenchmark } from './processes.js';
import { freePort } from '../test/helpers/nginx.js';
import { spawnSync } from 'node:child_process';

const ISSUED = 1_000_000;
const REVOKED = 100_000;
const workspace = createBenchWorkspace('strictedge-revocation-bench-');
const work = workspace.dir;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

function makeEvents(): CertEvent[] {
  const events: CertEvent[] = [];
  for (let i = 0; i < ISSUED; i++) events.push({ seq: i + 1, kind: 'issued', serial: hex(16), sha256: hex(32), notAfter: '2041-01-01T00:00:00.000Z', at: '2026-01-01T00:00:00.000Z' });
  for (let i = 0; i < REVOKED; i++) events.push({ seq: ISSUED + i + 1, kind: 'revoked', serial: events[i * 10]!.serial, sha256: events[i * 10]!.sha256, notAfter: '2041-01-01T00:00:00.000Z', at: '2026-01-02T00:00:00.000Z' });
  return events;
}

function probeNs(events: CertEvent[], loaded: boolean): number {
  const index = createRevocationIndex();
  if (loaded) for (const event of events) index.apply(event);
  const probes = events.slice(0, 200_000).map((e, i) => (i % 3 === 2 ? [hex(16), hex(32)] : [e.serial, e.sha256]) as [string, string]);
  const rounds: number[] = [];
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (const [serial, sha256] of probes) sink += index.probe(serial, sha256).length;
    rounds.push(Number(process.hrtime.bigint() - started) / probes.length);
  }
  if (sink === 42) console.log('');
  return median(rounds);
}

function firstLine(child: ChildProcess): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function prepareEdgeState(name: string, events: CertEvent[], rootsFrom: string): string {
  const state = join(work, name);
  mkdirSync(join(state, 'certs'), { recursive: true });
  for (const file of ['origin-ecc-root.pem', 'origin-rsa-root.pem']) copyFileSync(join(rootsFrom, 'certs', file), join(state, 'certs', file));
  const replica = openReplica(join(state, 'data', 'edge.db'));
  for (let i = 0; i < events.length; i += 100_000) replica.record(events.slice(i, i + 100_000));
  replica.close();
  return state;
}

/** Starts an edge on `state`, reads its start-up load time and memory, stops it (it saves its snapshot). */
async function startEdgeOn(state: string): Promise<{ loadMs: number; rssMb: number }> {
  const child = spawn(process.execPath, [CLI, 'edge', '--ca-url', `http://127.0.0.1:${await freePort()}/client/v4`, '--edge-token', `edge-v1-${hex(12)}-${hex(32)}`, '--state', state, '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'] });
  workspace.track(child);
  const ready = await firstLine(child);
  await sleep(500);
  global.gc?.();
  const rss = rssMb(child.pid!);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return { loadMs: ready.index_loaded.ms as number, rssMb: rss };
}

async function propagation(): Promise<number[]> {
  const caState = join(work, 'ca');
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--state', caState], { encoding: 'utf8' }).stdout.trim();
  const key = cli('accounts', 'create', 'bench');
  cli('zones', 'add', 'bench.test', '--account', 'bench');
  const tokens = [cli('edges', 'create', 'e1'), cli('edges', 'create', 'e2')];
  const ca = spawn(process.execPath, [CLI, 'serve', '--state', caState, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  workspace.track(ca);
  const caReady = await firstLine(ca);
  const edges = await Promise.all(
    tokens.map(async (token, i) => {
      const child = spawn(process.execPath, [CLI, 'edge', '--ca-url', caReady.api, '--edge-token', token, '--state', join(work, `e${i}`), '--http-port', '0', '--https-port', '0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      workspace.track(child);
      return (await firstLine(child)).status as string;
    }),
  );
  const headers = { 'content-type': 'application/json', 'x-auth-user-service-key': key };
  const { csrPem } = await createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, ['bench.test']);
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const body = (await (await fetch(`${caReady.api}/certificates`, { method: 'POST', headers, body: JSON.stringify({ csr: csrPem, hostnames: ['bench.test'], request_type: 'origin-ecc', requested_validity: 7 }) })).json()) as { result: { id: string } };
    ids.push(body.result.id);
  }
  const lastSeq = async (url: string) => ((await (await fetch(url)).json()) as { last_seq: number }).last_seq;
  let seq = 100;
  const lags: number[] = [];
  for (const id of ids) {
    await (await fetch(`${caReady.api}/certificates/${id}`, { method: 'DELETE', headers })).arrayBuffer();
    const answered = performance.now();
    seq++;
    const pending = new Set(edges);
    while (pending.size) {
      for (const url of [...pending]) if ((await lastSeq(url)) >= seq) pending.delete(url);
      if (performance.now() - answered > 10_000) throw new Error('a revocation did not reach both edges in 10 s');
    }
    lags.push(performance.now() - answered);
    await sleep(10);
  }
  return lags;
}

async function main(): Promise<void> {
  process.stderr.write(`making ${ISSUED} issued + ${REVOKED} revoked events...\n`);
  const events = makeEvents();
  process.stderr.write('probing the index...\n');
  const emptyNs = probeNs(events, false);
  const fullNs = probeNs(events, true);

  process.stderr.write('starting edges on an empty and on a full replica...\n');
  const rootsState = join(work, 'roots');
  spawnSync(process.execPath, [CLI, 'ca', 'init', '--state', rootsState]);
  const empty = await startEdgeOn(prepareEdgeState('edge-empty', [], rootsState));
  const fullState = prepareEdgeState('edge-full', events, rootsState);
  const cold = await startEdgeOn(fullState); // from SQLite alone; saves a snapshot on the way out
  const full = await startEdgeOn(fullState); // from the snapshot

  process.stderr.write('measuring propagation over 100 revocations to two edges...\n');
  const lags = await propagation();

  console.log(`\nRevocation index and propagation (${new Date().toISOString()})\n`);
  console.log('| measure | empty | 1,000,000 issued + 100,000 revoked | target |');
  console.log('|---|--:|--:|---|');
  console.log(`| index probe, ns/op (median of 5 × 200,000; 1/3 misses) | ${emptyNs.toFixed(0)} | ${fullNs.toFixed(0)} | ~100 ns |`);
  console.log(`| edge start-up: load the index, ms (from the snapshot; first start from SQLite alone) | ${empty.loadMs} | ${full.loadMs} (${cold.loadMs}) | < 2,000 |`);
  console.log(`| edge resident memory after start, MB | ${empty.rssMb.toFixed(0)} | ${full.rssMb.toFixed(0)} (+${(full.rssMb - empty.rssMb).toFixed(0)}) | < +150 |`);
  console.log(`\n| propagation, API answer -> applied on both of 2 edges (100 revocations) | p50 ${percentile(lags, 50).toFixed(1)} ms | p99 ${percentile(lags, 99).toFixed(1)} ms | max ${Math.max(...lags).toFixed(1)} ms | target p99 ≤ 1,000 ms |`);
}

runBenchmark(main, workspace);
