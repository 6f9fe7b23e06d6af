// Wires the CA from a state folder: database, stores, roots, services. Nothing listens here.
import { initRoots, loadRoots, type OriginRoots } from './ca/roots.js';
import { createAdmin, type Admin } from './ca/admin.js';
import { createCa, type Ca } from './ca/service.js';
import { createZoneService, type ZoneService } from './ca/zones.js';
import type { Clock } from './clock.js';
import { createAccountStore, type AccountStore } from './store/accounts.js';
import { createCertificateStore, type CertificateStore } from './store/certificates.js';
import { openDatabase, type Db } from './store/db.js';
import { startCheckpointer } from './store/checkpointer.js';
import { createChangeTracker } from './store/read-cache.js';
import { ensureStateFolders, statePaths, type StatePaths } from './store/state-folder.js';
import { createZoneStore, type ZoneStore } from './store/zones.js';
import { DEFAULT_MAX_HOSTNAMES } from './ca/policy.js';

export interface StateOptions {
  readonly dir: string;
  readonly clock: Clock;
  readonly maxHostnames?: number;
}

export interface State {
  readonly paths: StatePaths;
  readonly db: Db;
  readonly accounts: AccountStore;
  readonly zoneStore: ZoneStore;
  readonly certificates: CertificateStore;
  readonly admin: Admin;
  close(): void;
}

/** Opens the database of a state folder (creating folders and schema as needed). */
export function openState({ dir, clock }: StateOptions): State {
  const paths = statePaths(dir);
  ensureStateFolders(paths);
  const db = openDatabase(paths.database);
  const tracker = createChangeTracker(db);
  const accounts = createAccountStore(db, tracker);
  const zoneStore = createZoneStore(db, tracker);
  return {
    paths,
    db,
    accounts,
    zoneStore,
    certificates: createCertificateStore(db),
    admin: createAdmin({ accounts, zones: zoneStore, clock }),
    close: () => db.close(),
  };
}

export interface CaApp extends Omit<State, 'close'> {
  readonly roots: OriginRoots;
  readonly ca: Ca;
  readonly zones: ZoneService;
  close(): Promise<void>;
}

/** Opens the state folder and its roots (creating missing roots) and builds the CA services. */
export async function openCa(options: StateOptions): Promise<CaApp> {
  const state = openState(options);
  try {
    await initRoots(state.paths, options.clock());
    const roots = loadRoots(state.paths);
    const ca = createCa({
      certificates: state.certificates,
      zones: state.zoneStore,
      roots,
      clock: options.clock,
      maxHostnames: options.maxHostnames ?? DEFAULT_MAX_HOSTNAMES,
    });
    // A long-running CA checkpoints in the background; one-shot admin commands need not.
    const checkpointer = startCheckpointer(state.db);
    const close = async () => {
      await checkpointer.stop();
      state.close();
    };
    return { ...state, roots, ca, zones: createZoneService({ zones: state.zoneStore, clock: options.clock }), close };
  } catch (error) {
    state.close();
    throw error;
  }
}
