// Reads a JSON request body, refusing anything over the limit before it is buffered.
import type { IncomingMessage } from 'node:http';
import { Errors, StrictedgeError } from '../errors/catalogue.js';

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new StrictedgeError(Errors.BODY_TOO_LARGE, `limit is ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new StrictedgeError(Errors.BODY_TOO_LARGE, `limit is ${limit} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new StrictedgeError(Errors.BAD_JSON);
  }
}
