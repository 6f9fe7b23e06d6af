// A real Prometheus server (Debian's package) on loopback, configured from config/prometheus.yml
// with the test's ports, and promtool.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './nginx.js';

export const CONFIG = new URL('../../../config/prometheus.yml', import.meta.url);
export const ALERTS = new URL('../../../config/alerts.yml', import.meta.url);

/** Runs `promtool check metrics` on exposition text; returns its exit status and output. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface RunningPrometheus {
  readonly url: string;
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(dir: string, targets: { edge: string; ca: string }): Promise<RunningPrometheus> {
  const config = readFileSync(CONFIG, 'utf8')
    .replace('scrape_interval: 15s', 'scrape_interval: 1s')
    .replace('evaluation_interval: 15s', 'evaluation_interval: 1s')
    .replace("'127.0.0.1:9464'", `'${targets.edge}'`)
    .replace("'127.0.0.1:8787'", `'${targets.ca}'`);
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, config);
  writeFileSync(join(dir, 'alerts.yml'), readFileSync(ALERTS)); // its rule_files, beside it
  const port = await freePort();
  const child: ChildProcess = spawn('prometheus', [`--config.file=${configPath}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr.slice(-2000)}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not yet */
    }
    if (i > 200) throw new Error(`prometheus not ready: ${stderr.slice(-2000)}`);
    await sleep(100);
  }
  return {
    url,
    async query(expr) {
      const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query failed: ${expr}`);
      return body.data.result;
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
