// Maglev hashing (ip_vs_mh.c; Eisenbud et al., NSDI '16, section 3.4). Each real server gets a
// permutation of the lookup table's slots from hsiphash of its address and port (offset, skip); the
// table is filled round-robin, each real server claiming its next free preferred slot `turns` times a
// round (turns from the weights, divided by their gcd and shifted down so the largest fits the table
// bits). A connection's source address (+ source port with mh-port) hashed with the same fixed keys picks
// its slot. The keys are constants, so every director with the same real servers in the same order
// builds the same table: ECMP'd directors, kernel or ours, send a flow to the same real server.
//
// Flags (ipvsadm -b): mh-fallback (flag-1) rehashes with growing offsets while the slot's real server
// is unavailable; mh-port (flag-2) adds the source port (TCP, UDP, SCTP) to the hash.
import { LvsError } from '../control/errors';
import type { Scheduler, SchedulerInstance } from './scheduler';
import { available, SCHED_FLAG_1, SCHED_FLAG_2 } from './scheduler';
import { hsiphash1u32, hsipKey } from './hash';
import { hashPort } from './sh';
import type { Flow } from '../packet/flow';
import type { RealServer, VirtualService } from '../service/types';

export const MH_FALLBACK = SCHED_FLAG_1;
export const MH_PORT = SCHED_FLAG_2;

/** The kernel's table sizes: primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] for index 8..17. */
export const MH_KERNEL_PRIMES: readonly number[] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];
/** CONFIG_IP_VS_MH_TAB_INDEX 12's size, the kernel's default. */
export const MH_DEFAULT_TABLE_SIZE = 4093;
const MH_MIN_TABLE_SIZE = 251;
const MH_MAX_TABLE_SIZE = 131071;

// generate_hash_secret(): fixed, so the table is the same on every director.
const HASH1 = hsipKey(2654435761, 2654435761);
const HASH2 = hsipKey(2654446892, 2654446892);

const isPrime = (n: number): boolean => {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let f = 2; f * f <= n; f++) if (n % f === 0) return false;
  return true;
};

/** A Maglev table size we build: a prime from 251 to 131071 (the kernel's ten, Katran's 65537, others between). */
export const isMhTableSize = (size: number): boolean =>
  size >= MH_MIN_TABLE_SIZE && size <= MH_MAX_TABLE_SIZE && isPrime(size);

/**
 * IP_VS_MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2 for the kernel's sizes (4093: 6). A prime between
 * two kernel sizes takes the bits of the kernel size below it (65537, Katran's: 65521's 8).
 */
export function mhTabBits(size: number): number {
  let index = 8;
  for (let i = 0; i < MH_KERNEL_PRIMES.length; i++) if (MH_KERNEL_PRIMES[i] <= size) index = 8 + i;
  return index >> 1;
}

/**
 * ip_vs_mh_hashkey(): hsiphash of the u32 `offset + port + addr` (wrapping at 32 bits; the address and
 * port as numbers, i.e. ntohl/ntohs of the wire fields). `addr` in either form. Returns a uint32.
 */
export const mhHash = (addr: number, port: number, offset: number, key = HASH1): number =>
  hsiphash1u32((offset + port + addr) | 0, key);

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
/** fls(): the 1-based index of the highest set bit, 0 for 0. */
const fls = (x: number): number => 32 - Math.clz32(x);

/** The lookup table of one service and what built it. */
interface MhTable {
  size: number;
  lookup: (RealServer | null)[];
}

/**
 * ip_vs_mh_gcd_weight(), ip_vs_mh_shift_weight(), ip_vs_mh_permutate() and ip_vs_mh_populate():
 * fill `lookup` (length `size`) from the real servers in list order and their last non-zero weights.
 */
