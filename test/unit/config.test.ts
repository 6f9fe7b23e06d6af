import assert from 'node:assert/strict';
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
