// The edge's own certificate for a zone (from its edge CA, standing in for a public CA) lasts 90
// days, and an edge runs for months: it is made anew once 60 days have passed, on the next
// handshake, so clients never meet an expired one. The edge's clock is moved; the client reads
// the certificate it was given. And a client that opens a connection and never finishes its
// handshake is dropped after the handshake timeout, where Node would wait 120 s.
import assert from 'node:assert/strict';
import type { X509Certificate } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { startTestEdge } from '../helpers/edge.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;

it('makes a zone\'s certificate anew once 60 of its 90 days have passed', async () => {
  let offsetMs = 0;
  const edge = await startTestEdge(join(tempDir('strictedge-edge-certs-'), 'state'), { edgeClock: () => new Date(Date.now() + offsetMs) });
  after(() => edge.close());
  edge.app.admin.createAccount('site');
  edge.app.admin.addZone({ name: 'cert.test', account: 'site', mode: 'full' });
  edge.edge.refreshZones();
  // Not verified here: a certificate made on a clock moved ahead is not valid yet by the real one.
  const served = () =>
    new Promise<X509Certificate>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'www.cert.test', rejectUnauthorized: false }, () => {
        resolve(socket.getPeerX509Certificate()!);
        socket.end();
      });
      socket.on('error', reject);
    });

  const first = await served();
  assert.equal(Math.round((Date.parse(first.validTo) - Date.parse(first.validFrom)) / DAY), 90);
  assert.equal(first.checkHost('www.cert.test'), '*.cert.test');
  offsetMs = 59 * DAY;
  assert.equal((await served()).serialNumber, first.serialNumber, 'kept while it has more than a month left');
  offsetMs = 61 * DAY;
  const renewed = await served();
  assert.notEqual(renewed.serialNumber, first.serialNumber);
  assert.ok(Date.parse(renewed.validTo) - Date.parse(first.validTo) > 60 * DAY, `${renewed.validTo} against ${first.validTo}`);
  assert.equal((await served()).serialNumber, renewed.serialNumber, 'and then kept again');
});

it('drops a client that does not finish its TLS handshake within the timeout, and serves one that does', async () => {
  const edge = await startTestEdge(join(tempDir('strictedge-edge-handshake-'), 'state'), { clientHandshakeTimeoutMs: 700 });
  after(() => edge.close());
  edge.app.admin.createAccount('site');
  edge.app.admin.addZone({ name: 'slowhello.test', account: 'site', mode: 'full' });
  edge.edge.refreshZones();
  /** Opens a TCP connection, sends `bytes` (none, or part of a ClientHello), and resolves with how long the edge kept it. */
  const keptFor = (bytes: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const startedAt = performance.now();
      const socket = tcpConnect(edge.httpsPort, '127.0.0.1', () => socket.write(bytes));
      socket.on('error', () => undefined); // a reset is a way of being dropped too
      socket.on('close', () => resolve(performance.now() - startedAt));
      socket.resume();
      setTimeout(() => reject(new Error('still open after 5 s')), 5000).unref();
    });
  const silent = await keptFor(Buffer.alloc(0));
  // A TLS record header announcing a 512-byte handshake message, and then nothing.
  const stalled = await keptFor(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
  for (const ms of [silent, stalled]) assert.ok(ms >= 600 && ms < 3000, `dropped after ${Math.round(ms)} ms`);
  // A client that waits a little before its ClientHello (well inside the timeout) is served.
  const served = await new Promise<boolean>((resolve, reject) => {
    const raw = tcpConnect(edge.httpsPort, '127.0.0.1');
    raw.once('connect', () =>
      setTimeout(() => {
        const socket = connect({ socket: raw, servername: 'slowhello.test', ca: edge.edgeCaPem }, () => {
          resolve(socket.authorized);
          socket.end();
        });
        socket.on('error', reject);
      }, 300),
    );
  });
  assert.equal(served, true);
});
