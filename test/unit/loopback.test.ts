// Which addresses count as this machine, for the warnings about API keys and edge tokens in clear.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isLoopbackHost } from '../../src/cli/listen.js';

it('counts 127.0.0.0/8, ::1 and localhost as this machine, and nothing else', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '128.0.0.1', 'ca.example.test', 'localhost.example.test', '127.0.0.1.example.test', '']) assert.equal(isLoopbackHost(host), false, host);
});
