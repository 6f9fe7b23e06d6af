// The Origin CA: issue, read, list and revoke certificates for an account.
// Decisions are made by policy.ts; this file does the I/O around them.
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import { parseCsr, verifyCsrSignature } from '../pki/csr.js';
import { derToPem } from '../pki/formats.js';
import { randomSerial, sha256Hex, signSha256 } from '../pki/keys.js';
import type { Account } from '../store/accounts.js';
import type { CertificateRecord, CertificateStore } from '../store/certificates.js';
import type { ZoneStore } from '../store/zones.js';
import type { Clock } from '../clock.js';
import { checkRequestType, checkValidity, planIssuance, type RequestType } from './policy.js';
import type { OriginRoots } from './roots.js';
import type { CaMetrics } from '../metrics/metrics.js';

export interface IssueInput {
  readonly csr: unknown;
  readonly hostnames: unknown;
  readonly requestType: unknown;
  readonly requestedValidity: unknown;
}

export interface CaDeps {
  readonly certificates: CertificateStore;
  readonly zones: ZoneStore;
  readonly roots: OriginRoots;
  readonly clock: Clock;
  readonly maxHostnames: number;
  /** Called after a certificate row is committed (metrics, the edge feed). */
  readonly onIssued?: (record: CertificateRecord, seq: number) => void;
  readonly onRevoked?: (record: CertificateRecord, seq: number) => void;
  readonly metrics?: CaMetrics;
}

export interface CertificatePage {
  readonly records: CertificateRecord[];
  readonly total: number;
}

const MAX_CSR_LENGTH = 16 * 1024;

function rootFor(requestType: RequestType) {
  return requestType === 'origin-ecc' ? 'ecdsa' : 'rsa';
}

export function createCa(deps: CaDeps) {
  const { certificates, zones, roots, clock, maxHostnames } = deps;

  async function issue(account: Account, input: IssueInput): Promise<CertificateRecord> {
    if (typeof input.csr !== 'string' || input.csr.trim() === '') throw new StrictedgeError(Errors.CSR_MISSING);
    if (input.csr.length > MAX_CSR_LENGTH) throw new StrictedgeError(Errors.CSR_UNPARSABLE, 'CSR is larger than 16 KiB');
    if (!Array.isArray(input.hostnames)) {
      throw input.hostnames === undefined ? new StrictedgeError(Errors.HOSTNAMES_MISSING) : new StrictedgeError(Errors.INVALID_FIELD, 'hostnames must be an array');
    }
    const requestType = checkRequestType(input.requestType);
    const validityDays = checkValidity(input.requestedValidity);
    const csr = parseCsr(input.csr);

    const started = performance.now();
    const now = clock(); // one reading: what is signed and what is stored agree
    const plan = planIssuance({ hostnames: input.hostnames, requestType, validityDays, key: csr.key }, zones.forAccount(account.id), now, maxHostnames);
    await verifyCsrSignature(csr);

    const root = roots[rootFor(requestType)];
    if (plan.notAfter > root.notAfter) throw new StrictedgeError(Errors.VALIDITY_INVALID, 'it would outlive the Origin CA root');
    const serial = randomSerial();
    const tbs = root.template.tbs({ serial, notBefore: plan.notBefore, notAfter: plan.notAfter, hostnames: plan.hostnames, spkiDer: csr.spkiDer });
    const der = root.template.certificate(tbs, await signSha256(root.key, tbs));

    const record: CertificateRecord = {
      serial: Buffer.from(serial).toString('hex'),
      accountId: account.id,
      requestType,
      requestedValidity: validityDays,
      hostnames: plan.hostnames,
      csr: input.csr,
      pem: derToPem(der, 'CERTIFICATE'),
      sha256: sha256Hex(der),
      notBefore: plan.notBefore.toISOString(),
      expiresOn: plan.notAfter.toISOString(),
      createdAt: now.toISOString(),
      revokedAt: null,
    };
    let seq: number;
    try {
      seq = certificates.insert(record, plan.zoneIds);
    } catch (error) {
      throw new StrictedgeError(Errors.STORE_FAILURE, undefined, { cause: error });
    }
    deps.metrics?.issued.labels(requestType).inc();
    deps.metrics?.issueDuration.labels(requestType).observe((performance.now() - started) / 1000);
    deps.onIssued?.(record, seq);
    return record;
  }

  function get(account: Account, serial: string): CertificateRecord {
    const record = certificates.get(serial.toLowerCase(), account.id);
    if (!record) throw new StrictedgeError(Errors.CERT_NOT_FOUND);
    return record;
  }

  function list(account: Account, zoneId: string | undefined, page: number, perPage: number): CertificatePage {
    if (zoneId !== undefined) {
      const zone = zones.byId(zoneId);
      if (!zone || zone.accountId !== account.id) throw new StrictedgeError(Errors.ZONE_NOT_FOUND);
    }
    return certificates.page(account.id, zoneId, perPage, (page - 1) * perPage);
  }

  function revoke(account: Account, serial: string): CertificateRecord {
    const record = get(account, serial);
    if (record.revokedAt) throw new StrictedgeError(Errors.CERT_ALREADY_REVOKED, record.revokedAt);
    const at = clock().toISOString();
    let seq: number | undefined;
    try {
      seq = certificates.revoke(record, at);
    } catch (error) {
      throw new StrictedgeError(Errors.STORE_FAILURE, undefined, { cause: error });
    }
    if (seq === undefined) throw new StrictedgeError(Errors.CERT_ALREADY_REVOKED);
    const updated = { ...record, revokedAt: at };
    deps.metrics?.revoked.inc();
    deps.onRevoked?.(updated, seq);
    return updated;
  }

  return { issue, get, list, revoke };
}

export type Ca = ReturnType<typeof createCa>;
