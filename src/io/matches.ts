// What the daemon owns on the wire, derived from the service table: one list that both the capture filter
// (so lvsd sees it) and the kernel fence (so the kernel does not also act on it) are rendered from.
import { FORWARDERS, forwarderId } from '../forward';
import { LPORT_MAX, LPORT_MIN } from '../forward/fullnat';
import { ipv4ToString } from '../packet/format';
import { PROTO_UDP, type Proto, type VirtualService } from '../service/types';
import { LPORT, type Steer } from './steer';

export interface Match {
  /** Whether the address and ports are the packet's destination (requests, FullNAT replies) or source (NAT replies). */
  side: 'dst' | 'src';
  addr: number;
  proto: Proto;
  portLo: number;
  portHi: number;
  /** Destinations this match leaves alone (the director's own addresses: its own connections to a RS). */
  exceptDst?: readonly number[];
  /** How capture workers split this traffic between them (io/steer.ts). */
  steer: Steer;
}

export type MatchService = Pick<VirtualService, 'proto' | 'vip' | 'port' | 'laddrs' | 'dests' | 'fwmark' | 'match' | 'persistTimeout' | 'netmask'>;

/** How a service's client-side traffic is steered: persistent services keep a client (its netmask) on one worker. */
export const clientSteer = (s: Pick<MatchService, 'persistTimeout' | 'netmask'>, by: 'src' | 'dst'): Steer =>
  s.persistTimeout > 0 ? { by, mask: s.netmask >>> 0, ports: false } : { by, mask: 0xffffffff, ports: true };

/** `local`: the director's own addresses, whose traffic from a NAT real server is the director's, not a reply. */
export function ownedTraffic(services: readonly MatchService[], local: readonly number[] = []): Match[] {
  const out: Match[] = [];
  const seen = new Set<string>();
  const add = (m: Match): void => {
    const k = `${m.side}/${m.addr}/${m.proto}/${m.portLo}/${m.portHi}/${m.steer.by}/${m.steer.mask}/${m.steer.ports}`;
    if (!seen.has(k)) out.push(m);
    seen.add(k);
  };
  const natId = forwarderId('nat');
  for (const s of services) {
    // A firewall-mark service's requests are its match (rendered apart); it may span both protocols.
    const protos = s.match ? (s.match.protos as Proto[]) : [s.proto as Proto];
    if (!s.match) add({ side: 'dst', addr: s.vip >>> 0, proto: s.proto as Proto, portLo: s.port, portHi: s.port, steer: clientSteer(s, 'src') });
    for (const d of s.dests) {
      // NAT replies come from RIP:rport on their way to the client (any port of a mark's RS with port 0).
      if (d.fwdId !== natId) continue;
      for (const proto of protos) {
        const [lo, hi] = d.port ? [d.port, d.port] : [1, 65535];
        add({ side: 'src', addr: d.addr >>> 0, proto, portLo: lo, portHi: hi, exceptDst: local.map((a) => a >>> 0), steer: clientSteer(s, 'dst') });
      }
    }
    // FullNAT replies come to LIP:lport.
    if (s.dests.some((d) => FORWARDERS[d.fwdId]?.name === 'fullnat')) {
      for (const l of s.laddrs) for (const proto of protos) add({ side: 'dst', addr: l >>> 0, proto, portLo: LPORT_MIN, portHi: LPORT_MAX, steer: LPORT });
    }
  }
  return out;
}

const protoName = (p: Proto): string => (p === PROTO_UDP ? 'udp' : 'tcp');

export function bpfTerm(m: Match): string {
  const ports = m.portLo === m.portHi ? `port ${m.portLo}` : `portrange ${m.portLo}-${m.portHi}`;
  const except = (m.exceptDst ?? []).map((a) => ` and not dst host ${ipv4ToString(a)}`).join('');
  return `(${m.side} host ${ipv4ToString(m.addr)} and ${protoName(m.proto)} ${m.side} ${ports}${except})`;
}

export function nftRule(m: Match): string {
  const ports = m.portLo === m.portHi ? `${m.portLo}` : `${m.portLo}-${m.portHi}`;
  const a = m.side === 'dst' ? 'daddr' : 'saddr';
  const p = m.side === 'dst' ? 'dport' : 'sport';
  const ex = m.exceptDst ?? [];
  const except = ex.length === 0 ? '' : ` ip daddr != { ${ex.map(ipv4ToString).join(', ')} }`;
  return `ip ${a} ${ipv4ToString(m.addr)}${except} ${protoName(m.proto)} ${p} ${ports} counter drop`;
}
