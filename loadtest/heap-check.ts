// npm run bench:heap — does the edge keep anything per request? An in-process CA + edge and a
// strict keep-alive origin, autocannon for rounds of 15 s, and the V8 heap in use after two full
// GCs after each round, side by side with the same figure after a 5 s warm-up. Flat means no
// leak; the RSS and live-heap growth `npm run loadtest -- --soak 300` shows is then the
// collector's and the allocator's, not retained objects. Needs node --expose-gc (the script sets it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startOrigin } from '../src/origin/server.js';
import { createKeyAndCsr } from '../src/pki/csr-build.js';
import { startTestEdge } from '../test/helpers/edge.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:heap does)');
const dir = mkdtempSync(join(tmpdir(), 'strictedge-heap-'));
const edge = await startTestEdge(dir);
try {
  const { account } = edge.app.admin.createAccount('heap');
  const zone = edge.app.admin.addZone({ name: 'heap.test', account: 'heap', mode: 'strict' });
  const { keyPem, csrPem } = await createKeyAndCsr({ keyType: 'ecdsa', size: 256 }, ['heap.test']);
  const record = await edge.app.ca.issue(account, { csr: csrPem, hostnames: ['heap.test'], requestType: 'origin-ecc', requestedValidity: 7 });
  const origin = await startOrigin({ name: 'heap', tls: { cert: record.pem, key: keyPem } });
  edge.app.zoneStore.setOrigins(zone.id, null, origin.address, new Date().toISOString());
  edge.edge.refreshZones();
  const heapMb = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 1e6;
  };
  const run = async (seconds: number) => (await autocannon({ url: `https://127.0.0.1:${edge.httpsPort}/bytes/6`, servername: 'heap.test', headers: { host: 'heap.test' }, connections: 50, duration: seconds } as autocannon.Options)).requests.total;
  await run(5);
  const baseline = heapMb();
  let total = 0;
  console.log('| after | requests | heap in use after GC, MB | baseline (after warm-up), MB | bytes per request retained |');
  console.log('|---|--:|--:|--:|--:|');
  for (let round = 1; round <= 4; round++) {
    total += await run(15);
    const now = heapMb();
    console.log(`| ${round * 15} s | ${total} | ${now.toFixed(1)} | ${baseline.toFixed(1)} | ${(((now - baseline) * 1e6) / total).toFixed(2)} |`);
  }
  await origin.close();
} finally {
  await edge.close();
  rmSync(dir, { recursive: true, force: true });
}
