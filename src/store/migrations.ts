// Numbered schema migrations. Append new ones; never edit one that has shipped.
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, keys, zones, certificates and the certificate event feed
  `
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE INDEX api_keys_account ON api_keys(account_id);
  CREATE TABLE zones (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL UNIQUE,
    origin_http TEXT,
    origin_https TEXT,
    ssl_mode TEXT NOT NULL DEFAULT 'full' CHECK (ssl_mode IN ('off', 'flexible', 'full', 'strict', 'origin_pull')),
    created_at TEXT NOT NULL,
    modified_on TEXT NOT NULL
  );
  CREATE INDEX zones_account ON zones(account_id);
  CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    request_type TEXT NOT NULL CHECK (request_type IN ('origin-rsa', 'origin-ecc')),
    requested_validity INTEGER NOT NULL,
    hostnames TEXT NOT NULL,
    csr TEXT NOT NULL,
    pem TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    not_before TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE INDEX certificates_account ON certificates(account_id, created_at, serial);
  CREATE TABLE certificate_zones (
    zone_id TEXT NOT NULL REFERENCES zones(id),
    serial TEXT NOT NULL REFERENCES certificates(serial),
    PRIMARY KEY (zone_id, serial)
  ) WITHOUT ROWID;
  CREATE TABLE cert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('issued', 'revoked')),
    serial TEXT NOT NULL REFERENCES certificates(serial),
    sha256 TEXT NOT NULL,
    not_after TEXT NOT NULL,
    at TEXT NOT NULL
  );
  `,
  // 2: edges that follow the certificate event feed, each with a token (hash only)
  `
  CREATE TABLE edges (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  `,
  // 3: when each edge last asked for events, and the seq it asked after (what it has applied)
  `
  ALTER TABLE edges ADD COLUMN last_contact_at TEXT;
  ALTER TABLE edges ADD COLUMN applied_seq INTEGER;
  `,
  // 4: when each API key was last used (to the minute), for operators rotating keys
  `
  ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;
  `,
];
