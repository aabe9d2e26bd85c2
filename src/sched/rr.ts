// Round robin (ip_vs_rr.c): walk the list circularly from after the last pick; first available wins.
import type { Scheduler, SchedulerInstance } from './scheduler';
import { available } from './scheduler';
import type { VirtualService } from '../service/types';

export const rr: Scheduler = {
  name: 'rr',
  description: 'round robin',
  create(svc: VirtualService): SchedulerInstance {
    let last = -1;
    return {
      schedule() {
        const d = svc.dests;
        const n = d.length;
        for (let k = 1; k <= n; k++) {
          const i = (last + k) % n;
          if (available(d[i])) {
            last = i;
            return d[i];
          }
        }
        return null;
      },
      update() {
        if (last >= svc.dests.length) last = -1;
      },
    };
  },
};
