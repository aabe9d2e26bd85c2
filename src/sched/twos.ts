// Weighted power of two choices (ip_vs_twos.c): draw two real servers at random, each with probability
// following its weight, and take the one with the lower overhead/weight (the first draw on a tie).
// The kernel draws with prandom_u32(); here the environment's random() does, so tests can seed it.
import type { Scheduler, SchedEnv } from './scheduler';
import { available } from './scheduler';
import { overhead } from './overhead';
import type { RealServer, VirtualService } from '../service/types';

export const twos: Scheduler = {
  name: 'twos',
  description: 'weighted random twos choice least-connection',
  create(svc: VirtualService, env: SchedEnv) {
    return {
      schedule() {
        const d = svc.dests;
        const n = d.length;
        let total = 0;
        for (let i = 0; i < n; i++) if (available(d[i])) total += d[i].weight;
        if (total === 0) return null;
        // Each draw is in [0, total] inclusive (the kernel adds 1 before the modulo), so the first
        // available real server takes one draw value more than its weight.
        let r1 = (env.random() >>> 0) % (total + 1);
        let r2 = (env.random() >>> 0) % (total + 1);
        let c1: RealServer | null = null;
        let c2: RealServer | null = null;
        for (let i = 0; i < n && (c1 === null || c2 === null); i++) {
          const rs = d[i];
          if (!available(rs)) continue;
          r1 -= rs.weight;
          r2 -= rs.weight;
          if (r1 <= 0 && c1 === null) c1 = rs;
          if (r2 <= 0 && c2 === null) c2 = rs;
        }
        // Both are set: the draws never exceed the total.
        const a = c1 as RealServer;
        const b = c2 as RealServer;
        return b.weight * overhead(a) > a.weight * overhead(b) ? b : a;
      },
      update() {},
    };
  },
};
