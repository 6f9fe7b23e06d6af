// The dashboard's install guides (pure): every server names the files in the chosen folder,
// uses the chosen port, and ends by telling the user to switch the zone to strict.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { installGuide, SERVERS } from '../../web/src/instructions.js';

const ctx = { hostnames: ['shop.test', '*.shop.test'], dir: '/srv/tls/', base: 'shop.test', port: 8443, upstream: '127.0.0.1:3000', zone: 'shop.test' };

describe('install guides', () => {
  for (const [id, name] of SERVERS) {
    it(`${name}: files in the chosen folder, the chosen port, strict at the end`, () => {
      const guide = installGuide(id, ctx);
      const all = guide.steps.map((step) => (step.kind === 'text' ? step.text : step.code)).join('\n');
      // IIS imports a PFX into the Windows certificate store: no folder on the server.
      if (id !== 'iis') assert.match(all, /\/srv\/tls\/shop\.test\.(pem|key|p12|haproxy\.pem)/);
      assert.doesNotMatch(all, /\/srv\/tls\/\//, 'no doubled slash from the trailing one typed in');
      assert.match(all, /8443/);
      const last = guide.steps.at(-1)!;
      assert.equal(last.kind, 'text');
      assert.match(last.kind === 'text' ? last.text : '', /switch shop\.test to "strict"/);
    });
  }

  it('IIS and Tomcat explain why the .p7b alone is not enough for a key made in the browser', () => {
    for (const id of ['iis', 'tomcat'] as const) {
      const all = installGuide(id, ctx).steps.map((step) => (step.kind === 'text' ? step.text : step.code)).join('\n');
      assert.match(all, /\.p7b/);
      assert.match(all, /openssl pkcs12 -export -in shop\.test\.pem -inkey shop\.test\.key/);
    }
  });

  it('Apache adds a Listen line only off port 443 (Debian already listens there)', () => {
    const code = (port: number) => installGuide('apache', { ...ctx, port }).steps.flatMap((s) => (s.kind === 'file' ? [s.code] : [])).join('');
    assert.match(code(8443), /^Listen 8443$/m);
    assert.doesNotMatch(code(443), /^Listen/m);
  });
});
