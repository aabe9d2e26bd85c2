import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LVS_METRIC_NAMES } from '../../../src/metrics/lvs-metrics';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource: { uid: string } }[];
}

const dash = JSON.parse(readFileSync(join(__dirname, '../../../docker/grafana-dashboard.json'), 'utf8')) as {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
};
const panels = dash.panels.filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const variableQueries = dash.templating.list.filter((v) => v.type === 'query').map((v) => (typeof v.query === 'string' ? v.query : v.query.query));
const lvsNames = (expr: string): string[] => expr.match(/\blvs_[a-z_]+/g) ?? [];

describe('docker/grafana-dashboard.json', () => {
  it('is a Grafana dashboard with a ${datasource} Prometheus variable used by every panel and query', () => {
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dash.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource.uid, p.title).toBe('${datasource}');
    }
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
  });

  it.each([...exprs, ...variableQueries].map((e) => [e]))('%s names only lvs_ series the exporter emits', (expr) => {
    expect(lvsNames(expr).length).toBeGreaterThan(0);
    for (const name of lvsNames(expr)) expect(LVS_METRIC_NAMES).toContain(name);
  });

  it.each([
    ['rate(lvs_service_connections_total'], ['rate(lvs_real_server_connections_total'], ['lvs_real_server_active_connections'],
    ['lvs_real_server_inactive_connections'], ['lvs_packets_dropped_total'], ['lvs_connection_table_entries{'],
    ['lvs_connection_table_limit{'], ['lvs_real_server_up{'],
  ])('has a panel on %s', (text) => {
    expect(exprs.some((e) => e.includes(text))).toBe(true);
  });
});
