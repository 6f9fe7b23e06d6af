import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'strictedge-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Loads a config file that sets one key under `edge:` to `value` (written as YAML). */
function loadWithEdgeKey(key: string, value: number | string) {
  const path = join(dir, 'strictedge.yaml');
  writeFileSync(path, `edge:\n  ${key}: ${value}\n`);
  return loadConfig(path);
}

/** Asserts that `edge.key` set to `value` is refused with a ConfigError whose message matches `message`. */
function refusesEdgeKey(key: string, value: number | string, message: RegExp = new RegExp(`edge\\.${key}`)): void {
  assert.throws(() => loadWithEdgeKey(key, value), (error: unknown) => error instanceof ConfigError && message.test(error.message), `${key} ${value}`);
}

it('reads config/strictedge.example.yaml as the documented defaults', () => {
  const config = loadConfig(fileURLToPath(new URL('../../../config/strictedge.example.yaml', import.meta.url)));
  assert.deepEqual(config, loadConfig(undefined));
  assert.equal(config.edge.metrics_port, 9464);
});

it('refuses an unknown key and a missing file with one clear message', () => {
  assert.throws(() => loadConfig('/nonexistent/strictedge.yaml'), (error: unknown) => error instanceof ConfigError && /cannot read .*ENOENT/.test(error.message));
});

it('refuses a ticket key rotation between 0 and a second, or over a day, saying the range', () => {
  for (const seconds of [0.001, 0.5, 86_401, -1]) {
    refusesEdgeKey('ticket_key_rotation_s', seconds, /edge\.ticket_key_rotation_s: must be 0 \(never\) or from 1 to 86400 seconds/);
  }
  for (const seconds of [0, 1, 3600, 86_400]) assert.equal(loadWithEdgeKey('ticket_key_rotation_s', seconds).edge.ticket_key_rotation_s, seconds);
});

it('refuses a cap on origin connections that is not a whole number from 0 to a million', () => {
  assert.equal(loadConfig(undefined).edge.max_origin_connections, 0, 'no cap by default');
  for (const count of [-1, 2.5, 1_000_001, '"100"']) refusesEdgeKey('max_origin_connections', count);
  for (const count of [0, 1, 1_000_000]) assert.equal(loadWithEdgeKey('max_origin_connections', count).edge.max_origin_connections, count);
});

it('takes a client header timeout above 0 and body and send timeouts of 0 (for ever) to 6000 s, 60 s by default', () => {
  const defaults = loadConfig(undefined).edge;
  assert.deepEqual([defaults.client_header_timeout_s, defaults.client_body_timeout_s, defaults.client_send_timeout_s], [60, 60, 60], "nginx's defaults");
  for (const seconds of [0, -1, 6001, '"60"']) refusesEdgeKey('client_header_timeout_s', seconds);
  for (const seconds of [0.5, 60, 6000]) assert.equal(loadWithEdgeKey('client_header_timeout_s', seconds).edge.client_header_timeout_s, seconds);
  for (const key of ['client_body_timeout_s', 'client_send_timeout_s'] as const) {
    for (const seconds of [-1, 6001, '"60"']) refusesEdgeKey(key, seconds);
    for (const seconds of [0, 0.5, 300, 6000]) assert.equal(loadWithEdgeKey(key, seconds).edge[key], seconds);
  }
});

it('refuses a request head limit that is not a whole number of KiB from 1 to 1024', () => {
  for (const kib of [0, -1, 1.5, 1025, '"16"']) refusesEdgeKey('max_request_head_kib', kib);
  for (const kib of [1, 16, 64, 1024]) assert.equal(loadWithEdgeKey('max_request_head_kib', kib).edge.max_request_head_kib, kib);
  assert.equal(loadConfig(undefined).edge.max_request_head_kib, 16, "Node's maxHeaderSize by default");
});

it('refuses a request body limit that is not a whole number of MiB from 0 to 1 TiB', () => {
  for (const mib of [-1, 0.5, 1_048_577, '"100"']) refusesEdgeKey('max_request_body_mib', mib);
  for (const mib of [0, 1, 100, 1_048_576]) assert.equal(loadWithEdgeKey('max_request_body_mib', mib).edge.max_request_body_mib, mib);
});
