// The proxies people would otherwise put in front of an origin, configured by the harness for
// the same strict job as the edge: terminate client TLS, reach the origin over TLS verified
// against the Origin CA root with the Host as the name (SNI and check), upstream keep-alive
// on, or off with a new verified handshake per request (session reuse off, or nginx's default on).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NGINX } from '../test/helpers/nginx.js';
import type { OriginPorts } from './fixtures.js';

export type AnchorJob = 'keepalive' | 'new' | 'new-reuse';
/**
 * nginx 1.22 offers its upstreams TLS 1.0-1.2 unless told otherwise (TLS 1.3 joined the default
 * in 1.23.4), so it also runs the handshake jobs with TLS 1.3 allowed, like the edge's.
 */
export type NginxJob = AnchorJob | 'new-tls13' | 'new-reuse-tls13';

export interface AnchorFiles {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly root: string;
  readonly origin: OriginPorts;
  /** The Host each job's requests carry: the origin certificate names it. */
  readonly hosts: Record<AnchorJob, string>;
}

/** The version a server reports about itself, for the report. */
export function versionOf(command: string, args: string[], pattern: RegExp): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${result.stdout}${result.stderr}`)?.[1] ?? 'unknown';
}

export const INSTALLED = {
  nginx: NGINX !== undefined,
  haproxy: existsSync('/usr/sbin/haproxy'),
  caddy: existsSync('/usr/bin/caddy'),
};

export function nginxConfig(files: AnchorFiles, ports: Record<NginxJob, number>): string {
  const verify = (host: string) => `      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate ${files.root};
      proxy_ssl_server_name on;
      proxy_ssl_name ${host};
      proxy_set_header Host $host;`;
  const server = (port: number, upstream: string, extra: string, host: string) => `  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${files.cert};
    ssl_certificate_key ${files.key};
    location / {
      proxy_pass https://${upstream};
${verify(host)}
${extra}
    }
  }`;
  return `worker_processes 1;
error_log ${join(files.dir, 'nginx-error.log')} error;
pid ${join(files.dir, 'nginx.pid')};
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(files.dir, 'nginx-body')};
  proxy_temp_path ${join(files.dir, 'nginx-proxy')};
  fastcgi_temp_path ${join(files.dir, 'nginx-fastcgi')};
  uwsgi_temp_path ${join(files.dir, 'nginx-uwsgi')};
  scgi_temp_path ${join(files.dir, 'nginx-scgi')};
  upstream origin_keepalive { server 127.0.0.1:${files.origin.https}; keepalive 64; }
  upstream origin_close { server 127.0.0.1:${files.origin.close}; }
${server(ports.keepalive, 'origin_keepalive', '      proxy_http_version 1.1;\n      proxy_set_header Connection "";', files.hosts.keepalive)}
${server(ports.new, 'origin_close', '      proxy_ssl_session_reuse off;', files.hosts.new)}
${server(ports['new-reuse'], 'origin_close', '      proxy_ssl_session_reuse on;', files.hosts['new-reuse'])}
${server(ports['new-tls13'], 'origin_close', '      proxy_ssl_session_reuse off;\n      proxy_ssl_protocols TLSv1.2 TLSv1.3;', files.hosts.new)}
${server(ports['new-reuse-tls13'], 'origin_close', '      proxy_ssl_session_reuse on;\n      proxy_ssl_protocols TLSv1.2 TLSv1.3;', files.hosts['new-reuse'])}
}
`;
}

export function haproxyConfig(files: AnchorFiles, ports: Record<'keepalive' | 'new', number>, combinedPem: string): string {
  const frontend = (job: 'keepalive' | 'new', port: number) => `frontend fe_${job}
    bind 127.0.0.1:${port} ssl crt ${combinedPem}
    default_backend be_${job}
`;
  const server = (port: number, host: string, extra: string) => `    server origin 127.0.0.1:${port} ssl verify required ca-file ${files.root} sni str(${host}) verifyhost ${host} ${extra}`;
  return `global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
${frontend('keepalive', ports.keepalive)}
backend be_keepalive
    http-reuse always
${server(files.origin.https, files.hosts.keepalive, '')}

${frontend('new', ports.new)}
backend be_new
    http-reuse never
    option httpclose
${server(files.origin.close, files.hosts.new, 'no-ssl-reuse')}
`;
}

/** Tab-indented, as `caddy fmt` writes it (Caddy warns about anything else). */
export function caddyConfig(files: AnchorFiles, ports: Record<'keepalive' | 'new', number>): string {
  const site = (port: number, upstreamPort: number, host: string, keepalive: boolean) => `https://:${port} {
	tls ${files.cert} ${files.key}
	reverse_proxy https://127.0.0.1:${upstreamPort} {
		header_up Host {host}
		transport http {
			tls_trusted_ca_certs ${files.root}
			tls_server_name ${host}${keepalive ? '' : '\n\t\t\tkeepalive off'}
		}
	}
}`;
  return `{
	admin off
	auto_https off
	storage file_system ${join(files.dir, 'caddy-data')}
	log {
		level ERROR
	}
}
${site(ports.keepalive, files.origin.https, files.hosts.keepalive, true)}
${site(ports.new, files.origin.close, files.hosts.new, false)}
`;
}

export function writeCombinedPem(files: AnchorFiles): string {
  const combined = join(files.dir, 'haproxy.pem');
  writeFileSync(combined, readFileSync(files.cert, 'utf8') + readFileSync(files.key, 'utf8'), { mode: 0o600 });
  return combined;
}

export function startAnchorProcess(name: 'nginx' | 'haproxy' | 'caddy', files: AnchorFiles, config: string): ChildProcess {
  mkdirSync(files.dir, { recursive: true });
  const conf = join(files.dir, `${name}.conf`);
  writeFileSync(conf, config);
  switch (name) {
    case 'nginx':
      return spawn(NGINX!, ['-p', files.dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
    case 'haproxy':
      return spawn('/usr/sbin/haproxy', ['-db', '-f', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
    case 'caddy':
      return spawn('/usr/bin/caddy', ['run', '--config', conf, '--adapter', 'caddyfile'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOME: files.dir, XDG_DATA_HOME: join(files.dir, 'xdg-data'), XDG_CONFIG_HOME: join(files.dir, 'xdg-config') } });
  }
}

