// A real nginx on loopback, serving a given certificate and key, started and stopped per test.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { reservePort } from './ports.js';

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

/** A port for a server started with it on its command line or in its config (see ports.ts). */
export const freePort = reservePort;

export async function waitForPort(port: number, child: ChildProcess, errors: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${errors()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listened on ${port}: ${errors()}`);
}

export interface RunningNginx {
  readonly port: number;
  stop(): Promise<void>;
}

/** Runs nginx in `dir` with one server block, given the port it listens on. */
async function runNginx(dir: string, serverBlock: (port: number) => string): Promise<RunningNginx> {
  const port = await freePort();
  return runNginxHttp(dir, port, `  server {\n${serverBlock(port)}\n  }`);
}

/** Runs nginx in `dir` with `httpBody` inside its http block; resolves once `port` accepts. */
export async function runNginxHttp(dir: string, port: number, httpBody: string): Promise<RunningNginx> {
  if (!NGINX) throw new Error('nginx is not installed (scripts/test-deps.sh installs it)');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  chmodSync(dir, 0o755);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
error_log ${join(dir, 'logs', 'error.log')} warn;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
${httpBody}
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  await waitForPort(port, child, () => stderr);
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
      }),
  };
}

/** Starts nginx in `dir` serving HTTPS with the given files; a 200 "ok" for every path. */
export function startNginx(dir: string, certPath: string, keyPath: string): Promise<RunningNginx> {
  return runNginx(
    dir,
    (port) => `    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certPath};
    ssl_certificate_key ${keyPath};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\\n"; }`,
  );
}

export interface NginxProxyOptions {
  /** HOST:PORT of an HTTPS origin. */
  readonly upstream: string;
  /** Sent as SNI and checked against the origin certificate. */
  readonly serverName: string;
  readonly trustedCa: string;
  readonly crl?: string;
}

/** nginx as a plain-HTTP reverse proxy to an HTTPS origin, verifying it (and checking a CRL). */
export function startNginxProxy(dir: string, options: NginxProxyOptions): Promise<RunningNginx> {
  return runNginx(
    dir,
    (port) => `    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://${options.upstream};
      proxy_ssl_server_name on;
      proxy_ssl_name ${options.serverName};
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate ${options.trustedCa};
${options.crl ? `      proxy_ssl_crl ${options.crl};` : ''}
    }`,
  );
}
