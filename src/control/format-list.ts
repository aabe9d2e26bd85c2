// ipvsadm -L -n output, byte for byte (ipvsadm.c print_title / print_service_entry formats).
import { FORWARDERS } from '../forward';
import { ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';
import type { DestView, ListResult, ServiceView } from './protocol';

const pad = (s: string | number, w: number): string => String(s).padEnd(w);

const protoLabel = (p: number): string => (p === PROTO_TCP ? 'TCP' : p === PROTO_UDP ? 'UDP' : 'IP');

/** "%-4s %s" of proto and addr:port, cut at 33 characters as ipvsadm does for IPv4. */
export const serviceLabel = (s: Pick<ServiceView, 'proto' | 'vip' | 'port' | 'fwmark'>): string =>
  s.fwmark ? `FWM  ${s.fwmark}` : `${pad(protoLabel(s.proto), 4)} ${ipv4ToString(s.vip)}:${s.port}`.slice(0, 33);

const destLabel = (d: Pick<DestView, 'addr' | 'port'>): string => `${ipv4ToString(d.addr)}:${d.port}`.slice(0, 28);

/** Sorted as libipvs sorts: services by (protocol, addr, port), dests by (addr, port). */
export function sortedServices(list: ListResult): ServiceView[] {
  return [...list.services]
    .sort((a, b) => (a.fwmark ?? 0) - (b.fwmark ?? 0) || a.proto - b.proto || a.vip - b.vip || a.port - b.port)
    .map((s) => ({ ...s, dests: [...s.dests].sort((a, b) => a.addr - b.addr || a.port - b.port) }));
}

export function forwardLabel(name: string): string {
  return FORWARDERS.find((f) => f.name === name)?.label ?? name;
}

/** ipvsadm's flag words: flag-1/2 are named after the scheduler that gives them meaning. */
export function schedFlagNames(flags: number, scheduler: string): string[] {
  const out: string[] = [];
  const pre = scheduler === 'sh' || scheduler === 'mh' ? scheduler : '';
  if (flags & 0x08) out.push(pre ? `${pre}-fallback` : 'flag-1');
  if (flags & 0x10) out.push(pre ? `${pre}-port` : 'flag-2');
  if (flags & 0x20) out.push('flag-3');
  return out;
}

/** The service line: "TCP  addr:port sched[ (flags)][ persistent t][ mask m]", as print_service_entry. */
export function serviceLine(s: ServiceView): string {
  let line = `${serviceLabel(s)} ${s.scheduler}`;
  const flags = schedFlagNames(s.flags ?? 0, s.scheduler);
  if (flags.length > 0) line += ` (${flags.join(',')})`;
  if (s.persistent) {
    line += ` persistent ${s.persistent}`;
    if (s.netmask !== undefined && s.netmask >>> 0 !== 0xffffffff) line += ` mask ${ipv4ToString(s.netmask >>> 0)}`;
  }
  return line;
}

export function formatList(list: ListResult, opts: { sort?: boolean; header?: boolean } = {}): string {
  const services = opts.sort === false ? list.services : sortedServices(list);
  const out = opts.header === false ? [] : [`IP Virtual Server version ${list.version} (size=${list.size})`];
  out.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  for (const s of services) {
    out.push(serviceLine(s));
    for (const d of s.dests) {
      let row = `  -> ${pad(destLabel(d), 28)} ${pad(forwardLabel(d.forward), 7)} ${pad(d.weight, 6)} ${pad(d.activeConns, 10)} ${pad(d.inactConns, 10)}`;
      // userlvs extension: a draining RS says so, with what still holds it and for how long at most.
      if (d.drain) row += ` draining: ${d.drain.open} open, ${d.drain.left}s left`;
      out.push(row);
    }
  }
  return out.join('\n') + '\n';
}

/** -S: one -A line per service and one -a line per RS, ipvsadm's save format. */
export function formatSave(list: ListResult, opts: { sort?: boolean } = {}): string {
  const services = opts.sort === false ? list.services : sortedServices(list);
  const out: string[] = [];
  for (const s of services) {
    const svc = s.fwmark ? `-f ${s.fwmark}` : `${s.proto === PROTO_UDP ? '-u' : '-t'} ${ipv4ToString(s.vip)}:${s.port}`;
    let line = `-A ${svc} -s ${s.scheduler}`;
    if (s.persistent) {
      line += ` -p ${s.persistent}`;
      if (s.netmask !== undefined && s.netmask >>> 0 !== 0xffffffff) line += ` -M ${ipv4ToString(s.netmask >>> 0)}`;
    }
    const flags = schedFlagNames(s.flags ?? 0, s.scheduler);
    if (flags.length > 0) line += ` -b ${flags.join(',')}`;
    // userlvs extension: the match is part of a mark service here (ipvsadm leaves it to iptables).
    if (s.match) line += ` --match '${s.match}'`;
    out.push(line);
    for (const d of s.dests) {
      const fwd = FORWARDERS.find((f) => f.name === d.forward);
      let row = `-a ${svc} -r ${ipv4ToString(d.addr)}:${d.port} ${fwd?.flag ?? '-g'} -w ${d.weight}`;
      if (d.forward === 'tun') row += ' --tun-type ipip';
      out.push(row);
    }
  }
  return out.map((l) => `${l}\n`).join('');
}
