// The edge's own certificate for a zone (from its edge CA, standing in for a public CA) lasts 90
// days, and an edge runs for months: it is made anew once 60 days have passed, on the next
// handshake, so clients never meet an expired one. The edge's clock is moved; the client reads
// the certificate it was given.
import assert from 'node:assert/strict';
import type { X509Certificate } from 'node:crypto';
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
