import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { Errors } from '../../src/errors/catalogue.js';

it('gives every error a unique code, an HTTP status and a line in docs/errors.md', () => {
  const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const codes = new Set<number>();
  for (const [key, def] of Object.entries(Errors)) {
    assert.ok(!codes.has(def.code), `${key}: code ${def.code} is used twice`);
    codes.add(def.code);
    assert.ok(def.http >= 400 && def.http < 600, `${key}: status ${def.http}`);
    assert.match(docs, new RegExp(`\\| ${def.code} \\| ${def.http} \\| ${key} \\|`), `${key} (${def.code}) is not documented`);
  }
});
