// The load generators: autocannon (programmatic, in this process) and, for comparison, Debian's
// wrk. Both answer in one shape. wrk takes the name to send as SNI from the URL, so it runs in a
// private mount namespace whose /etc/hosts maps the bench names to 127.0.0.1 (nothing changes
// for the rest of the machine).
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';

export type ClientName = 'autocannon' | 'wrk';

export interface Target {
  readonly port: number;
  /** Sent as Host and as SNI. */
  readonly host: string;
  readonly path: string;
}

export interface ClientSettings {
  readonly connections: number;
  readonly pipelining: number;
  readonly durationS: number;
}

export interface RunResult {
  readonly rps: number;
  /** Responses received in the run. */
  readonly requests: number;
  readonly p50: number;
  readonly p975: number | null;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

export const WRK_INSTALLED = existsSync('/usr/bin/wrk');

export async function runAutocannon(target: Target, settings: ClientSettings): Promise<RunResult> {
  const result = await autocannon({
    url: `https://127.0.0.1:${target.port}${target.path}`,
    servername: target.host,
    headers: { host: target.host },
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: settings.durationS,
  } as autocannon.Options);
  return { rps: result.requests.average, requests: result.requests.total, p50: result.latency.p50, p975: result.latency.p97_5, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

const toMs = (value: string, unit: string): number => Number(value) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!;

export function parseWrk(output: string): RunResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? NaN);
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(output);
    return match ? toMs(match[1]!, match[2]!) : NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? NaN);
  if (Number.isNaN(rps) || Number.isNaN(requests)) throw new Error(`cannot read wrk's output:\n${output}`);
  return { rps, requests, p50: percentile('50'), p975: null, p99: percentile('99'), errors, non2xx };
}

export function runWrk(target: Target, settings: ClientSettings, workDir: string, track: (child: ReturnType<typeof spawn>) => void): Promise<RunResult> {
  const hosts = join(workDir, 'wrk-hosts');
  writeFileSync(hosts, `127.0.0.1 localhost ${target.host}\n`);
  const wrk = `wrk -t1 -c${settings.connections} -d${settings.durationS}s --latency -H 'Host: ${target.host}' https://${target.host}:${target.port}${target.path}`;
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind ${hosts} /etc/hosts && exec ${wrk}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(parseWrk(output)) : reject(new Error(`wrk exited with ${code}: ${output}`))));
  });
}
