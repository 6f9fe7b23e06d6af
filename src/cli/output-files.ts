// Writes a command's output files all or nothing: each appears whole, and if one cannot be
// written the ones already written by this call are removed again.
import { accessSync, constants, existsSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../store/state-folder.js';
import { UsageError } from './args.js';

export interface OutputFile {
  readonly path: string;
  readonly data: string | Uint8Array;
  readonly mode: number;
}

/**
 * Refuses, before any work is done, an output that could not be written: an existing file
 * (without -overwrite), a folder in its place, or a path whose nearest existing folder is a file
 * or not writable. getcert calls this before it has a certificate issued that it could not save.
 * Missing folders are fine: writeFileAtomic creates them.
 */
export function checkOutputs(paths: readonly string[], overwrite: boolean): void {
  for (const path of paths) {
    const found = lookUp(path);
    if (found?.isDirectory()) throw new UsageError(`${path} is a folder; name a file to write`);
    if (found && !overwrite) throw new UsageError(`${path} exists; pass -overwrite to replace it`);
    let folder = dirname(resolve(path));
    while (!existsSync(folder)) folder = dirname(folder);
    if (!statSync(folder).isDirectory()) throw new UsageError(`cannot write ${path}: ${folder} is not a folder`);
    try {
      accessSync(folder, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw new UsageError(`cannot write ${path}: ${folder} is not writable (${(error as NodeJS.ErrnoException).code})`);
    }
  }
}

function lookUp(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return undefined; // a file on the way: said below, by name
    throw new UsageError(`cannot write ${path}: ${code ?? (error as Error).message}`);
  }
}

export function writeOutputs(files: readonly OutputFile[], overwrite: boolean): void {
  const written: string[] = [];
  for (const file of files) {
    try {
      writeFileAtomic(file.path, file.data, { mode: file.mode, exclusive: !overwrite });
      written.push(file.path);
    } catch (error) {
      // Only files created by this call are removed; with -overwrite the old ones are already gone.
      for (const path of written) rmSync(path, { force: true });
      const { code, syscall } = error as NodeJS.ErrnoException;
      // link() is the exclusive write's last step: EEXIST there means something took the name since checkOutputs.
      const why = code === 'EEXIST' && syscall === 'link' ? 'it appeared while writing' : (code ?? (error as Error).message);
      throw new UsageError(`cannot write ${file.path}: ${why}; nothing was saved`);
    }
  }
}
