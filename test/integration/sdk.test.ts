// The official `cloudflare` npm SDK, unchanged but for its base URL, against our API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Cloudflare from 'cloudflare';
import { startTestCa, type TestCa } from '../helpers/ca.js';
import { opensslCsr } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

describe('cloudflare SDK compatibility', () => {
  const dir = tempDir();
  let ca: TestCa;
  let account: { key: string; zoneIds: Record<string, string> };
  after(() => ca?.close());
  before(async () => {
    ca = await startTestCa(dir);
    account = ca.account('sdk', ['sdk.test', 'other-sdk.test']);
  });

  for (const auth of ['userServiceKey', 'apiToken'] as const) {
    it(`creates, gets, lists with auto-pagination and revokes with ${auth}`, async () => {
      const client = new Cloudflare({ baseURL: ca.api, [auth]: account.key, maxRetries: 0 });
      const { csr } = opensslCsr(dir, 'p256', auth);
      const created = await client.originCACertificates.create({ csr, hostnames: ['sdk.test', '*.sdk.test'], request_type: 'origin-ecc', requested_validity: 7 });
      assert.match(created.id!, /^[0-9a-f]{32}$/);
      assert.deepEqual(created.hostnames, ['sdk.test', '*.sdk.test']);

      const fetched = await client.originCACertificates.get(created.id!);
      assert.equal(fetched.certificate, created.certificate);

      const zoneId = account.zoneIds['sdk.test']!;
      const before = [];
      for await (const cert of client.originCACertificates.list({ zone_id: zoneId })) before.push(cert.id);
      // more than one page of 20 for this zone
      for (let i = before.length; i < 23; i++) {
        await client.originCACertificates.create({ csr, hostnames: [`n${i}.sdk.test`], request_type: 'origin-ecc', requested_validity: 7 });
      }
      const ids: string[] = [];
      for await (const cert of client.originCACertificates.list({ zone_id: zoneId })) ids.push(cert.id!);
      assert.ok(ids.length >= 23, `auto-pagination saw ${ids.length}`);
      assert.equal(new Set(ids).size, ids.length);
      assert.ok(ids.includes(created.id!));

      const deleted = await client.originCACertificates.delete(created.id!);
      assert.equal(deleted.id, created.id);
      assert.ok((deleted as { revoked_at?: string }).revoked_at);
    });
  }

  it('reads and edits the ssl zone setting', async () => {
    const client = new Cloudflare({ baseURL: ca.api, userServiceKey: account.key, maxRetries: 0 });
    const zone_id = account.zoneIds['other-sdk.test']!;
    const initial = await client.zones.settings.get('ssl', { zone_id });
    assert.equal((initial as { value: string }).value, 'full');
    const edited = await client.zones.settings.edit('ssl', { zone_id, value: 'strict' } as never);
    assert.equal((edited as { value: string }).value, 'strict');
    assert.equal(((await client.zones.settings.get('ssl', { zone_id })) as { value: string }).value, 'strict');
  });

  it('surfaces our error codes through the SDK', async () => {
    const client = new Cloudflare({ baseURL: ca.api, userServiceKey: account.key, maxRetries: 0 });
    await assert.rejects(
      client.originCACertificates.get('0'.repeat(32)),
      (error: unknown) => error instanceof Cloudflare.NotFoundError && JSON.stringify(error.errors).includes('1100'),
    );
    const stranger = new Cloudflare({ baseURL: ca.api, userServiceKey: 'v1.0-nope', maxRetries: 0 });
    await assert.rejects(stranger.zones.settings.get('ssl', { zone_id: account.zoneIds['sdk.test']! }), Cloudflare.AuthenticationError);
  });
});
