// Writes a command's output files all or nothing: each appears whole, and if one cannot be
// written the ones already written by this call are removed again.
import { existsSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../store/state-folder.js';
import { UsageError } from './args.js';

export interface OutputFile {
  readonly path: string;
  readonly data: string | Uint8Array;
  readonly mode: number;
}

export function refuseExisting(paths: readonly string[], overwrite: boolean): void {
  if (overwrite) return;
  for (const path of paths) if (existsSync(path)) throw new UsageError(`${path} exists; pass -overwrite to replace it`);
}

export function writeOutputs(files: readonly OutputFile[], overwrite: boolean): void {
  const written: string[] = [];
  try {
    for (const file of files) {
      writeFileAtomic(file.path, file.data, { mode: file.mode, exclusive: !overwrite });
      written.push(file.path);
    }
  } catch (error) {
    // Only files created by this call are removed; with -overwrite the old ones are already gone.
    for (const path of written) rmSync(path, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'EEXIST' ? `a file appeared while writing; nothing was saved` : `cannot write output: ${(error as Error).message}`);
  }
}
