// Node hands TLS sessions to JavaScript as OpenSSL's DER serialisation (SSL_SESSION_ASN1 in
// ssl/ssl_asn1.c) and decodes one on every connection that offers it. Most of that decoding is
// the origin's certificate (field [3] `peer`): its public key goes through OpenSSL 3's decoder
// framework, which cost more per resumed connection than the whole certificate check of a
// full handshake here. A TLS 1.3 session resumes without it: OpenSSL needs only the keys and
// the ticket, and Node accepts a resumed TLS 1.3 session that has no peer certificate as
// verified (it never re-verifies resumed sessions; the connector re-checks them against what
// the full handshake verified). TLS 1.2 sessions are left whole: Node refuses a resumed
// TLS 1.2 session without one.
import { DerError, readChildren, readElement, type DerElement } from '../pki/der-reader.js';

const SEQUENCE = 0x30;
const INTEGER = 0x02;
/** [3] EXPLICIT Certificate: the peer's certificate. */
const PEER_TAG = 0xa3;
const TLS1_3_VERSION = 0x0304;

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>>= 8) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function parseSession(session: Buffer) {
  const top = readElement(session);
  if (top.tag !== SEQUENCE || top.bytes.length !== session.length) throw new DerError('not one SEQUENCE');
  const fields = readChildren(top);
  // version (INTEGER 1), then ssl_version (INTEGER, e.g. 0x0304).
  const [version, sslVersion] = fields;
  if (version?.tag !== INTEGER || sslVersion?.tag !== INTEGER) throw new DerError('no version fields');
  if (version.value.length !== 1 || version.value[0] !== 1) throw new DerError('an unknown session format');
  return { fields, protocol: sslVersion.value.reduce((n, byte) => (n << 8) | byte, 0) };
}

function withoutPeer(session: Buffer, fields: readonly DerElement[]): Buffer {
  const kept = fields.filter((field) => field.tag !== PEER_TAG);
  if (kept.length === fields.length) return session;
  const contents = Buffer.concat(kept.map((field) => field.bytes));
  return Buffer.concat([Buffer.from([SEQUENCE, ...derLength(contents.length)]), contents]);
}

/** The session without its peer certificate, whatever its protocol (TLS 1.3 only is safe: compactSession). */
export function removePeerCertificate(session: Buffer): Buffer {
  return withoutPeer(session, parseSession(session).fields);
}

/**
 * The session without the peer certificate when it is a TLS 1.3 session; anything else (TLS 1.2,
 * no certificate in it, a layout this does not recognise) comes back unchanged.
 */
export function compactSession(session: Buffer): Buffer {
  try {
    const { fields, protocol } = parseSession(session);
    return protocol === TLS1_3_VERSION ? withoutPeer(session, fields) : session;
  } catch (error) {
    if (error instanceof DerError) return session;
    throw error;
  }
}
