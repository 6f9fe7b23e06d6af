// config/grafana-dashboard.json parses, and every query names only metrics strictedge exports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { createCaMetrics, createEdgeMetrics } from '../../src/metrics/metrics.js';

it('is an importable dashboard whose queries name exported metrics', async () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../../config/grafana-dashboard.json', import.meta.url), 'utf8')) as {
    title: string;
    panels: { title: string; targets: { expr: string }[] }[];
  };
  assert.equal(dashboard.title, 'strictedge');
  const exported = new Set<string>();
  for (const registry of [createEdgeMetrics().registry, createCaMetrics().registry]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      exported.add(metric.name);
      if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(metric.name + suffix);
    }
  }
  const wanted = ['requests_total', 'request_duration_seconds', 'tls_handshake_bytes', 'verify_failures_total', 'apply_delay_seconds'];
  const allExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
  for (const fragment of wanted) assert.ok(allExprs.includes(fragment), `a panel shows ${fragment}`);
  for (const panel of dashboard.panels) {
    for (const { expr } of panel.targets) {
      const names = expr.match(/strictedge_[a-z_]+/g) ?? [];
      assert.ok(names.length > 0, `${panel.title}: ${expr}`);
      for (const name of names) assert.ok(exported.has(name), `${panel.title}: ${name} is not exported`);
    }
  }
});
