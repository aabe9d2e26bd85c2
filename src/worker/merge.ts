// What the operator sees is one director: the workers' views (each holds the same service table, its own
// connections and counters) add up into one. Services and real servers are matched by their keys, not by
// position, so a view taken while an edit travels to the workers never adds one RS's counters to another's.
import type { Defense } from '../conn/defense';
import type { DestView, ListResult, ServiceView } from '../control/protocol';

const add = (into: number[] | undefined, from: number[] | undefined): number[] | undefined =>
  into && from ? into.map((v, i) => v + (from[i] ?? 0)) : into;

const svcKey = (s: ServiceView): string => (s.fwmark ? `f${s.fwmark}` : `${s.proto}/${s.vip}/${s.port}`);
const destKey = (d: DestView): string => `${d.addr}:${d.port}`;

function mergeDest(d: DestView, other: DestView | undefined): DestView {
  if (!other) return d;
  return {
    ...d,
    activeConns: d.activeConns + other.activeConns,
    inactConns: d.inactConns + other.inactConns,
    ...(d.persistConns !== undefined ? { persistConns: d.persistConns + (other.persistConns ?? 0) } : {}),
    stats: add(d.stats, other.stats)!,
    rates: add(d.rates, other.rates),
    ...(d.drain ? { drain: { left: d.drain.left, open: d.drain.open + (other.drain?.open ?? 0) } } : {}),
  };
}

/** `mine` (worker 0, the control plane's own) decides which services and RS exist; the others add their counts. */
export function mergeLists(mine: ListResult, others: readonly ListResult[]): ListResult {
  const services = mine.services.map((s) => {
    let merged = s;
    for (const o of others) {
      const os = o.services.find((x) => svcKey(x) === svcKey(s));
      if (!os) continue;
      merged = {
        ...merged,
        stats: add(merged.stats, os.stats)!,
        rates: add(merged.rates, os.rates),
        dests: merged.dests.map((d) => mergeDest(d, os.dests.find((x) => destKey(x) === destKey(d)))),
      };
    }
    return merged;
  });
  return { ...mine, size: mine.size + others.reduce((n, o) => n + o.size, 0), services };
}

type Counts = Record<string, number>;

const addCounts = (a: Counts, b: Counts | undefined): Counts =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + (b?.[k] ?? 0)]));

export interface StatusView {
  conns: number;
  connMax: number;
  verdicts: Counts;
  parseErrors: Counts;
  capture: unknown[];
  defense?: DefenseView;
  ipSend?: { errors: number; lastError: string | null };
  [k: string]: unknown;
}

type DefenseView = ReturnType<Defense['status']>;
type DefenseCount = Exclude<keyof DefenseView, 'dropping' | 'secure'>;

/**
 * Each worker defends its own share of the table (its amemthresh is its share of the configured one): thresholds
 * and counters add up, a mode reads as the highest any worker is in, and the director is dropping or secure when
 * any worker is.
 */
function mergeDefense(views: readonly StatusView[]): DefenseView | undefined {
  const all = views.map((v) => v.defense).filter((d): d is DefenseView => d !== undefined);
  if (all.length === 0) return undefined;
  const sum = (k: DefenseCount): number => all.reduce((n, d) => n + d[k], 0);
  const max = (k: DefenseCount): number => Math.max(...all.map((d) => d[k]));
  return {
    ...all[0],
    drop_entry: max('drop_entry'), secure_tcp: max('secure_tcp'), drop_packet: max('drop_packet'), drop_rate: max('drop_rate'),
    amemthresh: sum('amemthresh'), evicted: sum('evicted'), scanned: sum('scanned'), shed: sum('shed'),
    dropping: all.some((d) => d.dropping), secure: all.some((d) => d.secure),
  };
}

/** Each worker has its own L3 sender: failures add up; the last reason shown is the first worker's that has one. */
function mergeIpSend(views: readonly StatusView[]): StatusView['ipSend'] {
  const all = views.map((v) => v.ipSend).filter((s) => s !== undefined);
  return { errors: all.reduce((n, s) => n + s.errors, 0), lastError: all.find((s) => s.lastError !== null)?.lastError ?? null };
}

/** Connection counts and verdict counters add up; each worker's capture health is listed with its number. */
export function mergeStatus(mine: StatusView, others: readonly StatusView[]): StatusView {
  const tag = (cap: unknown[], worker: number): unknown[] => cap.map((c) => ({ worker, ...(c as object) }));
  return {
    ...mine,
    workers: 1 + others.length,
    // How the flows split: each worker's connections and forwarded frames.
    load: [mine, ...others].map((v, worker) => ({ worker, conns: v.conns, forwarded: v.verdicts.forwarded ?? 0 })),
    conns: others.reduce((n, o) => n + o.conns, mine.conns),
    connMax: others.reduce((n, o) => n + o.connMax, mine.connMax),
    verdicts: others.reduce((acc, o) => addCounts(acc, o.verdicts), mine.verdicts),
    parseErrors: others.reduce((acc, o) => addCounts(acc, o.parseErrors), mine.parseErrors),
    capture: [...tag(mine.capture, 0), ...others.flatMap((o, i) => tag(o.capture, i + 1))],
    ...(mine.defense ? { defense: mergeDefense([mine, ...others]) } : {}),
    ...(mine.ipSend ? { ipSend: mergeIpSend([mine, ...others]) } : {}),
  };
}
