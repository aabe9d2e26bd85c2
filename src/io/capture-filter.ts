// The BPF capture filter, generated from the service table: frames that the daemon owns, plus ARP (the neighbour
// table learns from it) and ICMP errors (those about tracked connections are passed on rewritten).
// Our own emissions are excluded by source MAC, not with libpcap's `inbound`: on Linux that keyword needs the
// kernel's packet-type extension, which libpcap's userland fallback cannot evaluate, and libpcap filters the
// first frame after setting a filter in userland, so `inbound` silently loses the first packet of every capture
// (libpcap issues #1254, #1402). Every frame we send, injected or routed by the kernel, carries the interface's
// MAC; no frame arriving from elsewhere does.
// With several capture workers each one's filter keeps only its share of the flows (io/steer.ts). ARP and ICMP
// errors reach every worker (an ICMP error is passed on by the one that holds its connection; the others find
// none); health-probe answers reach worker 0, where the prober runs.
import { PROBE_PORT_HI, PROBE_PORT_LO } from '../health/vip-path';
import { ipv4ToString } from '../packet/format';
import { bpfTerm, clientSteer, ownedTraffic, type MatchService } from './matches';
import { steerBpf, type Shard } from './steer';

const ONE: Shard = { index: 0, count: 1 };

export function captureFilter(services: readonly MatchService[], ownMac: string, local: readonly number[] = [], shard: Shard = ONE): string {
  const steered = (term: string, steer: string): string => (steer === '' ? term : `(${term} and ${steer})`);
  const terms = [
    ...ownedTraffic(services, local).map((m) => steered(bpfTerm(m), steerBpf(m.steer, shard))),
    ...services.flatMap((s) => (s.match ? [steered(s.match.toBpf(), steerBpf(clientSteer(s, 'src'), shard))] : [])),
  ];
  // Later fragments carry no ports: match them by address so they reach the fragment accounting.
  const vips = services.filter((s) => !s.match).map((s) => ({ vip: s.vip >>> 0, steer: steerBpf(clientSteer(s, 'src'), shard) }));
  const fragments = [...new Set(vips.map((v) => steered(`(dst host ${ipv4ToString(v.vip)} and ip[6:2] & 0x1fff != 0)`, v.steer)))];
  const icmpErrors = '(icmp and (icmp[0] == 3 or icmp[0] == 4 or icmp[0] == 11 or icmp[0] == 12))';
  // Answers to VIP-path health probes (health/vip-path.ts).
  const probes = shard.index === 0 ? [`(tcp dst portrange ${PROBE_PORT_LO}-${PROBE_PORT_HI})`] : [];
  const all = services.length > 0 ? [...terms, ...fragments, icmpErrors, ...probes] : [];
  return `not ether src ${ownMac} and (arp${all.map((t) => ` or ${t}`).join('')})`;
}
