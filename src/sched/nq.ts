// Never queue (ip_vs_nq.c): the first available real server with no active connection, when there is
// one; otherwise shortest expected delay, the least (active + 1) / weight, ties to the first.
import type { Scheduler } from './scheduler';
import { available } from './scheduler';
import { expectedDelay } from './overhead';
import type { RealServer, VirtualService } from '../service/types';

export const nq: Scheduler = {
  name: 'nq',
  description: 'never queue',
  create(svc: VirtualService) {
    return {
      schedule() {
        const d = svc.dests;
        let least: RealServer | null = null;
        let loh = 0;
        for (let i = 0; i < d.length; i++) {
          const rs = d[i];
          if (!available(rs)) continue;
          if (rs.activeConns === 0) return rs; // idle: taken at once
          const doh = expectedDelay(rs);
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
