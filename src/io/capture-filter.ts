// The BPF capture filter, generated from the service table: frames that the daemon owns, plus ARP (the neighbour
// table learns from it) and ICMP errors (those about tracked connections are passed on rewritten).
// Our own emissions are excluded by source MAC, not with libpcap's `inbound`: on Linux that keyword needs the
// kernel's packet-type extension, which libpcap's userland fallback cannot evaluate, and libpcap filters the
// first frame after setting a filter in userland, so `inbound` silently loses the first packet of every capture
// (libpcap issues #1254, #1402). Every frame we send, injected or routed by the kernel, carries the interface's
// MAC; no frame arriving from elsewhere does.
import { PROBE_PORT_HI, PROBE_PORT_LO } from '../health/vip-path';
import { ipv4ToString } from '../packet/format';
import { bpfTerm, ownedTraffic, type MatchService } from './matches';

export function captureFilter(services: readonly MatchService[], ownMac: string, local: readonly number[] = []): string {
  const terms = [...ownedTraffic(services, local).map(bpfTerm), ...services.flatMap((s) => (s.match ? [s.match.toBpf()] : []))];
  // Later fragments carry no ports: match them by address so they reach the fragment accounting.
  const vips = [...new Set(services.filter((s) => !s.match).map((s) => s.vip >>> 0))].map((v) => `(dst host ${ipv4ToString(v)} and ip[6:2] & 0x1fff != 0)`);
  const icmpErrors = '(icmp and (icmp[0] == 3 or icmp[0] == 4 or icmp[0] == 11 or icmp[0] == 12))';
  // Answers to VIP-path health probes (health/vip-path.ts).
  const probes = `(tcp dst portrange ${PROBE_PORT_LO}-${PROBE_PORT_HI})`;
  const all = services.length > 0 ? [...terms, ...vips, icmpErrors, probes] : [];
  return `not ether src ${ownMac} and (arp${all.map((t) => ` or ${t}`).join('')})`;
}
