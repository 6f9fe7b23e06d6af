// The load test's world, made with the project's own modules before any process starts: one
// state folder with an account, the bench zones and their origin certificates (ECDSA and RSA),
// then copies of it for the other edges (same roots, zones and certificates), one of them
// bulk-filled with synthetic issued and revoked certificates for the large-index scenario.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCa } from '../src/app.js';
import { systemClock } from '../src/clock.js';
import { createKeyAndCsr } from '../src/pki/csr-build.js';
import { statePaths } from '../src/store/state-folder.js';

export interface OriginPorts {
  readonly http: number;
  readonly https: number;
  /** HTTPS, Connection: close on every answer: a new TLS handshake per request. */
  readonly close: number;
  /** The same with an origin-rsa certificate. */
  readonly rsaClose: number;
}

export const ZONES = {
  flexible: 'flexible.bench.test',
  full: 'full.bench.test',
  strict: 'strict.bench.test',
  strictNew: 'strict-new.bench.test',
  strictRsaNew: 'strict-rsa-new.bench.test',
} as const;

export interface Fixtures {
  readonly state: string;
  readonly eccCert: string;
  readonly eccKey: string;
  readonly rsaCert: string;
  readonly rsaKey: string;
  readonly eccRoot: string;
  /** For a separate `strictedge edge` following the CA. */
  readonly edgeToken: string;
}

export async function makeFixtures(dir: string, ports: OriginPorts): Promise<Fixtures> {
  const state = join(dir, 'state');
  const app = await openCa({ dir: state, clock: systemClock });
  try {
    const { account } = app.admin.createAccount('bench');
    const origin = (port: number) => `127.0.0.1:${port}`;
    app.admin.addZone({ name: ZONES.flexible, account: 'bench', mode: 'flexible', originHttp: origin(ports.http) });
    app.admin.addZone({ name: ZONES.full, account: 'bench', mode: 'full', originHttps: origin(ports.https) });
    app.admin.addZone({ name: ZONES.strict, account: 'bench', mode: 'strict', originHttps: origin(ports.https) });
    app.admin.addZone({ name: ZONES.strictNew, account: 'bench', mode: 'strict', originHttps: origin(ports.close) });
    app.admin.addZone({ name: ZONES.strictRsaNew, account: 'bench', mode: 'strict', originHttps: origin(ports.rsaClose) });
    const hostnames = Object.values(ZONES);
    const files: Record<string, string> = {};
    for (const keyType of ['ecdsa', 'rsa'] as const) {
      const { keyPem, csrPem } = await createKeyAndCsr({ keyType, size: keyType === 'ecdsa' ? 256 : 2048 }, hostnames);
      const record = await app.ca.issue(account, { csr: csrPem, hostnames, requestType: keyType === 'ecdsa' ? 'origin-ecc' : 'origin-rsa', requestedValidity: 7 });
      files[`${keyType}Cert`] = join(dir, `origin-${keyType}.pem`);
      files[`${keyType}Key`] = join(dir, `origin-${keyType}.key`);
      writeFileSync(files[`${keyType}Cert`]!, record.pem);
      writeFileSync(files[`${keyType}Key`]!, keyPem, { mode: 0o600 });
    }
    const edgeToken = app.admin.createEdge('bench-edge');
    return { state, eccCert: files.ecdsaCert!, eccKey: files.ecdsaKey!, rsaCert: files.rsaCert!, rsaKey: files.rsaKey!, eccRoot: app.paths.rootCert('ecdsa'), edgeToken };
  } finally {
    await app.close();
  }
}

/** A copy of a closed state folder: the same roots, edge CA, zones and certificates. */
export function copyState(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/**
 * Adds `issued` synthetic certificates, every tenth of the first `revoked * 10` revoked, in one
 * transaction straight into the tables (the CA would take minutes to sign a million). Only the
 * columns the edge's index reads are meaningful; the rest are placeholders.
 */
export function fillIndex(state: string, issued: number, revoked: number): void {
  const db = new Database(statePaths(state).database);
  try {
    // Serials are random, but inserted in order they only append to the indexes' B-trees (the
    // primary key and certificates_account), and a 256 MB page cache holds the rest: a million
    // took ~50 s with random order and the default 2 MB cache, ~23 s like this.
    db.pragma('cache_size = -262144');
    const accountId = (db.prepare('SELECT id FROM accounts LIMIT 1').get() as { id: string }).id;
    const insertCert = db.prepare(
      "INSERT INTO certificates (serial, account_id, request_type, requested_validity, hostnames, csr, pem, sha256, not_before, expires_on, created_at, revoked_at) VALUES (?, ?, 'origin-ecc', 7, '[]', '', '', ?, ?, ?, ?, ?)",
    );
    const insertEvent = db.prepare('INSERT INTO cert_events (kind, serial, sha256, not_after, at) VALUES (?, ?, ?, ?, ?)');
    const now = new Date().toISOString();
    const notAfter = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const random = randomBytes(issued * 16);
    const ordered = Array.from({ length: issued }, (_, i) => random.toString('hex', i * 16, i * 16 + 16)).sort();
    db.transaction(() => {
      const serials: [string, string][] = [];
      for (let i = 0; i < issued; i++) {
        const serial = ordered[i]!;
        const sha256 = randomBytes(32).toString('hex');
        const isRevoked = i % 10 === 0 && i / 10 < revoked;
        insertCert.run(serial, accountId, sha256, now, notAfter, now, isRevoked ? now : null);
        insertEvent.run('issued', serial, sha256, notAfter, now);
        if (isRevoked) serials.push([serial, sha256]);
      }
      for (const [serial, sha256] of serials) insertEvent.run('revoked', serial, sha256, notAfter, now);
    })();
  } finally {
    db.close();
  }
}
