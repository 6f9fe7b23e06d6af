// Accounts and their API keys (only a hash of each key is stored).
import type { Db } from './db.js';
import { createReadCache, type ChangeTracker } from './read-cache.js';

export interface Account {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly accountId: string;
  readonly keyHash: Buffer;
  readonly revokedAt: string | null;
}

/** An account as `accounts list` shows it: with its keys in force and its zones counted. */
export interface AccountSummary extends Account {
  readonly liveKeys: number;
  readonly zones: number;
}

/** What `keys list` shows of a key: never the key or its hash. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly accountName: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  /** When it last authenticated a request, within a minute (key-use.ts); null if never. */
  readonly lastUsedAt: string | null;
}

interface AccountRow { id: string; name: string; created_at: string }
interface AccountSummaryRow extends AccountRow { live_keys: number; zones: number }
interface ApiKeyInfoRow { id: string; account_name: string; created_at: string; revoked_at: string | null; last_used_at: string | null }
interface ApiKeyRow { id: string; account_id: string; key_hash: Buffer; revoked_at: string | null }

const toAccount = (row: AccountRow): Account => ({ id: row.id, name: row.name, createdAt: row.created_at });

export function createAccountStore(db: Db, tracker: ChangeTracker) {
  const insertAccount = db.prepare('INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)');
  const selectByName = db.prepare<[string], AccountRow>('SELECT id, name, created_at FROM accounts WHERE name = ?');
  const selectById = db.prepare<[string], AccountRow>('SELECT id, name, created_at FROM accounts WHERE id = ?');
  const selectAll = db.prepare<[], AccountRow>('SELECT id, name, created_at FROM accounts ORDER BY name');
  const selectSummaries = db.prepare<[], AccountSummaryRow>(
    `SELECT a.id, a.name, a.created_at,
       (SELECT count(*) FROM api_keys k WHERE k.account_id = a.id AND k.revoked_at IS NULL) AS live_keys,
       (SELECT count(*) FROM zones z WHERE z.account_id = a.id) AS zones
     FROM accounts a ORDER BY a.name`,
  );
  const keyInfoQuery = 'SELECT k.id, a.name AS account_name, k.created_at, k.revoked_at, k.last_used_at FROM api_keys k JOIN accounts a ON a.id = k.account_id';
  const updateKeyUse = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
  const selectKeyInfos = db.prepare<[], ApiKeyInfoRow>(`${keyInfoQuery} ORDER BY a.name, k.created_at, k.id`);
  const selectKeyInfosOf = db.prepare<[string], ApiKeyInfoRow>(`${keyInfoQuery} WHERE k.account_id = ? ORDER BY k.created_at, k.id`);
  const insertKey = db.prepare('INSERT INTO api_keys (id, account_id, key_hash, created_at) VALUES (?, ?, ?, ?)');
  const selectKey = db.prepare<[string], ApiKeyRow>('SELECT id, account_id, key_hash, revoked_at FROM api_keys WHERE id = ?');
  const revokeKey = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  // Read on every API request; cached until any write.
  const cachedAccount = createReadCache(tracker, (id) => {
    const row = selectById.get(id);
    return row && toAccount(row);
  });
  const cachedKey = createReadCache(tracker, (keyId): ApiKeyRecord | undefined => {
    const row = selectKey.get(keyId);
    return row && { id: row.id, accountId: row.account_id, keyHash: row.key_hash, revokedAt: row.revoked_at };
  });

  return {
    /** Inserts an account and its first key together. Returns false if the name is taken. */
    createWithKey(account: Account, keyId: string, keyHash: Buffer): boolean {
      return db.transaction(() => {
        if (selectByName.get(account.name)) return false;
        insertAccount.run(account.id, account.name, account.createdAt);
        insertKey.run(keyId, account.id, keyHash, account.createdAt);
        tracker.touch();
        return true;
      }).immediate();
    },
    byName(name: string): Account | undefined {
      const row = selectByName.get(name);
      return row && toAccount(row);
    },
    byId: cachedAccount,
    list(): Account[] {
      return selectAll.all().map(toAccount);
    },
    summaries(): AccountSummary[] {
      return selectSummaries.all().map((row) => ({ ...toAccount(row), liveKeys: row.live_keys, zones: row.zones }));
    },
    /** Every key, or one account's, oldest first; revoked ones too. */
    keyInfos(accountId?: string): ApiKeyInfo[] {
      const rows = accountId === undefined ? selectKeyInfos.all() : selectKeyInfosOf.all(accountId);
      return rows.map((row) => ({ id: row.id, accountName: row.account_name, createdAt: row.created_at, revokedAt: row.revoked_at, lastUsedAt: row.last_used_at }));
    },
    /** No touch(): no cached read holds it. */
    recordKeyUse(keyId: string, at: string): void {
      updateKeyUse.run(at, keyId);
    },
    addKey(accountId: string, keyId: string, keyHash: Buffer, at: string): void {
      insertKey.run(keyId, accountId, keyHash, at);
      tracker.touch();
    },
    keyById: cachedKey,
    /** Returns false when there is no such live key. */
    revokeKey(keyId: string, at: string): boolean {
      const revoked = revokeKey.run(at, keyId).changes === 1;
      tracker.touch();
      return revoked;
    },
  };
}

export type AccountStore = ReturnType<typeof createAccountStore>;
