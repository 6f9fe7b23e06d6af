// Stopping `serve` as a rolling restart does: on SIGTERM it stops accepting at once, lets answers
// in flight finish for up to --shutdown-grace, closes idle kept-alive connections without waiting
// for them, answers separate edges' long polls at once, and then exits 0.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createServer } from 'node:net';
import { CLI, cli, startCommand, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const PORTS = ['--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0'];

type Outcome = { status: number } | { error: string };

/** Long enough for a request to be in the server's hands before the signal, on a busy machine too. */
const IN_FLIGHT_MS = 500;

/** A plain-HTTP request through the edge for `host`; resolves with the status, or the socket error. */
function get(served: Served, host: string, agent: Agent | false = false): Promise<Outcome> {
  return new Promise((resolve) => {
    httpRequest({ host: '127.0.0.1', port: Number(new URL(served.ready.http).port), headers: { host }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode! }));
    })
      .on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
      .end();
  });
}

/**
 * New requests until one is refused (the signal takes effect at once, but is handled
 * asynchronously). One that reached the kernel's accept queue just before the listener closed
 * is reset, not refused, so it is tried again.
 */
async function refusedSoon(served: Served): Promise<Outcome> {
  let outcome: Outcome = { error: 'none tried' };
  for (let i = 0; i < 50; i++) {
    outcome = await get(served, 'flexible.test');
    if ('error' in outcome && outcome.error !== 'ECONNRESET') return outcome;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return outcome;
}

function exited(child: ChildProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve({ code: child.exitCode, at: performance.now() });
    child.once('exit', (code) => resolve({ code, at: performance.now() }));
  });
}

