// Least-connection (ip_vs_lc.c): the least overhead (active*256 + inactive). Weight is not a ratio here:
// it only excludes (weight 0 = quiesced). Ties stay with the first in the list.
import type { Scheduler } from './scheduler';
import { available } from './scheduler';
import { overhead } from './overhead';
import type { RealServer, VirtualService } from '../service/types';

export const lc: Scheduler = {
  name: 'lc',
  description: 'least-connection',
  create(svc: VirtualService) {
    return {
      schedule() {
        const d = svc.dests;
        let least: RealServer | null = null;
        let loh = 0;
        for (let i = 0; i < d.length; i++) {
          const rs = d[i];
          if (!available(rs)) continue;
          const doh = overhead(rs);
          if (least === null || doh < loh) {
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
