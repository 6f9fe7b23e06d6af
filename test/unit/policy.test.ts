import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { Errors, StrictedgeError, type ErrorDef } from '../../src/errors/catalogue.js';
import {
  checkKeyFitsRequestType,
  checkValidity,
  nearestValidity,
  normalizeHostname,
  planIssuance,
  zoneFor,
  type IssuanceRequest,
} from '../../src/ca/policy.js';

function throwsCode(fn: () => unknown, errorDef: ErrorDef): void {
  assert.throws(fn, (error: unknown) => error instanceof StrictedgeError && error.code === errorDef.code);
}

describe('normalizeHostname', () => {
  const accepted: [string, string][] = [
    ['example.test', 'example.test'],
    ['WWW.Example.TEST', 'www.example.test'],
    ['*.example.test', '*.example.test'],
    ['*.www.example.test', '*.www.example.test'],
    ['a-b.c1.example.test', 'a-b.c1.example.test'],
    ['bücher.example.test', 'xn--bcher-kva.example.test'],
    ['*.münchen.test', '*.xn--mnchen-3ya.test'],
    [`${'a'.repeat(63)}.test`, `${'a'.repeat(63)}.test`],
  ];
  for (const [input, expected] of accepted) {
    it(`accepts ${JSON.stringify(input)} as ${expected}`, () => assert.equal(normalizeHostname(input), expected));
  }

  const rejected: [unknown, ErrorDef, string][] = [
    ['*.*.example.test', Errors.WILDCARD_MULTIPLE, 'rejects two wildcard labels'],
    ['a.*.example.test', Errors.WILDCARD_NOT_LEFTMOST, 'rejects a wildcard that is not leftmost'],
    ['f*.example.test', Errors.WILDCARD_PARTIAL, 'rejects a partial-label wildcard'],
    ['*.test', Errors.WILDCARD_OVER_TLD, 'rejects a wildcard directly over a TLD'],
    ['*', Errors.WILDCARD_ALONE, 'rejects a bare star'],
    ['192.0.2.1', Errors.HOSTNAME_IP_ADDRESS, 'rejects an IPv4 address'],
    ['2001:db8::1', Errors.HOSTNAME_IP_ADDRESS, 'rejects an IPv6 address'],
    ['[::1]', Errors.HOSTNAME_IP_ADDRESS, 'rejects a bracketed IPv6 address'],
    ['a..example.test', Errors.HOSTNAME_EMPTY_LABEL, 'rejects an empty label'],
    ['example.test.', Errors.HOSTNAME_EMPTY_LABEL, 'rejects a trailing dot'],
    ['', Errors.HOSTNAME_EMPTY_LABEL, 'rejects the empty string'],
    [`${'a'.repeat(64)}.test`, Errors.HOSTNAME_LABEL_TOO_LONG, 'rejects a label over 63 characters'],
    [`${'a.'.repeat(127)}test`, Errors.HOSTNAME_TOO_LONG, 'rejects a name over 253 characters'],
    ['under_score.example.test', Errors.HOSTNAME_INVALID_CHARACTERS, 'rejects an underscore'],
    ['-lead.example.test', Errors.HOSTNAME_INVALID_CHARACTERS, 'rejects a leading hyphen'],
    ['sp ace.example.test', Errors.HOSTNAME_INVALID_CHARACTERS, 'rejects a space'],
    [42, Errors.HOSTNAME_NOT_STRING, 'rejects a number'],
  ];
  for (const [input, errorDef, title] of rejected) {
    it(`${title} (${errorDef.code})`, () => throwsCode(() => normalizeHostname(input), errorDef));
  }
});

