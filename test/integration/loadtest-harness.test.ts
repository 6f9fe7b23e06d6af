// `npm run loadtest` as a user runs it, cut short: --only one edge scenario and its A/B twin, one
// round of one second. It must write a valid report of what it ran, and Ctrl-C must leave no process and no
// temporary folder behind. The harness makes its work folder under TMPDIR, so every process it
// starts carries that path in its command line (states, certificates, configs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const LOADTEST = fileURLToPath(new URL('../../loadtest/loadtest.js', import.meta.url));
/** The checkout this suite runs from (dist/ is under it). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

/** Processes whose command line mentions `path`: "pid: command line". */
function processesUnder(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(path)) found.push(`${pid}: ${cmdline.slice(0, 160)}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function startLoadtest(args: string[]) {
  const dir = tempDir('strictedge-harness-');
  const work = join(dir, 'tmp');
  mkdirSync(work);
  const child = spawn(process.execPath, [LOADTEST, '--no-anchors', '--rounds', '1', '--out', join(dir, 'results'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: work },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Whatever a failing run left behind must not outlive the test (it would hold its pipes open).
  after(() => {
    child.kill('SIGKILL');
    for (const line of processesUnder(work)) {
      try {
        process.kill(Number(line.split(':')[0]), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });
  return { child, dir, work, exited, stderr: () => stderr };
}

describe('the load-test harness', () => {
  it('runs only the named scenarios (and the ceilings), an A/B edge with what B differs by, and writes a valid report', async () => {
    // B's Node is a wrapper that leaves a mark, so the test sees B was started through it.
    const bNode = join(tempDir('strictedge-b-node-'), 'node');
    writeFileSync(bNode, `#!/bin/sh\ntouch "$0.started"\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    const run = startLoadtest(['--duration', '1', '--only', 'strict-keepalive,strict-keepalive-b', '--b-env', 'STRICTEDGE_AB_MARK=1', '--b-node', bNode, '--b-root', ROOT]);
    assert.equal(await run.exited, 0, run.stderr());
    const [json] = readdirSync(join(run.dir, 'results')).filter((name) => name.endsWith('.json'));
    const report = JSON.parse(readFileSync(join(run.dir, 'results', json!), 'utf8'));
    assert.equal(report.valid, true, report.invalidBecause?.join('; '));
    assert.deepEqual(report.scenarios.map((s: { id: string }) => s.id), ['direct', 'strict-keepalive', 'strict-keepalive-b', 'direct-new']);
    for (const strict of [report.scenarios[1], report.scenarios[2]]) assert.ok(strict.rps > 0 && strict.cpuUsPerRequest > 0 && strict.edgeRssMaxMb > 0, JSON.stringify(strict));
    assert.equal(report.settings.ab, `node ${bNode} CLI ${ROOT}/dist/src/cli/main.js STRICTEDGE_AB_MARK=1`);
    assert.ok(existsSync(`${bNode}.started`), 'B was started with --b-node');
    const md = readFileSync(join(run.dir, 'results', json!.replace(/\.json$/, '.md')), 'utf8');
    assert.match(md, /\| edge strict, keep-alive \|/);
    assert.match(md, /\| --ab: B against A, strict keep-alive \| \d\.\d\d× \(.*; CPU per request per round \d\.\d\d, median \d\.\d\d \|/);
    // Only what the scenarios need was started: `serve` and B; no large index, no other edge.
    assert.match(run.stderr(), /starting serve, b\.\.\./);
    assert.doesNotMatch(run.stderr(), /filling a copy/);
    assert.deepEqual(processesUnder(run.work), []);
    assert.deepEqual(readdirSync(run.work), []);
  });

  it('refuses a --b-root that is not a built checkout, and a --b-node that is not a program, in one line before starting anything', async () => {
    const dir = tempDir('strictedge-b-bad-');
    const notProgram = join(dir, 'node');
    writeFileSync(notProgram, 'not a program\n', { mode: 0o644 });
    for (const [flag, value, message] of [
      ['--b-root', dir, /^loadtest: --b-root \S+: no \S+\/dist\/src\/cli\/main\.js \(a strictedge checkout after npm ci, which builds it\)\n$/],
      ['--b-node', notProgram, /^loadtest: --b-node \S+\/node: not an executable file\n$/],
      ['--b-node', dir, /^loadtest: --b-node \S+: not an executable file\n$/],
    ] as const) {
      const run = startLoadtest(['--only', 'strict-keepalive', flag, value]);
      assert.equal(await run.exited, 2, run.stderr());
      assert.match(run.stderr(), message);
      assert.deepEqual(readdirSync(run.work), []);
    }
  });

  it('stops every process it started and removes its work folder when nobody reads its progress any more (| head)', async () => {
    const run = startLoadtest(['--duration', '1', '--rounds', '3', '--only', 'strict-keepalive']);
    while (!/warming up/.test(run.stderr())) {
      assert.equal(run.child.exitCode, null, run.stderr());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(processesUnder(run.work).length >= 2, 'the origin and serve are running');
    run.child.stderr!.destroy(); // its next progress line meets a closed pipe (EPIPE)
    assert.equal(await run.exited, 141);
    assert.deepEqual(processesUnder(run.work), []);
    assert.deepEqual(readdirSync(run.work), []);
  });

  it('stops every process it started and removes its work folder on Ctrl-C', async () => {
    const run = startLoadtest(['--duration', '60', '--only', 'strict-keepalive']);
    // Interrupted mid-run: the origin, `serve` and the client are all busy.
    while (!/warming up/.test(run.stderr())) {
      assert.equal(run.child.exitCode, null, run.stderr());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(processesUnder(run.work).length >= 2, 'the origin and serve are running');
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 130);
    assert.deepEqual(processesUnder(run.work), []);
    assert.deepEqual(readdirSync(run.work), []);
    assert.doesNotMatch(run.stderr(), /Error/, 'an interrupted run is not reported as a crash');
  });
});
