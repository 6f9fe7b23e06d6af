// The CLI's client for the CA API. Key from STRICTEDGE_API_KEY (or cfca's CF_API_KEY),
// URL from STRICTEDGE_API_URL (default: the local CA).
import { isCertificateRefusal } from '../certificate-refusal.js';
import { Errors } from '../errors/catalogue.js';
import { UsageError } from './args.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:8787/client/v4';
const URL_HINT = `STRICTEDGE_API_URL is the API's base URL, ending in /client/v4 (${DEFAULT_API_URL} by default)`;
const ROUTE_NOT_FOUND = Errors.ROUTE_NOT_FOUND.code;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface Envelope<T> {
  success: boolean;
  errors: { code: number; message: string }[];
  result: T;
  result_info?: { page: number; per_page: number; count: number; total_count: number; total_pages: number };
}

/** Visible ASCII, all a header can carry; a key (`v1.0-` and hex) never has anything else. */
const KEY_CHARACTERS = /^[\x21-\x7e]+$/;

export function apiSettings(env: NodeJS.ProcessEnv = process.env): { url: string; key: string } {
  const name = env.STRICTEDGE_API_KEY ? 'STRICTEDGE_API_KEY' : 'CF_API_KEY';
  // Spaces and line ends around it are a file's or a paste's (a key file saved with CRLF).
  const key = (env.STRICTEDGE_API_KEY || env.CF_API_KEY || '').trim();
  if (!key) throw new UsageError('set STRICTEDGE_API_KEY (or CF_API_KEY) to your API key');
  // fetch would refuse it with an error that quotes the value: the key, on the terminal and in logs.
  if (!KEY_CHARACTERS.test(key)) throw new UsageError(`${name} is not an API key: it holds a space, a line break or another character no key has (the value is not shown)`);
  return { url: (env.STRICTEDGE_API_URL || DEFAULT_API_URL).replace(/\/+$/, ''), key };
}

export async function callApi<T>(method: string, path: string, body?: unknown, env: NodeJS.ProcessEnv = process.env): Promise<Envelope<T>> {
  const { url, key } = apiSettings(env);
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-auth-user-service-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const hint = isCertificateRefusal(error) ? "; its certificate is not trusted here: set NODE_EXTRA_CA_CERTS to the certificate of the CA that issued it" : '';
    throw new ApiError(0, undefined, `cannot reach the CA at ${url} (${cause?.code ?? cause?.message ?? String(error)})${hint}`);
  }
  const notTheApi = `the CA at ${url} answered ${response.status} without the API's JSON envelope; ${URL_HINT}`;
  let envelope: Envelope<T>;
  try {
    envelope = (await response.json()) as Envelope<T>;
  } catch {
    throw new ApiError(response.status, undefined, notTheApi);
  }
  if (typeof envelope !== 'object' || envelope === null || typeof envelope.success !== 'boolean') throw new ApiError(response.status, undefined, notTheApi);
  if (!envelope.success) {
    const first = Array.isArray(envelope.errors) ? envelope.errors[0] : undefined;
    // The one answer a URL without /client/v4 gets from the CA itself.
    const hint = first?.code === ROUTE_NOT_FOUND ? `; ${URL_HINT}` : '';
    throw new ApiError(response.status, first?.code, first ? `${first.message} (code ${first.code})${hint}` : `request failed with ${response.status}`);
  }
  return envelope;
}
