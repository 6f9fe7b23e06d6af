// The two Origin CA roots in the state folder: loaded, or created on first start.
import { existsSync, readFileSync } from 'node:fs';
import { generateRoot, loadRoot, type OriginRoot } from '../pki/root.js';
import type { KeyType } from '../pki/profile.js';
import { ensureStateFolders, writeFileAtomic, type StatePaths } from '../store/state-folder.js';

export type OriginRoots = Readonly<Record<KeyType, OriginRoot>>;
export const KEY_TYPES: readonly KeyType[] = ['ecdsa', 'rsa'];

/** Creates whichever root is missing. Returns the key types it created. */
export async function initRoots(paths: StatePaths, now: Date): Promise<KeyType[]> {
  ensureStateFolders(paths);
  const created: KeyType[] = [];
  for (const keyType of KEY_TYPES) {
    const certExists = existsSync(paths.rootCert(keyType));
    const keyExists = existsSync(paths.rootKey(keyType));
    if (certExists && keyExists) continue;
    if (certExists !== keyExists) {
      throw new Error(`only one of ${paths.rootCert(keyType)} and ${paths.rootKey(keyType)} exists; restore the other or remove both`);
    }
    const root = await generateRoot(keyType, now);
    // Key first: a certificate without its key would block the next start.
    writeFileAtomic(paths.rootKey(keyType), root.keyPem, { mode: 0o600, exclusive: true });
    writeFileAtomic(paths.rootCert(keyType), root.certPem, { mode: 0o644, exclusive: true });
    created.push(keyType);
  }
  return created;
}

export function loadRoots(paths: StatePaths): OriginRoots {
  const load = (keyType: KeyType) => loadRoot(readFileSync(paths.rootCert(keyType), 'utf8'), readFileSync(paths.rootKey(keyType), 'utf8'));
  return { ecdsa: load('ecdsa'), rsa: load('rsa') };
}
