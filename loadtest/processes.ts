// The child processes a benchmark starts, and one way to end them all: SIGTERM, wait for each
// to exit (they may be saving state), then remove the work folder. Ctrl-C (or SIGTERM) does the same;
// a crash kills them.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function createBenchWorkspace(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const children: ChildProcess[] = [];
  let stopped: Promise<void> | undefined;
  const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
  const stopAll = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (!alive(child)) return resolve();
              const force = setTimeout(() => child.kill('SIGKILL'), 5000);
              child.once('exit', () => {
                clearTimeout(force);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    })());
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      void stopAll().finally(() => process.exit(code));
    });
  }
  // Nobody reads the progress any more (`npm run loadtest | head`): stop as for SIGPIPE, rather
  // than crash on the write error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      void stopAll().finally(() => process.exit(141));
    });
  }
  // Any other way out (a crash included) still runs 'exit', where only synchronous work happens.
  process.once('exit', () => {
    for (const child of children) if (alive(child)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    /** True once stopAll began: a child exiting now was stopped, not crashed. */
    get stopping() {
      return stopped !== undefined;
    },
    track<T extends ChildProcess>(child: T): T {
      children.push(child);
      return child;
    },
    stopAll,
  };
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs a benchmark's main, reports a crash as a non-zero exit, and always cleans up. */
export function runBenchmark(main: () => Promise<void>, workspace: { readonly stopping: boolean; stopAll(): Promise<void> }): void {
  main()
    .catch((error) => {
      if (workspace.stopping) return; // Ctrl-C: the children it stopped are not the news
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => workspace.stopAll());
}
