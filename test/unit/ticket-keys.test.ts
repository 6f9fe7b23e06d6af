// The session ticket keys' rotation schedule, on Node's mock timers: new keys at once and then
// every interval, none after stop, and none at all for an interval of 0.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { newTicketKeys, rotateTicketKeys } from '../../src/edge/ticket-keys.js';

describe('session ticket key rotation', () => {
  it('makes 48 random bytes each time, as Node takes them', () => {
    const [a, b] = [newTicketKeys(), newTicketKeys()];
    assert.equal(a.length, 48);
    assert.notDeepEqual(a, b);
  });

  it('applies new keys at once and then every interval, and none after stop', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const applied: Buffer[] = [];
      const rotation = rotateTicketKeys((keys) => applied.push(keys), 3_600_000);
      assert.equal(applied.length, 1);
      mock.timers.tick(3_599_999);
      assert.equal(applied.length, 1);
      mock.timers.tick(1);
      assert.equal(applied.length, 2);
      mock.timers.tick(3_600_000 * 3);
      assert.equal(applied.length, 5);
      assert.equal(new Set(applied.map((keys) => keys.toString('hex'))).size, 5, 'each set is new');
      rotation.stop();
      mock.timers.tick(3_600_000 * 3);
      assert.equal(applied.length, 5);
    } finally {
      mock.timers.reset();
    }
  });

  it('leaves Node its own keys when the interval is 0', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const applied: Buffer[] = [];
      rotateTicketKeys((keys) => applied.push(keys), 0).stop();
      mock.timers.tick(86_400_000);
      assert.equal(applied.length, 0);
    } finally {
      mock.timers.reset();
    }
  });
});
