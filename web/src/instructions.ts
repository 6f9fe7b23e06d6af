// Install steps per web server, for the files the dashboard just downloaded. Pure: the page
// renders them, and the interop tests write the same config files and start the servers.
export interface InstallContext {
  /** The certificate's hostnames; the first names the files. */
  readonly hostnames: readonly string[];
  /** The folder on the server that will hold the files. */
  readonly dir: string;
  /** Base file name: <base>.pem, <base>.key, <base>.der, <base>.p7b. */
  readonly base: string;
  /** The HTTPS port the origin listens on. */
  readonly port: number;
  /** HOST:PORT of the application behind the web server. */
  readonly upstream: string;
  /** The zone to switch to strict afterwards. */
  readonly zone: string;
}

export type Step =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'shell'; readonly code: string }
  | { readonly kind: 'file'; readonly path: string; readonly code: string; readonly id: string };

export interface ServerGuide {
  readonly id: string;
  readonly name: string;
  readonly steps: readonly Step[];
}

export const SERVERS = [
  ['nginx', 'nginx'],
  ['apache', 'Apache httpd'],
  ['haproxy', 'HAProxy'],
  ['caddy', 'Caddy'],
  ['node', 'Node.js https'],
  ['traefik', 'Traefik'],
  ['envoy', 'Envoy'],
  ['go', 'Go net/http'],
  ['iis', 'Microsoft IIS'],
  ['tomcat', 'Apache Tomcat'],
] as const;
export type ServerId = (typeof SERVERS)[number][0];

const text = (value: string): Step => ({ kind: 'text', text: value });
const shell = (code: string): Step => ({ kind: 'shell', code });
const file = (id: string, path: string, code: string): Step => ({ kind: 'file', id, path, code });

