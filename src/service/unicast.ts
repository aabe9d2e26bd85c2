// A real server must be a unicast host: IPVS refuses any other destination (ip_vs_new_dest: the address type must
// be RTN_UNICAST or RTN_LOCAL), and a frame sent to 0.0.0.0, a multicast group or the limited broadcast would
// never reach a server. Local subnets' broadcast addresses need the routing table, which the kernel has and a
// parser does not: those are left to the operator.
import type { Ipv4 } from './types';

/** Why addr cannot be a real server, or null when it can. */
export function notUnicast(addr: Ipv4): string | null {
  const a = addr >>> 0;
  if (a >>> 24 === 0) return 'this-network (0.0.0.0/8)';
  if (a === 0xffffffff) return 'the limited broadcast';
  if (a >>> 28 === 0xe) return 'multicast (224.0.0.0/4)';
  return null;
}
