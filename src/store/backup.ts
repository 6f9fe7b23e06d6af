// A backup of a CA's state folder that can be taken while `serve` runs: SQLite's online backup
// API copies the database as of one moment (a plain file copy of a WAL database in use can be
// torn), and the roots and the edge CA go with it, keys 0600 in 0700 folders. The backup is
// built beside its destination and renamed into place, so it is either whole or absent.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { statePaths } from './state-folder.js';

export interface BackupResult {
  readonly lastSeq: number;
  readonly certificates: number;
}

export class BackupError extends Error {}

export async function backupStateFolder(stateDir: string, destination: string): Promise<BackupResult> {
  const source = statePaths(stateDir);
  const target = resolve(destination);
  if (!existsSync(source.database)) throw new BackupError(`${source.root} is not a CA's state folder (no data/strictedge.db)`);
  if (existsSync(target)) throw new BackupError(`${target} exists; a backup goes to a new folder`);
  if (!existsSync(dirname(target))) throw new BackupError(`${dirname(target)} does not exist`);
  const building = join(dirname(target), `.${basename(target)}.partial-${randomBytes(4).toString('hex')}`);
  const built = statePaths(building);
  mkdirSync(building, { mode: 0o700 });
  try {
    mkdirSync(built.data, { mode: 0o700 });
    mkdirSync(built.certs, { mode: 0o755 }); // public certificates, as in the state folder
    mkdirSync(built.privateKeys, { mode: 0o700 });
    // Not read-only, like every admin command's connection: one that is leaves -wal and -shm behind.
    const db = new Database(source.database, { fileMustExist: true });
    try {
      // All pages in one step, within one read transaction: in steps (100 pages each by default),
      // any write by serve between steps restarts the copy, so under steady traffic it never ends.
      await db.backup(built.database, { progress: ({ remainingPages }) => remainingPages });
    } finally {
      db.close();
    }
    chmodSync(built.database, 0o600);
    const result = describeBackup(built.database); // what the copy holds, not what the CA holds since
    copyAll(source.certs, built.certs, 0o644, (name) => name.endsWith('.pem'));
    copyAll(source.privateKeys, built.privateKeys, 0o600, (name) => name.endsWith('.key'));
    renameSync(building, target);
    return result;
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
}

function describeBackup(path: string): BackupResult {
  // Read-write, though it only reads, for the same reason.
  const db = new Database(path, { fileMustExist: true });
  try {
    return {
      lastSeq: (db.prepare('SELECT max(seq) AS seq FROM cert_events').get() as { seq: number | null }).seq ?? 0,
      certificates: (db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

function copyAll(from: string, to: string, mode: number, wanted: (name: string) => boolean): void {
  if (!existsSync(from)) return;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (!entry.isFile() || !wanted(entry.name)) continue;
    copyFileSync(join(from, entry.name), join(to, entry.name));
    chmodSync(join(to, entry.name), mode);
  }
}
