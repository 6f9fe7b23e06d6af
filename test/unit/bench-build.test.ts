// `npm run loadtest` and the bench:* scripts compile loadtest/tsconfig.json (the benchmarks,
// src/ and what they import, not the test suite) before they run; CI builds the whole project
// instead, so this is what keeps that smaller build working.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsc = (args: string[]) => spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'loadtest', ...args], { cwd: root, encoding: 'utf8' });

describe('the benchmarks\' build', () => {
  it('every bench script and the load test compile loadtest/tsconfig.json, which type-checks', () => {
    const scripts = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).scripts as Record<string, string>;
    for (const name of ['loadtest', 'bench:issue', 'bench:revocation', 'bench:metrics', 'bench:connect', 'bench:heap', 'bench:bursts']) {
      assert.match(scripts[name]!, /^tsc -p loadtest && node /, name);
    }
    const check = tsc(['--noEmit']);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  it('holds every benchmark entry point, the whole product and what they import, but no test and not the SDK\'s types', () => {
    const listed = tsc(['--listFilesOnly']);
    assert.equal(listed.status, 0, listed.stderr);
    const files = listed.stdout.split('\n').filter(Boolean);
    // src/cli/main.ts: the load test starts the CLI by its path, so nothing imports it.
    for (const entry of ['loadtest/loadtest.ts', 'loadtest/connect-bench.ts', 'loadtest/connection-bursts.ts', 'loadtest/minimal-proxy.ts', 'src/cli/main.ts', 'src/cli/serve.ts', 'test/helpers/ports.ts']) {
      assert.ok(files.some((file) => file.endsWith(`/${entry}`)), `${entry} missing`);
    }
    assert.ok(!files.some((file) => file.endsWith('.test.ts')), 'a test file is in the benchmarks\' build');
    assert.ok(!files.some((file) => file.includes('/node_modules/cloudflare/')), 'the cloudflare SDK types are in the benchmarks\' build');
  });
});
