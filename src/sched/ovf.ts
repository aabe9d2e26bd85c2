// Overflow-connection (ip_vs_ovf.c): the highest-weight available real server whose active connections
// do not exceed its weight; when it fills up, new connections overflow to the next-highest weight.
// Ties stay with the first in the list. Counts active connections only (not meant for UDP).
import type { Scheduler } from './scheduler';
import { available } from './scheduler';
import type { RealServer, VirtualService } from '../service/types';

export const ovf: Scheduler = {
  name: 'ovf',
  description: 'weighted overflow',
  create(svc: VirtualService) {
    return {
      schedule() {
        const d = svc.dests;
        let best: RealServer | null = null;
        for (let i = 0; i < d.length; i++) {
          const rs = d[i];
          if (!available(rs) || rs.activeConns > rs.weight) continue;
          if (best === null || rs.weight > best.weight) best = rs;
        }
        return best;
      },
      update() {},
    };
  },
};
