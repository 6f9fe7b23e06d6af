// strictedge certs list|get|revoke: the account's certificates, through the API.
import { CERT_FORMATS, encodeCertificates, pemToDer, type CertFormat } from '../pki/formats.js';
import { callApi } from './api-client.js';
import { parseFlags, requiredPositional, UsageError } from './args.js';
import { checkOutputs, writeOutputs } from './output-files.js';

interface CertificateView {
  id: string;
  certificate: string;
  hostnames: string[];
  expires_on: string;
  request_type: string;
  revoked_at: string | null;
}

type Out = { stdout: (data: string | Uint8Array) => void; log: (line: string) => void };

export async function certs(argv: readonly string[], out: Out): Promise<void> {
  const [action, ...rest] = argv;
  if (action === 'list') return list(rest, out);
  if (action === 'get') return get(rest, out);
  if (action === 'revoke') return revoke(rest, out);
  throw new UsageError('usage: strictedge certs list|get|revoke');
}

async function list(argv: readonly string[], out: Out): Promise<void> {
  const { values } = parseFlags(argv, { 'zone-id': { type: 'string' }, json: { type: 'boolean', default: false } });
  const all: CertificateView[] = [];
  for (let page = 1; ; page++) {
    const query = new URLSearchParams({ page: String(page), per_page: '100', ...(values['zone-id'] ? { zone_id: values['zone-id'] } : {}) });
    const envelope = await callApi<CertificateView[]>('GET', `/certificates?${query}`);
    all.push(...envelope.result);
    if (!envelope.result_info || page >= envelope.result_info.total_pages) break;
  }
  if (values.json) {
    out.stdout(`${JSON.stringify(all.map(({ certificate: _pem, ...rest }) => rest), null, 2)}\n`);
    return;
  }
  for (const cert of all) {
    const status = cert.revoked_at ? `revoked ${cert.revoked_at}` : 'active';
    out.stdout(`${cert.id}  ${cert.request_type}  expires ${cert.expires_on}  ${status}  ${cert.hostnames.join(',')}\n`);
  }
  if (all.length === 0) out.log('no certificates');
}

async function get(argv: readonly string[], out: Out): Promise<void> {
  const { values, positionals } = parseFlags(argv, { format: { type: 'string', default: 'pem' }, out: { type: 'string' }, overwrite: { type: 'boolean', default: false } }, 1);
  const id = requiredPositional(positionals, 0, 'certificate id');
  if (!(CERT_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format must be one of ${CERT_FORMATS.join(', ')}`);
  if (values.out) checkOutputs([values.out], values.overwrite);
  const { result } = await callApi<CertificateView>('GET', `/certificates/${encodeURIComponent(id)}`);
  const data = encodeCertificates([pemToDer(result.certificate, 'CERTIFICATE')], values.format as CertFormat);
  if (values.out) {
    writeOutputs([{ path: values.out, data, mode: 0o644 }], values.overwrite);
    out.log(`Saved certificate to ${values.out}`);
  } else {
    out.stdout(data);
  }
}

async function revoke(argv: readonly string[], out: Out): Promise<void> {
  const { positionals } = parseFlags(argv, {}, 1);
  const id = requiredPositional(positionals, 0, 'certificate id');
  const { result } = await callApi<{ id: string; revoked_at: string }>('DELETE', `/certificates/${encodeURIComponent(id)}`);
  out.stdout(`revoked ${result.id} at ${result.revoked_at}\n`);
}
