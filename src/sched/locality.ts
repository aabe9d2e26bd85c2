// The per-service cache of lblc and lblcr (ip_vs_lblc.c / ip_vs_lblcr.c): destination address -> value
// (a real server, or a set of them), kept as the kernel keeps it so that ageing removes the same entries:
// 1024 chained buckets indexed by address * 2654435761, new entries at the head of their chain, and
// the kernel's 60-second timer (ip_vs_lblc_check_expire):
//   - every 30th tick a full check drops entries idle for the expiration (sysctl lblc_expiration /
//     lblcr_expiration, 24 h by default);
//   - a tick that finds more than 16 x 1024 entries drops entries idle for 6 minutes, bucket by bucket
//     from a rover, until 4/3 of the excess (at most half the maximum) is gone, and does not count
//     towards the full check.
// The timer runs lazily: whenever the cache is used, the ticks due by then run first, each at its own
// time. A long quiet spell runs only the ticks that can change something (see runTimers).
//
// Entries live in typed arrays (a free list, chains as indexes); only a new entry beyond the current
// capacity allocates, by doubling.
import { multHash } from './hash';

export const LOCALITY_TAB_BITS = 10;
const TAB_SIZE = 1 << LOCALITY_TAB_BITS;
const TAB_MASK = TAB_SIZE - 1;
/** CHECK_EXPIRE_INTERVAL, ENTRY_TIMEOUT, DEFAULT_EXPIRATION (seconds), COUNT_FOR_FULL_EXPIRATION. */
export const CHECK_EXPIRE_INTERVAL = 60;
export const ENTRY_TIMEOUT = 6 * 60;
export const DEFAULT_EXPIRATION = 24 * 60 * 60;
export const COUNT_FOR_FULL_EXPIRATION = 30;
/** tbl->max_size. */
export const LOCALITY_MAX_SIZE = TAB_SIZE * 16;

const NIL = -1;

export class LocalityCache<V> {
  /** Live entries (tbl->entries). */
  entries = 0;
  private readonly head = new Int32Array(TAB_SIZE).fill(NIL);
  private next = new Int32Array(64);
  private addrs = new Int32Array(64);
  private lastuse = new Float64Array(64);
  private readonly values: (V | undefined)[] = [];
  private freeSlot = NIL;
  private highWater = 0;
  private rover = 0;
  private counter = 1;
  private nextTick: number;

  /**
   * @param now creation time (the first tick is due one interval later, as init_svc arms the timer)
   * @param expiration seconds idle before the full check drops an entry
   */
  constructor(now: number, readonly expiration = DEFAULT_EXPIRATION) {
    this.nextTick = now + CHECK_EXPIRE_INTERVAL;
  }

  /** The entry for a destination address (either form), or -1. */
  find(addr: number): number {
    addr |= 0;
    for (let e = this.head[multHash(addr, TAB_MASK)]; e !== NIL; e = this.next[e]) {
      if (this.addrs[e] === addr) return e;
    }
    return NIL;
  }

  /** A new entry at the head of its chain; the caller knows the address is absent. */
  insert(addr: number, value: V, now: number): number {
    addr |= 0;
    let e = this.freeSlot;
    if (e !== NIL) {
      this.freeSlot = this.next[e];
    } else {
      if (this.highWater === this.next.length) this.grow();
      e = this.highWater++;
    }
    const b = multHash(addr, TAB_MASK);
    this.addrs[e] = addr;
    this.lastuse[e] = now;
    this.values[e] = value;
    this.next[e] = this.head[b];
    this.head[b] = e;
    this.entries++;
    return e;
  }

  value(e: number): V {
    return this.values[e] as V;
  }

  setValue(e: number, value: V): void {
    this.values[e] = value;
  }

  touch(e: number, now: number): void {
    this.lastuse[e] = now;
  }

  lastUse(e: number): number {
    return this.lastuse[e];
  }

  /** Run the periodic timer for every tick due by `now` (call before using the cache). */
  runTimers(now: number): void {
    while (this.nextTick <= now) {
      const t = this.nextTick;
      if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
        this.fullCheck(t);
        this.counter = 1;
        // After a full check nothing is added until `now`: while the table stays within its size, the
        // ticks up to `now` only count, and of their full checks only the last matters (each drops a
        // superset of what the one before dropped, and a full pass leaves the rover where it was).
        const due = Math.floor((now - t) / CHECK_EXPIRE_INTERVAL); // ticks still due after this one
        const cycles = Math.floor(due / COUNT_FOR_FULL_EXPIRATION);
        if (this.entries <= LOCALITY_MAX_SIZE && cycles > 1) {
          this.nextTick = t + (cycles - 1) * COUNT_FOR_FULL_EXPIRATION * CHECK_EXPIRE_INTERVAL;
        }
      } else if (this.entries <= LOCALITY_MAX_SIZE) {
        // Counting ticks: jump to the next full check (or past `now`).
        const due = Math.floor((now - t) / CHECK_EXPIRE_INTERVAL) + 1;
        const steps = Math.min(due, COUNT_FOR_FULL_EXPIRATION - this.counter);
        this.counter += steps;
        this.nextTick = t + (steps - 1) * CHECK_EXPIRE_INTERVAL;
      } else {
        this.overflowCheck(t);
      }
      this.nextTick += CHECK_EXPIRE_INTERVAL;
    }
  }

  /** ip_vs_lblc_full_check(): every bucket from the rover on, entries idle for `expiration` go. */
  private fullCheck(now: number): void {
    let j = this.rover;
    for (let i = 0; i < TAB_SIZE; i++) {
      j = (j + 1) & TAB_MASK;
      this.sweepBucket(j, now, this.expiration);
    }
    this.rover = j;
  }

  /** The over-size half of ip_vs_lblc_check_expire(). */
  private overflowCheck(now: number): void {
    let goal = Math.trunc(((this.entries - LOCALITY_MAX_SIZE) * 4) / 3);
    if (goal > LOCALITY_MAX_SIZE / 2) goal = LOCALITY_MAX_SIZE / 2;
    let j = this.rover;
    for (let i = 0; i < TAB_SIZE; i++) {
      j = (j + 1) & TAB_MASK;
      goal -= this.sweepBucket(j, now, ENTRY_TIMEOUT);
      if (goal <= 0) break;
    }
    this.rover = j;
  }

  /** Drop the bucket's entries idle for `idle` seconds or more at `now`; returns how many went. */
  private sweepBucket(b: number, now: number, idle: number): number {
    let removed = 0;
    let prev = NIL;
    let e = this.head[b];
    while (e !== NIL) {
      const nxt = this.next[e];
      if (now < this.lastuse[e] + idle) {
        prev = e;
      } else {
        if (prev === NIL) this.head[b] = nxt;
        else this.next[prev] = nxt;
        this.values[e] = undefined;
        this.next[e] = this.freeSlot;
        this.freeSlot = e;
        this.entries--;
        removed++;
      }
      e = nxt;
    }
    return removed;
  }

  private grow(): void {
    const cap = this.next.length * 2;
    const next = new Int32Array(cap);
    next.set(this.next);
    const addrs = new Int32Array(cap);
    addrs.set(this.addrs);
    const lastuse = new Float64Array(cap);
    lastuse.set(this.lastuse);
    this.next = next;
    this.addrs = addrs;
    this.lastuse = lastuse;
  }
}
