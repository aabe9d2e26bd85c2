// Load measures and comparisons the least-connection family shares (include/net/ip_vs.h and the
// lblc/lblcr copies of the wlc loop). Weighted comparisons cross-multiply, as the kernel does, never divide.
import { available } from './scheduler';
import type { RealServer } from '../service/types';

/** ip_vs_dest_conn_overhead(): active connections count 256 times an inactive one. */
export const overhead = (rs: RealServer): number => rs.activeConns * 256 + rs.inactConns;

/** sed's and nq's expected delay: the active connections with the incoming one. */
export const expectedDelay = (rs: RealServer): number => rs.activeConns + 1;

/**
 * The weighted pick of ip_vs_wlc.c (and, with expectedDelay, ip_vs_sed.c), which lblc/lblcr repeat as
 * __ip_vs_lblc(r)_schedule(): the first available real server, then any later one not overloaded with
 * `loh * w > doh * w_least` (weight 0 never passes that test). Ties stay with the earlier one; null when none
 * is available.
 */
export function weightedLeastConn(dests: readonly RealServer[], cost: (rs: RealServer) => number = overhead): RealServer | null {
  const n = dests.length;
  let i = 0;
  while (i < n && !available(dests[i])) i++;
  if (i === n) return null;
  let least = dests[i];
  let loh = cost(least);
  for (i++; i < n; i++) {
    const d = dests[i];
    if (d.overloaded) continue;
    const doh = cost(d);
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/**
 * lblc/lblcr's is_overloaded(): a real server is "overloaded" for locality purposes when its active
 * connections exceed its weight and some real server of the service (any, itself included) has fewer
 * active connections than half its weight.
 */
export function localityOverloaded(rs: RealServer, dests: readonly RealServer[]): boolean {
  if (rs.activeConns <= rs.weight) return false;
  for (let i = 0; i < dests.length; i++) {
    if (dests[i].activeConns * 2 < dests[i].weight) return true;
  }
  return false;
}

/** Whether `rs` is still one of the service's real servers (the kernel's IP_VS_DEST_F_AVAILABLE). */
export function isMember(rs: RealServer, dests: readonly RealServer[]): boolean {
  for (let i = 0; i < dests.length; i++) if (dests[i] === rs) return true;
  return false;
}
