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
import { createChangeTracker, type ChangeTracker } from './store/read-cache.js';
import { createRevocationIndex, type RevocationIndex } from './revocation/revocation-index.js';
import { openEdgeCa } from './edge/edge-ca.js';
import { createEdge, type AppliedEvent, type Edge, type EdgeOptions } from './edge/edge.js';
import type { AccessLog } from './edge/access-log.js';
import type { CaMetrics, EdgeMetrics } from './metrics/metrics.js';
import type { Logger } from './log.js';
import { ensureStateFolders, statePaths, type StatePaths } from './store/state-folder.js';
import { createZoneStore, type ZoneStore } from './store/zones.js';
import { DEFAULT_MAX_HOSTNAMES } from './ca/policy.js';
import { createCrlService, type CrlService } from './ca/crl.js';
import { createEventWaiter } from './ca/event-waiter.js';
import { createEdgeStore, type EdgeStore } from './store/edges.js';
import type { EdgeFeedDeps } from './api/routes/edge-feed.js';

export interface StateOptions {
  readonly dir: string;
  readonly clock: Clock;
  readonly maxHostnames?: number;
  readonly metrics?: CaMetrics;
}

export interface State {
  readonly paths: StatePaths;
  readonly db: Db;
  readonly accounts: AccountStore;
  readonly zoneStore: ZoneStore;
  readonly certificates: CertificateStore;
  readonly edges: EdgeStore;
  readonly admin: Admin;
  readonly tracker: ChangeTracker;
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
  const edges = createEdgeStore(db);
  return {
    paths,
    db,
    accounts,
    zoneStore,
    certificates: createCertificateStore(db),
    edges,
    admin: createAdmin({ accounts, zones: zoneStore, edges, clock }),
    tracker,
    close: () => db.close(),
  };
}

export interface CaApp extends Omit<State, 'close'> {
  readonly roots: OriginRoots;
  readonly ca: Ca;
  readonly zones: ZoneService;
  readonly crls: CrlService;
  /** What the API serves to separate edges. */
  readonly edgeFeed: EdgeFeedDeps;
  /** Hears every issuance and revocation after it is committed. */
  onCertEvent(listener: (event: AppliedEvent) => void): void;
  close(): Promise<void>;
}

/** Opens the state folder and its roots (creating missing roots) and builds the CA services. */
export async function openCa(options: StateOptions): Promise<CaApp> {
  const state = openState(options);
  try {
    await initRoots(state.paths, options.clock());
    const roots = loadRoots(state.paths);
    const listeners = new Set<(event: AppliedEvent) => void>();
    const crls = createCrlService({ certificates: state.certificates, roots, clock: options.clock });
    const waiter = createEventWaiter();
    const emit = (event: AppliedEvent) => {
      if (event.kind === 'revoked') crls.invalidate();
      waiter.notify();
      listeners.forEach((listener) => listener(event));
    };
    const ca = createCa({
      certificates: state.certificates,
      zones: state.zoneStore,
      roots,
      clock: options.clock,
      maxHostnames: options.maxHostnames ?? DEFAULT_MAX_HOSTNAMES,
      onIssued: (record, seq) => emit({ kind: 'issued', serial: record.serial, sha256: record.sha256, seq, at: record.createdAt }),
      onRevoked: (record, seq) => emit({ kind: 'revoked', serial: record.serial, sha256: record.sha256, seq, at: record.revokedAt! }),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
    options.metrics?.followEdges(() => state.edges.list());
    // A long-running CA checkpoints in the background; one-shot admin commands need not.
    const checkpointer = startCheckpointer(state.db);
    const close = async () => {
      await checkpointer.stop();
      state.close();
    };
    return {
      ...state,
      roots,
      ca,
      zones: createZoneService({ zones: state.zoneStore, clock: options.clock }),
      crls,
      edgeFeed: { edges: state.edges, clock: options.clock, certificates: state.certificates, zones: state.zoneStore, roots, waiter },
      onCertEvent: (listener) => void listeners.add(listener),
      close,
    };
  } catch (error) {
    state.close();
    throw error;
  }
}

/** Applies every certificate event in the store, oldest first, to `index`. */
export function loadIndexFromStore(app: CaApp, index: RevocationIndex): void {
  for (let seq = 0; ; ) {
    const events = app.certificates.eventsSince(seq, 10_000);
    if (events.length === 0) break;
    for (const event of events) index.apply(event);
    seq = events[events.length - 1]!.seq;
  }
}

/**
 * The edge sharing the CA's process and store (the embedded default of `serve`): events reach
 * it in memory as the CA commits them, with no polling delay.
 */
export async function openEmbeddedEdge(app: CaApp, options: EdgeOptions, logger: Logger, clock: Clock, metrics?: EdgeMetrics, accessLog?: AccessLog): Promise<Edge> {
  const index = createRevocationIndex();
  let edge: Edge | undefined;
  // Subscribe before loading: an event committed meanwhile is applied twice, never missed.
  app.onCertEvent((event) => (edge ? edge.applyCertEvent(event) : index.apply(event)));
  loadIndexFromStore(app, index);
  edge = createEdge({
    originRootsPem: [app.roots.ecdsa.certPem, app.roots.rsa.certPem],
    edgeCa: await openEdgeCa(app.paths, clock),
    index,
    loadZones: () => app.zoneStore.all(),
    zonesStamp: () => app.tracker.stamp(),
    logger,
    options,
    initialSeq: app.certificates.lastSeq(),
    clock,
    ...(metrics ? { metrics } : {}),
    ...(accessLog ? { accessLog } : {}),
  });
  return edge;
}
