// How a separate edge reaches its CA's API: Node's fetch, trusting Node's roots (and
// NODE_EXTRA_CA_CERTS); or, for a CA whose API certificate a private CA issued (`--ca-cert`),
// trusting only that CA's certificate.
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';

export type CaFetch = (url: string, init: { readonly headers: Record<string, string>; readonly signal?: AbortSignal }) => Promise<{ readonly status: number; json(): Promise<unknown> }>;

export function createCaFetch(trustedPem?: string): CaFetch {
  if (trustedPem === undefined) return (url, init) => fetch(url, init);
  const dispatcher = new Agent({ connect: { ca: trustedPem } });
  return (url, init) => undiciFetch(url, { ...init, dispatcher });
}

/** The PEM certificates in a file, or why there are none. */
export function readTrustedPem(path: string): { pem: string } | { error: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { error: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  return text.includes('-----BEGIN CERTIFICATE-----') ? { pem: text } : { error: `${path} holds no PEM certificate` };
}

export const CA_CERT_HINT = "the CA's API certificate is not trusted: give --ca-cert with the certificate of the CA that issued it (or set NODE_EXTRA_CA_CERTS)";
