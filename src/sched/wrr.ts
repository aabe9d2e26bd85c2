// Interleaved weighted round robin (ip_vs_wrr.c): a current weight `cw` steps down by the weights' gcd
// each time the scan wraps, and a real server is picked when its weight >= cw.
import type { Scheduler, SchedulerInstance } from './scheduler';
import type { VirtualService } from '../service/types';

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export const wrr: Scheduler = {
  name: 'wrr',
  description: 'weighted round robin',
  create(svc: VirtualService): SchedulerInstance {
    let cl = -1; // position in the list; -1 is the list head, as the kernel's mark->cl
    let cw = 0; // current weight
    let mw = 0; // max weight
    let di = 1; // gcd of the weights

    const recompute = (): void => {
      let g = 0;
      let max = 0;
      for (const d of svc.dests) {
        if (d.weight > 0) {
          g = gcd(d.weight, g);
          if (d.weight > max) max = d.weight;
        }
      }
      di = g > 0 ? g : 1;
      mw = max;
      // The kernel keeps mark->cl and clamps cw to the new max.
      if (cl >= svc.dests.length) cl = -1;
      if (cw > mw) cw = 0;
    };
    recompute();

    return {
      schedule() {
        const d = svc.dests;
        const n = d.length;
        if (mw === 0 || n === 0) return null;
        // Every (position, cw) pair once at most: then all are overloaded or below cw.
        const bound = (n + 1) * (Math.floor(mw / di) + 1);
        for (let steps = 0; steps < bound; steps++) {
          cl++;
          if (cl >= n) {
            cl = -1;
            continue;
          }
          if (cl === 0) {
            cw -= di;
            if (cw <= 0) cw = mw;
          }
          const rs = d[cl];
          if (!rs.overloaded && rs.weight >= cw) return rs;
        }
        return null;
      },
      update: recompute,
    };
  },
};
