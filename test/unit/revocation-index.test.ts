import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { createRevocationIndex } from '../../src/revocation/revocation-index.js';

const serial = () => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
};
const sha = () => randomBytes(32).toString('hex');

it('answers ok, unknown and revoked exactly', () => {
  const index = createRevocationIndex();
  const [a, b, c] = [serial(), serial(), serial()];
  const [fa, fb] = [sha(), sha()];
  index.apply({ kind: 'issued', serial: a, sha256: fa });
  index.apply({ kind: 'issued', serial: b, sha256: fb });
  index.apply({ kind: 'revoked', serial: b, sha256: fb });
  assert.equal(index.probe(a, fa), 'ok');
  assert.equal(index.probe(a, sha()), 'unknown', 'same serial, another certificate: a forgery');
  assert.equal(index.probe(a, fa.slice(0, 40) + '0'.repeat(24)), 'ok', 'only the first 128 bits of the fingerprint are kept');
  assert.equal(index.probe(b, fb), 'revoked');
  assert.equal(index.probe(c, sha()), 'unknown');
  assert.equal(index.probe('01', sha()), 'unknown', 'serials of other lengths are never ours');
  assert.equal(index.probe('zz'.repeat(16), sha()), 'unknown');
  assert.equal(index.isRevoked(b), true);
  assert.equal(index.isRevoked(a), false);
  assert.deepEqual([index.issuedCount, index.revokedCount], [2, 1]);
  index.apply({ kind: 'revoked', serial: b, sha256: fb });
  assert.equal(index.revokedCount, 1, 'applying an event twice changes nothing');
});

it('keeps every entry as it grows', () => {
  const index = createRevocationIndex(16);
  const entries = Array.from({ length: 50_000 }, () => [serial(), sha()] as const);
  entries.forEach(([s, f], i) => {
    index.apply({ kind: 'issued', serial: s, sha256: f });
    if (i % 7 === 0) index.apply({ kind: 'revoked', serial: s, sha256: f });
  });
  entries.forEach(([s, f], i) => assert.equal(index.probe(s, f), i % 7 === 0 ? 'revoked' : 'ok'));
  assert.equal(index.issuedCount, 50_000);
});

it('survives a snapshot round trip, and refuses a damaged snapshot (cut short, or one bit flipped)', async () => {
  const { writeIndexSnapshot, readIndexSnapshot } = await import('../../src/revocation/index-snapshot.js');
  const { mkdtempSync, rmSync, writeFileSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'strictedge-snapshot-'));
  try {
    const index = createRevocationIndex();
    const entries = Array.from({ length: 5000 }, () => [serial(), sha()] as const);
    entries.forEach(([s, f], i) => {
      index.apply({ kind: 'issued', serial: s, sha256: f });
      if (i % 5 === 0) index.apply({ kind: 'revoked', serial: s, sha256: f });
    });
    const path = join(dir, 'index.snapshot');
    writeIndexSnapshot(path, index, 6000);
    const restored = readIndexSnapshot(path)!;
    assert.equal(restored.lastSeq, 6000);
    entries.forEach(([s, f], i) => assert.equal(restored.index.probe(s, f), i % 5 === 0 ? 'revoked' : 'ok'));
    assert.deepEqual([restored.index.issuedCount, restored.index.revokedCount], [5000, 1000]);
    const whole = readFileSync(path);
    const flipped = Buffer.from(whole);
    flipped[flipped.length - 1000]! ^= 0x02; // one flag bit, in a file of the right length
    writeFileSync(path, flipped);
    assert.equal(readIndexSnapshot(path), undefined);
    writeFileSync(path, whole.subarray(0, 100));
    assert.equal(readIndexSnapshot(path), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('adopts a rebuilt index in one step, and grows on from it', () => {
  const live = createRevocationIndex(16);
  const [forgotten, kept, fresh] = [serial(), serial(), serial()];
  const [ff, fk, fn] = [sha(), sha(), sha()];
  live.apply({ kind: 'issued', serial: forgotten, sha256: ff });
  const rebuilt = createRevocationIndex(16);
  rebuilt.apply({ kind: 'revoked', serial: kept, sha256: fk });
  rebuilt.apply({ kind: 'issued', serial: fresh, sha256: fn });
  live.adopt(rebuilt);
  assert.equal(live.probe(forgotten, ff), 'unknown');
  assert.equal(live.probe(kept, fk), 'revoked');
  assert.equal(live.probe(fresh, fn), 'ok');
  assert.deepEqual([live.issuedCount, live.revokedCount], [1, 1]);
  const more = Array.from({ length: 40 }, () => [serial(), sha()] as const); // past 16 slots: it grows
  for (const [s, f] of more) live.apply({ kind: 'issued', serial: s, sha256: f });
  for (const [s, f] of more) assert.equal(live.probe(s, f), 'ok');
  assert.equal(live.probe(fresh, fn), 'ok');
  assert.equal(live.probe(kept, fk), 'revoked');
  assert.deepEqual([live.issuedCount, live.revokedCount], [41, 1]);
});