describe('planIssuance', () => {
  const zones = [
    { id: 'z1', name: 'example.test' },
    { id: 'z2', name: 'other.test' },
    { id: 'z3', name: 'deep.example.test' },
  ];
  const now = new Date('2026-01-01T00:00:00.500Z');
  const request = (hostnames: unknown[], extra: Partial<IssuanceRequest> = {}): IssuanceRequest => ({
    hostnames,
    requestType: 'origin-ecc',
    validityDays: 7,
    key: { kind: 'ecdsa', curve: 'P-256' },
    ...extra,
  });

  it('accepts the apex, one-label wildcards at several depths, and names across zones', () => {
    const plan = planIssuance(request(['example.test', '*.example.test', '*.www.example.test', 'a.other.test']), zones, now, 100);
    assert.deepEqual(plan.hostnames, ['example.test', '*.example.test', '*.www.example.test', 'a.other.test']);
    assert.deepEqual([...plan.zoneIds].sort(), ['z1', 'z2']);
  });
  it('files a name under the most specific zone', () => {
    assert.equal(zoneFor('x.deep.example.test', zones)?.id, 'z3');
    assert.equal(zoneFor('*.deep.example.test', zones)?.id, 'z3');
    assert.equal(zoneFor('notexample.test', zones), undefined);
  });
  it('backdates notBefore and adds whole days, in whole seconds', () => {
    const plan = planIssuance(request(['example.test']), zones, now, 100);
    assert.equal(plan.notBefore.toISOString(), '2025-12-31T23:55:00.000Z');
    assert.equal(plan.notAfter.toISOString(), '2026-01-07T23:55:00.000Z');
  });

  const rejected: [unknown[], ErrorDef, string][] = [
    [['evil.test'], Errors.HOSTNAME_NOT_IN_ACCOUNT, 'rejects a name outside the account zones'],
    [['notexample.test'], Errors.HOSTNAME_NOT_IN_ACCOUNT, 'rejects a name that only ends with a zone name'],
    [['a.example.test', 'A.example.test'], Errors.HOSTNAME_DUPLICATE, 'rejects duplicates after normalization'],
    [[], Errors.HOSTNAMES_MISSING, 'rejects an empty list'],
    [Array.from({ length: 101 }, (_, i) => `h${i}.example.test`), Errors.TOO_MANY_HOSTNAMES, 'rejects 101 names'],
  ];
  for (const [hostnames, errorDef, title] of rejected) {
    it(`${title} (${errorDef.code})`, () => throwsCode(() => planIssuance(request(hostnames), zones, now, 100), errorDef));
  }
  it('allows up to the configured maximum', () => {
    const names = Array.from({ length: 150 }, (_, i) => `h${i}.example.test`);
    assert.equal(planIssuance(request(names), zones, now, 150).hostnames.length, 150);
  });
});

describe('key and validity checks', () => {
  const sound = BigInt(`0x${Buffer.from(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`);
  const rsa = (bits: number, exponent = 65537n, modulus = sound) => ({ kind: 'rsa' as const, bits, modulus, exponent });
  const cases: [Parameters<typeof checkKeyFitsRequestType>, ErrorDef | undefined, string][] = [
    [[{ kind: 'ecdsa', curve: 'P-256' }, 'origin-ecc'], undefined, 'accepts P-256 for origin-ecc'],
    [[rsa(2048), 'origin-rsa'], undefined, 'accepts RSA-2048 for origin-rsa'],
    [[rsa(4096), 'origin-rsa'], undefined, 'accepts RSA-4096 for origin-rsa'],
    [[rsa(2048, 3n), 'origin-rsa'], undefined, 'accepts an exponent of 3'],
    [[rsa(2048), 'origin-ecc'], Errors.CSR_KEY_TYPE_MISMATCH, 'rejects RSA for origin-ecc'],
    [[{ kind: 'ecdsa', curve: 'P-256' }, 'origin-rsa'], Errors.CSR_KEY_TYPE_MISMATCH, 'rejects ECDSA for origin-rsa'],
    [[rsa(1024), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects RSA-1024'],
    [[rsa(8192), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects RSA-8192'],
    [[rsa(2048, 1n), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects an exponent of 1 (any signature verifies)'],
    [[rsa(2048, 0n), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects an exponent of 0'],
    [[rsa(2048, 65536n), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects an even exponent'],
    [[rsa(2048, (1n << 256n) + 1n), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects an exponent of 2^256 or more'],
    [[rsa(2048, 65537n, sound * 2n), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects an even modulus'],
    [[rsa(2048, 65537n, sound * 751n), 'origin-rsa'], Errors.CSR_KEY_TOO_WEAK, 'rejects a modulus with a factor below 752'],
  ];
  for (const [args, errorDef, title] of cases) {
    it(title, () => (errorDef ? throwsCode(() => checkKeyFitsRequestType(...args), errorDef) : checkKeyFitsRequestType(...args)));
  }
  it('takes only the allowed validities, defaulting to 5475', () => {
    assert.equal(checkValidity(undefined), 5475);
    for (const days of [7, 30, 90, 365, 730, 1095, 5475]) assert.equal(checkValidity(days), days);
    for (const bad of [0, 8, 5476, '7', null]) throwsCode(() => checkValidity(bad), Errors.VALIDITY_INVALID);
  });
  it('rounds a CLI -days value to the nearest allowed one', () => {
    assert.deepEqual([1, 8, 20, 60, 200, 300, 800, 4000, 9999].map(nearestValidity), [7, 7, 30, 90, 90, 365, 730, 5475, 5475]);
  });
});