describe('shutting down', () => {
  const dir = tempDir('strictedge-shutdown-');
  const running: Served[] = [];
  after(async () => {
    for (const served of running) served.process.kill('SIGKILL');
  });
  // One state folder, used by one process at a time: only the first start makes roots and demo certificates.
  const state = join(dir, 'state');
  const start = async (extra: string[]) => {
    const served = await startServe(['--state', state, '--demo', ...PORTS, ...extra]);
    running.push(served);
    return served;
  };

  it('lets an answer in flight finish after SIGTERM, refuses new connections, closes its connection once idle, then exits 0', async () => {
    const served = await start(['--shutdown-grace', '30']); // slow.test's 524 comes after 3 s
    const agent = new Agent({ keepAlive: true }); // the answered connection would stay open, idle
    try {
      const inFlight = get(served, 'slow.test', agent);
      await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
      const exit = exited(served.process);
      served.process.kill('SIGTERM');
      assert.deepEqual(await refusedSoon(served), { error: 'ECONNREFUSED' });
      assert.deepEqual(await inFlight, { status: 524 });
      const answeredAt = performance.now();
      const { code, at } = await exit;
      assert.equal(code, 0);
      assert.ok(at - answeredAt < 10_000, `exited ${(at - answeredAt).toFixed(0)} ms after the last answer, with 30 s of grace`);
    } finally {
      agent.destroy();
    }
  });

  it('cuts an answer still running when --shutdown-grace ends, then exits 0', async () => {
    const served = await start(['--shutdown-grace', '0.5']);
    const inFlight = get(served, 'slow.test');
    await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
    const exit = exited(served.process);
    served.process.kill('SIGTERM');
    assert.deepEqual(await inFlight, { error: 'ECONNRESET' }); // not the 524 it would have got at 3 s
    assert.equal((await exit).code, 0);
  });

  it('does not wait for idle kept-alive connections or long-polling edges', async () => {
    const served = await start(['--shutdown-grace', '60']);
    const token = cli(['edges', 'create', 'edge-1', '--state', state]).stdout.trim();
    const agent = new Agent({ keepAlive: true });
    try {
      assert.deepEqual(await get(served, 'flexible.test', agent), { status: 200 }); // its connection stays open, idle
      // A separate edge's long poll for events after the last one: it would wait 60 s.
      const poll = fetch(`${served.ready.api}/edge/events?since=1000000&wait=60`, { headers: { authorization: `Bearer ${token}` } });
      await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
      const signalled = performance.now();
      const exit = exited(served.process);
      served.process.kill('SIGTERM');
      const answer = await poll;
      assert.equal(answer.status, 200);
      assert.deepEqual(((await answer.json()) as { result: unknown[] }).result, []);
      const waited = (await exit).at - signalled;
      assert.ok(waited < 20_000, `exited ${waited.toFixed(0)} ms after SIGTERM, with 60 s of grace`);
    } finally {
      agent.destroy();
    }
  });

  it('with --workers 2, the workers let answers in flight finish too', async () => {
    const served = await start(['--workers', '2']);
    const inFlight = [get(served, 'slow.test'), get(served, 'slow.test')];
    await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
    const exit = exited(served.process);
    served.process.kill('SIGTERM');
    assert.deepEqual(await Promise.all(inFlight), [{ status: 524 }, { status: 524 }]);
    assert.equal((await exit).code, 0);
  });

  it('with --workers 2, SIGTERM to every process (as systemd sends it to the whole group) still lets answers in flight finish', async () => {
    const served = await start(['--workers', '2']);
    const inFlight = [get(served, 'slow.test'), get(served, 'slow.test')];
    await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
    const exit = exited(served.process);
    const workers = execFileSync('pgrep', ['-P', String(served.process.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    assert.equal(workers.length, 2);
    // The workers' own SIGTERM first, then the primary's, which passes one on to each worker: a
    // second SIGTERM that arrives after the first was handled (at once they would merge into one).
    for (const pid of workers) process.kill(pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    served.process.kill('SIGTERM');
    assert.deepEqual(await Promise.all(inFlight), [{ status: 524 }, { status: 524 }]);
    assert.equal((await exit).code, 0);
  });

  it('SIGHUP, as a closed terminal sends it to every process, stops it as gracefully, then ends it by SIGHUP (Node would end it at once)', async () => {
    for (const extra of [[], ['--workers', '2']]) {
      const served = await start(extra);
      const inFlight = get(served, 'slow.test');
      await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
      const ended = new Promise<NodeJS.Signals | null>((resolve) => served.process.once('exit', (_code, signal) => resolve(signal)));
      const workers = extra.length ? execFileSync('pgrep', ['-P', String(served.process.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number) : [];
      for (const pid of [...workers, served.process.pid!]) process.kill(pid, 'SIGHUP');
      assert.deepEqual(await inFlight, { status: 524 }, extra.join(' '));
      assert.equal(await ended, 'SIGHUP', extra.join(' '));
      assert.match(served.stderr(), /"signal":"SIGHUP".*"msg":"shutting down"/);
    }
  });

  it('a terminal that hangs up (an ssh session that dropped it) stops it as gracefully, workers too', async (t) => {
    const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
    for (const extra of [[], ['--workers', '2']]) {
      // script(1) runs serve on a pseudo-terminal, its session leader; killing script closes the
      // terminal: the kernel sends SIGHUP, and every write to the terminal fails with EIO from then on.
      const command = ['exec', ...[process.execPath, CLI, 'serve', '--state', state, '--demo', ...PORTS, ...extra].map(quote)].join(' ');
      const terminal = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
      t.after(() => void terminal.kill('SIGKILL')); // should the test fail before it does so
      let output = '';
      const readyLine = await new Promise<string>((resolve, reject) => {
        terminal.stdout!.on('data', (chunk) => {
          output += chunk;
          const line = output.split(/\r?\n/).slice(0, -1).find((l) => l.startsWith('{"event":"ready"')); // whole lines only
          if (line) resolve(line);
        });
        terminal.once('exit', (code) => reject(new Error(`script exited with ${code}: ${output}`)));
      });
      const served = { ready: JSON.parse(readyLine) } as Served;
      const serve = Number(execFileSync('pgrep', ['-P', String(terminal.pid)], { encoding: 'utf8' }).trim());
      const processes = [serve, ...(extra.length ? execFileSync('pgrep', ['-P', String(serve)], { encoding: 'utf8' }).trim().split('\n').map(Number) : [])];
      const inFlight = get(served, 'slow.test');
      await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
      terminal.kill('SIGKILL');
      // Before, serve ended at its first log line after the hang-up (pino threw EIO), and Node 20
      // aborted on its way out restoring the terminal: the answer was cut.
      assert.deepEqual(await inFlight, { status: 524 }, extra.join(' '));
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && processes.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(processes.filter(alive), [], `still running after the hang-up: ${extra.join(' ')}`);
    }
  });

  it('a separate `strictedge edge` lets an answer in flight finish after SIGTERM too', async () => {
    const caState = join(dir, 'ca');
    const silent = createServer(() => undefined); // accepts and never answers: the edge's 524 comes at --origin-timeout
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      cli(['accounts', 'create', 'site', '--state', caState]);
      cli(['zones', 'add', 'quiet.test', '--account', 'site', '--mode', 'flexible', '--origin-http', `127.0.0.1:${(silent.address() as { port: number }).port}`, '--state', caState]);
      const token = cli(['edges', 'create', 'edge-1', '--state', caState]).stdout.trim();
      const ca = await startServe(['--state', caState, ...PORTS]);
      running.push(ca);
      const edge = await startCommand(['edge', '--ca-url', ca.ready.api, '--state', join(dir, 'edge'), '--http-port', '0', '--https-port', '0', '--metrics-port', '0', '--origin-timeout', '2'], { STRICTEDGE_EDGE_TOKEN: token });
      running.push(edge);
      let first: Outcome = { error: 'none tried' };
      for (let i = 0; i < 50 && !('status' in first && first.status === 524); i++) first = await get(edge, 'quiet.test'); // once the zone has arrived
      assert.deepEqual(first, { status: 524 });
      const inFlight = get(edge, 'quiet.test');
      await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_MS));
      const exit = exited(edge.process);
      edge.process.kill('SIGTERM');
      assert.deepEqual(await inFlight, { status: 524 });
      assert.equal((await exit).code, 0);
    } finally {
      silent.close();
    }
  });

  it('refuses a bad grace in one line before starting anything', () => {
    const serve = ['serve', '--state', join(dir, 'refused'), ...PORTS];
    const edge = ['edge', '--ca-url', 'http://127.0.0.1:9/client/v4', '--edge-token', `edge-v1-${'a'.repeat(24)}-${'b'.repeat(64)}`, '--state', join(dir, 'refused-edge')];
    for (const args of [[...serve, '--shutdown-grace=-1'], [...serve, '--shutdown-grace', 'soon'], [...edge, '--shutdown-grace', '']]) {
      const result = cli(args);
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr.trim(), 'strictedge: --shutdown-grace must be a number of seconds up to 6000, e.g. 15 or 0.5, or 0');
    }
    writeFileSync(join(dir, 'bad-grace.yaml'), 'shutdown_grace_s: -3\n');
    const config = cli([...serve, '--config', join(dir, 'bad-grace.yaml')]);
    assert.notEqual(config.status, 0);
    assert.match(config.stderr, /^strictedge: config .*bad-grace\.yaml: shutdown_grace_s: Too small/);
  });
});
