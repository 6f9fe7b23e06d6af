import { openAccessLog, accessEntry } from './dist/src/edge/access-log.js';
import { performance } from 'node:perf_hooks';
const path = process.argv[2];
const log = openAccessLog(path);
const req = { headers: { 'user-agent': 'autocannon/9.0.0', host: 'strict.test' }, httpVersionMajor: 1, httpVersion: '1.1', method: 'GET', url: '/some/path?x=1', socket: { remoteAddress: '127.0.0.1' } };
const N = 100000;
for (let round = 0; round < 3; round++) {
  const cpu0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const startedAt = performance.now();
    log.write(accessEntry({ req, scheme: 'https', startedAt, answeredAt: performance.now(), requestId: 'f2e030dc-2352-4b8b-8a23-cc9e30073bd5', clientIp: '127.0.0.1', host: 'strict.test', zone: { name: 'strict.test', mode: 'strict' }, status: 200, bodyBytesSent: 389 }));
    await new Promise((r) => setImmediate(r)); // one line per turn of the loop, as requests come
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(`${path} round ${round}: ${((performance.now() - t0) * 1000 / N).toFixed(2)} µs wall, ${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU per line (user ${(cpu.user/N).toFixed(2)}, sys ${(cpu.system/N).toFixed(2)})`);
}
await log.close();
