// Certificates, the zones each one covers, and the append-only event feed edges follow.
// An issuance or a revocation writes its row and its event in one transaction.
import type { Db } from './db.js';

export interface CertificateRecord {
  readonly serial: string;
  readonly accountId: string;
  readonly requestType: 'origin-rsa' | 'origin-ecc';
  readonly requestedValidity: number;
  readonly hostnames: readonly string[];
  readonly csr: string;
  readonly pem: string;
  readonly sha256: string;
  readonly notBefore: string;
  readonly expiresOn: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

interface CertificateRow {
  serial: string;
  account_id: string;
  request_type: 'origin-rsa' | 'origin-ecc';
  requested_validity: number;
  hostnames: string;
  csr: string;
  pem: string;
  sha256: string;
  not_before: string;
  expires_on: string;
  created_at: string;
  revoked_at: string | null;
}

export interface CertEvent {
  readonly seq: number;
  readonly kind: 'issued' | 'revoked';
  readonly serial: string;
  readonly sha256: string;
  readonly notAfter: string;
  readonly at: string;
}

const COLUMNS = 'serial, account_id, request_type, requested_validity, hostnames, csr, pem, sha256, not_before, expires_on, created_at, revoked_at';
const toRecord = (row: CertificateRow): CertificateRecord => ({
  serial: row.serial,
  accountId: row.account_id,
  requestType: row.request_type,
  requestedValidity: row.requested_validity,
  hostnames: JSON.parse(row.hostnames) as string[],
  csr: row.csr,
  pem: row.pem,
  sha256: row.sha256,
  notBefore: row.not_before,
  expiresOn: row.expires_on,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export function createCertificateStore(db: Db) {
  const insert = db.prepare(`INSERT INTO certificates (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`);
  const insertZone = db.prepare('INSERT INTO certificate_zones (zone_id, serial) VALUES (?, ?)');
  const insertEvent = db.prepare('INSERT INTO cert_events (kind, serial, sha256, not_after, at) VALUES (?, ?, ?, ?, ?)');
  const selectOne = db.prepare<[string, string], CertificateRow>(`SELECT ${COLUMNS} FROM certificates WHERE serial = ? AND account_id = ?`);
  const selectPage = db.prepare<[string, number, number], CertificateRow>(
    `SELECT ${COLUMNS} FROM certificates WHERE account_id = ? ORDER BY created_at, serial LIMIT ? OFFSET ?`,
  );
  const countAll = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM certificates WHERE account_id = ?');
  const selectZonePage = db.prepare<[string, string, number, number], CertificateRow>(
    `SELECT ${COLUMNS.split(', ').map((c) => `c.${c}`).join(', ')} FROM certificate_zones z JOIN certificates c ON c.serial = z.serial
     WHERE z.zone_id = ? AND c.account_id = ? ORDER BY c.created_at, c.serial LIMIT ? OFFSET ?`,
  );
  const countZone = db.prepare<[string, string], { n: number }>(
    'SELECT count(*) AS n FROM certificate_zones z JOIN certificates c ON c.serial = z.serial WHERE z.zone_id = ? AND c.account_id = ?',
  );
  const markRevoked = db.prepare('UPDATE certificates SET revoked_at = ? WHERE serial = ? AND revoked_at IS NULL');
  const selectRevoked = db.prepare<[string], { serial: string; revoked_at: string }>(
    'SELECT serial, revoked_at FROM certificates WHERE request_type = ? AND revoked_at IS NOT NULL ORDER BY revoked_at, serial',
  );
  const selectLastSeq = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM cert_events');
  const selectEventAt = db.prepare<[number], { kind: 'issued' | 'revoked'; sha256: string }>('SELECT kind, sha256 FROM cert_events WHERE seq = ?');
  const selectEvents = db.prepare<[number, number], { seq: number; kind: 'issued' | 'revoked'; serial: string; sha256: string; not_after: string; at: string }>(
    'SELECT seq, kind, serial, sha256, not_after, at FROM cert_events WHERE seq > ? ORDER BY seq LIMIT ?',
  );

  return {
    /** Writes the certificate, its zones and its `issued` event, all or nothing; returns the event's seq. */
    insert(record: CertificateRecord, zoneIds: readonly string[]): number {
      return db.transaction(() => {
        insert.run(
          record.serial, record.accountId, record.requestType, record.requestedValidity, JSON.stringify(record.hostnames),
          record.csr, record.pem, record.sha256, record.notBefore, record.expiresOn, record.createdAt,
        );
        for (const zoneId of zoneIds) insertZone.run(zoneId, record.serial);
        return Number(insertEvent.run('issued', record.serial, record.sha256, record.expiresOn, record.createdAt).lastInsertRowid);
      })();
    },
    /** The account's certificate, or undefined: another account's certificate is never returned. */
    get(serial: string, accountId: string): CertificateRecord | undefined {
      const row = selectOne.get(serial, accountId);
      return row && toRecord(row);
    },
    page(accountId: string, zoneId: string | undefined, limit: number, offset: number): { records: CertificateRecord[]; total: number } {
      return zoneId
        ? { records: selectZonePage.all(zoneId, accountId, limit, offset).map(toRecord), total: countZone.get(zoneId, accountId)!.n }
        : { records: selectPage.all(accountId, limit, offset).map(toRecord), total: countAll.get(accountId)!.n };
    },
    /** Marks the certificate revoked and appends the event; its seq, or undefined if it was already revoked. */
    revoke(record: CertificateRecord, at: string): number | undefined {
      return db.transaction(() => {
        if (markRevoked.run(at, record.serial).changes !== 1) return undefined;
        return Number(insertEvent.run('revoked', record.serial, record.sha256, record.expiresOn, at).lastInsertRowid);
      }).immediate();
    },
    /** Every revoked certificate of one request type, for its root's CRL. */
    revoked(requestType: 'origin-rsa' | 'origin-ecc'): { serial: string; revokedAt: string }[] {
      return selectRevoked.all(requestType).map((row) => ({ serial: row.serial, revokedAt: row.revoked_at }));
    },
    lastSeq(): number {
      return selectLastSeq.get()!.seq ?? 0;
    },
    /** What the event with this seq was, to tell whether a follower's history is this store's. */
    eventAt(seq: number): Pick<CertEvent, 'kind' | 'sha256'> | undefined {
      return selectEventAt.get(seq);
    },
    eventsSince(seq: number, limit: number): CertEvent[] {
      return selectEvents.all(seq, limit).map((row) => ({ seq: row.seq, kind: row.kind, serial: row.serial, sha256: row.sha256, notAfter: row.not_after, at: row.at }));
    },
  };
}

export type CertificateStore = ReturnType<typeof createCertificateStore>;
