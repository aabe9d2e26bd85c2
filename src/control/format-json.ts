// lvsadm --json: one JSON document per listing, the raw data for scripts and dashboards (addresses as dotted
// strings, counters as whole numbers, nothing abbreviated). Same order as the text unless --nosort.
import { ipv4ToString } from '../packet/format';
import { PROTO_UDP } from '../service/types';
import { isOnePacket, sortedServices } from './format-list';
import type { Timeouts } from './format-timeout';
import type { ConnView, DestView, ListResult, ServiceView } from './protocol';

const ip = (a: number): string => ipv4ToString(a >>> 0);
const STATS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'];
const RATES = ['cps', 'inpps', 'outpps', 'inbps', 'outbps'];
const named = (keys: string[], v: number[] | undefined): Record<string, number> =>
  Object.fromEntries(keys.map((k, i) => [k, v?.[i] ?? 0]));

/** Each scheduler flag by the name -b takes for it with this scheduler (sh-port, mh-fallback, flag-3 ...). */
export function flagWords(flags: number, scheduler: string): string[] {
  const hashed = scheduler === 'sh' || scheduler === 'mh';
  const out: string[] = [];
  if (flags & 0x08) out.push(hashed ? `${scheduler}-fallback` : 'flag-1');
  if (flags & 0x10) out.push(hashed ? `${scheduler}-port` : 'flag-2');
  if (flags & 0x20) out.push('flag-3');
  return out;
}

function dest(d: DestView): Record<string, unknown> {
  return {
    address: ip(d.addr), port: d.port, forward: d.forward, weight: d.weight,
    activeConns: d.activeConns, inactConns: d.inactConns, persistConns: d.persistConns ?? 0,
    uthreshold: d.uthreshold ?? 0, lthreshold: d.lthreshold ?? 0,
    stats: named(STATS, d.stats), rates: named(RATES, d.rates), drain: d.drain ?? null,
  };
}

function service(s: ServiceView): Record<string, unknown> {
  const mark = s.fwmark ?? 0;
  return {
    protocol: mark ? 'fwmark' : s.proto === PROTO_UDP ? 'udp' : 'tcp',
    address: mark ? null : ip(s.vip), port: mark ? null : s.port, fwmark: mark || null,
    ...(mark && s.match ? { match: s.match } : {}),
    scheduler: s.scheduler, flags: flagWords(s.flags ?? 0, s.scheduler), ops: isOnePacket(s),
    persistent: s.persistent ?? 0, netmask: ip(s.netmask ?? 0xffffffff),
    stats: named(STATS, s.stats), rates: named(RATES, s.rates), dests: s.dests.map(dest),
  };
}

const doc = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** -L / -S / --stats / --rate ... --json: the whole table (or the one service asked for). */
export const listJson = (list: ListResult, opts: { sort?: boolean } = {}): string =>
  doc({ version: list.version, size: list.size, services: sortedServices(list, opts.sort !== false).map(service) });

/** -c --json. */
export const connsJson = (conns: readonly ConnView[], truncated = false): string => doc({
  connections: conns.map((c) => ({
    proto: c.proto, expire: c.expire, state: c.state, caddr: ip(c.caddr), cport: c.cport,
    vaddr: ip(c.vaddr), vport: c.vport, daddr: ip(c.daddr), dport: c.dport, template: c.template,
    ...(c.proto === 'IP' ? { fwmark: c.vaddr >>> 0 } : {}),
  })),
  truncated,
});

/** --timeout --json. */
export const timeoutJson = (t: Timeouts): string => doc({ tcp: t.tcp, tcpfin: t.tcpfin, udp: t.udp });

/** --daemon --json: lvsd runs no sync daemon. */
export const daemonJson = (daemons: readonly unknown[] = []): string => doc({ daemons });
