// Weighted least-connection (ip_vs_wlc.c), ipvsadm's default: least overhead/weight, where
// overhead = active*256 + inactive; compared by cross-multiplying, as the kernel does, never dividing.
import type { Scheduler } from './scheduler';
import { available } from './scheduler';
import { overhead } from './overhead';
import type { RealServer, VirtualService } from '../service/types';

export { overhead };

export const wlc: Scheduler = {
  name: 'wlc',
  description: 'weighted least-connection',
  create(svc: VirtualService) {
    return {
      schedule() {
        let least: RealServer | null = null;
        let loh = 0;
        for (const rs of svc.dests) {
          if (!available(rs)) continue;
          const doh = overhead(rs);
          if (least === null || loh * rs.weight > doh * least.weight) {
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