export function mhPopulate(dests: readonly RealServer[], lastWeight: readonly number[], size: number, lookup: (RealServer | null)[]): void {
  const n = dests.length;
  let g = 0;
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const w = lastWeight[i];
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
    if (w > maxWeight) maxWeight = w;
  }
  // No real server, or every last weight 0: the table empties and nothing is scheduled.
  if (g < 1) {
    lookup.fill(null);
    return;
  }
  const rshift = Math.max(0, fls(Math.floor(maxWeight / g)) - mhTabBits(size));

  const skip = new Uint32Array(n);
  const perm = new Uint32Array(n); // the next preferred slot (starts at the offset)
  const turns = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const rs = dests[i];
    perm[i] = mhHash(rs.addr, rs.port, 0, HASH1) % size;
    skip[i] = (mhHash(rs.addr, rs.port, 0, HASH2) % (size - 1)) + 1;
    const lw = lastWeight[i];
    // A real server whose scaled weight shifts down to 0 still gets one turn, unless its weight is 0.
    turns[i] = Math.floor(lw / g) >> rshift || (lw !== 0 ? 1 : 0);
  }

  const taken = new Uint8Array(size);
  let filled = 0;
  let count = 0; // turns the current real server has had this round
  while (filled < size) {
    for (let i = 0; i < n; ) {
      if (turns[i] < 1) {
        i++; // weight 0 when added (or always): no slots
        continue;
      }
      let c = perm[i];
      while (taken[c] === 1) {
        c += skip[i];
        if (c >= size) c -= size;
      }
      perm[i] = c;
      taken[c] = 1;
      lookup[c] = dests[i];
      if (++filled === size) return;
      if (++count >= turns[i]) {
        count = 0;
        i++;
      }
    }
  }
}

export const mh: Scheduler = {
  name: 'mh',
  description: 'maglev hashing',
  create(svc: VirtualService): SchedulerInstance {
    if (!isMhTableSize(svc.mhTableSize)) {
      throw new LvsError('EINVAL', `Maglev table size must be a prime from 251 to 131071, got ${svc.mhTableSize}`);
    }
    const table: MhTable = { size: svc.mhTableSize, lookup: new Array<RealServer | null>(svc.mhTableSize).fill(null) };
    // dest->last_weight: the weight when added, then the latest non-zero one. A real server set to
    // weight 0 (quiesced) keeps its slots, so flows elsewhere do not move; its own get no pick (or fall back).
    let lastWeight = new Map<RealServer, number>();

    const rebuild = (): void => {
      const size = svc.mhTableSize;
      if (!isMhTableSize(size)) {
        throw new LvsError('EINVAL', `Maglev table size must be a prime from 251 to 131071, got ${size}`);
      }
      const dests = svc.dests;
      const next = new Map<RealServer, number>();
      const weights = dests.map((rs) => {
        const prev = lastWeight.get(rs);
        const lw = prev === undefined || rs.weight !== 0 ? rs.weight : prev;
        next.set(rs, lw);
        return lw;
      });
      lastWeight = next;
      if (size !== table.size) {
        table.size = size;
        table.lookup = new Array<RealServer | null>(size).fill(null);
      }
      // ip_vs_mh_reassign() refuses more real servers than slots and leaves the table as it was.
      if (dests.length > size) return;
      mhPopulate(dests, weights, size, table.lookup);
    };
    rebuild();

    return {
      schedule(flow: Flow) {
        const flags = svc.schedFlags;
        const port = flags & MH_PORT ? hashPort(flow) : 0;
        const addr = flow.saddr;
        const size = table.size;
        const lookup = table.lookup;
        const ihash = mhHash(addr, port, 0) % size;
        let rs = lookup[ihash];
        if (rs === null) return null;
        if (available(rs)) return rs;
        if (!(flags & MH_FALLBACK)) return null;
        // ip_vs_mh_get_fallback(): rehash with offsets from the original slot onwards.
        for (let offset = 0; offset < size; offset++) {
          const roffset = (offset + ihash) % size;
          rs = lookup[mhHash(addr, port, roffset) % size];
          if (rs === null) return null;
          if (available(rs)) return rs;
        }
        return null;
      },
      update: rebuild,
    };
  },
};
