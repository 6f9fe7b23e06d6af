// npm run bench:bursts — what bursts of many client connections at once leave in the edge's RSS.
// Each round opens N connections to the HTTPS port at once and closes them: once before any
// ClientHello (a scanner, or clients that give up), once after a whole handshake. The RSS after
// each round is shown for `serve`, for `serve` on jemalloc (Debian's libjemalloc2, when
// installed), and for a bare Node TLS server with the same V8 flags: the baseline, which shows
// what Node and glibc do without any of the edge's code. Rounds are interleaved across the three.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer } from 'node:tls';
import { parseArgs } from 'node:util';
import { SERVER_NODE_FLAGS } from '../src/node-flags.js';
import { CLI } from '../test/helpers/serve.js';
import { edgeStarters, rssMb } from './edge-processes.js';
import { createBenchWorkspace, runBenchmark } from './processes.js';

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const ZONE = 'burst.test';

type Burst = 'aborted' | 'handshake';

/** Opens `count` connections at once, waits until every one is connected (and, for 'handshake', through TLS), then closes them all. */
async function burst(port: number, count: number, kind: Burst): Promise<{ failed: number }> {
  let failed = 0;
  const sockets: Socket[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    opened.push(
      new Promise<void>((resolve) => {
        const socket =
          kind === 'aborted'
            ? netConnect(port, '127.0.0.1', resolve)
            : tlsConnect({ port, host: '127.0.0.1', servername: ZONE, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, resolve);
        socket.on('error', () => {
          failed++;
          resolve();
        });
        sockets.push(socket);
      }),
    );
    // The kernel's accept queue holds 511: let the server take them as they come.
    if (i % 250 === 249) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await Promise.all(opened);
  for (const socket of sockets) socket.destroy();
  return { failed };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));

if (process.argv[2] === 'bare-server') {
  const server = createServer({ cert: readFileSync(process.argv[3]!), key: readFileSync(process.argv[4]!) }, (socket) => socket.end());
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  /** A bad argument: said in one line, before anything is started. */
  const usageError = (message: string): never => {
    process.stderr.write(`bench:bursts: ${message}\n`);
    process.exit(2);
  };
  const values = (() => {
    try {
      return parseArgs({ options: { rounds: { type: 'string', default: '6' }, connections: { type: 'string', default: '5000' } } }).values;
    } catch (error) {
      return usageError((error as Error).message);
    }
  })();
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  // This process holds every connection of a burst open at once: it needs a descriptor for each.
  if (!(Number.isInteger(rounds) && rounds > 0)) usageError('--rounds takes a whole number above 0');
  if (!(Number.isInteger(connections) && connections > 0 && connections <= 15_000)) usageError('--connections takes a whole number from 1 to 15000');
  const workspace = createBenchWorkspace('strictedge-bursts-');
  runBenchmark(async () => {
    const { startEdge } = edgeStarters(workspace.track, '/');
    const targets: { name: string; pid: number; port: number }[] = [];
    const edges: [string, Record<string, string>][] = [['serve', {}], ...(existsSync(JEMALLOC) ? [['serve on jemalloc', { LD_PRELOAD: JEMALLOC }] as [string, Record<string, string>]] : [])];
    for (const [name, env] of edges) {
      const state = join(workspace.dir, name.replaceAll(' ', '-'));
      for (const args of [['accounts', 'create', 'bench'], ['zones', 'add', ZONE, '--account', 'bench', '--origin-https', '127.0.0.1:9', '--mode', 'strict']]) {
        const made = spawnSync(process.execPath, [CLI, ...args, '--state', state], { encoding: 'utf8' });
        if (made.status !== 0) throw new Error(`strictedge ${args.join(' ')}: ${made.stderr}`);
      }
      const edge = await startEdge(state, [], [], env);
      targets.push({ name, pid: edge.child.pid!, port: edge.httpsPort });
    }
    // The baseline serves the first edge's own CA certificate: any certificate does here.
    const firstState = join(workspace.dir, 'serve');
    const bare = workspace.track(fork(new URL(import.meta.url).pathname, ['bare-server', join(firstState, 'certs', 'edge-ca.pem'), join(firstState, 'certs', 'private', 'edge-ca.key')], { execArgv: [...SERVER_NODE_FLAGS] }));
    const barePort = await new Promise<number>((resolve) => bare.once('message', (port) => resolve(port as number)));
    targets.push({ name: 'bare Node TLS server (baseline)', pid: bare.pid!, port: barePort });
    if (!existsSync(JEMALLOC)) console.log(`(no ${JEMALLOC}: apt-get install libjemalloc2 adds serve on jemalloc)`);

    await settle();
    const rss: number[][] = [targets.map((target) => rssMb(target.pid))];
    console.log(`${connections} connections at once per burst; RSS in MB after each round (a burst closed before any ClientHello, then one after whole handshakes):\n`);
    console.log(`| after | ${targets.map((target) => target.name).join(' | ')} |`);
    console.log(`|---|${targets.map(() => '--:').join('|')}|`);
    console.log(`| start | ${rss[0]!.map((mb) => mb.toFixed(0)).join(' | ')} |`);
    for (let round = 1; round <= rounds; round++) {
      const row: number[] = [];
      for (const target of targets) {
        for (const kind of ['aborted', 'handshake'] as const) {
          const { failed } = await burst(target.port, connections, kind);
          if (failed) console.log(`  (${target.name}: ${failed} of ${connections} ${kind} connections failed)`);
        }
        await settle();
        row.push(rssMb(target.pid));
      }
      rss.push(row);
      console.log(`| round ${round} | ${row.map((mb) => mb.toFixed(0)).join(' | ')} |`);
    }
    const last = rss.at(-1)!;
    console.log(`\nafter ${rounds} rounds, × the baseline's RSS: ${targets.map((target, i) => `${target.name} ${(last[i]! / last.at(-1)!).toFixed(2)}`).join(', ')}`);
  }, workspace);
}
