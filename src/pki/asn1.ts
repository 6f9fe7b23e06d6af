// Thin helpers over asn1js for the few DER structures strictedge encodes per certificate.
// Fixed parts are encoded once (see profile.ts) and spliced in as raw bytes.
import * as asn1js from 'asn1js';

export type Der = Uint8Array;

/**
 * One DER element from a tag and already-encoded contents. The per-certificate path is built
 * from these, splicing in parts asn1js encoded once; asn1js's containers cannot hold raw bytes.
 */
export function tlv(tag: number, ...contents: Uint8Array[]): Der {
  let length = 0;
  for (const part of contents) length += part.length;
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : length < 0x10000 ? [tag, 0x82, length >> 8, length & 0xff] : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  let offset = header.length;
  for (const part of contents) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  CONTEXT_2_PRIMITIVE: 0x82,
  CONTEXT_3_CONSTRUCTED: 0xa3,
} as const;

export function toDer(value: { toBER(sizeOnly?: boolean): ArrayBuffer }): Uint8Array {
  return new Uint8Array(value.toBER(false));
}

export function sequence(...items: asn1js.AsnType[]): asn1js.Sequence {
  return new asn1js.Sequence({ value: items as asn1js.BaseBlock[] });
}

export function oid(dotted: string): asn1js.ObjectIdentifier {
  return new asn1js.ObjectIdentifier({ value: dotted });
}

export function octetString(der: Uint8Array): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: der });
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, whole seconds, Z. */
export function timeDer(date: Date): Der {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`date out of X.509 range: ${iso}`);
  return year < 2050
    ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1'))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
}
