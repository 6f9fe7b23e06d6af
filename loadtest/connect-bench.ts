// npm run bench:connect — the edge's origin connector (TCP, then TLS with strict verification:
// chain, name, index probe) against a bare tls.connect to the same origin, same SecureContext,
// 20 concurrent connect loops, 3 interleaved rounds of 5 s, medians; each also with TLS session
// resumption, and a bare TLS 1.2 resumption for comparison (nginx's default to upstreams), and
// full mode's connector against tls.connect building a SecureContext per connection. The
// origin (a TLS server that sends one byte and closes) runs in its own process. Shows what our
// connector adds per handshake, in handshakes/s and in this process's CPU per handshake.
import { fork } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, createSecureContext, createServer, type SecureVersion, type TLSSocket } from 'node:tls';
import { openCa } from '../src/app.js';
import { systemClock } from '../src/clock.js';
import { connectOrigin, type TlsPolicy } from '../src/edge/origin-connector.js';
import { createKeyAndCsr } from '../src/pki/csr-build.js';
import { createRevocationIndex } from '../src/revocation/revocation-index.js';
import { createOriginSessions } from '../src/edge/origin-sessions.js';
import { createBenchWorkspace, median, runBenchmark } from './processes.js';

if (process.argv[2] === 'origin') {
  const { readFileSync } = await import('node:fs');
  const server = createServer({ cert: readFileSync(process.argv[3]!), key: readFileSync(process.argv[4]!) }, (socket) => socket.end('x'));
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const workspace = createBenchWorkspace('strictedge-connect-bench-');
  runBenchmark(async () => {
    const app = await openCa({ dir: join(workspace.dir, 'state'), clock: systemClock });
    const { account } = app.admin.createAccount('bench');
    app.admin.addZone({ name: 'connect.test', account: 'bench' });
    const { keyPem, csrPem } = await createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, ['connect.test']);
    const record = await app.ca.issue(account, { csr: csrPem, hostnames: ['connect.test'], requestType: 'origin-ecc', requestedValidity: 7 });
    const [certFile, keyFile] = [join(workspace.dir, 'origin.pem'), join(workspace.dir, 'origin.key')];
    writeFileSync(certFile, record.pem);
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
    const index = createRevocationIndex();
    index.apply({ kind: 'issued', serial: record.serial, sha256: new X509Certificate(record.pem).fingerprint256.replaceAll(':', '').toLowerCase() });
    const roots = [app.roots.ecdsa.certPem];
    const secureContext = createSecureContext({ ca: roots });
    const policy: TlsPolicy = { kind: 'strict', secureContext, originRoots: roots.map((pem) => new X509Certificate(pem)), index };
    const anyPolicy: TlsPolicy = { kind: 'any', secureContext: createSecureContext() };
    await app.close();
    const origin = workspace.track(fork(new URL(import.meta.url).pathname, ['origin', certFile, keyFile]));
    const port = await new Promise<number>((resolve) => origin.once('message', (m) => resolve(m as number)));

    const sessions = createOriginSessions();
    const bareSessions: Partial<Record<SecureVersion, Buffer>> = {};
    const bare = (resume: boolean, maxVersion: SecureVersion = 'TLSv1.3') =>
      new Promise<TLSSocket>((resolve, reject) => {
        const session = resume ? bareSessions[maxVersion] : undefined;
        const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'connect.test', secureContext, maxVersion, ALPNProtocols: ['http/1.1'], ...(session ? { session } : {}) }, () => resolve(socket));
        if (resume) socket.on('session', (session: Buffer) => (bareSessions[maxVersion] = session));
        socket.on('error', reject);
      });
    const variants = {
      'edge connector (strict)': () => connectOrigin({ address: { host: '127.0.0.1', port }, servername: 'connect.test', policy, connectTimeoutMs: 5000 }),
      'bare tls.connect (chain only)': () => bare(false),
      'edge connector (strict), session resumption': () => connectOrigin({ address: { host: '127.0.0.1', port }, servername: 'connect.test', policy, connectTimeoutMs: 5000, sessions }),
      'bare tls.connect, session resumption': () => bare(true),
      // What nginx does by default (TLS 1.2 to upstreams): resumption with no key exchange at all.
      'bare tls.connect, TLS 1.2 session resumption': () => bare(true, 'TLSv1.2'),
      // full mode: any certificate, over one SecureContext; and what tls.connect does when given none.
      'edge connector (full)': () => connectOrigin({ address: { host: '127.0.0.1', port }, servername: 'connect.test', policy: anyPolicy, connectTimeoutMs: 5000 }),
      'bare tls.connect, any certificate, no SecureContext given (Node builds one per connection)': () =>
        new Promise<TLSSocket>((resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'connect.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(socket));
          socket.on('error', reject);
        }),
    };
    const rates = new Map<string, number[]>(Object.keys(variants).map((name) => [name, []]));
    const cpuPerHandshake = new Map<string, number[]>(Object.keys(variants).map((name) => [name, []]));
    for (let round = 1; round <= 3; round++) {
      for (const [name, connect] of Object.entries(variants)) {
        let count = 0;
        let resumed = 0;
        const cpuBefore = process.cpuUsage();
        const end = Date.now() + 5000;
        await Promise.all(Array.from({ length: 20 }, async () => {
          while (Date.now() < end) {
            const socket = (await connect()) as TLSSocket;
            if (socket.isSessionReused()) resumed++;
            // The origin's one byte comes after its TLS 1.3 session tickets: by then there is a session to resume.
            await new Promise((resolve) => socket.once('data', resolve));
            socket.destroy();
            count++;
          }
        }));
        const cpu = process.cpuUsage(cpuBefore);
        rates.get(name)!.push(count / 5);
        cpuPerHandshake.get(name)!.push((cpu.user + cpu.system) / count);
        process.stderr.write(`round ${round}: ${name} ${Math.round(count / 5)}/s, ${((resumed / count) * 100).toFixed(0)} % resumed\n`);
      }
    }
    const bareRate = median(rates.get('bare tls.connect (chain only)')!);
    const bareCpu = median(cpuPerHandshake.get('bare tls.connect (chain only)')!);
    console.log('\n| connect | handshakes/s (median of 3) | × bare | client CPU µs per handshake | × bare |');
    console.log('|---|--:|--:|--:|--:|');
    for (const [name, list] of rates) {
      const cpu = median(cpuPerHandshake.get(name)!);
      console.log(`| ${name} | ${Math.round(median(list))} | ${(median(list) / bareRate).toFixed(2)} | ${Math.round(cpu)} | ${(cpu / bareCpu).toFixed(2)} |`);
    }
  }, workspace);
}
