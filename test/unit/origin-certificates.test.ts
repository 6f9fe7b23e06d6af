// Which origin certificate a zone's expiry gauges show: the one that expires first among those
// accepted within the window, each zone on its own, and none once none was seen lately.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCertificateSightings, SIGHTING_WINDOW_MS } from '../../src/edge/origin-certificates.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-08T00:00:00Z');
const cert = (notBeforeDays: number, notAfterDays: number) => ({ notBeforeMs: T0 + notBeforeDays * DAY, notAfterMs: T0 + notAfterDays * DAY });

describe('createCertificateSightings', () => {
  it('shows, per zone, the certificate that expires first among those seen', () => {
    const sightings = createCertificateSightings();
    sightings.seen('a.test', 'apex', cert(-10, 80), T0);
    sightings.seen('a.test', 'wildcard', cert(-2, 5), T0);
    sightings.seen('a.test', 'apex', cert(-10, 80), T0 + 1000); // seen again: still one entry
    sightings.seen('b.test', 'long', cert(-1, 5000), T0);
    assert.deepEqual(Object.fromEntries(sightings.earliest(T0 + 2000)), { 'a.test': cert(-2, 5), 'b.test': cert(-1, 5000) });
  });

  it('forgets a certificate no handshake presented within the window: a renewed one drops out', () => {
    const sightings = createCertificateSightings();
    sightings.seen('a.test', 'old', cert(-80, 10), T0);
    sightings.seen('a.test', 'renewed', cert(0, 90), T0 + 60_000);
    assert.deepEqual(sightings.earliest(T0 + SIGHTING_WINDOW_MS).get('a.test'), cert(-80, 10), 'the old one, seen exactly a window ago, still counts');
    assert.deepEqual(sightings.earliest(T0 + SIGHTING_WINDOW_MS + 1).get('a.test'), cert(0, 90));
    sightings.seen('a.test', 'renewed', cert(0, 90), T0 + 2 * SIGHTING_WINDOW_MS);
    assert.deepEqual(sightings.earliest(T0 + 2 * SIGHTING_WINDOW_MS).get('a.test'), cert(0, 90));
  });

  it('shows no zone whose certificates were all seen too long ago', () => {
    const sightings = createCertificateSightings(1000);
    sightings.seen('gone.test', 's', cert(0, 30), T0);
    assert.equal(sightings.earliest(T0 + 1001).size, 0);
    assert.equal(sightings.earliest(T0 + 1001).size, 0);
  });
});
