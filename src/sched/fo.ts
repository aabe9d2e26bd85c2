// Weighted failover (ip_vs_fo.c): every new connection goes to the available real server with the
// highest weight; ties stay with the first in the list.
import type { Scheduler } from './scheduler';
import type { RealServer, VirtualService } from '../service/types';

export const fo: Scheduler = {
  name: 'fo',
  description: 'weighted failover',
  create(svc: VirtualService) {
    return {
      schedule() {
        const d = svc.dests;
        let best: RealServer | null = null;
        let hw = 0; // only weights above 0 can win
        for (let i = 0; i < d.length; i++) {
          const rs = d[i];
          if (!rs.overloaded && rs.weight > hw) {
            best = rs;
            hw = rs.weight;
          }
        }
        return best;
      },
      update() {},
    };
  },
};
