// The edge's pure decisions: mode routing, zone lookup, error classification, verdicts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { bodyTooLargeDetail, declaredBodyTooLarge, limitedBody, MIB, RequestBodyTooLarge } from '../../src/edge/body-limit.js';
import { originConnectionLimitFlag, requestBodyLimitFlag, requestHeadLimitFlag } from '../../src/cli/args.js';
import { headTooLargeDetail, http2HeadBytes, KIB } from '../../src/edge/request-head.js';
import { refusalAnsweredRequest, refusalFailure, refusedRequestStatus } from '../../src/edge/refused-requests.js';
import { headerTimeoutCheckMs } from '../../src/head-timeout.js';
import { bodyIdleAction } from '../../src/edge/body-timeout.js';
import { cdnLoopId, listsCdnId } from '../../src/edge/cdn-loop.js';
import { classifyOriginError, cutShortReason, sendAgainOnAnotherConnection, socketCloseReason } from '../../src/edge/classify.js';
import { clientAddress, clientResponseHeaders } from '../../src/edge/headers.js';
import { requestTarget } from '../../src/edge/request-target.js';
import { decideRoute } from '../../src/edge/route.js';
import { isWebSocketUpgrade } from '../../src/edge/websocket.js';
import { generateRoot } from '../../src/pki/root.js';
import type { IncomingMessage } from 'node:http';
import { chainVerdict, identityVerdict, OriginVerifyError, resumedSessionVerdict } from '../../src/edge/verify.js';
import { buildZoneTable, hostOf, servesOnConnection } from '../../src/edge/zone-table.js';
import type { SslMode, Zone } from '../../src/store/zones.js';

const zone = (name: string, mode: SslMode = 'full', originHttp: string | null = 'h:80', originHttps: string | null = 's:443'): Zone => ({
  id: name, accountId: 'a', name, originHttp, originHttps, sslMode: mode, createdAt: '', modifiedOn: '',
});

describe('decideRoute', () => {
  const table: [SslMode, 'http' | 'https', string][] = [
    ['off', 'http', 'proxy plain h:80'],
    ['off', 'https', 'redirect_to_http'],
    ['flexible', 'http', 'proxy plain h:80'],
    ['flexible', 'https', 'proxy plain h:80'],
    ['full', 'http', 'proxy plain h:80'],
    ['full', 'https', 'proxy any s:443'],
    ['strict', 'http', 'proxy plain h:80'],
    ['strict', 'https', 'proxy strict s:443'],
    ['origin_pull', 'http', 'proxy strict s:443'],
    ['origin_pull', 'https', 'proxy strict s:443'],
  ];
  for (const [mode, scheme, expected] of table) {
    it(`${mode} over ${scheme}: ${expected}`, () => {
      const decision = decideRoute(buildZoneTable([zone('z.test', mode)]).lookup('z.test')!, scheme);
      assert.equal(decision.kind === 'proxy' ? `proxy ${decision.policy} ${decision.origin}` : decision.kind, expected);
    });
  }
  it('has nothing to proxy to when the zone lacks that origin', () => {
    assert.equal(decideRoute(buildZoneTable([zone('z.test', 'strict', 'h:80', null)]).lookup('z.test')!, 'https').kind, 'no_origin');
  });
});

