// Destination hashing (ip_vs_dh.c): a 256-bucket table dealt out round-robin over the real servers
// (weights play no part), indexed by the packet's destination address times 2654435761. No fallback:
// when the bucket's real server is unavailable (weight 0 or overloaded) there is no pick.
import type { Scheduler, SchedulerInstance } from './scheduler';
import { available } from './scheduler';
import { multHash } from './hash';
import type { Flow } from '../packet/flow';
import type { RealServer, VirtualService } from '../service/types';

/** CONFIG_IP_VS_DH_TAB_BITS: the kernel's default (and ours). */
export const DH_TAB_BITS = 8;
const DH_TAB_SIZE = 1 << DH_TAB_BITS;
const DH_TAB_MASK = DH_TAB_SIZE - 1;

/** ip_vs_dh_hashkey(): the bucket of an address (either form). */
export const dhBucket = (addr: number): number => multHash(addr, DH_TAB_MASK);

export const dh: Scheduler = {
  name: 'dh',
  description: 'destination hashing',
  create(svc: VirtualService): SchedulerInstance {
    const buckets: (RealServer | null)[] = new Array<RealServer | null>(DH_TAB_SIZE).fill(null);
    // ip_vs_dh_reassign(): bucket i gets the (i mod n)-th real server in list order.
    const assign = (): void => {
      const d = svc.dests;
      for (let i = 0; i < DH_TAB_SIZE; i++) buckets[i] = d.length === 0 ? null : d[i % d.length];
    };
    assign();
    return {
      schedule(flow: Flow) {
        const rs = buckets[dhBucket(flow.daddr)];
        return rs !== null && available(rs) ? rs : null;
      },
      update: assign,
    };
  },
};
