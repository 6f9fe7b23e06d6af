// The CLI end to end: a real `strictedge serve` process, real files, checked with openssl.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { openssl } from '../helpers/openssl.js';
import { CLI, cli, cliAsync, edgeGet, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('strictedge CLI against a running serve', () => {
  const state = tempDir('strictedge-state-');
  const work = tempDir('strictedge-work-');
  let served: Served;
  let env: Record<string, string>;
  after(() => served?.stop());
  before(async () => {
    served = await startServe(['--demo', '--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    env = { STRICTEDGE_API_URL: served.ready.api, STRICTEDGE_API_KEY: readFileSync(join(state, 'data', 'demo-api-key'), 'utf8').trim() };
  });
  let closedPort = 0;
  before(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  const run = (args: string[], extraEnv: Record<string, string> = {}) => {
    const patched = Object.fromEntries(
      Object.entries(extraEnv).map(([k, v]) => [k, v.replace('CLOSED_PORT', String(closedPort)).replace('CA_ORIGIN', new URL(served.ready.api).origin).replace('EDGE_HTTP', served.ready.http)]),
    );
    return cli(args, { env: { ...env, ...patched }, cwd: work });
  };
  const filesInWork = () => readdirSync(work).sort();

  it('prints one JSON ready line and lays out the state folder with private parts closed', () => {
    assert.equal(served.ready.event, 'ready');
    assert.match(served.ready.api, /^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/);
    assert.match(served.ready.http, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(served.ready.https, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(served.ready.edge_ca, join(state, 'certs', 'edge-ca.pem'));
    assert.equal(mode(join(state, 'certs', 'private', 'edge-ca.key')), 0o600);
    assert.match(served.stderr(), /revoked\.test +strict +526 revoked +curl .*--cacert .*edge-ca\.pem --resolve revoked\.test:\d+:127\.0\.0\.1/);
    assert.equal(mode(join(state, 'certs', 'private')), 0o700);
    assert.equal(mode(join(state, 'certs', 'private', 'origin-ecc-root.key')), 0o600);
    assert.equal(mode(join(state, 'certs', 'private', 'origin-rsa-root.key')), 0o600);
    assert.equal(mode(join(state, 'data', 'demo-api-key')), 0o600);
    assert.equal(mode(join(state, 'data', 'strictedge.db')), 0o600);
    assert.ok(existsSync(join(state, 'certs', 'origin-ecc-root.pem')));
    assert.ok(!served.stderr().includes(env.STRICTEDGE_API_KEY!), 'the API key is not printed, only its file');
  });

  it('zones set-mode and set-origin from another process reach the running edge within a second', async () => {
    const port = Number(new URL(served.ready.https).port);
    const ca = readFileSync(served.ready.edge_ca, 'utf8');
    const originOf = () =>
      new Promise<string>((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port, servername: 'full.test', headers: { host: 'full.test' }, ca, agent: false }, (res) => {
          res.resume();
          resolve(String(res.headers['x-origin']));
        })
          .on('error', reject)
          .end();
      });
    assert.equal(await originOf(), 'full');
    const set = await cliAsync(['zones', 'set-mode', 'full.test', 'flexible', '--state', state]);
    assert.equal(set.status, 0, set.stderr);
    const changedAt = Date.now();
    let origin = await originOf();
    while (origin !== 'http-origin' && Date.now() - changedAt < 1000) origin = await originOf();
    assert.equal(origin, 'http-origin', 'flexible goes to the HTTP origin');
    assert.match((await cliAsync(['zones', 'set-mode', 'full.test', 'paranoid', '--state', state])).stderr, /code 1500/);
    assert.match((await cliAsync(['zones', 'set-mode', 'none.test', 'full', '--state', state])).stderr, /Zone not found.*code 1101/);
    assert.equal((await cliAsync(['zones', 'set-mode', 'full.test', 'full', '--state', state])).status, 0);

    // So does a new origin: full.test pointed at strict-ecc.test's origin (full mode takes any certificate).
    const listed = (await cliAsync(['zones', 'list', '--state', state])).stdout;
    const fullOrigin = /full\.test {2}full {2}https=(\S+)/.exec(listed)![1]!;
    const strictOrigin = /strict-ecc\.test {2}strict {2}https=(\S+)/.exec(listed)![1]!;
    assert.equal((await cliAsync(['zones', 'set-origin', 'full.test', '--origin-https', strictOrigin, '--state', state])).status, 0);
    const movedAt = Date.now();
    while (origin !== 'strict-ecc' && Date.now() - movedAt < 1000) origin = await originOf();
    assert.equal(origin, 'strict-ecc', 'the new origin answers');
    assert.equal((await cliAsync(['zones', 'set-origin', 'full.test', '--origin-https', fullOrigin, '--state', state])).status, 0);
  });

  it('getcert makes an ECDSA key here, saves it 0600, and the certificate verifies against the ECC root', () => {
    const result = run(['getcert', '-hostnames', 'demo.test,*.demo.test', '-days', '7', '-key-type', 'ecdsa', '-key-size', '256', '-certificate-out', 'ecc.pem', '-key-out', 'ecc.key']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /generating key: ecdsa-256/);
    assert.match(result.stderr, /Successfully issued certificate for: demo\.test, \*\.demo\.test/);
    assert.match(result.stderr, /Saved certificate to ecc\.pem/);
    assert.ok(!result.stderr.includes('PRIVATE KEY') && !result.stdout.includes('PRIVATE KEY'));
    assert.equal(mode(join(work, 'ecc.key')), 0o600);
    const root = join(state, 'certs', 'origin-ecc-root.pem');
    assert.equal(openssl(['verify', '-CAfile', root, join(work, 'ecc.pem')]).trim(), `${join(work, 'ecc.pem')}: OK`);
    const certKey = openssl(['x509', '-in', join(work, 'ecc.pem'), '-noout', '-pubkey']);
    assert.equal(openssl(['pkey', '-in', join(work, 'ecc.key'), '-pubout']), certKey);
  });

  it('getcert defaults to RSA-2048 for 5475 days, takes --flag spellings, and writes DER and PKCS#7', () => {
    const der = run(['getcert', '--hostnames', 'shop.test', '--format', 'der', '--certificate-out', 'rsa.der', '--key-out', 'rsa.key']);
    assert.equal(der.status, 0, der.stderr);
    assert.match(der.stderr, /generating key: rsa-2048/);
    const text = openssl(['x509', '-inform', 'der', '-in', join(work, 'rsa.der'), '-noout', '-text']);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Issuer: O = strictedge, OU = strictedge Origin CA, CN = strictedge Origin RSA Root/);
    const days = (Date.parse(text.match(/Not After : (.*)/)![1]!) - Date.parse(text.match(/Not Before: (.*)/)![1]!)) / 86400_000;
    assert.equal(days, 5475);
    const p7b = run(['getcert', '-hostnames', 'blog.test', '-format', 'p7b', '-key-type', 'ecdsa', '-key-out', 'p7.key']);
    assert.equal(p7b.status, 0, p7b.stderr);
    assert.match(openssl(['pkcs7', '-in', join(work, 'certificate.p7b'), '-print_certs', '-noout']), /subject=O = strictedge/);
  });

  it('getcert rounds -days to an allowed value with a notice', () => {
    const result = run(['getcert', '-hostnames', 'demo.test', '-days', '10', '-key-type', 'ecdsa', '-certificate-out', 'd.pem', '-key-out', 'd.key']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /-days 10 is not one of .*; using 7/);
  });

  it('getcert refuses to overwrite without -overwrite and leaves the old files as they were', () => {
    const before = readFileSync(join(work, 'ecc.pem'));
    const result = run(['getcert', '-hostnames', 'demo.test', '-key-type', 'ecdsa', '-certificate-out', 'ecc.pem', '-key-out', 'new.key']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /ecc\.pem exists; pass -overwrite/);
    assert.deepEqual(readFileSync(join(work, 'ecc.pem')), before);
    assert.ok(!existsSync(join(work, 'new.key')));
    const replaced = run(['getcert', '-hostnames', 'demo.test', '-key-type', 'ecdsa', '-certificate-out', 'ecc.pem', '-key-out', 'ecc.key', '-overwrite']);
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.notDeepEqual(readFileSync(join(work, 'ecc.pem')), before);
    assert.equal(mode(join(work, 'ecc.key')), 0o600);
  });

  const badInputs: [string, string[], Record<string, string>, RegExp][] = [
    ['a hostname outside the account', ['-hostnames', 'evil.test', '-key-type', 'ecdsa'], {}, /not in a zone of this account.*code 1212/],
    ['a bad key type', ['-hostnames', 'demo.test', '-key-type', 'dsa'], {}, /-key-type must be rsa or ecdsa/],
    ['a bad ECDSA key size', ['-hostnames', 'demo.test', '-key-type', 'ecdsa', '-key-size', '384'], {}, /ecdsa must be 256/],
    ['no hostnames', ['-key-type', 'ecdsa'], {}, /-hostnames is required/],
    ['an unknown flag', ['-hostnames', 'demo.test', '-colour', 'red'], {}, /^strictedge: unknown flag --colour \(strictedge help lists each command's flags\)$/m],
    ['a flag with its value missing before the next flag', ['-hostnames', '-key-type', 'ecdsa'], {}, /^strictedge: --hostnames needs a value \(one that starts with "-" is written --hostnames=VALUE\)$/m],
    ['-days 0', ['-hostnames', 'demo.test', '-days', '0'], {}, /-days must be a whole number of days, 1 or more/],
    ['no API key', ['-hostnames', 'demo.test', '-key-type', 'ecdsa'], { STRICTEDGE_API_KEY: '', CF_API_KEY: '' }, /set STRICTEDGE_API_KEY/],
    ['a wrong API key', ['-hostnames', 'demo.test', '-key-type', 'ecdsa'], { STRICTEDGE_API_KEY: 'v1.0-wrong' }, /Authentication error.*code 10001/],
    // Two lines pasted as one key: fetch's own error would have quoted them (the key) on stderr.
    ['an API key with a line break in it', ['-hostnames', 'demo.test', '-key-type', 'ecdsa'], { STRICTEDGE_API_KEY: 'v1.0-secret-part\nsecond-line' }, /^strictedge: STRICTEDGE_API_KEY is not an API key: it holds a space, a line break or another character no key has \(the value is not shown\)$/m],
    ['an unreachable CA', ['-hostnames', 'demo.test', '-key-type', 'ecdsa'], { STRICTEDGE_API_URL: 'http://127.0.0.1:CLOSED_PORT/client/v4' }, /cannot reach the CA at .*ECONNREFUSED/],
    ['an API URL without /client/v4', ['-hostnames', 'demo.test', '-key-type', 'ecdsa'], { STRICTEDGE_API_URL: 'CA_ORIGIN' }, /No such route \(code 1003\); STRICTEDGE_API_URL is the API's base URL, ending in \/client\/v4/],
    ['a URL of a server that is not the CA (the edge, answering a page)', ['-hostnames', 'demo.test', '-key-type', 'ecdsa'], { STRICTEDGE_API_URL: 'EDGE_HTTP' }, /the CA at http:\/\/127\.0\.0\.1:\d+ answered 421 without the API's JSON envelope; STRICTEDGE_API_URL is the API's base URL/],
  ];
  for (const [title, args, extraEnv, expected] of badInputs) {
    it(`getcert with ${title}: one line on stderr, non-zero exit, no file left`, () => {
      const before = filesInWork();
      const result = run(['getcert', ...args, '-certificate-out', 'bad.pem', '-key-out', 'bad.key'], extraEnv);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trim().split('\n').filter((line) => line.startsWith('strictedge:')).length, 1);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(result.stderr, /secret-part/, 'no part of the key');
      assert.deepEqual(filesInWork(), before);
    });
  }

  it('takes an API key with a line end or spaces around it, as a key file saved on Windows gives', () => {
    const result = run(['certs', 'list', '--json'], { STRICTEDGE_API_KEY: ` ${env.STRICTEDGE_API_KEY}\r\n` });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(Array.isArray(JSON.parse(result.stdout)));
  });

  const issuedCount = () => (JSON.parse(run(['certs', 'list', '--json']).stdout) as unknown[]).length;

  it('getcert refuses an output it could not write before a certificate is issued for it', () => {
    writeFileSync(join(work, 'plain-file'), 'x');
    mkdirSync(join(work, 'a-folder'), { recursive: true });
    const issued = issuedCount();
    const cases: [string[], RegExp][] = [
      [['-certificate-out', 'plain-file/c.pem', '-key-out', 'k.key'], /cannot write plain-file\/c\.pem: .*plain-file is not a folder/],
      [['-certificate-out', 'c.pem', '-key-out', 'a-folder'], /a-folder is a folder; name a file to write/],
      [['-certificate-out', 'c.pem', '-key-out', 'a-folder', '-overwrite'], /a-folder is a folder; name a file to write/],
    ];
    for (const [outputs, expected] of cases) {
      const before = filesInWork();
      const result = run(['getcert', '-hostnames', 'demo.test', '-key-type', 'ecdsa', ...outputs]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.doesNotMatch(result.stderr, /generating key|\n\s+at /);
      assert.deepEqual(filesInWork(), before);
    }
    assert.equal(issuedCount(), issued, 'nothing was issued');
    // A name near the 255-byte limit is written (the temporary file beside it is short).
    const long = `${'n'.repeat(240)}.pem`;
    const saved = run(['getcert', '-hostnames', 'demo.test', '-key-type', 'ecdsa', '-certificate-out', long, '-key-out', 'long.key']);
    assert.equal(saved.status, 0, saved.stderr);
    assert.match(readFileSync(join(work, long), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  });

  it('getcert that cannot save what was issued says which certificate to revoke and leaves no file', () => {
    // The key's folder is made first, under the name the certificate was to have.
    const result = run(['getcert', '-hostnames', 'demo.test', '-key-type', 'ecdsa', '-key-out', 'clash/k.key', '-certificate-out', 'clash', '-overwrite']);
    assert.equal(result.status, 2, result.stderr);
    const id = /certificate ([0-9a-f]{32}) was issued, but its key is gone: revoke it with `strictedge certs revoke \1`/.exec(result.stderr)?.[1];
    assert.ok(id, result.stderr);
    assert.match(result.stderr, /cannot write clash: EISDIR; nothing was saved/);
    assert.deepEqual(readdirSync(join(work, 'clash')), [], 'the key written first was removed again');
    assert.equal(run(['certs', 'revoke', id]).status, 0);
  });

  it('certs get and convert refuse an existing --out before any work, and say so', () => {
    writeFileSync(join(work, 'taken.der'), 'old');
    const id = (JSON.parse(run(['certs', 'list', '--json']).stdout) as { id: string }[])[0]!.id;
    for (const args of [['certs', 'get', id, '--format', 'der', '--out', 'taken.der'], ['convert', join(work, 'ecc.pem'), '--to', 'der', '--out', 'taken.der']]) {
      const result = run(args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /taken\.der exists; pass -overwrite/);
      assert.equal(readFileSync(join(work, 'taken.der'), 'utf8'), 'old');
    }
  });

  it('getcert says a missing API key before it spends time making a key', () => {
    const result = run(['getcert', '-hostnames', 'demo.test', '-key-type', 'rsa', '-certificate-out', 'bad.pem', '-key-out', 'bad.key'], { STRICTEDGE_API_KEY: '', CF_API_KEY: '' });
    assert.equal(result.stderr.trim(), 'strictedge: set STRICTEDGE_API_KEY (or CF_API_KEY) to your API key');
  });

  it('zones remove: refused while a certificate for the zone is in force, naming it; once removed, the running edge answers 421 within a second', async () => {
    const issued = run(['getcert', '-hostnames', 'api.example.test', '-days', '7', '-key-type', 'ecdsa', '-certificate-out', 'api.pem', '-key-out', 'api.key']);
    assert.equal(issued.status, 0, issued.stderr);
    const serial = /\(id ([0-9a-f]+),/.exec(issued.stdout + issued.stderr)![1]!;
    const refused = await cliAsync(['zones', 'remove', 'api.example.test', '--state', state]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`still in force.*1 for api\\.example\\.test: ${serial} .*code 1710`));
    assert.match((await cliAsync(['zones', 'list', '--state', state])).stdout, /api\.example\.test/, 'still there');
    assert.equal(run(['certs', 'revoke', serial]).status, 0);
    const removed = await cliAsync(['zones', 'remove', 'api.example.test', '--state', state]);
    assert.equal(removed.status, 0, removed.stderr);
    assert.doesNotMatch((await cliAsync(['zones', 'list', '--state', state])).stdout, /api\.example\.test/);
    const zones = (await (await fetch(`${served.ready.api}/zones`, { headers: { authorization: `Bearer ${env.STRICTEDGE_API_KEY}` } })).json()) as { result: { name: string }[] };
    assert.ok(!zones.result.some((zone) => zone.name === 'api.example.test'), 'gone from the API too');
    assert.match(run(['certs', 'list']).stdout, new RegExp(`${serial} .* revoked `), 'the certificate is kept');
    assert.match((await cliAsync(['zones', 'remove', 'api.example.test', '--state', state])).stderr, /Zone not found.*code 1101/);

    // A zone with no certificate goes at once, and the running edge stops serving it.
    const statusOf = () =>
      new Promise<number>((resolve, reject) => {
        httpRequest(`${served.ready.http}/`, { headers: { host: 'flexible.test' }, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });
    assert.equal(await statusOf(), 200);
    assert.equal((await cliAsync(['zones', 'remove', 'flexible.test', '--state', state])).status, 0);
    const removedAt = Date.now();
    let status = await statusOf();
    while (status !== 421 && Date.now() - removedAt < 1000) status = await statusOf();
    assert.equal(status, 421);
    const readded = await cliAsync(['zones', 'add', 'api.example.test', '--account', 'demo', '--state', state]);
    assert.equal(readded.status, 0, `the name can be registered again: ${readded.stderr}`);
  });

  it('backup while serve runs: the database as of one moment, the roots and the edge CA, keys 0600; a serve on it enforces the same revocations', async () => {
    const destination = join(work, 'ca-backup');
    const taken = await cliAsync(['backup', destination, '--state', state]);
    assert.equal(taken.status, 0, taken.stderr);
    assert.match(taken.stderr, /backed up \d+ certificates, events up to seq \d+/);
    assert.equal(mode(destination), 0o700);
    assert.equal(mode(join(destination, 'data', 'strictedge.db')), 0o600);
    assert.equal(mode(join(destination, 'certs', 'private')), 0o700);
    for (const key of ['origin-ecc-root.key', 'origin-rsa-root.key', 'edge-ca.key']) assert.equal(mode(join(destination, 'certs', 'private', key)), 0o600, key);
    assert.equal(readFileSync(join(destination, 'certs', 'origin-ecc-root.pem'), 'utf8'), readFileSync(join(state, 'certs', 'origin-ecc-root.pem'), 'utf8'));
    assert.deepEqual(readdirSync(join(destination, 'data')), ['strictedge.db'], 'no lock, WAL or demo key');
    assert.deepEqual(readdirSync(work).filter((name) => name.includes('partial')), [], 'nothing half-built left');
    const again = await cliAsync(['backup', destination, '--state', state]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists; a backup goes to a new folder/);
    assert.match((await cliAsync(['backup', join(work, 'other'), '--state', work])).stderr, /is not a CA's state folder/);

    // Restored: a serve on the backup (the first one's demo origins still answer) enforces what the CA knew.
    const restored = await startServe(['--state', destination, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    try {
      assert.equal((await edgeGet(restored.ready, 'strict-ecc.test')).status, 200);
      assert.deepEqual(await edgeGet(restored.ready, 'revoked.test'), { status: 526, verdict: 'revoked' });
      assert.equal(readFileSync(restored.ready.edge_ca, 'utf8'), readFileSync(served.ready.edge_ca, 'utf8'), "clients keep trusting the same edge CA");
    } finally {
      await restored.stop();
    }
  });

  it('certs list, get and revoke work through the API, and revoking twice is an error', () => {
    const listed = run(['certs', 'list', '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    const certs = JSON.parse(listed.stdout) as { id: string; hostnames: string[]; revoked_at: string | null }[];
    assert.ok(certs.length >= 4);
    const target = certs.find((cert) => cert.revoked_at === null)!;
    const pem = run(['certs', 'get', target.id]);
    assert.match(pem.stdout, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(run(['certs', 'get', target.id, '--format', 'der', '--out', 'got.der']).status, 0);
    assert.match(openssl(['x509', '-inform', 'der', '-in', join(work, 'got.der'), '-noout', '-serial']), new RegExp(target.id, 'i'));
    const revoked = run(['certs', 'revoke', target.id]);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`revoked ${target.id} at `));
    const again = run(['certs', 'revoke', target.id]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already revoked.*code 1102/);
    assert.match(run(['certs', 'list']).stdout, new RegExp(`${target.id} .* revoked `));
    assert.match(run(['certs', 'get', 'ffff']).stderr, /Certificate not found.*code 1100/);
  });

  it('convert turns PEM into DER and PKCS#7 and back, and refuses what is not a certificate', () => {
    const pem = join(work, 'ecc.pem');
    assert.equal(run(['convert', pem, '--to', 'der', '--out', 'c.der']).status, 0);
    assert.equal(run(['convert', 'c.der', '--to', 'p7b', '--out', 'c.p7b']).status, 0);
    const back = run(['convert', 'c.p7b', '--to', 'pem']);
    assert.equal(back.stdout, readFileSync(pem, 'utf8'));
    assert.match(openssl(['pkcs7', '-in', join(work, 'c.p7b'), '-print_certs']), /BEGIN CERTIFICATE/);
    writeFileSync(join(work, 'junk.txt'), 'hello');
    const junk = run(['convert', 'junk.txt', '--to', 'der', '--out', 'junk.der']);
    assert.equal(junk.status, 2);
    assert.match(junk.stderr, /junk\.txt: input is not a certificate/);
    assert.ok(!existsSync(join(work, 'junk.der')));
    assert.match(run(['convert', 'missing.pem', '--to', 'der']).stderr, /cannot read missing\.pem: ENOENT/);
    assert.match(run(['convert', pem, '--to', 'jks']).stderr, /--to must be one of pem, der, p7b/);
  });
});

describe('strictedge serve logs', () => {
  it('logs verification failures, revocations and mode changes as JSON lines, and never a key, token or private key', async () => {
    const state = tempDir('strictedge-logs-');
    const served = await startServe(['--demo', '--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    try {
      const key = readFileSync(join(state, 'data', 'demo-api-key'), 'utf8').trim();
      const env = { STRICTEDGE_API_URL: served.ready.api, STRICTEDGE_API_KEY: key };
      const work = tempDir('strictedge-logs-work-');
      const issued = await cliAsync(['getcert', '-hostnames', 'demo.test', '-key-type', 'ecdsa', '-days', '7'], { env, cwd: work });
      assert.equal(issued.status, 0, issued.stderr);
      const id = /id ([0-9a-f]{32})/.exec(issued.stderr)![1]!;
      assert.equal((await cliAsync(['certs', 'revoke', id], { env })).status, 0);
      assert.equal((await cliAsync(['zones', 'set-mode', 'full.test', 'strict', '--state', state])).status, 0);
      const edgeToken = (await cliAsync(['edges', 'create', 'logged', '--state', state])).stdout.trim();
      const port = Number(new URL(served.ready.https).port);
      const ca = readFileSync(served.ready.edge_ca, 'utf8');
      const get = (host: string) =>
        new Promise<number>((resolve, reject) => {
          httpsRequest({ host: '127.0.0.1', port, servername: 'expired.test', headers: { host }, ca, agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          })
            .on('error', reject)
            .end();
        });
      assert.equal(await get('expired.test'), 526);
      assert.equal(await get('no-such-zone.test'), 421);
      const lines = () => served.stderr().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
      const deadline = Date.now() + 2000;
      while (!lines().some((l) => l.msg === 'zone mode changed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const logged = lines();
      assert.ok(logged.some((l) => l.msg === 'origin certificate refused' && l.zone === 'expired.test' && l.verdict === 'expired'), 'verification failure logged');
      assert.ok(logged.some((l) => l.msg === 'revocation applied' && l.serial === id), 'revocation logged');
      assert.ok(logged.some((l) => l.msg === 'zone mode changed' && l.zone === 'full.test' && l.to === 'strict'), 'mode change logged');
      assert.ok(!logged.some((l) => l.status === 421 || l.zone === 'unknown'), 'a host with no zone is counted, not logged as an origin failure');
      const all = served.stderr();
      for (const secret of [key, key.slice(30), edgeToken, 'PRIVATE KEY', readFileSync(join(state, 'certs', 'private', 'origin-ecc-root.key'), 'utf8').split('\n')[1]!]) {
        assert.ok(!all.includes(secret), `the log holds a secret (${secret.slice(0, 12)}...)`);
      }
    } finally {
      await served.stop();
    }
  });
});

describe('strictedge admin commands on a state folder', () => {
  const state = tempDir('strictedge-admin-');
  const run = (args: string[]) => cli([...args, '--state', state]);

  it('prints its usage for help, and for --help or -h after any command, starting and writing nothing', () => {
    for (const args of [['help'], ['serve', '--help'], ['getcert', '-h'], ['zones', 'add', '-help']]) {
      const result = run(args);
      assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, /^usage: strictedge <command>/, args.join(' '));
      assert.equal(result.stderr, '');
    }
    assert.deepEqual(readdirSync(state), [], 'serve --help made no state');
  });

  it('creates accounts, zones and keys, revokes keys, and refuses bad input clearly', async () => {
    assert.equal(run(['ca', 'init']).status, 0);
    const created = run(['accounts', 'create', 'acme']);
    assert.equal(created.status, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^v1\.0-[0-9a-f]{24}-[0-9a-f]{146}$/);
    assert.match(run(['accounts', 'create', 'acme']).stderr, /account with that name exists.*code 1700/);
    assert.match(run(['accounts', 'create', 'Bad Name']).stderr, /code 1706/);
    const notAFolder = join(tempDir('strictedge-admin-file-'), 'state-file');
    writeFileSync(notAFolder, '');
    const misplaced = cli(['accounts', 'create', 'acme', '--state', notAFolder]);
    assert.equal(misplaced.status, 1);
    assert.equal(misplaced.stderr.trim(), `strictedge: cannot mkdir ${join(notAFolder, 'certs')}: ENOTDIR`);

    const zone = run(['zones', 'add', 'acme.test', '--account', 'acme', '--origin-https', '127.0.0.1:9443', '--origin-http', 'localhost:9080', '--mode', 'strict']);
    assert.equal(zone.status, 0, zone.stderr);
    assert.match(zone.stdout, /^[0-9a-f]{32} {2}acme\.test {2}strict$/m);
    assert.match(run(['zones', 'add', 'acme.test', '--account', 'acme']).stderr, /code 1702/);
    assert.match(run(['zones', 'add', 'x.test', '--account', 'nobody']).stderr, /Account not found.*code 1701/);
    assert.match(run(['zones', 'add', 'y.test', '--account', 'acme', '--origin-https', 'nope']).stderr, /Origin must be HOST:PORT.*code 1704/);
    assert.match(run(['zones', 'add', 'z.test', '--account', 'acme', '--mode', 'paranoid']).stderr, /code 1500/);
    assert.match(run(['zones', 'add', 'test', '--account', 'acme']).stderr, /code 1703/);
    // Another account may not take a zone inside acme's, nor one that holds it: both could then
    // have certificates issued for the same names. acme may nest its own.
    assert.equal(run(['accounts', 'create', 'rival']).status, 0);
    assert.match(run(['zones', 'add', 'shop.acme.test', '--account', 'rival']).stderr, /lies in, or holds, a zone of another account: "shop\.acme\.test" and "acme\.test" \(code 1708\)/);
    assert.equal(run(['zones', 'add', 'deep.acme.test', '--account', 'acme']).status, 0);
    assert.equal(run(['zones', 'add', 'x.y.test', '--account', 'acme']).status, 0);
    assert.match(run(['zones', 'add', 'y.test', '--account', 'rival']).stderr, /"y\.test" and "x\.y\.test" \(code 1708\)/);
    assert.match(run(['zones', 'add', 'x.deep.acme.test', '--account', 'rival']).stderr, /code 1708/);
    assert.equal(run(['zones', 'add', 'rival.test', '--account', 'rival']).status, 0, 'a sibling is no overlap');
    assert.equal(run(['zones', 'add', 'cme.test', '--account', 'rival']).status, 0, 'a suffix that is not a whole label is no overlap');
    assert.match(run(['zones', 'add', 'rival.test', '--account', 'acme']).stderr, /code 1702/);
    assert.match(run(['zones', 'add', 'sub.rival.test', '--account', 'acme']).stderr, /code 1708/);
    assert.match(run(['zones', 'list']).stdout, /acme\.test {2}strict {2}https=127\.0\.0\.1:9443 {2}http=localhost:9080/);
    assert.equal(run(['zones', 'list']).stdout.trim().split('\n').length, 5, 'failed adds left no zone behind');
    // Origins can be changed, or removed with none, one scheme at a time; a bad one changes nothing.
    assert.match(run(['zones', 'set-origin', 'acme.test', '--origin-https', '[::1]:9444']).stdout, /acme\.test {2}strict {2}https=\[::1\]:9444 {2}http=localhost:9080$/m);
    assert.match(run(['zones', 'set-origin', 'acme.test', '--origin-http', 'none']).stdout, /https=\[::1\]:9444 {2}http=-$/m);
    assert.match(run(['zones', 'set-origin', 'acme.test', '--origin-https', 'nope:0']).stderr, /code 1704/);
    assert.match(run(['zones', 'set-origin', 'nowhere.test', '--origin-https', '127.0.0.1:1']).stderr, /code 1101/);
    assert.match(run(['zones', 'set-origin', 'acme.test']).stderr, /give --origin-https HOST:PORT and\/or --origin-http HOST:PORT/);
    assert.match(run(['zones', 'list']).stdout, /acme\.test {2}strict {2}https=\[::1\]:9444 {2}http=-$/m);

    // The stored key is a hash: the database never holds the key itself.
    const db = readFileSync(join(state, 'data', 'strictedge.db'));
    const wal = existsSync(join(state, 'data', 'strictedge.db-wal')) ? readFileSync(join(state, 'data', 'strictedge.db-wal')) : Buffer.alloc(0);
    assert.ok(!db.includes(key.slice(30)) && !wal.includes(key.slice(30)));

    const second = run(['keys', 'create', '--account', 'acme']).stdout.trim();
    assert.match(second, /^v1\.0-/);
    const served = await startServe(['--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    try {
      // Admin commands write through another connection while serve runs: serve sees them at once.
      const env = { STRICTEDGE_API_URL: served.ready.api };
      assert.equal((await cliAsync(['certs', 'list'], { env: { ...env, STRICTEDGE_API_KEY: second } })).status, 0);
      assert.equal(run(['keys', 'revoke', second]).status, 0);
      assert.match(run(['keys', 'revoke', second]).stderr, /API key not found.*code 1705/);
      const revokedUse = await cliAsync(['certs', 'list'], { env: { ...env, STRICTEDGE_API_KEY: second } });
      assert.match(revokedUse.stderr, /code 10001/);
      const work = tempDir('strictedge-admin-work-');
      const getcert = (host: string) => cliAsync(['getcert', '-hostnames', host, '-key-type', 'ecdsa', '-overwrite'], { env: { ...env, STRICTEDGE_API_KEY: key }, cwd: work });
      assert.match((await getcert('late.test')).stderr, /code 1212/);
      assert.equal(run(['zones', 'add', 'late.test', '--account', 'acme']).status, 0);
      const issued = await getcert('late.test');
      assert.equal(issued.status, 0, issued.stderr);
    } finally {
      await served.stop();
    }

    // The lists: what an operator needs to find a key or an edge to withdraw, never a secret.
    const keyLines = run(['keys', 'list', '--account', 'acme']).stdout.trim().split('\n');
    assert.equal(keyLines.length, 2, keyLines.join('\n'));
    // Both were used through the running serve; rival's never was.
    assert.match(keyLines[0]!, new RegExp(`^${key.slice(5, 29)} {2}acme {2}created=\\S+Z {2}live {2}last_used=\\S+Z$`));
    assert.match(keyLines[1]!, new RegExp(`^${second.slice(5, 29)} {2}acme {2}created=\\S+Z {2}revoked=\\S+Z {2}last_used=\\S+Z$`));
    assert.match(run(['keys', 'list', '--account', 'rival']).stdout, /^[0-9a-f]{24} {2}rival {2}created=\S+Z {2}live {2}last_used=never\n$/);
    const allKeys = run(['keys', 'list']).stdout;
    assert.deepEqual(allKeys.trim().split('\n').map((line) => line.split('  ')[1]), ['acme', 'acme', 'rival']);
    assert.ok(![key, second].some((k) => allKeys.includes(k.slice(30))), 'no key is shown');
    assert.match(run(['keys', 'list', '--account', 'nobody']).stderr, /code 1701/);
    const accountLines = run(['accounts', 'list']).stdout.trim().split('\n');
    assert.equal(accountLines.length, 2);
    assert.match(accountLines[0]!, /^[0-9a-f]{32} {2}acme {2}keys=1 {2}zones=4 {2}created=\S+Z$/);
    assert.match(accountLines[1]!, /^[0-9a-f]{32} {2}rival {2}keys=1 {2}zones=2 {2}created=\S+Z$/);
    const token = run(['edges', 'create', 'edge-a']).stdout.trim();
    assert.equal(run(['edges', 'create', 'edge-b']).status, 0);
    assert.equal(run(['edges', 'revoke', 'edge-b']).status, 0);
    const edgeList = run(['edges', 'list']).stdout;
    assert.match(edgeList, /^edge-a {2}created=\S+Z {2}live {2}last_contact=never\nedge-b {2}created=\S+Z {2}revoked=\S+Z {2}last_contact=never\n$/);
    assert.ok(!edgeList.includes(token.slice(-40)), 'no token is shown');
  });

  it('serve refuses a bad config file and a busy port with one clear line', async () => {
    const config = join(state, 'bad.yaml');
    writeFileSync(config, 'api_port: "eighty"\n');
    const bad = cli(['serve', '--state', state, '--config', config]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /config .*bad\.yaml: api_port: /);
    // public_roots naming a file without certificates, or with one that cannot be read: before, the
    // first started with strict zones trusting the Origin CA alone.
    const notPem = join(state, 'not-roots.txt');
    writeFileSync(notPem, 'these are not certificates\n');
    const garbled = join(state, 'garbled-roots.pem');
    writeFileSync(garbled, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    for (const [file, expected] of [
      [notPem, `strictedge: edge.public_roots: ${notPem} holds no PEM certificate (system and none are the other choices)`],
      [garbled, `strictedge: edge.public_roots: certificate 1 of 1 in ${garbled} cannot be read`],
    ] as const) {
      writeFileSync(config, `edge:\n  public_roots: ${file}\n`);
      const refused = cli(['serve', '--state', state, '--config', config, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
      assert.equal(refused.status, 1, refused.stderr);
      assert.equal(refused.stderr.trim(), expected);
    }
    const served = await startServe(['--state', state, '--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
    try {
      const port = new URL(served.ready.api).port;
      const busy = cli(['serve', '--state', tempDir('strictedge-busy-port-'), '--api-port', port, '--http-port', '0', '--https-port', '0', '--metrics-port', '0']);
      assert.equal(busy.status, 1);
      assert.match(busy.stderr, /cannot listen: .*EADDRINUSE/);
    } finally {
      await served.stop();
    }
  });

  it('refuses a second serve or edge on a state folder in use, until the first is gone, even killed', async () => {
    const ports = ['--api-port', '0', '--http-port', '0', '--https-port', '0', '--metrics-port', '0'];
    const first = await startServe(['--state', state, ...ports]);
    const token = run(['edges', 'create', 'lock-test']).stdout.trim();
    try {
      const second = cli(['serve', '--state', state, ...ports]);
      assert.equal(second.status, 1);
      assert.equal(second.stderr.trim(), `strictedge: another strictedge serve or edge is using the state folder ${state} (it holds ${join(state, 'data', 'state.lock')}); one per state folder: more edges run as \`strictedge edge\`, each with a state folder of its own`);
      const edge = cli(['edge', '--ca-url', first.ready.api, '--edge-token', token, '--state', state, '--http-port', '0', '--https-port', '0']);
      assert.equal(edge.status, 1);
      assert.match(edge.stderr, /another strictedge serve or edge is using the state folder/);
      assert.equal(run(['zones', 'list']).status, 0, 'admin commands still share the folder');
    } finally {
      first.process.kill('SIGKILL'); // the kernel drops the lock with the process: nothing stale is left
      await new Promise((resolve) => first.process.once('exit', resolve));
    }
    const after = await startServe(['--state', state, ...ports]);
    await after.stop();
  });

  it('stops quietly with status 141 when the reader of its output has gone (`| head`)', async () => {
    const child = spawn(process.execPath, [CLI, 'help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before anything is written
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(status, 141);
    assert.equal(stderr, '');
  });
});
