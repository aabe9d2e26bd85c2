// ipvsadm --rate: per-second rates of the --stats counters, estimated as the kernel's ip_vs_est does: a sample
// every 2 seconds, smoothed by an exponentially weighted average (a quarter of the way to each new sample).
import { ST_FIELDS } from './table';

export const RATE_PERIOD_S = 2;

export class RateEstimator {
  readonly rates: Float64Array;
  private readonly last: Float64Array;

  constructor(private readonly counters: Float64Array) {
    this.rates = new Float64Array(counters.length);
    this.last = Float64Array.from(counters);
  }

  /** Take a sample (every RATE_PERIOD_S seconds). Counters that went down were zeroed (-Z): so are their rates. */
  sample(): void {
    const c = this.counters;
    for (let i = 0; i < c.length; i++) {
      if (c[i] < this.last[i]) {
        this.rates[i] = 0;
      } else {
        const perSecond = (c[i] - this.last[i]) / RATE_PERIOD_S;
        this.rates[i] += (perSecond - this.rates[i]) / 4;
      }
      this.last[i] = c[i];
    }
  }

  /** The five rates of one service or real server, rounded as ipvsadm shows them. */
  of(id: number): number[] {
    return Array.from(this.rates.subarray(id * ST_FIELDS, (id + 1) * ST_FIELDS), (r) => Math.round(r));
  }

  /** Forget an entity's history when its slot is reused. */
  reset(id: number): void {
    this.rates.fill(0, id * ST_FIELDS, (id + 1) * ST_FIELDS);
    this.last.set(this.counters.subarray(id * ST_FIELDS, (id + 1) * ST_FIELDS), id * ST_FIELDS);
  }
}
