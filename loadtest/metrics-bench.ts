// npm run bench:metrics — what metrics cost: the per-request work the edge does (bound
// children, as in proxy.ts), beside an empty loop measured in the same run; and one scrape of
// the edge's registry with 100 zones of live series. Targets: ≤ 2 µs per request, ≤ 10 ms per scrape.
import { createEdgeInstruments } from '../src/edge/instruments.js';
import { createEdgeMetrics } from '../src/metrics/metrics.js';
import { median } from './processes.js';

const REQUESTS = 1_000_000;
const ZONES = 100;

function perRequestNs(withMetrics: boolean): number {
  const instruments = createEdgeInstruments(withMetrics ? createEdgeMetrics() : undefined);
  const zones = Array.from({ length: ZONES }, (_, i) => `zone-${i}.test`);
  const codes = [200, 200, 200, 304, 404, 526];
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < REQUESTS; i++) {
      const zone = instruments.forZone(zones[i % ZONES]!);
      zone.inflight++;
      zone.ttfb(0.0012);
      zone.inflight--;
      zone.answered('strict', codes[i % codes.length]!, 0.0025);
    }
    rounds.push(Number(process.hrtime.bigint() - started) / REQUESTS);
  }
  return median(rounds);
}

async function scrapeMs(): Promise<{ ms: number; bytes: number; series: number }> {
  const metrics = createEdgeMetrics();
  const instruments = createEdgeInstruments(metrics);
  for (let z = 0; z < ZONES; z++) {
    const zone = instruments.forZone(`zone-${z}.test`);
    for (const code of [200, 301, 404, 502, 521, 526]) zone.answered('strict', code, 0.003);
    zone.ttfb(0.001);
    zone.connect.tcpConnected(0.0002);
    zone.connect.tlsHandshake('ok', 0.002);
    zone.connect.handshakeBytes(890, 321);
    zone.verifyFailure('expired');
  }
  instruments.refreshGauges();
  const runs: number[] = [];
  let text = '';
  for (let i = 0; i < 21; i++) {
    const started = performance.now();
    text = await metrics.registry.metrics();
    runs.push(performance.now() - started);
  }
  return { ms: median(runs), bytes: text.length, series: text.split('\n').filter((line) => line && !line.startsWith('#')).length };
}

const baseline = perRequestNs(false);
const withMetrics = perRequestNs(true);
const scrape = await scrapeMs();
console.log(`\nMetric cost (${new Date().toISOString()}), medians of 5 rounds × ${REQUESTS.toLocaleString()} requests, ${ZONES} zones\n`);
console.log('| measure | value | baseline | target |');
console.log('|---|--:|--:|---|');
console.log(`| per-request metric work (answered + ttfb + in-flight), µs | ${((withMetrics - baseline) / 1000).toFixed(3)} | loop without metrics: ${(baseline / 1000).toFixed(3)} | ≤ 2 |`);
console.log(`| one scrape of the edge registry, ms (${scrape.series} series, ${(scrape.bytes / 1024).toFixed(0)} KiB) | ${scrape.ms.toFixed(2)} | | ≤ 10 |`);
