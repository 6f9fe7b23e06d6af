// Zone reads and SSL-mode changes on behalf of an account.
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import type { Account } from '../store/accounts.js';
import type { SslMode, Zone, ZoneStore } from '../store/zones.js';
import type { Clock } from '../clock.js';
import { checkSslMode } from './admin.js';

export interface ZoneServiceDeps {
  readonly zones: ZoneStore;
  readonly clock: Clock;
  /** Called after a mode change is committed (the edge applies it). */
  readonly onModeChanged?: (zone: Zone) => void;
}

export function createZoneService({ zones, clock, onModeChanged }: ZoneServiceDeps) {
  function get(account: Account, zoneId: string): Zone {
    const zone = zones.byId(zoneId);
    // Another account's zone is reported exactly like a missing one.
    if (!zone || zone.accountId !== account.id) throw new StrictedgeError(Errors.ZONE_NOT_FOUND);
    return zone;
  }
  return {
    list: (account: Account): readonly Zone[] => zones.forAccount(account.id),
    get,
    setSslMode(account: Account, zoneId: string, value: unknown): Zone {
      const zone = get(account, zoneId);
      const mode: SslMode = checkSslMode(value);
      const modifiedOn = clock().toISOString();
      zones.setMode(zone.id, mode, modifiedOn);
      const updated = { ...zone, sslMode: mode, modifiedOn };
      onModeChanged?.(updated);
      return updated;
    },
  };
}

export type ZoneService = ReturnType<typeof createZoneService>;
