// The v4 API over real HTTP on loopback, against a real SQLite state folder.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Errors } from '../../src/errors/catalogue.js';
import { api, startTestCa, type TestCa } from '../helpers/ca.js';
import { csrWithExponentOne } from '../helpers/forged-csr.js';
import { opensslCsr } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

describe('Origin CA API', () => {
  let ca: TestCa;
  let alice: { key: string; zoneIds: Record<string, string> };
  let bob: { key: string; zoneIds: Record<string, string> };
  let eccCsr: string;
  let rsaCsr: string;
  const dir = tempDir();
  const caDir = tempDir();
  after(() => ca?.close());

  before(async () => {
    ca = await startTestCa(caDir, { bodyLimit: 64 * 1024, headersTimeoutMs: 1000 });
    alice = ca.account('alice', ['alice.test', 'alice2.test']);
    bob = ca.account('bob', ['bob.test']);
    eccCsr = opensslCsr(dir, 'p256', 'ecc').csr;
    rsaCsr = opensslCsr(dir, 'rsa2048', 'rsa').csr;
  });

  const issue = (key: string, body: Record<string, unknown>) => api(ca.api, 'POST', '/certificates', { key, body });

  it('issues an origin-ecc certificate and returns it in the Cloudflare shape', async () => {
    const res = await issue(alice.key, { csr: eccCsr, hostnames: ['alice.test', '*.alice.test'], request_type: 'origin-ecc', requested_validity: 7 });
    assert.equal(res.status, 200);
    assert.equal(res.success, true);
    assert.deepEqual(res.errors, []);
    assert.match(res.result.id, /^[0-9a-f]{32}$/);
    assert.match(res.result.certificate, /^-----BEGIN CERTIFICATE-----/);
    assert.deepEqual(res.result.hostnames, ['alice.test', '*.alice.test']);
    assert.match(res.result.expires_on, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
    assert.equal(res.result.request_type, 'origin-ecc');
    assert.equal(res.result.requested_validity, 7);
    assert.equal(res.result.csr, eccCsr);
  });

  it('defaults to 5475 days and ignores SANs inside the CSR', async () => {
    const res = await issue(alice.key, { csr: rsaCsr, hostnames: ['www.alice.test'], request_type: 'origin-rsa' });
    assert.equal(res.status, 200);
    assert.equal(res.result.requested_validity, 5475);
    assert.deepEqual(res.result.hostnames, ['www.alice.test']);
  });

  const badIssues: [string, Record<string, unknown>, ErrorDefLike][] = [
    ['a hostname of another account', { hostnames: ['bob.test'], request_type: 'origin-ecc' }, Errors.HOSTNAME_NOT_IN_ACCOUNT],
    ['a wildcard over a TLD', { hostnames: ['*.test'], request_type: 'origin-ecc' }, Errors.WILDCARD_OVER_TLD],
    ['an RSA CSR for origin-ecc', { hostnames: ['alice.test'], request_type: 'origin-ecc', csr: 'RSA' }, Errors.CSR_KEY_TYPE_MISMATCH],
    ['an RSA key with exponent 1, whose signatures anyone can make', { hostnames: ['alice.test'], request_type: 'origin-rsa', csr: csrWithExponentOne() }, Errors.CSR_KEY_TOO_WEAK],
    ['an unknown request type', { hostnames: ['alice.test'], request_type: 'origin-dsa' }, Errors.REQUEST_TYPE_INVALID],
    ['a validity outside the set', { hostnames: ['alice.test'], request_type: 'origin-ecc', requested_validity: 10 }, Errors.VALIDITY_INVALID],
    ['no CSR', { hostnames: ['alice.test'], request_type: 'origin-ecc', csr: '' }, Errors.CSR_MISSING],
    ['a garbage CSR', { hostnames: ['alice.test'], request_type: 'origin-ecc', csr: 'garbage' }, Errors.CSR_UNPARSABLE],
    ['hostnames that are not a list', { hostnames: 'alice.test', request_type: 'origin-ecc' }, Errors.INVALID_FIELD],
  ];
  type ErrorDefLike = { code: number; http: number };
  for (const [title, body, errorDef] of badIssues) {
    it(`refuses ${title} with ${errorDef.code} and writes nothing`, async () => {
      const before = await api(ca.api, 'GET', '/certificates', { key: alice.key });
      const csr = body.csr === 'RSA' ? rsaCsr : body.csr ?? eccCsr;
      const res = await issue(alice.key, { ...body, csr });
      assert.equal(res.status, errorDef.http);
      assert.equal(res.success, false);
      assert.equal(res.errors[0]!.code, errorDef.code);
      assert.equal(res.result, null);
      const afterList = await api(ca.api, 'GET', '/certificates', { key: alice.key });
      assert.equal(afterList.result_info.total_count, before.result_info.total_count);
    });
  }

  it('lists with paging and by zone, newest last, and shows revoked certificates', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await issue(alice.key, { csr: eccCsr, hostnames: [`p${i}.alice2.test`], request_type: 'origin-ecc', requested_validity: 7 })).status, 200);
    }
    const page1 = await api(ca.api, 'GET', `/certificates?zone_id=${alice.zoneIds['alice2.test']}&per_page=2&page=1`, { key: alice.key });
    assert.equal(page1.result.length, 2);
    assert.deepEqual(page1.result_info, { page: 1, per_page: 2, count: 2, total_count: 3, total_pages: 2 });
    const page2 = await api(ca.api, 'GET', `/certificates?zone_id=${alice.zoneIds['alice2.test']}&per_page=2&page=2`, { key: alice.key });
    assert.deepEqual(page2.result.map((c: { hostnames: string[] }) => c.hostnames[0]), ['p2.alice2.test']);

    const id = page2.result[0].id;
    const revoked = await api(ca.api, 'DELETE', `/certificates/${id}`, { key: alice.key });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.result.id, id);
    assert.match(revoked.result.revoked_at, /^\d{4}-/);
    const again = await api(ca.api, 'DELETE', `/certificates/${id}`, { key: alice.key });
    assert.equal(again.status, 409);
    assert.equal(again.errors[0]!.code, Errors.CERT_ALREADY_REVOKED.code);
    const got = await api(ca.api, 'GET', `/certificates/${id}`, { key: alice.key });
    assert.equal(got.result.revoked_at, revoked.result.revoked_at);
    const listed = await api(ca.api, 'GET', `/certificates?zone_id=${alice.zoneIds['alice2.test']}&per_page=100`, { key: alice.key });
    assert.equal(listed.result.find((c: { id: string }) => c.id === id).revoked_at, revoked.result.revoked_at);
  });

  it('rejects bad paging values', async () => {
    for (const query of ['per_page=0', 'per_page=101', 'page=0', 'page=x']) {
      const res = await api(ca.api, 'GET', `/certificates?${query}`, { key: alice.key });
      assert.equal(res.status, 400, query);
      assert.equal(res.errors[0]!.code, Errors.INVALID_FIELD.code);
    }
  });

  it('reads and changes a zone SSL mode, and refuses unknown modes', async () => {
    const zoneId = alice.zoneIds['alice.test']!;
    const got = await api(ca.api, 'GET', `/zones/${zoneId}/settings/ssl`, { key: alice.key });
    assert.deepEqual([got.status, got.result.id, got.result.value], [200, 'ssl', 'full']);
    const set = await api(ca.api, 'PATCH', `/zones/${zoneId}/settings/ssl`, { key: alice.key, body: { value: 'strict' } });
    assert.equal(set.result.value, 'strict');
    assert.equal((await api(ca.api, 'GET', `/zones/${zoneId}`, { key: alice.key })).result.name, 'alice.test');
    const bad = await api(ca.api, 'PATCH', `/zones/${zoneId}/settings/ssl`, { key: alice.key, body: { value: 'paranoid' } });
    assert.deepEqual([bad.status, bad.errors[0]!.code], [400, Errors.SSL_MODE_INVALID.code]);
    const other = await api(ca.api, 'GET', `/zones/${zoneId}/settings/minify`, { key: alice.key });
    assert.deepEqual([other.status, other.errors[0]!.code], [404, Errors.SETTING_NOT_SUPPORTED.code]);
    const zones = await api(ca.api, 'GET', '/zones', { key: alice.key });
    assert.deepEqual(zones.result.map((z: { name: string }) => z.name), ['alice.test', 'alice2.test']);
  });

  describe('authentication and isolation on every route', () => {
    let aliceCert: string;
    before(async () => {
      aliceCert = (await issue(alice.key, { csr: eccCsr, hostnames: ['iso.alice.test'], request_type: 'origin-ecc', requested_validity: 7 })).result.id;
    });
    const routes = (): [string, string, unknown?][] => [
      ['POST', '/certificates', { csr: eccCsr, hostnames: ['alice.test'], request_type: 'origin-ecc' }],
      ['GET', '/certificates'],
      ['GET', `/certificates?zone_id=${alice.zoneIds['alice.test']}`],
      ['GET', `/certificates/${aliceCert}`],
      ['DELETE', `/certificates/${aliceCert}`],
      ['GET', '/zones'],
      ['GET', `/zones/${alice.zoneIds['alice.test']}`],
      ['GET', `/zones/${alice.zoneIds['alice.test']}/settings/ssl`],
      ['PATCH', `/zones/${alice.zoneIds['alice.test']}/settings/ssl`, { value: 'off' }],
    ];
    it('answers 401 with no key and with a wrong key, changing nothing', async () => {
      const wrongKey = alice.key.slice(0, -4) + (alice.key.endsWith('0000') ? '1111' : '0000');
      for (const [method, path, body] of routes()) {
        for (const key of [undefined, 'v1.0-garbage', wrongKey]) {
          const res = await api(ca.api, method, path, { ...(key ? { key } : {}), ...(body ? { body } : {}) });
          assert.equal(res.status, 401, `${method} ${path} with ${key ? 'a wrong' : 'no'} key`);
          assert.equal(res.errors[0]!.code, key ? Errors.AUTH_INVALID.code : Errors.AUTH_MISSING.code);
        }
      }
      assert.equal((await api(ca.api, 'GET', `/certificates/${aliceCert}`, { key: alice.key })).result.revoked_at, null);
    });
    it("says which headers carry the key to a client that sends Cloudflare's global-key headers", async () => {
      const res = await fetch(`${ca.api}/zones`, { headers: { 'x-auth-key': alice.key, 'x-auth-email': 'alice@example.test' } });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { errors: { code: number; message: string }[] };
      assert.equal(body.errors[0]!.code, Errors.AUTH_MISSING.code);
      assert.match(body.errors[0]!.message, /X-Auth-User-Service-Key or Authorization: Bearer/);
    });
    it("answers 404 for another account's certificate and zones, as if they did not exist", async () => {
      for (const [method, path, body] of routes()) {
        if (path === '/certificates' || path === '/zones') continue; // account-wide routes: bob sees only his own
        const res = await api(ca.api, method, path, { key: bob.key, ...(body ? { body } : {}) });
        assert.equal(res.status, method === 'POST' ? 400 : 404, `${method} ${path}`);
      }
      const missing = await api(ca.api, 'GET', `/certificates/${'0'.repeat(32)}`, { key: bob.key });
      const foreign = await api(ca.api, 'GET', `/certificates/${aliceCert}`, { key: bob.key });
      assert.deepEqual(foreign.errors, missing.errors);
      assert.equal((await api(ca.api, 'GET', '/certificates', { key: bob.key })).result_info.total_count, 0);
      assert.deepEqual((await api(ca.api, 'GET', '/zones', { key: bob.key })).result.map((z: { name: string }) => z.name), ['bob.test']);
      assert.equal((await api(ca.api, 'GET', `/certificates/${aliceCert}`, { key: alice.key })).result.revoked_at, null);
      assert.equal((await api(ca.api, 'GET', `/zones/${alice.zoneIds['alice.test']}/settings/ssl`, { key: alice.key })).result.value, 'strict');
    });
    it('accepts Authorization: Bearer as well', async () => {
      const res = await api(ca.api, 'GET', '/zones', { headers: { authorization: `Bearer ${alice.key}` } });
      assert.equal(res.status, 200);
    });
    it('stops accepting a revoked key', async () => {
      const key = ca.app.admin.createKey('alice');
      assert.equal((await api(ca.api, 'GET', '/zones', { key })).status, 200);
      ca.app.admin.revokeKey(key);
      assert.equal((await api(ca.api, 'GET', '/zones', { key })).status, 401);
    });
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    const unknown = await api(ca.api, 'GET', '/nothing', { key: alice.key });
    assert.deepEqual([unknown.status, unknown.errors[0]!.code], [404, Errors.ROUTE_NOT_FOUND.code]);
    const wrong = await api(ca.api, 'PUT', '/certificates', { key: alice.key, body: {} });
    assert.deepEqual([wrong.status, wrong.errors[0]!.code], [405, Errors.METHOD_NOT_ALLOWED.code]);
    assert.equal(wrong.headers.get('allow'), 'POST, GET');
  });

  it('answers 408 to a head that stops half-way within about its headers timeout (1 s here), not up to 30 s later', async () => {
    const { port } = new URL(ca.api);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk));
    await once(socket, 'connect');
    const sentAt = Date.now();
    socket.write('GET /client/v4/certificates HTTP/1.1\r\nHost: ca\r\nX-Half: ');
    await once(socket, 'close');
    const waited = Date.now() - sentAt;
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(waited >= 900 && waited < 5000, `answered after ${waited} ms`);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const res = await api(ca.api, 'POST', '/certificates', { key: alice.key, rawBody: '{"csr":', headers: { 'content-type': 'application/json' } });
    assert.deepEqual([res.status, res.errors[0]!.code], [400, Errors.BAD_JSON.code]);
  });

  it('answers 413 to a body over 64 KiB, declared or streamed, and writes nothing', async () => {
    const big = JSON.stringify({ csr: eccCsr, hostnames: ['alice.test'], request_type: 'origin-ecc', pad: 'x'.repeat(70 * 1024) });
    const declared = await api(ca.api, 'POST', '/certificates', { key: alice.key, rawBody: big, headers: { 'content-type': 'application/json' } });
    assert.deepEqual([declared.status, declared.errors[0]!.code], [413, Errors.BODY_TOO_LARGE.code]);
    // chunked: no content-length, the limit is enforced while reading
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${ca.api}/certificates`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'x-auth-user-service-key': alice.key, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(8 * 1024));
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.equal(JSON.parse(streamed.body).errors[0].code, Errors.BODY_TOO_LARGE.code);
  });

  it('answers 500 without a partial row when the store cannot write', async () => {
    const before = await api(ca.api, 'GET', '/certificates?per_page=100', { key: alice.key });
    // Another connection holds the write lock, as a stuck backup or second writer would.
    const Database = (await import('better-sqlite3')).default;
    const blocker = new Database(ca.app.paths.database);
    ca.app.db.pragma('busy_timeout = 50');
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      const res = await issue(alice.key, { csr: eccCsr, hostnames: ['locked.alice.test'], request_type: 'origin-ecc', requested_validity: 7 });
      assert.deepEqual([res.status, res.errors[0]!.code], [500, Errors.STORE_FAILURE.code]);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
      ca.app.db.pragma('busy_timeout = 5000');
    }
    const afterList = await api(ca.api, 'GET', '/certificates?per_page=100', { key: alice.key });
    assert.equal(afterList.result_info.total_count, before.result_info.total_count);
    const events = ca.app.db.prepare("SELECT count(*) AS n FROM cert_events WHERE kind = 'issued'").get() as { n: number };
    const rows = ca.app.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number };
    assert.equal(events.n, rows.n, 'every certificate row has exactly one issued event');
  });

  it("serves the edges' feed and authenticated reads while the store cannot write: the bookkeeping writes give way", async () => {
    const token = ca.app.admin.createEdge('feed-reader');
    const unusedKey = ca.app.admin.createKey('alice');
    const poll = () => fetch(`${ca.api}/edge/events?since=0`, { headers: { authorization: `Bearer ${token}` } });
    const Database = (await import('better-sqlite3')).default;
    const blocker = new Database(ca.app.paths.database);
    ca.app.db.pragma('busy_timeout = 50');
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      const feed = await poll();
      assert.equal(feed.status, 200, 'the edge still gets the revocations made so far');
      assert.ok(((await feed.json()) as { result: unknown[] }).result.length > 0);
      const list = await api(ca.api, 'GET', '/certificates', { key: unusedKey });
      assert.equal(list.status, 200, "a key's first use is not refused for want of recording it");
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
      ca.app.db.pragma('busy_timeout = 5000');
    }
    assert.equal(ca.app.admin.listEdges().find((edge) => edge.name === 'feed-reader')?.lastContactAt, null);
    assert.equal((await poll()).status, 200);
    assert.notEqual(ca.app.admin.listEdges().find((edge) => edge.name === 'feed-reader')?.lastContactAt, null, 'recorded once the store writes again');
  });
});
