// Shortest expected delay (ip_vs_sed.c): the least (active + 1) / weight. Inactive connections do not
// count; the +1 is the incoming connection. Cross-multiplied as the kernel does; ties stay with the first.
import type { Scheduler } from './scheduler';
import { expectedDelay, weightedLeastConn } from './overhead';
import type { VirtualService } from '../service/types';

export const sed: Scheduler = {
  name: 'sed',
  description: 'shortest expected delay',
  create(svc: VirtualService) {
    return { schedule: () => weightedLeastConn(svc.dests, expectedDelay), update() {} };
  },
};
