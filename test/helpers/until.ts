// Polls a condition every 20 ms until it holds, failing the test with `what` after timeoutMs.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await sleep(20);
  }
}
