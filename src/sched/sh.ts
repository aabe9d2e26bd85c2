// Source hashing (ip_vs_sh.c): a 256-bucket table tiled by the real servers in list order, each taking
// `weight` consecutive buckets (weight 0 still takes one) and starting over from the first until the
// table is full; indexed by (source port? + source address) * 2654435761. Flags (ipvsadm -b):
// sh-fallback (flag-1) probes on from the bucket when its real server is unavailable; sh-port (flag-2)
// adds the source port of TCP, UDP and SCTP to the hash.
import type { Scheduler, SchedulerInstance } from './scheduler';
import { available, SCHED_FLAG_1, SCHED_FLAG_2 } from './scheduler';
import { GOLDEN_RATIO_PRIME_32 } from './hash';
import type { Flow } from '../packet/flow';
import type { RealServer, VirtualService } from '../service/types';

/** CONFIG_IP_VS_SH_TAB_BITS: the kernel's default 8 (it allows 4..20). */
export const SH_TAB_BITS = 8;
const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

export const SH_FALLBACK = SCHED_FLAG_1;
export const SH_PORT = SCHED_FLAG_2;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;

/**
 * ip_vs_sh_hashkey(): `(offset + (port + addr) * 2654435761) & mask`, with the sum and the product
 * wrapping at 32 bits (only the low bits matter). `addr` in either form, `port` in host order.
 */
export const shBucket = (addr: number, port: number, offset: number): number =>
  (offset + Math.imul((port + addr) | 0, GOLDEN_RATIO_PRIME_32)) & SH_TAB_MASK;

/** The port ip_vs_sh_get_port() hashes: the source port of TCP, UDP and SCTP, 0 for anything else. */
export const hashPort = (flow: Flow): number =>
  flow.proto === IPPROTO_TCP || flow.proto === IPPROTO_UDP || flow.proto === IPPROTO_SCTP ? flow.sport : 0;

export const sh: Scheduler = {
  name: 'sh',
  description: 'source hashing',
  create(svc: VirtualService): SchedulerInstance {
    const buckets: (RealServer | null)[] = new Array<RealServer | null>(SH_TAB_SIZE).fill(null);

    // ip_vs_sh_reassign().
    const reassign = (): void => {
      const d = svc.dests;
      let p = 0;
      let count = 0;
      for (let i = 0; i < SH_TAB_SIZE; i++) {
        if (d.length === 0) {
          buckets[i] = null;
          continue;
        }
        const rs = d[p];
        buckets[i] = rs;
        if (++count >= rs.weight) {
          p = (p + 1) % d.length;
          count = 0;
        }
      }
    };
    reassign();

    return {
      schedule(flow: Flow) {
        const port = svc.schedFlags & SH_PORT ? hashPort(flow) : 0;
        const addr = flow.saddr;
        const ihash = shBucket(addr, port, 0);
        let rs = buckets[ihash];
        if (rs === null) return null;
        if (available(rs)) return rs;
        if (!(svc.schedFlags & SH_FALLBACK)) return null;
        // ip_vs_sh_get_fallback(): offsets from the original bucket onwards, each rehashed.
        for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
          const roffset = (offset + ihash) % SH_TAB_SIZE;
          rs = buckets[shBucket(addr, port, roffset)];
          if (rs === null) return null;
          if (available(rs)) return rs;
        }
        return null;
      },
      update: reassign,
    };
  },
};
