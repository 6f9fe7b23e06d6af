// The load test's own processes: `serve` (A, or B from another build), a separate `strictedge
// edge`, and the minimal Node + undici proxy, each started with the server V8 flags and tracked by
// the workspace so that Ctrl-C or a crash stops them; and the RSS sampler the report uses.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../src/node-flags.js';
import { CLI } from '../test/helpers/serve.js';
import { reservePort } from '../test/helpers/ports.js';
import { runAutocannon } from './clients.js';
import type { Fixtures } from './fixtures.js';

type Track = (child: ChildProcess) => ChildProcess;

/** The first line a child prints once it is ready: JSON for `serve`, the word "ready" for the origins. */
export function readyLine(child: ChildProcess): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      try {
        resolve(line.startsWith('{') ? JSON.parse(line) : { line });
      } catch (error) {
        reject(error);
      }
    });
    child.once('exit', (code) => reject(new Error(`a process the load test needs exited with ${code}`)));
  });
}

export interface EdgeProcess {
  readonly child: ChildProcess;
  readonly httpsPort: number;
  readonly metrics: string;
  /** The CA's API, for `serve` (undefined for a separate edge). */
  readonly api?: string;
}

/** Starters for the edges and the reference proxy; `track` registers each child for clean-up, `probePath` is what the separate edge is probed with until it routes. */
export function edgeStarters(track: Track, probePath: string) {
  /** `serve` started as the CLI starts itself (its shebang): with the server V8 flags. `program` is B's node and CLI when they differ. */
  async function startEdge(state: string, extra: string[] = [], nodeFlags: string[] = [], env: Record<string, string> = {}, program: { node?: string; cli?: string } = {}): Promise<EdgeProcess> {
    const child = track(spawn(program.node ?? process.execPath, [...SERVER_NODE_FLAGS, ...nodeFlags, program.cli ?? CLI, 'serve', '--state', state, '--log-level', 'warn', '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } }));
    const ready = await readyLine(child);
    return { child, httpsPort: Number(new URL(ready.https).port), metrics: ready.metrics, api: ready.api };
  }

  /** A separate `strictedge edge` (no CA in its process) following `caApi`; ready once it routes `host`. */
  async function startSeparateEdge(dir: string, caApi: string, token: string, host: string): Promise<EdgeProcess> {
    const child = track(spawn(process.execPath, [...SERVER_NODE_FLAGS, CLI, 'edge', '--ca-url', caApi, '--edge-token', token, '--state', dir, '--log-level', 'warn', '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--status-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const ready = await readyLine(child);
    const edge = { child, httpsPort: Number(new URL(ready.https).port), metrics: ready.metrics };
    for (let i = 0; i < 100; i++) {
      const probe = await runAutocannon({ port: edge.httpsPort, host, path: probePath }, { connections: 1, pipelining: 1, durationS: 0.1 });
      if (probe.non2xx === 0 && probe.errors === 0 && probe.rps > 0) return edge;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the separate edge never routed ${host}`);
  }

  /**
   * The floor Node + undici set for the same job (loadtest/minimal-proxy.ts): one process per
   * origin, since it has no routing; its RSS is sampled like an edge's. It runs with the edge's
   * V8 flags (src/node-flags.ts), so that the two differ only in code.
   */
  async function startMinimalProxy(fixtures: Fixtures, originPort: number, servername: string, nodeFlags: string[]): Promise<EdgeProcess> {
    const port = await reservePort();
    const config = { port, origin: `127.0.0.1:${originPort}`, servername, certFile: fixtures.eccCert, keyFile: fixtures.eccKey, rootFile: fixtures.eccRoot };
    const child = track(spawn(process.execPath, [...SERVER_NODE_FLAGS, ...nodeFlags, fileURLToPath(new URL('./minimal-proxy.js', import.meta.url)), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] }));
    await readyLine(child);
    return { child, httpsPort: port, metrics: '' }; // no metrics endpoint: it has none
  }

  return { startEdge, startSeparateEdge, startMinimalProxy };
}

export function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return NaN;
  }
}
