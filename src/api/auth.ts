// Resolves the calling account from X-Auth-User-Service-Key or Authorization: Bearer.
import type { IncomingHttpHeaders } from 'node:http';
import { Errors, StrictedgeError } from '../errors/catalogue.js';
import { apiKeyId, apiKeyMatches } from '../ca/api-keys.js';
import type { Account, AccountStore } from '../store/accounts.js';

export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const serviceKey = headers['x-auth-user-service-key'];
  if (typeof serviceKey === 'string' && serviceKey !== '') return serviceKey.trim();
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  return undefined;
}

/** The calling account, and the id of the key it called with. */
export function authenticate(headers: IncomingHttpHeaders, accounts: AccountStore): { account: Account; keyId: string } {
  const key = presentedKey(headers);
  if (key === undefined) throw new StrictedgeError(Errors.AUTH_MISSING);
  const id = apiKeyId(key);
  const record = id === undefined ? undefined : accounts.keyById(id);
  // Compare whenever a record exists, revoked or not, so timing says nothing about which check failed.
  const matches = record !== undefined && apiKeyMatches(key, record.keyHash);
  if (!record || !matches || record.revokedAt !== null) throw new StrictedgeError(Errors.AUTH_INVALID);
  const account = accounts.byId(record.accountId);
  if (!account) throw new StrictedgeError(Errors.AUTH_INVALID);
  return { account, keyId: record.id };
}
