// When an API key's use is written: at its first use, then at most once a minute per key, and a
// write that fails never fails the request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyUseRecorder, KEY_USE_INTERVAL_MS } from '../../src/api/key-use.js';
import type { Logger } from '../../src/log.js';

function setUp(write: (keyId: string, at: string) => void = () => undefined) {
  let nowMs = Date.parse('2026-12-08T04:00:00.000Z');
  const written: string[] = [];
  const warnings: string[] = [];
  const logger: Logger = { enabled: () => true, log: (_level, msg, fields) => void warnings.push(`${msg} ${JSON.stringify(fields)}`) };
  const use = createKeyUseRecorder(
    (keyId, at) => {
      write(keyId, at);
      written.push(`${keyId} ${at}`);
    },
    () => new Date(nowMs),
    logger,
  );
  return { use, written, warnings, advance: (ms: number) => void (nowMs += ms) };
}

describe('createKeyUseRecorder', () => {
  it('writes a key at its first use, then once a minute at most, each key on its own clock', () => {
    const { use, written, advance } = setUp();
    use('a');
    advance(1_000);
    use('a');
    use('b');
    advance(KEY_USE_INTERVAL_MS - 1_001);
    use('a'); // 59.999 s after its write
    advance(1);
    use('a');
    use('b'); // 59 s after its write
    assert.deepEqual(written, ['a 2026-12-08T04:00:00.000Z', 'b 2026-12-08T04:00:01.000Z', 'a 2026-12-08T04:01:00.000Z']);
  });

  it('logs a write that fails, without the key, and goes on; the next try is a minute later', () => {
    let failing = true;
    const { use, written, warnings, advance } = setUp(() => {
      if (failing) throw new Error('SQLITE_FULL: database or disk is full');
    });
    assert.doesNotThrow(() => use('a'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /last use could not be recorded .*"key_id":"a".*SQLITE_FULL/);
    failing = false;
    use('a');
    assert.deepEqual(written, []);
    advance(KEY_USE_INTERVAL_MS);
    use('a');
    assert.deepEqual(written, ['a 2026-12-08T04:01:00.000Z']);
  });
});
