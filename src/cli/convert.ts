// strictedge convert FILE --to pem|der|p7b [--out F]
import { readFileSync } from 'node:fs';
import { CERT_FORMATS, encodeCertificates, readCertificates, type CertFormat } from '../pki/formats.js';
import { parseFlags, requiredPositional, UsageError } from './args.js';
import { checkOutputs, writeOutputs } from './output-files.js';

export function convert(argv: readonly string[], out: { stdout: (data: string | Uint8Array) => void; log: (line: string) => void }): void {
  const { values, positionals } = parseFlags(argv, { to: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean', default: false } }, 1);
  const file = requiredPositional(positionals, 0, 'input file');
  if (!values.to || !(CERT_FORMATS as readonly string[]).includes(values.to)) throw new UsageError(`--to must be one of ${CERT_FORMATS.join(', ')}`);
  if (values.out) checkOutputs([values.out], values.overwrite);
  let input: Buffer;
  try {
    input = readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  let certificates: Uint8Array[];
  try {
    certificates = readCertificates(input);
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  if (values.to === 'der' && certificates.length > 1) throw new UsageError(`${file} holds ${certificates.length} certificates; DER holds one (use pem or p7b)`);
  const data = encodeCertificates(certificates, values.to as CertFormat);
  if (values.out) {
    writeOutputs([{ path: values.out, data, mode: 0o644 }], values.overwrite);
    out.log(`Saved ${certificates.length} certificate(s) as ${values.to} to ${values.out}`);
  } else {
    out.stdout(data);
  }
}
