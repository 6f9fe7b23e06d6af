// Runs the real `strictedge` binary, as a user would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Served {
  readonly process: ChildProcess;
  readonly ready: Record<string, any>;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `strictedge serve ...` and resolves with its parsed ready line. */
export function startServe(args: readonly string[]): Promise<Served> {
  return startCommand(['serve', ...args]);
}

/** Starts any long-running `strictedge` command and resolves with its parsed ready line. */
export async function startCommand(args: readonly string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s; stderr: ${stderr}`)), 20_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
  return {
    process: child,
    ready,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(); // ended already, by itself or a signal
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; one still running after 60 s is killed (status null), so a command that should have ended fails its test rather than hanging the suite. */
export function cli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like cli() but without blocking the event loop (needed while the CA runs in this process). */
export function cliAsync(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** One HTTPS request through the edge a ready line describes, with `host` as SNI and Host: its status and 526 verdict. */
export function edgeGet(ready: Record<string, string>, host: string): Promise<{ status: number; verdict?: string }> {
  return new Promise((resolve, reject) => {
    const port = Number(new URL(ready.https!).port);
    httpsRequest({ host: '127.0.0.1', port, servername: host, headers: { host }, ca: readFileSync(ready.edge_ca!, 'utf8'), agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, verdict: res.headers['x-strictedge-verdict'] as string | undefined }));
    })
      .on('error', reject)
      .end();
  });
}