function join(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

export function installGuide(server: ServerId, given: InstallContext): ServerGuide {
  const ctx = { ...given, dir: given.dir.replace(/\/+$/, '') || '/' };
  const cert = join(ctx.dir, `${ctx.base}.pem`);
  const key = join(ctx.dir, `${ctx.base}.key`);
  const names = ctx.hostnames.join(' ');
  const [upHost, upPort] = splitHostPort(ctx.upstream);
  const copy = shell(`sudo mkdir -p ${ctx.dir}\nsudo cp ${ctx.base}.pem ${ctx.base}.key ${ctx.dir}/\nsudo chmod 600 ${key}`);
  const strict = text(`Last, switch ${ctx.zone} to "strict" under Zones: the edge will then accept only this certificate's chain to the Origin CA, for these hostnames, while it is valid and not revoked.`);
  const name = SERVERS.find(([id]) => id === server)![1];
  const guide = (steps: Step[]): ServerGuide => ({ id: server, name, steps: [...steps, strict] });
  switch (server) {
    case 'nginx':
      return guide([
        text(`Copy the certificate (PEM) and the private key to the server:`),
        copy,
        text('Add this server block (for example as its own file in /etc/nginx/conf.d/):'),
        file('nginx', `/etc/nginx/conf.d/${ctx.base}.conf`, [
          'server {',
          `    listen ${ctx.port} ssl;`,
          `    server_name ${names};`,
          `    ssl_certificate     ${cert};`,
          `    ssl_certificate_key ${key};`,
          '    location / {',
          `        proxy_pass http://${ctx.upstream};`,
          '        proxy_set_header Host $host;',
          '    }',
          '}',
          '',
        ].join('\n')),
        text('Check the configuration and reload:'),
        shell('sudo nginx -t && sudo systemctl reload nginx'),
      ]);
    case 'apache':
      return guide([
        text('Copy the certificate (PEM) and the private key to the server:'),
        copy,
        text('Enable the TLS and proxy modules:'),
        shell('sudo a2enmod ssl proxy proxy_http'),
        text(ctx.port === 443 ? 'Add this site (Debian\'s ports.conf already listens on 443):' : `Add this site (it listens on ${ctx.port}):`),
        file('apache', `/etc/apache2/sites-available/${ctx.base}.conf`, [
          ...(ctx.port === 443 ? [] : [`Listen ${ctx.port}`]),
          `<VirtualHost *:${ctx.port}>`,
          `    ServerName ${ctx.hostnames[0]}`,
          ...(ctx.hostnames.length > 1 ? [`    ServerAlias ${ctx.hostnames.slice(1).join(' ')}`] : []),
          '    SSLEngine on',
          `    SSLCertificateFile    ${cert}`,
          `    SSLCertificateKeyFile ${key}`,
          '    ProxyPreserveHost On',
          `    ProxyPass        / http://${ctx.upstream}/`,
          `    ProxyPassReverse / http://${ctx.upstream}/`,
          '</VirtualHost>',
          '',
        ].join('\n')),
        text('Enable the site, check and reload:'),
        shell(`sudo a2ensite ${ctx.base} && sudo apachectl configtest && sudo systemctl reload apache2`),
      ]);
    case 'haproxy': {
      const combined = join(ctx.dir, `${ctx.base}.haproxy.pem`);
      return guide([
        text('HAProxy reads the certificate and its key from one file. Make it on the server:'),
        shell(`sudo mkdir -p ${ctx.dir}\ncat ${ctx.base}.pem ${ctx.base}.key | sudo tee ${combined} > /dev/null\nsudo chmod 600 ${combined}`),
        text('Add a frontend and backend to /etc/haproxy/haproxy.cfg:'),
        file('haproxy', '/etc/haproxy/haproxy.cfg', [
          'frontend origin_https',
          '    mode http',
          `    bind :${ctx.port} ssl crt ${combined}`,
          '    default_backend app',
          '',
          'backend app',
          '    mode http',
          `    server app1 ${ctx.upstream}`,
          '',
        ].join('\n')),
        text('Check and reload:'),
        shell('sudo haproxy -c -f /etc/haproxy/haproxy.cfg && sudo systemctl reload haproxy'),
      ]);
    }
    case 'caddy':
      return guide([
        text('Copy the certificate (PEM) and the private key to the server:'),
        copy,
        text('Add a site to the Caddyfile. The tls line makes Caddy use these files instead of getting a public certificate:'),
        file('caddy', '/etc/caddy/Caddyfile', [
          `${ctx.hostnames.map((h) => (ctx.port === 443 ? h : `${h}:${ctx.port}`)).join(', ')} {`,
          `    tls ${cert} ${key}`,
          `    reverse_proxy ${ctx.upstream}`,
          '}',
          '',
        ].join('\n')),
        text('Reload:'),
        shell('sudo systemctl reload caddy'),
      ]);
    case 'node':
      return guide([
        text('Copy the certificate (PEM) and the private key next to your application, readable only by its user:'),
        copy,
        file('node', 'server.mjs', [
          "import { createServer } from 'node:https';",
          "import { readFileSync } from 'node:fs';",
          '',
          'const server = createServer(',
          `  { cert: readFileSync('${cert}'), key: readFileSync('${key}') },`,
          "  (req, res) => res.end('hello from the origin\\n'),",
          ');',
          `server.listen(${ctx.port});`,
          '',
        ].join('\n')),
      ]);
    case 'traefik':
      return guide([
        text('Copy the certificate (PEM) and the private key to the server:'),
        copy,
        text('Add them to Traefik\'s dynamic configuration (file provider) and route the hostnames over TLS:'),
        file('traefik', '/etc/traefik/dynamic/origin-ca.yml', [
          'tls:',
          '  certificates:',
          `    - certFile: ${cert}`,
          `      keyFile: ${key}`,
          'http:',
          '  routers:',
          '    origin:',
          `      rule: "${ctx.hostnames.filter((h) => !h.startsWith('*.')).map((h) => `Host(\`${h}\`)`).concat(ctx.hostnames.filter((h) => h.startsWith('*.')).map((h) => `HostRegexp(\`^[^.]+\\\\.${h.slice(2).replace(/\./g, '\\\\.')}$\`)`)).join(' || ')}"`,
          '      entryPoints: [websecure]',
          '      service: app',
          '      tls: {}',
          '  services:',
          '    app:',
          '      loadBalancer:',
          '        servers:',
          `          - url: "http://${ctx.upstream}"`,
          '',
        ].join('\n')),
        text(`The websecure entry point must listen on :${ctx.port} (entryPoints.websecure.address in the static configuration). Traefik reloads the file by itself.`),
      ]);
    case 'envoy':
      return guide([
        text('Copy the certificate (PEM) and the private key to the server:'),
        copy,
        text('Give the listener a TLS transport socket with the files (inside static_resources.listeners):'),
        file('envoy', 'envoy.yaml (listener excerpt)', [
          '- name: origin_https',
          `  address: { socket_address: { address: 0.0.0.0, port_value: ${ctx.port} } }`,
          '  filter_chains:',
          '  - transport_socket:',
          '      name: envoy.transport_sockets.tls',
          '      typed_config:',
          '        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
          '        common_tls_context:',
          '          tls_certificates:',
          `          - certificate_chain: { filename: ${cert} }`,
          `            private_key: { filename: ${key} }`,
          '    filters:',
          '    - name: envoy.filters.network.http_connection_manager',
          '      typed_config:',
          '        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          '        stat_prefix: origin',
          '        http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]',
          '        route_config:',
          `          virtual_hosts: [{ name: origin, domains: [${ctx.hostnames.map((h) => `"${h}"`).join(', ')}], routes: [{ match: { prefix: "/" }, route: { cluster: app } }] }]`,
          '',
        ].join('\n')),
        text(`Define the cluster "app" pointing at ${upHost}:${upPort}, then restart Envoy.`),
      ]);
    case 'go':
      return guide([
        text('Copy the certificate (PEM) and the private key next to your program:'),
        copy,
        file('go', 'main.go', [
          'package main',
          '',
          'import (',
          '\t"log"',
          '\t"net/http"',
          ')',
          '',
          'func main() {',
          '\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello from the origin\\n")) })',
          `\tlog.Fatal(http.ListenAndServeTLS(":${ctx.port}", "${cert}", "${key}", nil))`,
          '}',
          '',
        ].join('\n')),
      ]);
    case 'iis':
      return guide([
        text('IIS needs the certificate and its key together in a PFX file. The .p7b alone holds no key: IIS\'s "Complete Certificate Request" accepts it only for a CSR that IIS made itself. With the key made here, build the PFX on any machine with OpenSSL (it asks for a password to protect the file):'),
        shell(`openssl pkcs12 -export -in ${ctx.base}.pem -inkey ${ctx.base}.key -out ${ctx.base}.pfx -name "${ctx.hostnames[0]} (Origin CA)"`),
        text('Copy the .pfx to the Windows server and import it into the machine store (PowerShell as Administrator):'),
        shell(`$password = Read-Host -AsSecureString "PFX password"\nImport-PfxCertificate -FilePath .\\${ctx.base}.pfx -CertStoreLocation Cert:\\LocalMachine\\My -Password $password`),
        text(`In IIS Manager: Sites → your site → Bindings… → Add: type https, port ${ctx.port}, host name ${ctx.hostnames[0]}, tick "Require Server Name Indication", pick the imported certificate. Or in PowerShell:`),
        shell(`New-WebBinding -Name "Default Web Site" -Protocol https -Port ${ctx.port} -HostHeader "${ctx.hostnames[0]}" -SslFlags 1\n$cert = Get-ChildItem Cert:\\LocalMachine\\My | Where-Object { $_.Subject -like "*${ctx.hostnames[0]}*" } | Select-Object -First 1\n(Get-WebBinding -Name "Default Web Site" -Protocol https -Port ${ctx.port} -HostHeader "${ctx.hostnames[0]}").AddSslCertificate($cert.Thumbprint, "My")`),
      ]);
    case 'tomcat':
      return guide([
        text('Tomcat reads a PKCS#12 keystore. Build one from the certificate and the key (it asks for a password):'),
        shell(`openssl pkcs12 -export -in ${ctx.base}.pem -inkey ${ctx.base}.key -name tomcat -out ${ctx.base}.p12\nsudo cp ${ctx.base}.p12 ${ctx.dir}/`),
        text('If you need a JKS keystore instead, convert it with keytool. (The .p7b can be imported with keytool -importcert only into the keystore that made the CSR; with the key made here, use the PKCS#12 file.)'),
        shell(`keytool -importkeystore -srckeystore ${ctx.base}.p12 -srcstoretype PKCS12 -destkeystore ${ctx.base}.jks -deststoretype JKS`),
        text('Add a connector to conf/server.xml, then restart Tomcat:'),
        file('tomcat', 'conf/server.xml (inside <Service>)', [
          `<Connector port="${ctx.port}" protocol="org.apache.coyote.http11.Http11NioProtocol"`,
          '           SSLEnabled="true" scheme="https" secure="true">',
          '  <SSLHostConfig>',
          `    <Certificate certificateKeystoreFile="${join(ctx.dir, `${ctx.base}.p12`)}"`,
          '                 certificateKeystoreType="PKCS12"',
          '                 certificateKeystorePassword="the password you chose" />',
          '  </SSLHostConfig>',
          '</Connector>',
          '',
        ].join('\n')),
      ]);
  }
}

function splitHostPort(value: string): [string, string] {
  const at = value.lastIndexOf(':');
  return at < 0 ? [value, '80'] : [value.slice(0, at), value.slice(at + 1)];
}
