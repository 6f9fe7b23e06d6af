// strictedge getcert: cfca's getcert. Makes the key here, sends only the CSR.
import { ALLOWED_VALIDITY_DAYS, DEFAULT_VALIDITY_DAYS, nearestValidity } from '../ca/policy.js';
import { createKeyAndCsr } from '../pki/csr-build.js';
import { CERT_FORMATS, encodeCertificates, pemToDer, type CertFormat } from '../pki/formats.js';
import type { KeySpec } from '../pki/keys.js';
import { apiSettings, callApi } from './api-client.js';
import { parseFlags, UsageError } from './args.js';
import { checkOutputs, writeOutputs } from './output-files.js';

const FLAGS = {
  hostnames: { type: 'string' },
  days: { type: 'string' },
  'key-type': { type: 'string', default: 'rsa' },
  'key-size': { type: 'string' },
  'certificate-out': { type: 'string' },
  'key-out': { type: 'string', default: 'private.key' },
  format: { type: 'string', default: 'pem' },
  overwrite: { type: 'boolean', default: false },
} as const;

export function readKeySpec(keyType: string, keySize: string | undefined): KeySpec {
  if (keyType === 'ecdsa') {
    if (keySize !== undefined && keySize !== '256') throw new UsageError('-key-size for ecdsa must be 256');
    return { keyType: 'ecdsa', size: 256 };
  }
  if (keyType === 'rsa') {
    const size = keySize === undefined ? 2048 : Number(keySize);
    if (![2048, 3072, 4096].includes(size)) throw new UsageError('-key-size for rsa must be 2048, 3072 or 4096');
    return { keyType: 'rsa', size };
  }
  throw new UsageError('-key-type must be rsa or ecdsa');
}

export function readDays(value: string | undefined, notice: (line: string) => void): number {
  if (value === undefined) return DEFAULT_VALIDITY_DAYS;
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1) throw new UsageError('-days must be a whole number of days, 1 or more');
  const allowed = nearestValidity(days);
  if (allowed !== days) notice(`-days ${days} is not one of ${ALLOWED_VALIDITY_DAYS.join(', ')}; using ${allowed}`);
  return allowed;
}

function readFormat(value: string): CertFormat {
  if (!(CERT_FORMATS as readonly string[]).includes(value)) throw new UsageError(`-format must be one of ${CERT_FORMATS.join(', ')}`);
  return value as CertFormat;
}

export async function getcert(argv: readonly string[], log: (line: string) => void): Promise<void> {
  const { values } = parseFlags(argv, FLAGS);
  const hostnames = (values.hostnames ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  if (hostnames.length === 0) throw new UsageError('-hostnames is required, e.g. -hostnames example.test,*.example.test');
  const spec = readKeySpec(values['key-type'], values['key-size']);
  const format = readFormat(values.format);
  const days = readDays(values.days, log);
  const certificateOut = values['certificate-out'] ?? `certificate.${format}`;
  const keyOut = values['key-out'];
  if (certificateOut === keyOut) throw new UsageError('-certificate-out and -key-out must differ');
  checkOutputs([certificateOut, keyOut], values.overwrite);
  apiSettings(); // a missing API key is said before a key is made for nothing

  log(`generating key: ${spec.keyType}-${spec.size}`);
  const { keyPem, csrPem } = await createKeyAndCsr(spec, hostnames);
  const { result } = await callApi<{ id: string; certificate: string; hostnames: string[]; expires_on: string }>('POST', '/certificates', {
    csr: csrPem,
    hostnames,
    request_type: spec.keyType === 'ecdsa' ? 'origin-ecc' : 'origin-rsa',
    requested_validity: days,
  });
  log(`Successfully issued certificate for: ${result.hostnames.join(', ')} (id ${result.id}, expires ${result.expires_on})`);

  const certificate = encodeCertificates([pemToDer(result.certificate, 'CERTIFICATE')], format);
  try {
    writeOutputs(
      [
        { path: keyOut, data: keyPem, mode: 0o600 },
        { path: certificateOut, data: certificate, mode: 0o644 },
      ],
      values.overwrite,
    );
  } catch (error) {
    // The key never left this process, so the certificate can no longer be used by anyone.
    throw new UsageError(`${(error as Error).message}; certificate ${result.id} was issued, but its key is gone: revoke it with \`strictedge certs revoke ${result.id}\``);
  }
  log(`Saved certificate to ${certificateOut}`);
  log(`Saved private key to ${keyOut}`);
}
