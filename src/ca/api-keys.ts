// API keys: "v1.0-" + 24 hex id + "-" + 146 hex secret (the shape of Cloudflare's Origin CA keys).
// Only SHA-256 of the whole key is stored; a key is found by its id and then compared in
// constant time. Keys are 80 random bytes, so a fast hash is enough (no password stretching).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_SHAPE = /^v1\.0-([0-9a-f]{24})-[0-9a-f]{146}$/;

export interface NewApiKey {
  readonly id: string;
  readonly key: string;
  readonly hash: Buffer;
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export function newApiKey(): NewApiKey {
  const id = randomBytes(12).toString('hex');
  const key = `v1.0-${id}-${randomBytes(73).toString('hex')}`;
  return { id, key, hash: hashApiKey(key) };
}

/** The key id, or undefined when the string is not shaped like a key. */
export function apiKeyId(key: string): string | undefined {
  return KEY_SHAPE.exec(key)?.[1];
}

export function apiKeyMatches(key: string, storedHash: Buffer): boolean {
  const hash = hashApiKey(key);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}

// Edge tokens: "edge-v1-" + 24 hex id + "-" + 64 hex secret, stored and compared the same way.
const EDGE_TOKEN_SHAPE = /^edge-v1-([0-9a-f]{24})-[0-9a-f]{64}$/;

export function newEdgeToken(): NewApiKey {
  const id = randomBytes(12).toString('hex');
  const key = `edge-v1-${id}-${randomBytes(32).toString('hex')}`;
  return { id, key, hash: hashApiKey(key) };
}

export function edgeTokenId(token: string): string | undefined {
  return EDGE_TOKEN_SHAPE.exec(token)?.[1];
}
