// ipvsadm -L output, byte for byte (ipvsadm.c print_title / print_service_entry formats, trailing spaces
// included): the plain table and its --thresholds, --persistent-conn and --tun-info columns here, --stats and
// --rate in format-stats.ts. The helpers (labels, sorting, flag words) serve -S and -c too.
import { FORWARDERS } from '../forward';
import { ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';
import {
  rateDestRow, rateServiceRow, rateTitle, statsDestRow, statsServiceRow, statsTitle,
} from './format-stats';
import { NUMERIC, type Namer } from './names';
import type { DestView, ListResult, ServiceView } from './protocol';

const pad = (s: string | number, w: number): string => String(s).padEnd(w);

/** Service flags beside the scheduler flags (IP_VS_SVC_F_*). */
const SVC_F_ONEPACKET = 0x04;
const SVC_F_SCHED = 0x08 | 0x10 | 0x20;

/** ipvsadm's listing formats; when several are asked for, print_title's order picks one. */
export type ListFormat = 'plain' | 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'tun-info';
export const LIST_FORMATS: readonly ListFormat[] = ['stats', 'rate', 'thresholds', 'persistent-conn', 'tun-info'];

export interface ListOptions {
  /** false: --nosort, the daemon's order. */
  sort?: boolean;
  /** The "IP Virtual Server version" line: printed for the whole table, not for -L <service>. */
  header?: boolean;
  format?: ListFormat;
  /** --exact / -X: whole numbers in --stats and --rate. */
  exact?: boolean;
  /** Without -n: names for addresses and ports. */
  names?: Namer;
}

/** protocol_name(): "TCP", "UDP", or "?" for anything else. */
export const protocolName = (p: number): string => (p === PROTO_TCP ? 'TCP' : p === PROTO_UDP ? 'UDP' : '?');

/** The protocol a service's ports are named under: a fwmark service is created as TCP by ipvsadm -f. */
export const portProto = (s: Pick<ServiceView, 'proto' | 'fwmark'>): number => (s.fwmark ? PROTO_TCP : s.proto);

/** "%-4s %s" of protocol and addr:port, cut at 33 characters (IPv4), or "FWM  <mark>". */
export function serviceLabel(s: Pick<ServiceView, 'proto' | 'vip' | 'port' | 'fwmark'>, names: Namer = NUMERIC): string {
  if (s.fwmark) return `FWM  ${s.fwmark}`;
  return `${pad(protocolName(s.proto), 4)} ${names.addr(s.vip)}:${names.port(s.port, s.proto)}`.slice(0, 33);
}

/** A real server's addr:port, cut at 28 characters in listings (not in -S). */
export function destLabel(s: Pick<ServiceView, 'proto' | 'fwmark'>, d: Pick<DestView, 'addr' | 'port'>, names: Namer = NUMERIC, cut = true): string {
  const text = `${names.addr(d.addr)}:${names.port(d.port, portProto(s))}`;
  return cut ? text.slice(0, 28) : text;
}

/**
 * libipvs's comparison: the differences of unsigned 32-bit fields (fwmark, address) are returned as a C int,
 * so addresses more than 2^31 apart compare the wrong way round (ipvsadm lists 192.168.0.1 before 10.0.0.1).
 */
const diff32 = (a: number, b: number): number => ((a >>> 0) - (b >>> 0)) | 0;

export function compareServices(a: ServiceView, b: ServiceView): number {
  return diff32(a.fwmark ?? 0, b.fwmark ?? 0) || a.proto - b.proto || diff32(a.vip, b.vip) || a.port - b.port;
}

export const compareDests = (a: DestView, b: DestView): number => diff32(a.addr, b.addr) || a.port - b.port;

/** Sorted as ipvsadm sorts (ipvs_cmp_services, ipvs_cmp_dests) unless --nosort. */
export function sortedServices(list: ListResult, sort = true): ServiceView[] {
  if (!sort) return list.services;
  return [...list.services].sort(compareServices).map((s) => ({ ...s, dests: [...s.dests].sort(compareDests) }));
}

export function forwardLabel(name: string): string {
  return FORWARDERS.find((f) => f.name === name)?.label ?? name;
}

/**
 * print_sched_flags: sh and mh name only their two flags (sh-fallback, sh-port / mh-fallback, mh-port);
 * other schedulers print flag-1, flag-2, flag-3.
 */
export function schedFlagNames(flags: number, scheduler: string): string[] {
  const out: string[] = [];
  if (scheduler === 'sh' || scheduler === 'mh') {
    if (flags & 0x08) out.push(`${scheduler}-fallback`);
    if (flags & 0x10) out.push(`${scheduler}-port`);
  } else {
    if (flags & 0x08) out.push('flag-1');
    if (flags & 0x10) out.push('flag-2');
    if (flags & 0x20) out.push('flag-3');
  }
  return out;
}

/** Any scheduler flag set: ipvsadm then prints the flag list, even when the scheduler names none of them. */
export const hasSchedFlags = (s: ServiceView): boolean => ((s.flags ?? 0) & SVC_F_SCHED) !== 0;
export const isOnePacket = (s: ServiceView): boolean => ((s.flags ?? 0) & SVC_F_ONEPACKET) !== 0;
export const hasMask = (s: ServiceView): boolean => s.netmask !== undefined && s.netmask >>> 0 !== 0xffffffff;

/** The service line: "TCP  addr:port sched[ (flags)][ persistent t[ mask m]][ ops]", as print_service_entry. */
export function serviceLine(s: ServiceView, names: Namer = NUMERIC): string {
  let line = `${serviceLabel(s, names)} ${s.scheduler}`;
  if (hasSchedFlags(s)) line += ` (${schedFlagNames(s.flags ?? 0, s.scheduler).join(',')})`;
  if (s.persistent) {
    line += ` persistent ${s.persistent}`;
    if (hasMask(s)) line += ` mask ${ipv4ToString(s.netmask! >>> 0)}`;
  }
  if (isOnePacket(s)) line += ' ops';
  return line;
}

/** TunnelInfo (fwd_tun_info): the tunnel type of a tunnel RS (lvsd tunnels are ipip), "n/a" for the others. */
export const tunnelInfo = (d: DestView): string => (d.forward === 'tun' ? 'ipip' : 'n/a');

const n = (v: number | undefined): number => v ?? 0;

function destRow(s: ServiceView, d: DestView, o: Required<Omit<ListOptions, 'header' | 'sort'>>): string {
  const name = destLabel(s, d, o.names);
  switch (o.format) {
    case 'stats': return statsDestRow(name, d.stats, o.exact);
    case 'rate': return rateDestRow(name, d.rates, o.exact);
    case 'thresholds':
      return `  -> ${pad(name, 28)} ${pad(n(d.uthreshold), 10)} ${pad(n(d.lthreshold), 10)} ${pad(d.activeConns, 10)} ${pad(d.inactConns, 10)}`;
    case 'persistent-conn':
      return `  -> ${pad(name, 28)} ${pad(d.weight, 9)} ${pad(n(d.persistConns), 11)} ${pad(d.activeConns, 10)} ${pad(d.inactConns, 10)}`;
    case 'tun-info':
      return `  -> ${pad(name, 28)} ${pad(forwardLabel(d.forward), 7)} ${pad(tunnelInfo(d), 13)} ${pad(d.weight, 6)} ${pad(d.activeConns, 10)} ${pad(d.inactConns, 10)}`;
    case 'plain': {
      const row = `  -> ${pad(name, 28)} ${pad(forwardLabel(d.forward), 7)} ${pad(d.weight, 6)} ${pad(d.activeConns, 10)} ${pad(d.inactConns, 10)}`;
      // userlvs extension: a draining RS says so, with what still holds it and for how long at most.
      // ...and so does one its health checks hold down at weight 0 (inhibit_on_failure), with the reason.
      const down = d.health && !d.health.up ? ` down: ${d.health.reason}` : '';
      return (d.drain ? `${row} draining: ${d.drain.open} open, ${d.drain.left}s left` : row) + down;
    }
  }
}

function title(format: ListFormat): string[] {
  switch (format) {
    case 'stats': return statsTitle();
    case 'rate': return rateTitle();
    case 'thresholds':
      return [`${pad('Prot LocalAddress:Port', 33)} ${pad('Uthreshold', 10)} ${pad('Lthreshold', 10)} ${pad('ActiveConn', 10)} ${pad('InActConn', 10)}`, '  -> RemoteAddress:Port'];
    case 'persistent-conn':
      return [`${pad('Prot LocalAddress:Port', 33)} ${pad('Weight', 9)} ${pad('PersistConn', 11)} ${pad('ActiveConn', 10)} ${pad('InActConn', 10)}`, '  -> RemoteAddress:Port'];
    case 'tun-info':
      return ['Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn'];
    case 'plain':
      return ['Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  }
}

/** The format print_title would pick among the flags given (stats, rate, thresholds, persistent-conn, tun-info). */
export function pickFormat(has: (f: ListFormat) => boolean): ListFormat {
  return LIST_FORMATS.find(has) ?? 'plain';
}

/** ipvsadm -L [-n] [--stats|--rate|--thresholds|--persistent-conn|--tun-info] [-X] [--nosort]. */
export function formatList(list: ListResult, opts: ListOptions = {}): string {
  const o = { format: opts.format ?? 'plain', exact: opts.exact ?? false, names: opts.names ?? NUMERIC };
  const out = opts.header === false ? [] : [`IP Virtual Server version ${list.version} (size=${list.size})`];
  out.push(...title(o.format));
  for (const s of sortedServices(list, opts.sort !== false)) {
    if (o.format === 'stats') out.push(statsServiceRow(serviceLabel(s, o.names), s.stats, o.exact));
    else if (o.format === 'rate') out.push(rateServiceRow(serviceLabel(s, o.names), s.rates, o.exact));
    else out.push(serviceLine(s, o.names));
    for (const d of s.dests) out.push(destRow(s, d, o));
  }
  return out.map((l) => `${l}\n`).join('');
}

/** Every address a listing would name (for the lookups done before formatting without -n). */
export const listAddrs = (list: ListResult): number[] =>
  list.services.flatMap((s) => [...(s.fwmark ? [] : [s.vip]), ...s.dests.map((d) => d.addr)]);
