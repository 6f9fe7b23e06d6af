// Apache httpd, HAProxy and Caddy from Debian, run in a temp folder on a given port with a
// config the test supplies (the dashboard's install guide), wrapped only in what the
// distribution's own default config would provide.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForPort } from './nginx.js';

export interface RunningServer {
  stop(): Promise<void>;
}

function run(command: string, args: string[], port: number, env: Record<string, string> = {}): Promise<RunningServer> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return waitForPort(port, child, () => output).then(
    () => ({ stop }),
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
}

const APACHE_MODULES = '/usr/lib/apache2/modules';

/** `a2enmod ssl proxy proxy_http` is the LoadModule lines; `siteConfig` is the page's site file. */
export function startApache(dir: string, port: number, siteConfig: string): Promise<RunningServer> {
  if (!existsSync('/usr/sbin/apache2')) throw new Error('apache2 is not installed (scripts/test-deps.sh installs it)');
  mkdirSync(join(dir, 'run'), { recursive: true });
  const modules = ['mpm_event', 'authz_core', 'socache_shmcb', 'ssl', 'proxy', 'proxy_http'];
  const conf = join(dir, 'apache2.conf');
  writeFileSync(
    conf,
    [
      `ServerRoot ${dir}`,
      'ServerName localhost',
      `PidFile ${join(dir, 'run', 'apache2.pid')}`,
      `DefaultRuntimeDir ${join(dir, 'run')}`,
      `Mutex file:${join(dir, 'run')} default`,
      `ErrorLog ${join(dir, 'error.log')}`,
      'LogLevel warn',
      'User nobody',
      'Group nogroup',
      ...modules.map((name) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${name}.so`),
      siteConfig,
    ].join('\n'),
  );
  return run('/usr/sbin/apache2', ['-f', conf, '-DFOREGROUND'], port);
}

/** Debian's haproxy.cfg has global and defaults sections; the page adds frontend and backend. */
export function startHaproxy(dir: string, port: number, pageConfig: string): Promise<RunningServer> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(conf, ['global', '    log stderr format short local0 warning', '', 'defaults', '    mode http', '    timeout connect 5s', '    timeout client 30s', '    timeout server 30s', '', pageConfig].join('\n'));
  return run('/usr/sbin/haproxy', ['-db', '-f', conf], port);
}

/** The global block keeps Caddy off :80, :443 and :2019 and its state in `dir`. */
export function startCaddy(dir: string, port: number, pageCaddyfile: string): Promise<RunningServer> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'Caddyfile');
  writeFileSync(conf, ['{', '    admin off', '    auto_https disable_redirects', `    storage file_system ${join(dir, 'caddy-data')}`, '}', '', pageCaddyfile].join('\n'));
  return run('/usr/bin/caddy', ['run', '--config', conf, '--adapter', 'caddyfile'], port, { HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') });
}
