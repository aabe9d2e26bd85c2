// Shortest expected delay (ip_vs_sed.c): the least (active + 1) / weight. Inactive connections do not
// count; the +1 is the incoming connection. Cross-multiplied as the kernel does; ties stay with the first.
import type { Scheduler } from './scheduler';
import { available } from './scheduler';
import type { RealServer, VirtualService } from '../service/types';

export const sed: Scheduler = {
  name: 'sed',
  description: 'shortest expected delay',
  create(svc: VirtualService) {
    return {
      schedule() {
        const d = svc.dests;
        const n = d.length;
        let i = 0;
        while (i < n && !available(d[i])) i++;
        if (i === n) return null;
        let least: RealServer = d[i];
        let loh = least.activeConns + 1;
        // The kernel's second loop skips only overloaded ones: weight 0 never wins `loh * 0 > doh * w`.
        for (i++; i < n; i++) {
          const rs = d[i];
          if (rs.overloaded) continue;
          const doh = rs.activeConns + 1;
          if (loh * rs.weight > doh * least.weight) {
            least = rs;
            loh = doh;
          }
        }
        return least;
      },
      update() {},
    };
  },
};
