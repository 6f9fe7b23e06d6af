// A strict, allocation-light reader of DER element boundaries, for the one structure read on
// every issuance (the CSR). asn1js builds a full object tree and costs ~220 µs per CSR under
// load; walking the few elements we need costs a few µs. Values are returned as subarrays.
export interface DerElement {
  readonly tag: number;
  /** The whole element, header included. */
  readonly bytes: Uint8Array;
  /** The contents only. */
  readonly value: Uint8Array;
}

export class DerError extends Error {}

/** Reads the element at `offset` (definite, minimal lengths only, as DER requires). */
export function readElement(input: Uint8Array, offset = 0): DerElement {
  if (offset + 2 > input.length) throw new DerError('truncated element');
  const tag = input[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let length = input[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) throw new DerError('indefinite or oversized length');
    if (offset + 2 + count > input.length) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | input[offset + 2 + i]!;
    if (length < 0x80 || (count > 1 && input[offset + 2]! === 0)) throw new DerError('non-minimal length');
    header += count;
  }
  const end = offset + header + length;
  if (end > input.length) throw new DerError('element runs past its container');
  return { tag, bytes: input.subarray(offset, end), value: input.subarray(offset + header, end) };
}

/** The elements inside a constructed element, in order. */
export function readChildren(parent: DerElement): DerElement[] {
  if (!(parent.tag & 0x20)) throw new DerError('not a constructed element');
  const children: DerElement[] = [];
  for (let offset = 0; offset < parent.value.length; ) {
    const element = readElement(parent.value, offset);
    children.push(element);
    offset += element.bytes.length;
  }
  return children;
}

/** Reads exactly one element that fills `input`, with the expected tag. */
export function readWhole(input: Uint8Array, tag: number): DerElement {
  const element = readElement(input, 0);
  if (element.bytes.length !== input.length) throw new DerError('trailing bytes');
  if (element.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  return element;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element || element.tag !== tag) throw new DerError(`${what} missing or of the wrong type`);
  return element;
}

/** The content bits of a BIT STRING with no unused bits. */
export function bitStringBytes(element: DerElement): Uint8Array {
  if (element.tag !== 0x03 || element.value[0] !== 0) throw new DerError('expected a BIT STRING of whole bytes');
  return element.value.subarray(1);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
