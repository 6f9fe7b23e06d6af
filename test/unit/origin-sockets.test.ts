// The live-socket registry's timers: a socket is closed when its certificate's notAfter passes
// by the edge's clock, also when that is further off than setTimeout can wait (2^31-1 ms,
// about 24.8 days; a longer delay fires at once), and never after it closed.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { it } from 'node:test';
import { closedByEdge, createOriginSockets } from '../../src/edge/origin-sockets.js';

const DAY = 86_400_000;

/** What the registry uses of a socket: destroy() and its 'close'. */
function fakeSocket() {
  const socket = Object.assign(new EventEmitter(), {
    destroyed: false,
    destroy() {
      if (socket.destroyed) return;
      socket.destroyed = true;
      socket.emit('close');
    },
  });
  return socket;
}

it('closes a socket at its notAfter, in steps when that is beyond setTimeout\'s reach', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const advance = (ms: number) => {
    now += ms;
    t.mock.timers.tick(ms);
  };
  const sockets = createOriginSockets(() => false, () => now);
  const [longLived, weekLong, closedEarly] = [fakeSocket(), fakeSocket(), fakeSocket()];
  assert.equal(sockets.add(longLived as unknown as TLSSocket, 'aa', 15 * 365 * DAY), undefined);
  assert.equal(sockets.add(weekLong as unknown as TLSSocket, 'bb', 7 * DAY), undefined);
  assert.equal(sockets.add(closedEarly as unknown as TLSSocket, 'cc', 7 * DAY), undefined);
  closedEarly.destroy();
  assert.equal(sockets.size, 2);

  advance(7 * DAY - 1);
  assert.equal(weekLong.destroyed, false);
  advance(1);
  assert.equal(weekLong.destroyed, true);
  assert.equal(closedByEdge.get(weekLong), 'expired');
  assert.equal(closedByEdge.get(closedEarly), undefined, 'its timer went with it');

  while (now + 20 * DAY < 15 * 365 * DAY) advance(20 * DAY);
  advance(15 * 365 * DAY - now - 1);
  assert.equal(longLived.destroyed, false, 'still before its notAfter');
  advance(1);
  assert.equal(longLived.destroyed, true);
  assert.equal(closedByEdge.get(longLived), 'expired');
  assert.equal(sockets.size, 0);
});

it('refuses a socket whose notAfter has passed by the edge\'s clock, or whose certificate is revoked', () => {
  const sockets = createOriginSockets((serial) => serial === 'dead', () => 10 * DAY);
  const late = fakeSocket();
  assert.equal(sockets.add(late as unknown as TLSSocket, 'aa', 9 * DAY), 'expired');
  assert.equal(late.destroyed, true);
  const revoked = fakeSocket();
  assert.equal(sockets.add(revoked as unknown as TLSSocket, 'dead', 20 * DAY), 'revoked');
  assert.equal(revoked.destroyed, true);
  assert.equal(sockets.size, 0);
});
