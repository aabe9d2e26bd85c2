// The director's Prometheus series: one table of definitions, each a name, its labels and a function from the
// daemon's snapshot (the `list` and `status` control answers) to samples. Read at scrape time, never on the
// packet path: the counters are the ones lvsadm --stats/--rate and lvsadm status already show.
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DestView, ListResult, ServiceView } from '../control/protocol';
import { endpoint, ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';
import { FORWARDED_VERDICTS, isDrop } from './verdicts';

/** What one scrape reads: lvsd's `list` and `status` answers. */
export interface MetricsSnapshot {
  list: ListResult;
  status: Record<string, unknown>;
}

type Labels = Record<string, string>;
type Sample = [labels: Labels, value: number];

interface SeriesDef {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labels: readonly string[];
  samples(s: MetricsSnapshot): Sample[];
}

const SVC_LABELS = ['vip', 'port', 'proto'] as const;
const RS_LABELS = [...SVC_LABELS, 'real'] as const;
const DIRECTIONS = ['in', 'out'] as const;

/** A counter as Prometheus takes it: finite and never negative. */
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const record = (v: unknown): Record<string, unknown> =>
  (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** {vip, port, proto} of a service; a firewall-mark service is vip="fwmark:<n>", port="0", proto="any". */
export function serviceLabels(s: Pick<ServiceView, 'proto' | 'vip' | 'port' | 'fwmark'>): Labels {
  if (s.fwmark) return { vip: `fwmark:${s.fwmark}`, port: '0', proto: 'any' };
  const proto = s.proto === PROTO_TCP ? 'tcp' : s.proto === PROTO_UDP ? 'udp' : String(s.proto);
  return { vip: ipv4ToString(s.vip >>> 0), port: String(s.port), proto };
}

const destLabels = (s: ServiceView, d: DestView): Labels => ({ ...serviceLabels(s), real: endpoint(d.addr >>> 0, d.port) });

type Rows<V> = (snap: MetricsSnapshot) => [Labels, V][];
const services: Rows<ServiceView> = (snap) => snap.list.services.map((s) => [serviceLabels(s), s]);
const dests: Rows<DestView> = (snap) => snap.list.services.flatMap((s) => s.dests.map((d): [Labels, DestView] => [destLabels(s, d), d]));

/** One sample per row; `f` returns undefined to leave a row out (a RS that is not health-checked has no up). */
const each = <V>(rows: Rows<V>, f: (v: V) => number | undefined) => (snap: MetricsSnapshot): Sample[] =>
  rows(snap).flatMap(([l, v]): Sample[] => {
    const x = f(v);
    return x === undefined ? [] : [[l, x]];
  });

/** Two samples per row, direction="in" from field `at` of its stats or rates and direction="out" from `at + 1`. */
const inOut = (rows: Rows<ServiceView | DestView>, field: 'stats' | 'rates', at: number) => (snap: MetricsSnapshot): Sample[] =>
  rows(snap).flatMap(([l, v]) => DIRECTIONS.map((direction, k): Sample => [{ ...l, direction }, count(v[field]?.[at + k])]));

/** The drop reasons of status().verdicts: everything but forwarded, icmp-forwarded, not-ours and arp. */
function drops(snap: MetricsSnapshot): Sample[] {
  return Object.entries(record(snap.status.verdicts)).filter(([reason]) => isDrop(reason))
    .map(([reason, v]) => [{ reason }, count(v)]);
}

export const SERIES: readonly SeriesDef[] = [
  {
    name: 'lvs_service_connections_total', type: 'counter', labels: SVC_LABELS,
    help: 'Connections scheduled by the virtual service (ipvsadm --stats Conns).',
    samples: each(services, (s) => count(s.stats[0])),
  },
  {
    name: 'lvs_service_packets_total', type: 'counter', labels: [...SVC_LABELS, 'direction'],
    help: 'Packets of the virtual service, in (client to RS) and out (RS to client, seen only by NAT and FullNAT).',
    samples: inOut(services, 'stats', 1),
  },
  {
    name: 'lvs_service_bytes_total', type: 'counter', labels: [...SVC_LABELS, 'direction'],
    help: 'Bytes of the virtual service, in and out (ipvsadm --stats InBytes/OutBytes).',
    samples: inOut(services, 'stats', 3),
  },
  {
    name: 'lvs_service_rate_cps', type: 'gauge', labels: SVC_LABELS,
    help: 'Connections per second, the 2-second estimate of ipvsadm --rate CPS.',
    samples: each(services, (s) => count(s.rates?.[0])),
  },
  {
    name: 'lvs_service_rate_pps', type: 'gauge', labels: [...SVC_LABELS, 'direction'],
    help: 'Packets per second in and out (ipvsadm --rate InPPS/OutPPS).',
    samples: inOut(services, 'rates', 1),
  },
  {
    name: 'lvs_service_rate_bps', type: 'gauge', labels: [...SVC_LABELS, 'direction'],
    help: 'Bytes per second in and out (ipvsadm --rate InBPS/OutBPS).',
    samples: inOut(services, 'rates', 3),
  },
  {
    name: 'lvs_real_server_connections_total', type: 'counter', labels: RS_LABELS,
    help: 'Connections scheduled to the real server (ipvsadm --stats Conns).',
    samples: each(dests, (d) => count(d.stats[0])),
  },
  {
    name: 'lvs_real_server_packets_total', type: 'counter', labels: [...RS_LABELS, 'direction'],
    help: 'Packets of the real server\'s connections, in and out.',
    samples: inOut(dests, 'stats', 1),
  },
  {
    name: 'lvs_real_server_bytes_total', type: 'counter', labels: [...RS_LABELS, 'direction'],
    help: 'Bytes of the real server\'s connections, in and out.',
    samples: inOut(dests, 'stats', 3),
  },
  {
    name: 'lvs_real_server_rate_cps', type: 'gauge', labels: RS_LABELS,
    help: 'Connections per second to the real server (ipvsadm --rate CPS).',
    samples: each(dests, (d) => count(d.rates?.[0])),
  },
  {
    name: 'lvs_real_server_rate_pps', type: 'gauge', labels: [...RS_LABELS, 'direction'],
    help: 'Packets per second of the real server\'s connections, in and out.',
    samples: inOut(dests, 'rates', 1),
  },
  {
    name: 'lvs_real_server_rate_bps', type: 'gauge', labels: [...RS_LABELS, 'direction'],
    help: 'Bytes per second of the real server\'s connections, in and out.',
    samples: inOut(dests, 'rates', 3),
  },
  {
    name: 'lvs_real_server_active_connections', type: 'gauge', labels: RS_LABELS,
    help: 'Active (ESTABLISHED) connections of the real server (ipvsadm ActiveConn).',
    samples: each(dests, (d) => count(d.activeConns)),
  },
  {
    name: 'lvs_real_server_inactive_connections', type: 'gauge', labels: RS_LABELS,
    help: 'Inactive connections of the real server (ipvsadm InActConn).',
    samples: each(dests, (d) => count(d.inactConns)),
  },
  {
    name: 'lvs_real_server_persistent_connections', type: 'gauge', labels: RS_LABELS,
    help: 'Persistence templates pointing at the real server (ipvsadm --persistent-conn PersistConn).',
    samples: each(dests, (d) => count(d.persistConns)),
  },
  {
    name: 'lvs_real_server_weight', type: 'gauge', labels: RS_LABELS,
    help: 'The real server\'s current weight (0 while quiesced, inhibited or draining).',
    samples: each(dests, (d) => count(d.weight)),
  },
  {
    name: 'lvs_real_server_up', type: 'gauge', labels: RS_LABELS,
    help: 'The health checks\' verdict: 1 up, 0 down; absent for a real server that is not checked.',
    samples: each(dests, (d) => (d.health ? (d.health.up ? 1 : 0) : undefined)),
  },
  {
    name: 'lvs_connection_table_entries', type: 'gauge', labels: [],
    help: 'Entries in the connection table (connections and persistence templates).',
    samples: (snap) => [[{}, count(snap.status.conns)]],
  },
  {
    name: 'lvs_connection_table_limit', type: 'gauge', labels: [],
    help: 'Capacity of the connection table (conn_max); new connections beyond it are dropped as conn-table-full.',
    samples: (snap) => [[{}, count(snap.status.connMax)]],
  },
  {
    name: 'lvs_packets_forwarded_total', type: 'counter', labels: [],
    help: 'Packets forwarded to or from a real server, including ICMP errors about tracked connections.',
    samples: (snap) => [[{}, FORWARDED_VERDICTS.reduce((n, k) => n + count(record(snap.status.verdicts)[k]), 0)]],
  },
  {
    name: 'lvs_packets_dropped_total', type: 'counter', labels: ['reason'],
    help: 'Captured packets dropped, by reason (malformed is split by kind in lvs_packets_malformed_total).',
    samples: drops,
  },
  {
    name: 'lvs_packets_malformed_total', type: 'counter', labels: ['kind'],
    help: 'Frames the parser refused, by what was wrong with them.',
    samples: (snap) => Object.entries(record(snap.status.parseErrors)).map(([kind, v]) => [{ kind }, count(v)]),
  },
  {
    name: 'lvs_defense_entries_dropped_total', type: 'counter', labels: ['how'],
    help: 'Connection entries the table-full defenses freed: evicted for a new client (drop_entry at a full table), '
      + 'scanned (drop_entry\'s once-a-second scan), shed (drop_packet refusing new connections).',
    samples: (snap) => ['evicted', 'scanned', 'shed'].map((how) => [{ how }, count(record(snap.status.defense)[how])]),
  },
  {
    name: 'lvs_defense_engaged', type: 'gauge', labels: ['strategy'],
    help: 'Whether a defense is acting now (1) or not (0): drop_entry dropping entries, secure_tcp\'s state table in '
      + 'force, drop_packet shedding new connections.',
    samples: (snap) => {
      const d = record(snap.status.defense);
      return [['drop_entry', d.dropping === true], ['secure_tcp', d.secure === true], ['drop_packet', count(d.drop_rate) > 0]]
        .map(([strategy, on]) => [{ strategy: String(strategy) }, on ? 1 : 0]);
    },
  },
  {
    name: 'lvs_capture_handler_errors_total', type: 'counter', labels: ['interface'],
    help: 'Exceptions thrown while handling a captured frame, per capture interface (each one logged).',
    samples: (snap) => (Array.isArray(snap.status.capture) ? snap.status.capture : []).map(record)
      .filter((c) => typeof c.handlerErrors === 'number')
      .map((c) => [{ interface: String(c.interface) }, count(c.handlerErrors)]),
  },
];

/** Names of every lvs_ series registerLvsMetrics() adds (the dashboard test checks its queries against them). */
export const LVS_METRIC_NAMES: readonly string[] = [...SERIES.map((d) => d.name), 'lvs_event_loop_utilization'];

/**
 * Register the lvs_ series on `registry`; each reads `read()` when scraped and replaces its samples, so a removed
 * service or real server disappears from the next scrape. Also lvs_event_loop_utilization: the share of time the
 * daemon's one event loop (the packet path, the control socket and the checkers) was busy since the last scrape,
 * the worker load of a single-threaded director.
 */
export function registerLvsMetrics(registry: Registry, read: () => MetricsSnapshot): void {
  for (const def of SERIES) {
    const common = { name: def.name, help: def.help, labelNames: def.labels, registers: [registry] };
    if (def.type === 'counter') {
      const m: Counter<string> = new Counter({
        ...common,
        collect: () => {
          m.reset();
          for (const [labels, v] of def.samples(read())) m.inc(labels, v);
        },
      });
    } else {
      const m: Gauge<string> = new Gauge({
        ...common,
        collect: () => {
          m.reset();
          for (const [labels, v] of def.samples(read())) m.set(labels, v);
        },
      });
    }
  }
  let last = performance.eventLoopUtilization();
  const elu: Gauge = new Gauge({
    name: 'lvs_event_loop_utilization', registers: [registry],
    help: 'Share of time (0..1) the daemon\'s event loop was busy since the previous scrape (its worker load).',
    collect: () => {
      const now = performance.eventLoopUtilization();
      elu.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}
