// Zones: a registered domain owned by one account, with its origins and SSL mode.
import type { Db } from './db.js';
import { createReadCache, type ChangeTracker } from './read-cache.js';

export const SSL_MODES = ['off', 'flexible', 'full', 'strict', 'origin_pull'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface Zone {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly originHttp: string | null;
  readonly originHttps: string | null;
  readonly sslMode: SslMode;
  readonly createdAt: string;
  readonly modifiedOn: string;
}

interface ZoneRow {
  id: string;
  account_id: string;
  name: string;
  origin_http: string | null;
  origin_https: string | null;
  ssl_mode: SslMode;
  created_at: string;
  modified_on: string;
}

const COLUMNS = 'id, account_id, name, origin_http, origin_https, ssl_mode, created_at, modified_on';
const toZone = (row: ZoneRow): Zone => ({
  id: row.id,
  accountId: row.account_id,
  name: row.name,
  originHttp: row.origin_http,
  originHttps: row.origin_https,
  sslMode: row.ssl_mode,
  createdAt: row.created_at,
  modifiedOn: row.modified_on,
});

export type ZoneAddResult = { readonly added: true } | { readonly added: false; readonly conflict: 'exists' } | { readonly added: false; readonly conflict: 'overlaps'; readonly with: string };

export function createZoneStore(db: Db, tracker: ChangeTracker) {
  const insert = db.prepare(`INSERT INTO zones (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const selectById = db.prepare<[string], ZoneRow>(`SELECT ${COLUMNS} FROM zones WHERE id = ?`);
  const selectByName = db.prepare<[string], ZoneRow>(`SELECT ${COLUMNS} FROM zones WHERE name = ?`);
  const selectByAccount = db.prepare<[string], ZoneRow>(`SELECT ${COLUMNS} FROM zones WHERE account_id = ? ORDER BY name`);
  const selectAll = db.prepare<[], ZoneRow>(`SELECT ${COLUMNS} FROM zones ORDER BY name`);
  // Another account's zone that `name` lies in, or that lies in `name` (a dot-aligned suffix either way).
  const selectOverlapping = db.prepare<{ name: string; account: string }, ZoneRow>(
    `SELECT ${COLUMNS} FROM zones WHERE account_id != @account AND (substr(@name, -length(name) - 1) = '.' || name OR substr(name, -length(@name) - 1) = '.' || @name) ORDER BY name LIMIT 1`,
  );
  const updateMode = db.prepare('UPDATE zones SET ssl_mode = ?, modified_on = ? WHERE id = ?');
  const updateOrigins = db.prepare('UPDATE zones SET origin_http = ?, origin_https = ?, modified_on = ? WHERE id = ?');
  const selectCertificatesInForce = db.prepare<[string, string], { serial: string }>(
    `SELECT c.serial FROM certificate_zones z JOIN certificates c ON c.serial = z.serial
     WHERE z.zone_id = ? AND c.revoked_at IS NULL AND c.expires_on > ? ORDER BY c.created_at, c.serial`,
  );
  const deleteCertificateLinks = db.prepare('DELETE FROM certificate_zones WHERE zone_id = ?');
  const deleteZone = db.prepare('DELETE FROM zones WHERE id = ?');
  // Read on every issuance; cached until any write.
  const cachedForAccount = createReadCache(tracker, (accountId) => selectByAccount.all(accountId).map(toZone));

  return {
    /**
     * Adds the zone unless its name is taken, or it lies in or holds a zone of another account
     * (which would let two accounts have certificates issued for the same names). One account
     * may nest its own zones.
     */
    add(zone: Zone): ZoneAddResult {
      return db.transaction((): ZoneAddResult => {
        if (selectByName.get(zone.name)) return { added: false, conflict: 'exists' };
        const other = selectOverlapping.get({ name: zone.name, account: zone.accountId });
        if (other) return { added: false, conflict: 'overlaps', with: other.name };
        insert.run(zone.id, zone.accountId, zone.name, zone.originHttp, zone.originHttps, zone.sslMode, zone.createdAt, zone.modifiedOn);
        tracker.touch();
        return { added: true };
      }).immediate();
    },
    byId(id: string): Zone | undefined {
      const row = selectById.get(id);
      return row && toZone(row);
    },
    byName(name: string): Zone | undefined {
      const row = selectByName.get(name);
      return row && toZone(row);
    },
    /** The account's zones, by name. The array is shared: do not modify it. */
    forAccount: (accountId: string): readonly Zone[] => cachedForAccount(accountId),
    all(): Zone[] {
      return selectAll.all().map(toZone);
    },
    /**
     * Removes the zone unless certificates for it are still in force (neither revoked nor past
     * `now`): those would stay valid for names the account no longer holds, and another account
     * could then register them. Returns their serials, or none once the zone is gone. The
     * certificates themselves are kept, without their link to the zone.
     */
    remove(id: string, now: string): readonly string[] {
      return db.transaction((): readonly string[] => {
        const inForce = selectCertificatesInForce.all(id, now).map((row) => row.serial);
        if (inForce.length > 0) return inForce;
        deleteCertificateLinks.run(id);
        deleteZone.run(id);
        tracker.touch();
        return [];
      }).immediate();
    },
    setMode(id: string, mode: SslMode, at: string): void {
      updateMode.run(mode, at, id);
      tracker.touch();
    },
    setOrigins(id: string, originHttp: string | null, originHttps: string | null, at: string): void {
      updateOrigins.run(originHttp, originHttps, at, id);
      tracker.touch();
    },
  };
}

export type ZoneStore = ReturnType<typeof createZoneStore>;
