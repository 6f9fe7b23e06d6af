// `serve --workers N`: the edge's listeners run in N node:cluster workers sharing the ports
// (the primary accepts and hands connections round-robin). The primary keeps the CA, the API
// and the only database writer; it forwards every certificate event to every worker over IPC,
// and answers /metrics with the sum of the workers' edge metrics (prom-client's aggregator).
// Workers read zones and the index from the same SQLite file and see zone changes through its
// data_version, as the embedded edge does.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { AppliedEvent } from './edge.js';
import type { Logger } from '../log.js';
import type { MetricsSource } from '../metrics/server.js';
import { withServerNodeFlags } from '../node-flags.js';
import { rotateTicketKeys } from './ticket-keys.js';

export const WORKER_MESSAGES = { certEvent: 'strictedge:cert-event', listening: 'strictedge:listening', ticketKeys: 'strictedge:ticket-keys', reopenAccessLog: 'strictedge:reopen-access-log' } as const;

export interface ListeningPorts {
  readonly http: number;
  readonly https: number;
}

export interface EdgeWorkers {
  /** Resolves once every worker listens, with the ports they share. */
  readonly listening: Promise<ListeningPorts>;
  forward(event: AppliedEvent): void;
  /** Tells every worker to reopen its access log (the primary writes none). */
  reopenAccessLogs(): void;
  readonly metrics: MetricsSource;
  /** SIGTERMs every worker, which drains for up to graceMs; one still running 5 s later is killed. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Every `ticketKeyRotationMs` (none when 0) the primary makes new session ticket keys and gives
 * them to every listening worker, so that a client's ticket resumes on whichever worker its
 * next connection reaches (Node's cluster shares only the first worker's keys, once).
 */
export function startEdgeWorkers(count: number, logger: Logger, ticketKeyRotationMs = 0): EdgeWorkers {
  const workers = new Set<Worker>();
  const listeningWorkers = new Set<Worker>();
  let ticketKeys: Buffer | undefined;
  // Sent only once a worker listens: Node's cluster sets the first worker's keys on each worker
  // as it starts listening, and would undo keys given before.
  const sendTicketKeys = (worker: Worker) => {
    if (ticketKeys && worker.isConnected()) worker.send({ type: WORKER_MESSAGES.ticketKeys, keys: ticketKeys.toString('base64') });
  };
  const rotation = rotateTicketKeys((keys) => {
    ticketKeys = keys;
    for (const worker of listeningWorkers) sendTicketKeys(worker);
  }, ticketKeyRotationMs);
  let stopping = false;
  let resolveListening!: (ports: ListeningPorts) => void;
  let rejectListening!: (error: Error) => void;
  const listening = new Promise<ListeningPorts>((resolve, reject) => ((resolveListening = resolve), (rejectListening = reject)));
  let ready = 0;

  // Workers carry the traffic: they get the server's V8 flags even when the primary was started without them.
  cluster.setupPrimary({ execArgv: withServerNodeFlags(process.execArgv) });
  const fork = () => {
    const worker = cluster.fork({ STRICTEDGE_EDGE_WORKER: '1' });
    workers.add(worker);
    worker.on('message', (message: { type?: string } & Partial<ListeningPorts>) => {
      if (message?.type !== WORKER_MESSAGES.listening) return;
      listeningWorkers.add(worker);
      sendTicketKeys(worker);
      if (++ready === count) resolveListening({ http: message.http!, https: message.https! });
    });
    worker.once('exit', (code, signal) => {
      workers.delete(worker);
      listeningWorkers.delete(worker);
      if (stopping) return;
      if (ready < count) return rejectListening(new Error(`edge worker exited with ${signal ?? code} before listening`));
      // A crashed worker is replaced; its connections are lost, the others carry on.
      logger.log('error', 'edge worker exited; starting another', { code, signal });
      fork();
    });
  };
  for (let i = 0; i < count; i++) fork();

  const aggregator = new AggregatorRegistry();
  return {
    listening,
    forward(event) {
      for (const worker of workers) if (worker.isConnected()) worker.send({ type: WORKER_MESSAGES.certEvent, event });
    },
    reopenAccessLogs() {
      for (const worker of workers) if (worker.isConnected()) worker.send({ type: WORKER_MESSAGES.reopenAccessLog });
    },
    metrics: { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType },
    async stop(graceMs) {
      stopping = true;
      rotation.stop();
      await Promise.all(
        [...workers].map(
          (worker) =>
            new Promise<void>((resolve) => {
              const force = setTimeout(() => worker.kill('SIGKILL'), graceMs + 5000);
              worker.once('exit', () => {
                clearTimeout(force);
                resolve();
              });
              worker.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

/** In a worker: applies forwarded events (buffered until the edge exists). */
export function receiveCertEvents(): { attach(apply: (event: AppliedEvent) => void): void } {
  const pending: AppliedEvent[] = [];
  let apply: ((event: AppliedEvent) => void) | undefined;
  process.on('message', (message: { type?: string; event?: AppliedEvent }) => {
    if (message?.type !== WORKER_MESSAGES.certEvent || !message.event) return;
    if (apply) apply(message.event);
    else pending.push(message.event);
  });
  return {
    attach(fn) {
      apply = fn;
      for (const event of pending.splice(0)) fn(event);
    },
  };
}

/** In a worker: applies the session ticket keys the primary sends (see startEdgeWorkers). */
export function receiveTicketKeys(apply: (keys: Buffer) => void): void {
  process.on('message', (message: { type?: string; keys?: string }) => {
    if (message?.type === WORKER_MESSAGES.ticketKeys && typeof message.keys === 'string') apply(Buffer.from(message.keys, 'base64'));
  });
}

/** In a worker: reopens the access log when the primary says to. */
export function receiveReopenAccessLog(reopen: () => void): void {
  process.on('message', (message: { type?: string }) => message?.type === WORKER_MESSAGES.reopenAccessLog && reopen());
}

export function isEdgeWorker(): boolean {
  return cluster.isWorker && process.env.STRICTEDGE_EDGE_WORKER === '1';
}
