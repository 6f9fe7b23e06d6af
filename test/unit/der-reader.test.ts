import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DerError, readChildren, readElement, readWhole } from '../../src/pki/der-reader.js';

const bytes = (...values: number[]) => new Uint8Array(values);

it('reads nested elements with short and long lengths', () => {
  const octets = bytes(0x04, 0x81, 200, ...new Array(200).fill(0x41));
  const outer = readWhole(bytes(0x30, 0x81, octets.length, ...octets), 0x30);
  const [inner] = readChildren(outer);
  assert.equal(inner!.tag, 0x04);
  assert.equal(inner!.value.length, 200);
  assert.equal(readElement(bytes(0x02, 0x01, 0x05)).value[0], 5);
});

const rejected: [string, Uint8Array][] = [
  ['an indefinite length', bytes(0x30, 0x80, 0x00, 0x00)],
  ['a non-minimal long length', bytes(0x04, 0x81, 0x01, 0x00)],
  ['a length with a leading zero byte', bytes(0x04, 0x82, 0x00, 0x81, ...new Array(0x81).fill(0))],
  ['a length past the end', bytes(0x04, 0x05, 0x00)],
  ['trailing bytes', bytes(0x05, 0x00, 0x00)],
  ['a truncated header', bytes(0x30)],
];
for (const [title, input] of rejected) {
  it(`rejects ${title}`, () => assert.throws(() => readWhole(input, input[0]!), DerError));
}
