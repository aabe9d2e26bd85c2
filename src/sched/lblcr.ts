// Locality-based least-connection with replication (ip_vs_lblcr.c): a cache from destination address
// to a set of real servers. The set's weighted least-connection member serves (members out of the
// service, with weight 0 or over their upper threshold are passed over); when there is none, or it is
// "overloaded" in lblc's sense (active > weight while some real server has active < weight / 2), the
// service-wide wlc pick serves and joins the set. A set of more than one that has not changed for
// lblcr_expiration (24 h by default) sheds its most loaded member. Entries age out as locality.ts says.
import type { Scheduler, SchedEnv, SchedulerInstance } from './scheduler';
import { DEFAULT_EXPIRATION, LocalityCache } from './locality';
import { isMember, localityOverloaded, overhead, weightedLeastConn } from './overhead';
import type { Flow } from '../packet/flow';
import type { RealServer, VirtualService } from '../service/types';

/** struct ip_vs_dest_set: members newest first (list_add_rcu), and when it last changed. */
export interface DestSet {
  members: RealServer[];
  lastmod: number;
}

/** ip_vs_dest_set_insert(): at the head, once. */
export function destSetInsert(set: DestSet, rs: RealServer, now: number): void {
  if (set.members.includes(rs)) return;
  set.members.unshift(rs);
  set.lastmod = now;
}

/**
 * ip_vs_dest_set_min(): the first member with weight > 0, still in the service and not overloaded, then
 * any later one with a lower overhead/weight (`loh * w > doh * w_least`) that is still in the service.
 */
export function destSetMin(set: DestSet, dests: readonly RealServer[]): RealServer | null {
  const m = set.members;
  let i = 0;
  while (i < m.length && (m[i].overloaded || m[i].weight <= 0 || !isMember(m[i], dests))) i++;
  if (i === m.length) return null;
  let least = m[i];
  let loh = overhead(least);
  for (i++; i < m.length; i++) {
    const d = m[i];
    if (d.overloaded) continue;
    const doh = overhead(d);
    if (loh * d.weight > doh * least.weight && isMember(d, dests)) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/**
 * ip_vs_dest_set_max(): the first member with weight > 0, then any later one with weight > 0 and a higher
 * overhead/weight (`moh * w < doh * w_most`). Membership and overload marks play no part.
 */
export function destSetMax(set: DestSet): RealServer | null {
  const m = set.members;
  let i = 0;
  while (i < m.length && m[i].weight <= 0) i++;
  if (i === m.length) return null;
  let most = m[i];
  let moh = overhead(most);
  for (i++; i < m.length; i++) {
    const d = m[i];
    const doh = overhead(d);
    if (moh * d.weight < doh * most.weight && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

/** lblcr with its own expiration (the sysctl lblcr_expiration, seconds). */
export function lblcrWith(expiration: number): Scheduler {
  return {
    name: 'lblcr',
    description: 'locality-based least-connection with replication',
    create(svc: VirtualService, env: SchedEnv): SchedulerInstance {
      const cache = new LocalityCache<DestSet>(env.now(), expiration);
      return {
        schedule(flow: Flow) {
          const now = env.now();
          cache.runTimers(now);
          const daddr = flow.daddr;
          const e = cache.find(daddr);
          if (e >= 0) {
            cache.touch(e, now);
            const set = cache.value(e);
            let rs = destSetMin(set, svc.dests);
            // More than one member and unchanged for the expiration: shed the most loaded. (The pick
            // above stands even if it is the one shed, as in the kernel.)
            if (set.members.length > 1 && now > set.lastmod + expiration) {
              const m = destSetMax(set);
              if (m !== null) {
                set.members.splice(set.members.indexOf(m), 1);
                set.lastmod = now;
              }
            }
            if (rs !== null && !localityOverloaded(rs, svc.dests)) return rs;
            rs = weightedLeastConn(svc.dests);
            if (rs === null) return null;
            destSetInsert(set, rs, now);
            return rs;
          }
          const rs = weightedLeastConn(svc.dests);
          if (rs === null) return null;
          cache.insert(daddr, { members: [rs], lastmod: now }, now);
          return rs;
        },
        update() {},
      };
    },
  };
}

export const lblcr: Scheduler = lblcrWith(DEFAULT_EXPIRATION);
