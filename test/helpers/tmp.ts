// Temporary folders that remove themselves when the suite ends. Call from a suite body
// or a test, not from a before() hook (an after() registered there runs right away).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export function tempDir(prefix = 'strictedge-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  after(remove);
  // Again at exit: a child process stopped by a later after() hook may still write into it.
  process.once('exit', remove);
  return dir;
}
