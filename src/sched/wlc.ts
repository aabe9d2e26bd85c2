// Weighted least-connection (ip_vs_wlc.c), ipvsadm's default: least overhead/weight, where
// overhead = active*256 + inactive; compared by cross-multiplying, as the kernel does, never dividing.
import type { Scheduler } from './scheduler';
import { overhead, weightedLeastConn } from './overhead';
import type { VirtualService } from '../service/types';

export { overhead };

export const wlc: Scheduler = {
  name: 'wlc',
  description: 'weighted least-connection',
  create(svc: VirtualService) {
    return { schedule: () => weightedLeastConn(svc.dests), update() {} };
  },
};
