// Revocation reaches live connections: a revoked certificate is refused on the very
// keep-alive connection that was using it, not only on new handshakes.
import assert from 'node:assert/strict';
import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type RunningOrigin } from '../../src/origin/server.js';
import { api } from '../helpers/ca.js';
import { edgeRequest, startTestEdge, type TestEdge } from '../helpers/edge.js';
import { opensslCsr } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

describe('revocation at the edge', () => {
  const dir = tempDir('strictedge-revocation-');
  let edge: TestEdge;
  let origin: RunningOrigin;
  let apiKey: string;
  let certId: string;
  after(async () => {
    await origin?.close();
    await edge?.close();
  });
  before(async () => {
    edge = await startTestEdge(join(dir, 'state'));
    apiKey = edge.app.admin.createAccount('site').apiKey;
    const zone = edge.app.admin.addZone({ name: 'ka.test', account: 'site', mode: 'strict' });
    const csr = opensslCsr(dir, 'p256', 'ka');
    const issued = await api(edge.api, 'POST', '/certificates', { key: apiKey, body: { csr: csr.csr, hostnames: ['ka.test'], request_type: 'origin-ecc', requested_validity: 7 } });
    certId = issued.result.id;
    origin = await startOrigin({ name: 'ka', tls: { cert: issued.result.certificate, key: csr.keyPem } });
    edge.app.zoneStore.setOrigins(zone.id, null, origin.address, new Date().toISOString());
    edge.edge.refreshZones();
  });

  it('refuses the next requests on the same keep-alive connection once the certificate is revoked', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: edge.edgeCaPem, servername: 'ka.test' });
    const get = () =>
      new Promise<{ status: number; reused: boolean; verdict: string | undefined }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: edge.httpsPort, headers: { host: 'ka.test' }, agent, servername: 'ka.test' }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket, verdict: res.headers['x-strictedge-verdict'] as string | undefined }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await get()).status, 200);
      assert.equal(edge.edge.sockets.size, 1, 'one pooled origin socket, recorded under its serial');

      const revoked = await api(edge.api, 'DELETE', `/certificates/${certId}`, { key: apiKey });
      assert.equal(revoked.status, 200);
      const answeredAt = performance.now();
      let result = await get();
      let servedAfterRevocation = 0;
      while (result.status === 200 && performance.now() - answeredAt < 5000) {
        servedAfterRevocation++;
        result = await get();
      }
      const lagMs = performance.now() - answeredAt;
      // In one process the CA applies the event before it answers: not one request more.
      assert.equal(servedAfterRevocation, 0, 'requests served with the revoked certificate after the API answered');
      assert.equal(result.status, 526);
      assert.equal(result.verdict, 'revoked');
      assert.equal(result.reused, true, 'the client kept its connection to the edge');
      assert.ok(lagMs < 5000, `refused ${lagMs.toFixed(1)} ms after the API answered`);
      assert.equal(edge.edge.sockets.size, 0, 'no origin socket with the revoked certificate is left');
      // The metrics agree: the socket is counted closed for revocation, and no longer open.
      const metrics = await (await fetch(edge.metricsUrl)).text();
      assert.match(metrics, /^strictedge_edge_origin_sockets_closed_total\{reason="revoked"\} 1$/m);
      assert.match(metrics, /^strictedge_edge_origin_sockets\{zone="ka\.test",state="idle"\} 0$/m);
      assert.match(metrics, /^strictedge_edge_origin_sockets\{zone="ka\.test",state="active"\} 0$/m);
      console.log(`# first refusal ${lagMs.toFixed(2)} ms after the revocation call returned`);
    } finally {
      agent.destroy();
    }
  });

  it('never resumes an origin TLS session, so a revoked certificate cannot come back through one', async () => {
    const zone = edge.app.admin.addZone({ name: 'resume.test', account: 'site', mode: 'strict' });
    const csr = opensslCsr(dir, 'p256', 'resume');
    const issued = await api(edge.api, 'POST', '/certificates', { key: apiKey, body: { csr: csr.csr, hostnames: ['resume.test'], request_type: 'origin-ecc', requested_validity: 7 } });
    // keepAlive false: every request is a new connection to the origin, a chance to resume
    const resumeOrigin = await startOrigin({ name: 'resume', tls: { cert: issued.result.certificate, key: csr.keyPem }, keepAlive: false });
    const reused: boolean[] = [];
    resumeOrigin.server.on('secureConnection', (socket: import('node:tls').TLSSocket) => reused.push(socket.isSessionReused()));
    try {
      edge.app.zoneStore.setOrigins(zone.id, null, resumeOrigin.address, new Date().toISOString());
      edge.edge.refreshZones();
      for (let i = 0; i < 4; i++) assert.equal((await edgeRequest(edge, { scheme: 'https', host: 'resume.test' })).status, 200);
      assert.deepEqual(reused, [false, false, false, false], 'every origin handshake was a full one');
      await api(edge.api, 'DELETE', `/certificates/${issued.result.id}`, { key: apiKey });
      const refused = await edgeRequest(edge, { scheme: 'https', host: 'resume.test' });
      assert.equal(refused.status, 526);
      assert.equal(refused.headers['x-strictedge-verdict'], 'revoked');
    } finally {
      await resumeOrigin.close();
    }
  });
});
