// A snapshot of the revocation index on disk, so a separate edge with millions of events in its
// replica starts in well under its 2 s budget: it reads the table back (tens of MB, one read)
// and applies only the replica's events after the snapshot's sequence number. The replica
// stays the truth; a missing, old or damaged snapshot just means a slower start. A CRC-32 of the
// table tells a damaged one: a flipped revoked flag must not pass for a valid entry.
import { existsSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { writeFileAtomic } from '../store/state-folder.js';
import { createRevocationIndex, type RevocationIndex } from './revocation-index.js';

const MAGIC = 0x58494553; // "SEIX"
const VERSION = 2; // 2: the CRC-32 at 32
const HEADER_BYTES = 36;

export function writeIndexSnapshot(path: string, index: RevocationIndex, lastSeq: number): void {
  const table = index.exportTable();
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(VERSION, 4);
  header.writeUInt32LE(table.capacity, 8);
  header.writeUInt32LE(table.used, 12);
  header.writeUInt32LE(table.issuedCount, 16);
  header.writeUInt32LE(table.revokedCount, 20);
  header.writeDoubleLE(lastSeq, 24);
  const slots = Buffer.from(table.slots.buffer, table.slots.byteOffset, table.slots.byteLength);
  header.writeUInt32LE(crc32(table.flags, crc32(slots)), 32);
  writeFileAtomic(path, [header, slots, table.flags], { mode: 0o600 });
}

/** The index and the sequence number it covers, or undefined if there is no usable snapshot. */
export function readIndexSnapshot(path: string): { index: RevocationIndex; lastSeq: number } | undefined {
  if (!existsSync(path)) return undefined;
  const bytes = readFileSync(path);
  if (bytes.length < HEADER_BYTES || bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== VERSION) return undefined;
  const capacity = bytes.readUInt32LE(8);
  const slotBytes = capacity * 32;
  if (bytes.length !== HEADER_BYTES + slotBytes + capacity) return undefined;
  if (crc32(bytes.subarray(HEADER_BYTES)) !== bytes.readUInt32LE(32)) return undefined;
  // Copy into fresh, aligned arrays (the file buffer's offset need not be 4-aligned).
  const slots = new Uint32Array(capacity * 8);
  new Uint8Array(slots.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + slotBytes));
  const flags = new Uint8Array(bytes.subarray(HEADER_BYTES + slotBytes));
  const index = createRevocationIndex(capacity, {
    capacity,
    used: bytes.readUInt32LE(12),
    issuedCount: bytes.readUInt32LE(16),
    revokedCount: bytes.readUInt32LE(20),
    slots,
    flags,
  });
  return { index, lastSeq: bytes.readDoubleLE(24) };
}
