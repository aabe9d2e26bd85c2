// The BPF capture filter, generated from the service table: only frames arriving (inbound, so never our own
// injections) for a VIP:port, plus ARP, which the neighbour table learns from.
import { ipv4ToString } from '../packet/format';
import { PROTO_UDP, type VirtualService } from '../service/types';

export function captureFilter(services: readonly Pick<VirtualService, 'proto' | 'vip' | 'port'>[]): string {
  const terms = services.map((s) => `(dst host ${ipv4ToString(s.vip)} and ${s.proto === PROTO_UDP ? 'udp' : 'tcp'} dst port ${s.port})`);
  // Later fragments carry no ports: match them by address so they reach the fragment accounting.
  const vips = [...new Set(services.map((s) => s.vip))].map((v) => `(dst host ${ipv4ToString(v)} and ip[6:2] & 0x1fff != 0)`);
  return `inbound and (arp${[...terms, ...vips].map((t) => ` or ${t}`).join('')})`;
}
