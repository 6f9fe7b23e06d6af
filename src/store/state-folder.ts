// Where strictedge keeps its state, and how it writes files there: private files are
// created 0600 in 0700 folders, and every file appears whole (write to a temp name, rename).
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

export interface StatePaths {
  readonly root: string;
  readonly certs: string;
  readonly privateKeys: string;
  readonly data: string;
  readonly database: string;
  /** Held by the one long-running process (serve or edge) the folder may have (state-lock.ts). */
  readonly lock: string;
  readonly demoApiKey: string;
  rootCert(keyType: 'ecdsa' | 'rsa'): string;
  rootKey(keyType: 'ecdsa' | 'rsa'): string;
  readonly edgeCaCert: string;
  readonly edgeCaKey: string;
}

const ROOT_FILE = { ecdsa: 'origin-ecc-root', rsa: 'origin-rsa-root' } as const;

export function statePaths(dir: string): StatePaths {
  const root = resolve(dir);
  const certs = join(root, 'certs');
  const privateKeys = join(certs, 'private');
  const data = join(root, 'data');
  return {
    root,
    certs,
    privateKeys,
    data,
    database: join(data, 'strictedge.db'),
    lock: join(data, 'state.lock'),
    demoApiKey: join(data, 'demo-api-key'),
    rootCert: (keyType) => join(certs, `${ROOT_FILE[keyType]}.pem`),
    rootKey: (keyType) => join(privateKeys, `${ROOT_FILE[keyType]}.key`),
    edgeCaCert: join(certs, 'edge-ca.pem'),
    edgeCaKey: join(privateKeys, 'edge-ca.key'),
  };
}

export function ensureStateFolders(paths: StatePaths): void {
  mkdirSync(paths.certs, { recursive: true });
  mkdirSync(paths.privateKeys, { recursive: true, mode: 0o700 });
  chmodSync(paths.privateKeys, 0o700);
  mkdirSync(paths.data, { recursive: true, mode: 0o700 });
}

export interface WriteOptions {
  /** 0o600 for anything secret. */
  readonly mode: number;
  /** Refuse to replace an existing file. */
  readonly exclusive?: boolean;
}

/** Writes a file so that it is either absent or complete, with `mode` from the first byte. */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], options: WriteOptions): void {
  mkdirSync(dirname(path), { recursive: true });
  // A short temporary name beside the target, so that a target name near the 255-byte limit still works.
  const temp = join(dirname(path), `.strictedge-${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', options.mode);
  try {
    for (const chunk of typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data) {
      for (let offset = 0; offset < chunk.length; ) offset += writeSync(fd, chunk, offset);
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    if (options.exclusive) {
      // link() fails with EEXIST if the target exists: nothing already there is replaced.
      linkSync(temp, path);
    } else {
      renameSync(temp, path);
    }
  } finally {
    rmSync(temp, { force: true });
  }
}
