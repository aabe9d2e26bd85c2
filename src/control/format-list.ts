// ipvsadm -L -n output, byte for byte (ipvsadm.c print_title / print_service_entry formats).
import { FORWARDERS } from '../forward';
import { ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';
import type { DestView, ListResult, ServiceView } from './protocol';

const pad = (s: string | number, w: number): string => String(s).padEnd(w);

const protoLabel = (p: number): string => (p === PROTO_TCP ? 'TCP' : p === PROTO_UDP ? 'UDP' : 'IP');

/** "%-4s %s" of proto and addr:port, cut at 33 characters as ipvsadm does for IPv4. */
export const serviceLabel = (s: Pick<ServiceView, 'proto' | 'vip' | 'port'>): string =>
  `${pad(protoLabel(s.proto), 4)} ${ipv4ToString(s.vip)}:${s.port}`.slice(0, 33);

const destLabel = (d: Pick<DestView, 'addr' | 'port'>): string => `${ipv4ToString(d.addr)}:${d.port}`.slice(0, 28);

/** Sorted as libipvs sorts: services by (protocol, addr, port), dests by (addr, port). */
export function sortedServices(list: ListResult): ServiceView[] {
  return [...list.services]
    .sort((a, b) => a.proto - b.proto || a.vip - b.vip || a.port - b.port)
    .map((s) => ({ ...s, dests: [...s.dests].sort((a, b) => a.addr - b.addr || a.port - b.port) }));
}

export function forwardLabel(name: string): string {
  return FORWARDERS.find((f) => f.name === name)?.label ?? name;
}

export function formatList(list: ListResult, opts: { sort?: boolean } = {}): string {
  const services = opts.sort === false ? list.services : sortedServices(list);
  const out = [
    `IP Virtual Server version ${list.version} (size=${list.size})`,
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const s of services) {
    out.push(`${serviceLabel(s)} ${s.scheduler}`);
    for (const d of s.dests) {
      out.push(`  -> ${pad(destLabel(d), 28)} ${pad(forwardLabel(d.forward), 7)} ${pad(d.weight, 6)} ${pad(d.activeConns, 10)} ${pad(d.inactConns, 10)}`);
    }
  }
  return out.join('\n') + '\n';
}
