// Server ports for the tests and the load test come from below the kernel's ephemeral range, so that no
// outgoing connection's source port takes one between the pick and the server's bind.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ephemeralRangeStart, reservePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';

describe('server ports for tests and the load test', () => {
  it('reads where the ephemeral range starts, and falls back to Linux\'s default', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'range'), '40000\t60999\n');
    writeFileSync(join(dir, 'garbage'), 'not a range\n');
    assert.equal(ephemeralRangeStart(join(dir, 'range')), 40000);
    assert.equal(ephemeralRangeStart(join(dir, 'garbage')), 32768);
    assert.equal(ephemeralRangeStart(join(dir, 'missing')), 32768);
  });

  it('hands out distinct, bindable ports below the ephemeral range', async () => {
    const start = ephemeralRangeStart();
    const ports = [await reservePort(), await reservePort(), await reservePort()];
    assert.equal(new Set(ports).size, 3);
    for (const port of ports) assert.ok(port >= 11_000 && port < start, `${port} outside 11000..${start - 1}`);
  });

  it('skips a port something already listens on', async () => {
    const high = ephemeralRangeStart() - 1;
    const randomFor = (port: number) => (port - 11_000 + 0.5) / (high - 11_000 + 1);
    // A listener on a port of our choosing below the range; the first pick lands on it.
    let busy: Server | undefined;
    let busyPort = 0;
    for (let port = 20_011; !busy; port += 7) {
      const server = createServer();
      const ok = await new Promise<boolean>((resolve) => server.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true)));
      if (ok) [busy, busyPort] = [server, port];
    }
    after(() => busy!.close());
    const picks = [randomFor(busyPort), randomFor(busyPort + 1)];
    const port = await reservePort(() => picks.shift() ?? Math.random());
    assert.notEqual(port, busyPort);
    assert.equal(picks.length, 0, 'the busy port was tried first');
  });
});
