// The server V8 flags are written out wherever Node starts a server; these keep them in step.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SERVER_NODE_FLAGS, withServerNodeFlags } from '../../src/node-flags.js';

const root = new URL('../../../', import.meta.url);

describe('server V8 flags', () => {
  it('adds the flags an execArgv lacks, once, and keeps a value given explicitly', () => {
    assert.deepEqual(withServerNodeFlags([]), [...SERVER_NODE_FLAGS]);
    assert.deepEqual(withServerNodeFlags(['--enable-source-maps']), ['--enable-source-maps', ...SERVER_NODE_FLAGS]);
    assert.deepEqual(withServerNodeFlags(SERVER_NODE_FLAGS), [...SERVER_NODE_FLAGS]);
    assert.deepEqual(withServerNodeFlags(['--max-semi-space-size=32']), ['--max-semi-space-size=32', ...SERVER_NODE_FLAGS.filter((flag) => !flag.startsWith('--max-semi-space-size='))]);
    assert.deepEqual(withServerNodeFlags(['--heap-growing-percent=20', '--max-semi-space-size=32']), ['--heap-growing-percent=20', '--max-semi-space-size=32']);
  });

  it('the CLI shebang and npm start pass every one of them', () => {
    const shebang = readFileSync(new URL('src/cli/main.ts', root), 'utf8').split('\n')[0]!;
    const start = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts.start as string;
    for (const flag of SERVER_NODE_FLAGS) {
      assert.ok(shebang.split(' ').includes(flag), shebang);
      assert.ok(start.split(' ').includes(flag), start);
    }
    assert.match(shebang, /^#!\/usr\/bin\/env -S node /, 'env -S: a shebang passes one argument unless split');
  });
});
