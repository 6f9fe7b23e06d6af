import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

it('reads config/strictedge.example.yaml as the documented defaults', () => {
  const config = loadConfig(fileURLToPath(new URL('../../../config/strictedge.example.yaml', import.meta.url)));
  assert.deepEqual(config, loadConfig(undefined));
  assert.equal(config.edge.metrics_port, 9464);
});

it('refuses an unknown key and a missing file with one clear message', () => {
  assert.throws(() => loadConfig('/nonexistent/strictedge.yaml'), (error: unknown) => error instanceof ConfigError && /cannot read .*ENOENT/.test(error.message));
});

it('refuses a ticket key rotation between 0 and a second, or over a day, saying the range', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strictedge-config-'));
  try {
    for (const seconds of [0.001, 0.5, 86_401, -1]) {
      const path = join(dir, 'strictedge.yaml');
      writeFileSync(path, `edge:\n  ticket_key_rotation_s: ${seconds}\n`);
      assert.throws(() => loadConfig(path), (error: unknown) => error instanceof ConfigError && /edge\.ticket_key_rotation_s: must be 0 \(never\) or from 1 to 86400 seconds/.test(error.message), String(seconds));
    }
    for (const seconds of [0, 1, 3600, 86_400]) {
      const path = join(dir, 'strictedge.yaml');
      writeFileSync(path, `edge:\n  ticket_key_rotation_s: ${seconds}\n`);
      assert.equal(loadConfig(path).edge.ticket_key_rotation_s, seconds);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('refuses a cap on origin connections that is not a whole number from 0 to a million', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strictedge-config-'));
  try {
    const path = join(dir, 'strictedge.yaml');
    assert.equal(loadConfig(undefined).edge.max_origin_connections, 0, 'no cap by default');
    for (const count of [-1, 2.5, 1_000_001, '"100"']) {
      writeFileSync(path, `edge:\n  max_origin_connections: ${count}\n`);
      assert.throws(() => loadConfig(path), (error: unknown) => error instanceof ConfigError && /edge\.max_origin_connections/.test(error.message), String(count));
    }
    for (const count of [0, 1, 1_000_000]) {
      writeFileSync(path, `edge:\n  max_origin_connections: ${count}\n`);
      assert.equal(loadConfig(path).edge.max_origin_connections, count);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('takes client body and send timeouts of 0 (for ever) to 6000 s, 60 s by default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strictedge-config-'));
  try {
    const path = join(dir, 'strictedge.yaml');
    const defaults = loadConfig(undefined).edge;
    assert.deepEqual([defaults.client_body_timeout_s, defaults.client_send_timeout_s], [60, 60], "nginx's defaults");
    for (const key of ['client_body_timeout_s', 'client_send_timeout_s'] as const) {
      for (const seconds of [-1, 6001, '"60"']) {
        writeFileSync(path, `edge:\n  ${key}: ${seconds}\n`);
        assert.throws(() => loadConfig(path), (error: unknown) => error instanceof ConfigError && new RegExp(`edge\\.${key}`).test(error.message), `${key} ${seconds}`);
      }
      for (const seconds of [0, 0.5, 300, 6000]) {
        writeFileSync(path, `edge:\n  ${key}: ${seconds}\n`);
        assert.equal(loadConfig(path).edge[key], seconds);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('refuses a request body limit that is not a whole number of MiB from 0 to 1 TiB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strictedge-config-'));
  try {
    const path = join(dir, 'strictedge.yaml');
    for (const mib of [-1, 0.5, 1_048_577, '"100"']) {
      writeFileSync(path, `edge:\n  max_request_body_mib: ${mib}\n`);
      assert.throws(() => loadConfig(path), (error: unknown) => error instanceof ConfigError && /edge\.max_request_body_mib/.test(error.message), String(mib));
    }
    for (const mib of [0, 1, 100, 1_048_576]) {
      writeFileSync(path, `edge:\n  max_request_body_mib: ${mib}\n`);
      assert.equal(loadConfig(path).edge.max_request_body_mib, mib);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
