// What a separate edge makes of its CA's answer for the Origin CA roots: the roots, a refusal to
// report as one, or a --ca-url that names something other than a strictedge CA's API.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { judgeRootsReply } from '../../src/cli/edge-roots.js';
import { generateRoot } from '../../src/pki/root.js';

describe("a separate edge judging its CA's answer for the roots", () => {
  let ecc: string;
  let rsa: string;
  before(async () => {
    ecc = (await generateRoot('ecdsa', new Date())).certPem;
    rsa = (await generateRoot('rsa', new Date())).certPem;
  });

  it('takes two root certificates in a successful envelope', () => {
    assert.deepEqual(judgeRootsReply(200, { success: true, errors: [], messages: [], result: { ecc, rsa } }), { kind: 'roots', roots: [ecc, rsa] });
  });

  it("reports the CA's refusal as a refusal: the edge token, or another error by its status", () => {
    const refusal = (status: number, message: string) => judgeRootsReply(status, { success: false, errors: [{ code: 10003, message }], messages: [], result: null });
    assert.deepEqual(refusal(401, 'Authentication error: the edge token is not valid'), { kind: 'refused', why: 'the CA refused the edge token: Authentication error: the edge token is not valid' });
    assert.deepEqual(refusal(500, 'Internal error'), { kind: 'refused', why: 'the CA answered HTTP 500: Internal error' });
    assert.deepEqual(judgeRootsReply(401, { success: false }), { kind: 'refused', why: 'the CA refused the edge token: no message' });
  });

  it('says a --ca-url is not a strictedge CA when the answer is not its API', () => {
    const rows: [string, number, unknown, string][] = [
      ['the API without /client/v4: its 404 envelope', 404, { success: false, errors: [{ code: 1003, message: 'No such route' }] }, 'has no such route (HTTP 404: No such route)'],
      ['a web server: HTML', 200, undefined, 'answered HTTP 200, not in JSON'],
      ['another JSON service', 200, { status: 'ok' }, "answered HTTP 200 without the API's envelope"],
      ['JSON that is not an object', 200, 'roots', "answered HTTP 200 without the API's envelope"],
      ['null', 200, null, "answered HTTP 200 without the API's envelope"],
      ['success as a string', 200, { success: 'true', result: { ecc, rsa } }, "answered HTTP 200 without the API's envelope"],
      ['an envelope with no roots', 200, { success: true, result: null }, 'answered HTTP 200 without two root certificates'],
      ['roots that are not certificates', 200, { success: true, result: { ecc: 'not a certificate', rsa } }, 'answered HTTP 200 without two root certificates'],
      ['one root missing', 200, { success: true, result: { ecc } }, 'answered HTTP 200 without two root certificates'],
    ];
    for (const [what, status, body, why] of rows) assert.deepEqual(judgeRootsReply(status, body), { kind: 'not-a-ca', why }, what);
  });
});
