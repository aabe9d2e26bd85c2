// Locality-based least-connection (ip_vs_lblc.c): a cache from destination address to real server. A
// cached real server is reused while it is still in the service, has weight > 0 and is not
// "overloaded" in lblc's sense (active > weight while some real server has active < weight / 2);
// otherwise the weighted least-connection pick replaces it. As in the kernel, the cached real server's
// upper-threshold mark is not consulted on reuse (only the wlc pick skips it). Entries age out as
// locality.ts describes (lblc_expiration, 24 h by default).
import type { Scheduler, SchedEnv, SchedulerInstance } from './scheduler';
import { DEFAULT_EXPIRATION, LocalityCache } from './locality';
import { isMember, localityOverloaded, weightedLeastConn } from './overhead';
import type { Flow } from '../packet/flow';
import type { RealServer, VirtualService } from '../service/types';

/** lblc with its own expiration (the sysctl lblc_expiration, seconds). */
export function lblcWith(expiration: number): Scheduler {
  return {
    name: 'lblc',
    description: 'locality-based least-connection',
    create(svc: VirtualService, env: SchedEnv): SchedulerInstance {
      const cache = new LocalityCache<RealServer>(env.now(), expiration);
      return {
        schedule(flow: Flow) {
          const now = env.now();
          cache.runTimers(now);
          const daddr = flow.daddr;
          const e = cache.find(daddr);
          if (e >= 0) {
            cache.touch(e, now);
            const rs = cache.value(e);
            if (isMember(rs, svc.dests) && rs.weight > 0 && !localityOverloaded(rs, svc.dests)) return rs;
          }
          const rs = weightedLeastConn(svc.dests);
          if (rs === null) return null;
          if (e >= 0) cache.setValue(e, rs);
          else cache.insert(daddr, rs, now);
          return rs;
        },
        update() {},
      };
    },
  };
}

export const lblc: Scheduler = lblcWith(DEFAULT_EXPIRATION);