describe('clientResponseHeaders', () => {
  const cases: [string, Record<string, string | string[]>, Record<string, string | string[]>][] = [
    ['the request id added', { 'content-type': 'text/plain', etag: '"x"' }, { 'content-type': 'text/plain', etag: '"x"', 'x-request-id': 'rid' }],
    ['hop-by-hop ones dropped', { 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'proxy-authenticate': 'Basic', trailer: 'X', upgrade: 'h2c', te: 'trailers', vary: 'Accept' }, { vary: 'Accept', 'x-request-id': 'rid' }],
    ['those the Connection names dropped, over two Connection lines', { connection: ['keep-alive, X-A', 'x-b'], 'x-a': '1', 'x-b': '2', 'x-c': '3' }, { 'x-c': '3', 'x-request-id': 'rid' }],
    ['the one the Connection names dropped, a single option', { connection: ' X-A ', 'x-a': '1', 'x-c': '3' }, { 'x-c': '3', 'x-request-id': 'rid' }],
    ['a header named close dropped with Connection: close', { connection: 'Close', close: 'x', 'x-c': '3' }, { 'x-c': '3', 'x-request-id': 'rid' }],
    ['nothing else dropped with Connection: keep-alive', { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-c': '3' }, { 'x-c': '3', 'x-request-id': 'rid' }],
    ['repeated ones kept', { 'set-cookie': ['a=1', 'b=2'], vary: ['A', 'B'] }, { 'set-cookie': ['a=1', 'b=2'], vary: ['A', 'B'], 'x-request-id': 'rid' }],
    ["the origin's request id replaced", { 'x-request-id': 'theirs' }, { 'x-request-id': 'rid' }],
  ];
  for (const [title, headers, expected] of cases) {
    it(title, () => assert.deepEqual(clientResponseHeaders(headers, 'rid'), expected));
  }
  it("an h2c upgrade's HTTP2-Settings dropped", () => assert.deepEqual(clientResponseHeaders({ 'http2-settings': 'AAMAAABk', vary: 'A' }, 'rid'), { vary: 'A', 'x-request-id': 'rid' }));
  it('for an HTTP/2 client, a repeated header as one value: copies as one, others combined; Set-Cookie left repeated', () =>
    assert.deepEqual(clientResponseHeaders({ 'x-content-type-options': ['nosniff', 'nosniff'], vary: ['A', 'B'], 'set-cookie': ['a=1', 'b=2'], etag: '"x"' }, 'rid', true), {
      'x-content-type-options': 'nosniff',
      vary: 'A, B',
      'set-cookie': ['a=1', 'b=2'],
      etag: '"x"',
      'x-request-id': 'rid',
    }));
});

describe('clientAddress', () => {
  it('gives an IPv4 client of a dual-stack listener as IPv4, and leaves IPv6 and IPv4 alone', () => {
    assert.equal(clientAddress('::ffff:203.0.113.5'), '203.0.113.5');
    assert.equal(clientAddress('203.0.113.5'), '203.0.113.5');
    assert.equal(clientAddress('2001:db8::5'), '2001:db8::5');
    assert.equal(clientAddress('::ffff:cb00:7105'), '::ffff:cb00:7105');
    assert.equal(clientAddress('::1'), '::1');
    assert.equal(clientAddress(undefined), '');
  });
});

describe('requestTarget', () => {
  const ok = (authority: string | undefined, path: string) => ({ ok: true, authority, path });
  const cases: [string, string, string[], object | 'refused'][] = [
    ['origin-form: the Host names it', '/a?b=1', ['Host', 'a.test'], ok('a.test', '/a?b=1')],
    ['origin-form without a Host', '/', ['Accept', '*/*'], ok(undefined, '/')],
    ['absolute-form wins over Host', 'http://b.test/x?y=1', ['Host', 'a.test'], ok('b.test', '/x?y=1')],
    ['absolute-form with a port, https, upper case', 'HTTPS://B.test:8443/x', ['Host', 'a.test'], ok('B.test:8443', '/x')],
    ['absolute-form without a path', 'http://b.test', [], ok('b.test', '/')],
    ['absolute-form with only a query', 'http://b.test?q', [], ok('b.test', '/?q')],
    ['two Host lines', '/', ['Host', 'a.test', 'host', 'b.test'], 'refused'],
    ['an empty Host', '/', ['Host', ''], 'refused'],
    ['two Host lines, even with absolute-form', 'http://b.test/', ['HOST', 'a.test', 'Host', 'a.test'], 'refused'],
    ['the asterisk-form', '*', ['Host', 'a.test'], 'refused'],
    ['credentials in the authority', 'http://user:pw@b.test/', ['Host', 'a.test'], 'refused'],
    ['no host in the authority', 'http:///x', ['Host', 'a.test'], 'refused'],
    ['another scheme', 'ftp://b.test/', ['Host', 'a.test'], 'refused'],
    ['a fragment', 'http://b.test/#f', ['Host', 'a.test'], 'refused'],
    ['authority-form (CONNECT)', 'b.test:443', ['Host', 'b.test:443'], 'refused'],
    ['HTTP/2: :authority names it', '/a', [':method', 'GET', ':path', '/a', ':scheme', 'https', ':authority', 'a.test'], ok('a.test', '/a')],
    ['HTTP/2: :authority and a Host that agrees (case aside)', '/a', [':authority', 'a.test:8443', 'host', 'A.test:8443'], ok('a.test:8443', '/a')],
    ['HTTP/2: a Host that names another authority', '/a', [':authority', 'a.test', 'host', 'b.test'], 'refused'],
    ['HTTP/2: an empty :authority', '/a', [':authority', ''], 'refused'],
    ['HTTP/2: a :path in absolute-form, which HTTP/2 does not have', 'http://b.test/a', [':authority', 'a.test'], 'refused'],
    ['HTTP/2: the asterisk', '*', [':authority', 'a.test'], 'refused'],
    ['HTTP/2: Host alone (no :authority)', '/a', [':method', 'GET', ':path', '/a', 'host', 'a.test'], ok('a.test', '/a')],
    ['a Host with a port', '/', ['Host', 'a.test:8080'], ok('a.test:8080', '/')],
    ['a Host with an empty port (allowed by RFC 3986)', '/', ['Host', 'a.test:'], ok('a.test:', '/')],
    ['a Host that is an IP literal', '/', ['Host', '[::1]:8080'], ok('[::1]:8080', '/')],
    ['a Host with percent-encoding (RFC 3986 allows it; no certificate or zone holds such a name)', '/', ['Host', 'a%2Db.test'], 'refused'],
    ['a Host ending in a dot', '/', ['Host', 'a.test.:8080'], ok('a.test.:8080', '/')],
    ['a Host with an underscore', '/', ['Host', '_dmarc.a-b.test'], ok('_dmarc.a-b.test', '/')],
    ['a Host that is an IPv4 address', '/', ['Host', '127.0.0.1:80'], ok('127.0.0.1:80', '/')],
    ['a Host with a leading dot (OpenSSL would match it against any name under a.test)', '/', ['Host', '.a.test'], 'refused'],
    ['a Host with an empty label', '/', ['Host', 'b..a.test'], 'refused'],
    ['a Host ending in two dots', '/', ['Host', 'a.test..'], 'refused'],
    ['a Host that is only a dot', '/', ['Host', '.'], 'refused'],
    ['a Host with a wildcard', '/', ['Host', '*.a.test'], 'refused'],
    ['a Host with a sub-delimiter', '/', ['Host', 'a!b.test'], 'refused'],
    ['a Host with a 63-character label', '/', ['Host', `${'x'.repeat(63)}.test`], ok(`${'x'.repeat(63)}.test`, '/')],
    ['a Host with a 64-character label', '/', ['Host', `${'x'.repeat(64)}.test`], 'refused'],
    ['a Host of 253 characters, and a trailing dot', '/', ['Host', `${'x.'.repeat(126)}t.:443`], ok(`${'x.'.repeat(126)}t.:443`, '/')],
    ['a Host of 254 characters', '/', ['Host', `${'x.'.repeat(126)}tt`], 'refused'],
    ['absolute-form naming a host with an empty label', 'http://b..a.test/', ['Host', 'a.test'], 'refused'],
    ['absolute-form with a valid authority but a Host with a leading dot', 'http://b.test/', ['Host', '.b.test'], 'refused'],
    ['HTTP/2: an :authority with a leading dot', '/a', [':authority', '.a.test'], 'refused'],
    ['a Host whose port is not digits', '/', ['Host', 'a.test:abc'], 'refused'],
    ['a Host with two ports', '/', ['Host', 'a.test:80:81'], 'refused'],
    ['a Host with a path', '/', ['Host', 'a.test/x'], 'refused'],
    ['a Host with credentials', '/', ['Host', 'user@a.test'], 'refused'],
    ['a Host with a space', '/', ['Host', 'a .test'], 'refused'],
    ['a Host with a stray percent', '/', ['Host', 'a%zz.test'], 'refused'],
    ['a Host that is only a port', '/', ['Host', ':80'], 'refused'],
    ['absolute-form with a port that is not digits', 'http://b.test:x/', ['Host', 'b.test'], 'refused'],
    ['absolute-form with a valid authority but an invalid Host', 'http://b.test/', ['Host', 'b.test:abc'], 'refused'],
    ['HTTP/2: an :authority with a port that is not digits', '/a', [':authority', 'a.test:abc'], 'refused'],
  ];
  for (const [title, url, rawHeaders, expected] of cases) {
    it(title, () => {
      const target = requestTarget(url, rawHeaders);
      if (expected === 'refused') assert.equal(target.ok, false);
      else assert.deepEqual(target, expected);
    });
  }
});

describe('CDN-Loop (RFC 8586)', () => {
  const id = 'strictedge-0123456789abcdef';
  const cases: [string, string | undefined, boolean][] = [
    ['no header', undefined, false],
    ['the edge alone', id, true],
    ['after another CDN, with parameters, in another case', `cloudflare, ${id.toUpperCase()} ; v=1`, true],
    ['two lines as Node joins them', `Fastly, Fastly, ${id}`, true],
    ['only other CDNs', 'cloudflare; foo=bar, Fastly', false],
    ["another edge's id that begins with this one's", `${id}00`, false],
    ["this id inside another's parameter", `cloudflare; via=${id}`, false],
  ];
  for (const [title, header, expected] of cases) it(`${title}: ${expected ? 'a loop' : 'no loop'}`, () => assert.equal(listsCdnId(header, id), expected));

  it('names an edge by its CA (the same for every worker on one state folder), as a token RFC 8586 allows for a pseudonym', async () => {
    const [one, other] = await Promise.all([generateRoot('ecdsa', new Date()), generateRoot('ecdsa', new Date())]);
    const id = cdnLoopId(one.certPem);
    assert.match(id, /^strictedge-[0-9a-f]{16}$/);
    assert.equal(cdnLoopId(one.certPem), id);
    assert.notEqual(cdnLoopId(other.certPem), id);
  });
});

describe('isWebSocketUpgrade', () => {
  const asks = (method: string, upgrade: string | undefined) => isWebSocketUpgrade({ method, headers: { upgrade } } as unknown as IncomingMessage);
  it("tunnels a GET whose Upgrade names websocket, in any case, alone or in a list", () => {
    for (const upgrade of ['websocket', 'WebSocket', 'h2c, websocket', 'websocket ,foo', '\twebsocket']) assert.equal(asks('GET', upgrade), true, upgrade);
  });
  it('not h2c, TLS, a name merely containing websocket, another method, or none', () => {
    for (const upgrade of ['h2c', 'TLS/1.0', 'websockets', 'x-websocket', 'websocket/13x', '']) assert.equal(asks('GET', upgrade), false, upgrade);
    assert.equal(asks('POST', 'websocket'), false);
    assert.equal(asks('GET', undefined), false);
  });
});

describe('zone lookup', () => {
  const table = buildZoneTable([zone('example.test'), zone('deep.example.test'), zone('other.test')]);
  const cases: [string, string | undefined][] = [
    ['example.test', 'example.test'],
    ['www.example.test', 'example.test'],
    ['a.deep.example.test', 'deep.example.test'],
    ['notexample.test', undefined],
    ['test', undefined],
  ];
  for (const [host, expected] of cases) it(`${host} -> ${expected ?? 'no zone'}`, () => assert.equal(table.lookup(host)?.name, expected));
  it('reads Host headers', () => {
    assert.deepEqual(['Example.TEST:8443', 'example.test.', '[::1]:80', '', undefined].map(hostOf), ['example.test', 'example.test', undefined, undefined, undefined]);
  });
  const connectionCases: [string, string | false | null | undefined, boolean][] = [
    ['www.example.test', 'example.test', true],
    ['example.test', 'API.Example.test', true],
    ['a.deep.example.test', 'deep.example.test', true],
    ['a.deep.example.test', 'example.test', false], // a nested zone is another zone
    ['other.test', 'example.test', false],
    ['example.test', 'gone.test', false], // a name whose zone has since been removed
    ['other.test', undefined, true], // plain HTTP: no server name
    ['other.test', false, true],
  ];
  for (const [host, servername, expected] of connectionCases) {
    it(`a request for ${host} on a connection opened for ${String(servername)} is ${expected ? 'served' : 'misdirected'}`, () =>
      assert.equal(servesOnConnection(table, table.lookup(host)!, servername), expected));
  }
});

describe('classifyOriginError', () => {
  const tag = (code: string, originPhase?: string) => Object.assign(new Error(code), { code, ...(originPhase ? { originPhase } : {}) });
  const cases: [unknown, number, string | undefined][] = [
    [tag('ECONNREFUSED', 'tcp'), 521, undefined],
    [Object.assign(tag('ENOTFOUND', 'tcp'), { syscall: 'getaddrinfo' }), 530, undefined],
    [Object.assign(tag('EAI_AGAIN', 'tcp'), { syscall: 'getaddrinfo' }), 530, undefined],
    [Object.assign(tag('ECONNREFUSED', 'tcp'), { syscall: 'connect' }), 521, undefined],
    [tag('STRICTEDGE_ORIGIN_TIMEOUT', 'tcp_timeout'), 522, undefined],
    [tag('UND_ERR_HEADERS_TIMEOUT'), 524, undefined],
    [tag('UND_ERR_BODY_TIMEOUT'), 524, undefined],
    [tag('ECONNRESET', 'tls'), 525, undefined],
    [tag('ERR_SSL_WRONG_VERSION_NUMBER', 'tls'), 525, undefined],
    [tag('STRICTEDGE_ORIGIN_TIMEOUT', 'tls_timeout'), 525, undefined],
    [tag('CERT_HAS_EXPIRED', 'tls'), 526, 'expired'],
    [tag('CERT_NOT_YET_VALID', 'tls'), 526, 'not_yet_valid'],
    [tag('DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'), 526, 'untrusted'],
    [tag('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'), 526, 'untrusted'],
    [new OriginVerifyError('revoked'), 526, 'revoked'],
    [tag('UND_ERR_SOCKET'), 520, undefined],
    [tag('HPE_INVALID_CONSTANT'), 520, undefined],
  ];
  for (const [error, status, verdict] of cases) {
    it(`${(error as { code?: string }).code ?? 'verify error'} -> ${status}${verdict ? ` ${verdict}` : ''}`, () => {
      assert.deepEqual(classifyOriginError(error), verdict ? { status, verdict } : { status });
    });
  }
});

describe('socketCloseReason', () => {
  it('tells a clean close from a broken connection', () => {
    const table: [boolean, string | undefined, string][] = [
      [false, undefined, 'idle'], // closed with no error at all
      [false, 'UND_ERR_INFO', 'idle'], // undici: after `Connection: close`, or its keep-alive timeout
      [true, 'UND_ERR_SOCKET', 'origin_closed'], // the origin ended it; undici then says "other side closed"
      [true, undefined, 'origin_closed'],
      [false, 'ECONNRESET', 'error'],
      [false, 'UND_ERR_SOCKET', 'error'],
      [false, 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', 'error'],
    ];
    for (const [originEnded, errorCode, reason] of table) assert.equal(socketCloseReason({ originEnded, errorCode }), reason, `${originEnded} ${errorCode}`);
    // undici's informational "aborted": the edge stopped a request in flight, its client gone.
    assert.equal(socketCloseReason({ originEnded: false, errorCode: 'UND_ERR_INFO', errorMessage: 'aborted' }), 'aborted');
    assert.equal(socketCloseReason({ originEnded: false, errorCode: 'UND_ERR_INFO', errorMessage: 'socket idle timeout' }), 'idle');
    // The edge closing it for its certificate wins over whatever undici or the origin did next.
    assert.equal(socketCloseReason({ closedByEdge: 'revoked', originEnded: true, errorCode: 'ECONNRESET' }), 'revoked');
    assert.equal(socketCloseReason({ closedByEdge: 'expired', originEnded: false, errorCode: 'UND_ERR_SOCKET' }), 'expired');
  });
});

describe('cutShortReason', () => {
  it('tells a body timeout from a broken answer', () => {
    assert.equal(cutShortReason({ code: 'UND_ERR_BODY_TIMEOUT' }), 'timeout');
    for (const code of ['UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'HPE_INVALID_CHUNK_SIZE', 'ECONNRESET', undefined]) assert.equal(cutShortReason({ code }), 'error', String(code));
    assert.equal(cutShortReason(undefined), 'error');
  });
});

describe('verdicts', () => {
  it('judges identity after the chain verified', () => {
    const facts = (hostnameMatches: boolean, issuedByOriginRoot: boolean, probe: 'ok' | 'unknown' | 'revoked') => ({ hostnameMatches, issuedByOriginRoot, probe: () => probe });
    assert.equal(identityVerdict(facts(true, true, 'ok')), undefined);
    assert.equal(identityVerdict(facts(false, true, 'ok')), 'hostname_mismatch');
    assert.equal(identityVerdict(facts(true, true, 'revoked')), 'revoked');
    assert.equal(identityVerdict(facts(true, true, 'unknown')), 'unknown_certificate');
    assert.equal(identityVerdict(facts(true, false, 'unknown')), undefined, 'public-root certificates are not in our index');
    assert.equal(chainVerdict('SELF_SIGNED_CERT_IN_CHAIN'), 'untrusted');
  });

  it('re-checks a resumed session against the clock and the index', () => {
    const facts = (nowMs: number, originLeaf: boolean, probe: 'ok' | 'unknown' | 'revoked') => ({ nowMs, notAfterMs: 1_000, originLeaf, probe: () => probe });
    assert.equal(resumedSessionVerdict(facts(999, true, 'ok')), undefined);
    assert.equal(resumedSessionVerdict(facts(1_001, true, 'ok')), 'expired', 'a session does not outlive its certificate');
    assert.equal(resumedSessionVerdict(facts(999, true, 'revoked')), 'revoked');
    assert.equal(resumedSessionVerdict(facts(999, true, 'unknown')), 'unknown_certificate');
    assert.equal(resumedSessionVerdict(facts(999, false, 'revoked')), undefined, 'public-root certificates are not in our index');
  });
});

async function passedThrough(chunks: Buffer[], limitBytes: number): Promise<number> {
  let length = 0;
  for await (const chunk of Readable.from(chunks).pipe(limitedBody(limitBytes))) length += (chunk as Buffer).length;
  return length;
}

describe('request body limit', () => {
  it('refuses a declared length over the limit, up to and including it passes, and 0 means none', () => {
    assert.equal(declaredBodyTooLarge('1048577', MIB), true);
    assert.equal(declaredBodyTooLarge('1048576', MIB), false);
    assert.equal(declaredBodyTooLarge('0', MIB), false);
    assert.equal(declaredBodyTooLarge(undefined, MIB), false); // chunked: counted on the way
    assert.equal(declaredBodyTooLarge('99999999999999999999', 0), false);
    assert.equal(declaredBodyTooLarge('99999999999999999999', MIB), true);
  });
  it('counts a body without a declared length and fails at the first byte over', async () => {
    assert.equal(await passedThrough([Buffer.alloc(600), Buffer.alloc(424)], 1024), 1024);
    await assert.rejects(passedThrough([Buffer.alloc(600), Buffer.alloc(425)], 1024), (error: unknown) => error instanceof RequestBodyTooLarge && error.limitBytes === 1024);
  });
  it('says the limit in MiB in the 413 page, and parses the flag', () => {
    assert.equal(bodyTooLargeDetail(100 * MIB), 'The request body is larger than this edge passes to origins (100 MiB).');
    assert.equal(requestBodyLimitFlag('0'), 0);
    assert.equal(requestBodyLimitFlag('100'), 100);
    assert.equal(requestBodyLimitFlag(undefined), undefined);
    for (const bad of ['-1', '1.5', '', '1e3', '1048577', '100MB']) assert.throws(() => requestBodyLimitFlag(bad), /--max-request-body-mib must be a whole number of MiB up to 1048576, or 0 for no limit/, bad);
  });
});

it("says on a refused request's page why, with the server's own limits", () => {
  const limits = { maxHeadBytes: 32 * KIB, headersTimeoutMs: 60_000 };
  assert.match(refusalFailure(431, limits).detail!, /\(32 KiB\): often too many or too large cookies/);
  assert.match(refusalFailure(408, limits).detail!, /did not arrive whole within 60 s/);
  assert.match(refusalFailure(413, limits).detail!, /chunk extensions/);
  assert.match(refusalFailure(400, limits).detail!, /not valid HTTP\/1\.1/);
  for (const status of [400, 408, 413, 431] as const) assert.equal(refusalFailure(status, limits).status, status);
});

it("checks heads against the header timeout a quarter of it apart, between Node's 30 s and 100 ms", () => {
  assert.equal(headerTimeoutCheckMs(60_000), 15_000);
  assert.equal(headerTimeoutCheckMs(1_000), 250);
  assert.equal(headerTimeoutCheckMs(6_000_000), 30_000);
  assert.equal(headerTimeoutCheckMs(100), 100);
});

describe('the request head limit', () => {
  it("measures an HTTP/2 head in HTTP/1.1's bytes: each field's name, value, colon, space and CRLF", () => {
    assert.equal(http2HeadBytes([]), 0);
    // Each field: its name and value, and 4 for ": " and CRLF.
    assert.equal(http2HeadBytes([':method', 'GET', ':path', '/', ':authority', 'a.test']), 7 + 3 + 4 + 5 + 1 + 4 + 10 + 6 + 4);
    assert.equal(http2HeadBytes(['cookie', 'c'.repeat(16 * KIB)]), 16 * KIB + 10);
  });
  it('says the limit in KiB in the 431 page, and parses the flag', () => {
    assert.match(headTooLargeDetail(16 * KIB), /larger than this edge passes to origins \(16 KiB\)/);
    assert.equal(requestHeadLimitFlag('1'), 1);
    assert.equal(requestHeadLimitFlag('1024'), 1024);
    assert.equal(requestHeadLimitFlag(undefined), undefined);
    for (const bad of ['0', '-1', '1.5', '', '1e3', '1025', '16k']) assert.throws(() => requestHeadLimitFlag(bad), /--max-request-head-kib must be a whole number of KiB from 1 to 1024/, bad);
  });
});

describe('--max-origin-connections', () => {
  it('takes a whole number up to a million, 0 for no limit', () => {
    assert.equal(originConnectionLimitFlag('0'), 0);
    assert.equal(originConnectionLimitFlag('512'), 512);
    assert.equal(originConnectionLimitFlag('1000000'), 1_000_000);
    assert.equal(originConnectionLimitFlag(undefined), undefined);
    for (const bad of ['-1', '2.5', '', '1e3', '1000001', 'many']) assert.throws(() => originConnectionLimitFlag(bad), /--max-origin-connections must be a whole number up to 1000000, or 0 for no limit/, bad);
  });
});

describe('sendAgainOnAnotherConnection', () => {
  const lost = (code: string, originPhase?: string) => Object.assign(new Error(code), { code, ...(originPhase ? { originPhase } : {}) });
  it('sends a bodiless GET, HEAD, OPTIONS or DELETE once more when its connection was lost before any answer', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'DELETE']) for (const code of ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']) assert.equal(sendAgainOnAnotherConnection(method, false, lost(code)), true, `${method} ${code}`);
  });
  it('never a request with a body, a POST or PATCH, a new connection that failed, or a timeout or a malformed answer', () => {
    assert.equal(sendAgainOnAnotherConnection('GET', true, lost('UND_ERR_SOCKET')), false);
    for (const method of ['POST', 'PATCH', 'PUT', 'CONNECT']) assert.equal(sendAgainOnAnotherConnection(method, false, lost('UND_ERR_SOCKET')), false, method);
    for (const phase of ['tcp', 'tcp_timeout', 'tls', 'tls_timeout']) assert.equal(sendAgainOnAnotherConnection('GET', false, lost('ECONNRESET', phase)), false, phase);
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'HPE_INVALID_CONSTANT', 'STRICTEDGE_CLIENT_GONE']) assert.equal(sendAgainOnAnotherConnection('GET', false, lost(code)), false, code);
    assert.equal(sendAgainOnAnotherConnection('GET', false, new OriginVerifyError('revoked')), false);
  });
});

describe('bodyIdleAction', () => {
  const idle = (answerSent: boolean, answerStarted: boolean, edgeReading: boolean) => bodyIdleAction({ answerSent, answerStarted, edgeReading });
  it('gives up (408) on a body that stopped coming while the edge was reading it and nothing was answered', () => {
    assert.equal(idle(false, false, true), 'give_up');
  });
  it('waits while the edge holds the body back (a slow origin, none reached yet) or the answer is going out', () => {
    assert.equal(idle(false, false, false), 'wait');
    assert.equal(idle(false, true, true), 'wait');
    assert.equal(idle(false, true, false), 'wait');
  });
  it('cuts what still waits for a body once the answer is out', () => {
    assert.equal(idle(true, true, true), 'cut');
    assert.equal(idle(true, true, false), 'cut');
  });
});

it("answers the requests Node's parser refuses as Node does, and a connection that broke not at all", () => {
  assert.equal(refusedRequestStatus('HPE_HEADER_OVERFLOW'), 431);
  assert.equal(refusedRequestStatus('HPE_CHUNK_EXTENSIONS_OVERFLOW'), 413);
  assert.equal(refusedRequestStatus('ERR_HTTP_REQUEST_TIMEOUT'), 408);
  assert.equal(refusedRequestStatus('HPE_INVALID_HEADER_TOKEN'), 400);
  assert.equal(refusedRequestStatus('HPE_INVALID_METHOD'), 400);
  assert.equal(refusedRequestStatus('ECONNRESET'), undefined);
  assert.equal(refusedRequestStatus('HPE_INVALID_EOF_STATE'), undefined, 'the client left mid-head');
  assert.equal(refusedRequestStatus(undefined), undefined);
  // A 408 counts only where part of a request came: not for a connection that sent nothing.
  assert.equal(refusalAnsweredRequest(408, 0), false);
  assert.equal(refusalAnsweredRequest(408, 25), true);
  assert.equal(refusalAnsweredRequest(431, 0), true);
});
