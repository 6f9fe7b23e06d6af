// Administration that works on the state folder directly: accounts, API keys, zones.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import type { Account, AccountStore, AccountSummary, ApiKeyInfo } from '../store/accounts.js';
import { SSL_MODES, type SslMode, type Zone, type ZoneStore } from '../store/zones.js';
import type { Clock } from '../clock.js';
import { apiKeyId, newApiKey, newEdgeToken } from './api-keys.js';
import type { EdgeInfo, EdgeStore } from '../store/edges.js';
import { normalizeHostname } from './policy.js';

export interface AdminDeps {
  readonly accounts: AccountStore;
  readonly zones: ZoneStore;
  readonly edges: EdgeStore;
  readonly clock: Clock;
}

export interface NewZone {
  readonly name: string;
  readonly account: string;
  readonly originHttp?: string | undefined;
  readonly originHttps?: string | undefined;
  readonly mode?: string | undefined;
}

const ACCOUNT_NAME = /^[a-z0-9._-]{1,64}$/;

export function checkSslMode(value: unknown): SslMode {
  if (typeof value === 'string' && (SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
  throw new StrictedgeError(Errors.SSL_MODE_INVALID, JSON.stringify(value));
}

/** HOST:PORT with a DNS name, IPv4 address or [IPv6] address, port 1-65535. */
export function checkOrigin(value: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new StrictedgeError(Errors.ORIGIN_INVALID, JSON.stringify(value));
  const host = match[1]!;
  if (host.startsWith('[') ? isIP(host.slice(1, -1)) !== 6 : !isIP(host) && !isHostname(host)) {
    throw new StrictedgeError(Errors.ORIGIN_INVALID, JSON.stringify(value));
  }
  return value;
}

function isHostname(host: string): boolean {
  if (host === 'localhost') return true;
  try {
    return !normalizeHostname(host).startsWith('*.');
  } catch {
    return false;
  }
}

export function checkZoneName(value: string): string {
  let name: string;
  try {
    name = normalizeHostname(value);
  } catch (error) {
    throw new StrictedgeError(Errors.ZONE_NAME_INVALID, JSON.stringify(value), { cause: error });
  }
  if (name.startsWith('*.') || !name.includes('.')) throw new StrictedgeError(Errors.ZONE_NAME_INVALID, JSON.stringify(value));
  return name;
}

export function createAdmin({ accounts, zones, edges, clock }: AdminDeps) {
  function account(name: string): Account {
    const found = accounts.byName(name);
    if (!found) throw new StrictedgeError(Errors.ACCOUNT_NOT_FOUND, JSON.stringify(name));
    return found;
  }

  return {
    account,
    /** Creates an account with one API key; the key is returned once and never stored. */
    createAccount(name: string): { account: Account; apiKey: string } {
      if (!ACCOUNT_NAME.test(name)) throw new StrictedgeError(Errors.ACCOUNT_NAME_INVALID, JSON.stringify(name));
      const created: Account = { id: randomBytes(16).toString('hex'), name, createdAt: clock().toISOString() };
      const key = newApiKey();
      if (!accounts.createWithKey(created, key.id, key.hash)) throw new StrictedgeError(Errors.ACCOUNT_EXISTS, JSON.stringify(name));
      return { account: created, apiKey: key.key };
    },
    createKey(accountName: string): string {
      const key = newApiKey();
      accounts.addKey(account(accountName).id, key.id, key.hash, clock().toISOString());
      return key.key;
    },
    /** Revokes by the whole key or by its 24-hex id. */
    revokeKey(keyOrId: string): void {
      const id = apiKeyId(keyOrId) ?? keyOrId;
      if (!accounts.revokeKey(id, clock().toISOString())) throw new StrictedgeError(Errors.API_KEY_NOT_FOUND);
    },
    addZone(input: NewZone): Zone {
      const now = clock().toISOString();
      const zone: Zone = {
        id: randomBytes(16).toString('hex'),
        accountId: account(input.account).id,
        name: checkZoneName(input.name),
        originHttp: input.originHttp === undefined ? null : checkOrigin(input.originHttp),
        originHttps: input.originHttps === undefined ? null : checkOrigin(input.originHttps),
        sslMode: input.mode === undefined ? 'full' : checkSslMode(input.mode),
        createdAt: now,
        modifiedOn: now,
      };
      const added = zones.add(zone);
      if (!added.added && added.conflict === 'exists') throw new StrictedgeError(Errors.ZONE_EXISTS, JSON.stringify(zone.name));
      if (!added.added) throw new StrictedgeError(Errors.ZONE_OVERLAPS_OTHER_ACCOUNT, `${JSON.stringify(zone.name)} and ${JSON.stringify(added.with)}`);
      return zone;
    },
    /** Registers an edge that may follow the event feed; its token is returned once. */
    createEdge(name: string): string {
      if (!ACCOUNT_NAME.test(name)) throw new StrictedgeError(Errors.ACCOUNT_NAME_INVALID, JSON.stringify(name));
      const token = newEdgeToken();
      if (!edges.add(token.id, name, token.hash, clock().toISOString())) throw new StrictedgeError(Errors.EDGE_EXISTS, JSON.stringify(name));
      return token.key;
    },
    /** Withdraws an edge's token: the CA refuses it from the next request (the feed reads it each time). */
    revokeEdge(name: string): void {
      if (!edges.revoke(name, clock().toISOString())) throw new StrictedgeError(Errors.EDGE_NOT_FOUND, JSON.stringify(name));
    },
    /**
     * Points a zone at other origins by name: each given one replaces the current, and null
     * removes it (the edge then answers 521 for that scheme). A running edge follows within a second.
     */
    setZoneOrigins(name: string, origins: { readonly https?: string | null; readonly http?: string | null }): Zone {
      const zone = zones.byName(checkZoneName(name));
      if (!zone) throw new StrictedgeError(Errors.ZONE_NOT_FOUND, JSON.stringify(name));
      const pick = (given: string | null | undefined, current: string | null) => (given === undefined ? current : given === null ? null : checkOrigin(given));
      const [originHttp, originHttps] = [pick(origins.http, zone.originHttp), pick(origins.https, zone.originHttps)];
      const at = clock().toISOString();
      zones.setOrigins(zone.id, originHttp, originHttps, at);
      return { ...zone, originHttp, originHttps, modifiedOn: at };
    },
    /** Sets a zone's SSL mode by name; a running edge applies it within a second. */
    setZoneMode(name: string, mode: string): Zone {
      const zone = zones.byName(checkZoneName(name));
      if (!zone) throw new StrictedgeError(Errors.ZONE_NOT_FOUND, JSON.stringify(name));
      const sslMode = checkSslMode(mode);
      const at = clock().toISOString();
      zones.setMode(zone.id, sslMode, at);
      return { ...zone, sslMode, modifiedOn: at };
    },
    /**
     * Removes a zone; running edges stop serving it within a second (421). Refused while
     * certificates for it are in force: they are revoked through the API, not here, because only
     * the CA process tells running edges of a revocation.
     */
    removeZone(name: string): Zone {
      const zone = zones.byName(checkZoneName(name));
      if (!zone) throw new StrictedgeError(Errors.ZONE_NOT_FOUND, JSON.stringify(name));
      const inForce = zones.remove(zone.id, clock().toISOString());
      if (inForce.length > 0) {
        const shown = inForce.slice(0, 10).join(', ') + (inForce.length > 10 ? `, and ${inForce.length - 10} more` : '');
        throw new StrictedgeError(Errors.ZONE_HAS_CERTIFICATES, `${inForce.length} for ${zone.name}: ${shown} (strictedge certs revoke ID, with the account's API key)`);
      }
      return zone;
    },
    listZones(accountName?: string): readonly Zone[] {
      return accountName === undefined ? zones.all() : zones.forAccount(account(accountName).id);
    },
    listAccounts(): readonly AccountSummary[] {
      return accounts.summaries();
    },
    /** Every account's keys, or one account's: ids and dates, never a key. */
    listKeys(accountName?: string): readonly ApiKeyInfo[] {
      return accounts.keyInfos(accountName === undefined ? undefined : account(accountName).id);
    },
    listEdges(): readonly EdgeInfo[] {
      return edges.list();
    },
  };
}

export type Admin = ReturnType<typeof createAdmin>;
