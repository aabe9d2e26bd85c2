// The BPF capture filter, generated from the service table: only frames arriving (inbound, so never our own
// injections) that the daemon owns, plus ARP (the neighbour table learns from it) and ICMP errors (those about
// tracked connections are passed on rewritten).
import { ipv4ToString } from '../packet/format';
import { bpfTerm, ownedTraffic, type MatchService } from './matches';

export function captureFilter(services: readonly MatchService[]): string {
  const terms = ownedTraffic(services).map(bpfTerm);
  // Later fragments carry no ports: match them by address so they reach the fragment accounting.
  const vips = [...new Set(services.map((s) => s.vip >>> 0))].map((v) => `(dst host ${ipv4ToString(v)} and ip[6:2] & 0x1fff != 0)`);
  const icmpErrors = '(icmp and (icmp[0] == 3 or icmp[0] == 4 or icmp[0] == 11 or icmp[0] == 12))';
  const all = services.length > 0 ? [...terms, ...vips, icmpErrors] : [];
  return `inbound and (arp${all.map((t) => ` or ${t}`).join('')})`;
}
