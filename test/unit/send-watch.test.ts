// The send watch's rules with a stand-in for a response's buffered length: it fires once no
// buffered byte went out for the timeout, waits on as long as bytes go out, and not at all once
// the client caught up or when it is off.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { watchClientSend } from '../../src/edge/send-watch.js';

const TIMEOUT_MS = 50;

describe('watchClientSend', () => {
  it('fires once when nothing goes out for the timeout', async () => {
    let stalled = 0;
    const watch = watchClientSend({ writableLength: 4096 }, TIMEOUT_MS, () => stalled++);
    watch.waiting();
    watch.waiting(); // a second call neither restarts nor doubles the clock
    await sleep(TIMEOUT_MS * 4);
    assert.equal(stalled, 1);
  });

  it('waits on while the client takes bytes, and fires once it stops', async () => {
    const response = { writableLength: 10_000 };
    let stalled = 0;
    const watch = watchClientSend(response, TIMEOUT_MS, () => stalled++);
    watch.waiting();
    const taking = setInterval(() => (response.writableLength -= 10), TIMEOUT_MS / 5);
    await sleep(TIMEOUT_MS * 6);
    clearInterval(taking);
    assert.equal(stalled, 0, 'bytes went out within every timeout');
    await sleep(TIMEOUT_MS * 4);
    assert.equal(stalled, 1);
  });

  it('does not fire once the client caught up', async () => {
    let stalled = 0;
    const watch = watchClientSend({ writableLength: 4096 }, TIMEOUT_MS, () => stalled++);
    watch.waiting();
    await sleep(TIMEOUT_MS / 2);
    watch.flowing();
    await sleep(TIMEOUT_MS * 3);
    assert.equal(stalled, 0);
    watch.waiting(); // waiting again starts a new clock
    await sleep(TIMEOUT_MS * 4);
    assert.equal(stalled, 1);
  });

  it('never fires with a timeout of 0', async () => {
    let stalled = 0;
    watchClientSend({ writableLength: 4096 }, 0, () => stalled++).waiting();
    await sleep(TIMEOUT_MS * 2);
    assert.equal(stalled, 0);
  });
});
