// The kernel's hash functions for the hashing schedulers, in 32-bit integer arithmetic (no BigInt, no
// allocation): the multiplicative hash of dh/sh/lblc/lblcr and the 64-bit kernel's hsiphash used by mh.

/** 2654435761 (2^32 / golden ratio, prime): the multiplier of ip_vs_dh/sh/lblc/lblcr_hashkey(). */
export const GOLDEN_RATIO_PRIME_32 = 0x9e3779b1;

/**
 * `(x * 2654435761UL) & mask` as the kernel computes it. The product is 64-bit there, but only its low
 * bits survive the mask, and those equal the low bits of the 32-bit product. `x` in either address form.
 */
export const multHash = (x: number, mask: number): number => Math.imul(x, GOLDEN_RATIO_PRIME_32) & mask;

/** A 64-bit hsiphash key (hsiphash_key_t on a 64-bit kernel: two unsigned longs), as four uint32 halves. */
export interface HsipKey {
  readonly k0lo: number;
  readonly k0hi: number;
  readonly k1lo: number;
  readonly k1hi: number;
}

/** A key from its two 64-bit words, each given as a number below 2^53 or as (hi, lo) parts. */
export function hsipKey(k0: number, k1: number): HsipKey {
  const split = (k: number): [number, number] => [k >>> 0, Math.floor(k / 0x100000000) >>> 0];
  const [k0lo, k0hi] = split(k0);
  const [k1lo, k1hi] = split(k1);
  return { k0lo, k0hi, k1lo, k1hi };
}

/**
 * hsiphash_1u32() of a 64-bit kernel (lib/siphash.c, BITS_PER_LONG == 64): there "HalfSipHash" is
 * SipHash-1-3 on 64-bit words, the input is one block `(4 << 56) | v`, one compression round,
 * three finalization rounds, and the u32 result is the low half of v0^v1^v2^v3. `hsiphash(&v, 4, key)`
 * reaches the same value on every path (aligned or not) on a little-endian machine. Returns a uint32.
 *
 * Each 64-bit lane is a (hi, lo) pair of int32s: additions carry by hand, rotations mix the halves.
 */
export function hsiphash1u32(v: number, key: HsipKey): number {
  // PREAMBLE: the "somepseudorandomlygeneratedbytes" constants xor the key.
  let v0h = 0x736f6d65 ^ key.k0hi;
  let v0l = 0x70736575 ^ key.k0lo;
  let v1h = 0x646f7261 ^ key.k1hi;
  let v1l = 0x6e646f6d ^ key.k1lo;
  let v2h = 0x6c796765 ^ key.k0hi;
  let v2l = 0x6e657261 ^ key.k0lo;
  let v3h = 0x74656462 ^ key.k1hi;
  let v3l = 0x79746573 ^ key.k1lo;
  // b = (len << 56) | v, len = 4.
  const bh = 0x04000000;
  const bl = v | 0;
  v3h ^= bh;
  v3l ^= bl;
  let s = 0;
  let t = 0;
  for (let round = 0; round < 4; round++) {
    // v0 += v1; v1 = rol64(v1, 13); v1 ^= v0; v0 = rol64(v0, 32)
    s = (v0l >>> 0) + (v1l >>> 0);
    v0h = (v0h + v1h + (s > 0xffffffff ? 1 : 0)) | 0;
    v0l = s | 0;
    t = v1h;
    v1h = (v1h << 13) | (v1l >>> 19);
    v1l = (v1l << 13) | (t >>> 19);
    v1h ^= v0h;
    v1l ^= v0l;
    t = v0h;
    v0h = v0l;
    v0l = t;
    // v2 += v3; v3 = rol64(v3, 16); v3 ^= v2
    s = (v2l >>> 0) + (v3l >>> 0);
    v2h = (v2h + v3h + (s > 0xffffffff ? 1 : 0)) | 0;
    v2l = s | 0;
    t = v3h;
    v3h = (v3h << 16) | (v3l >>> 16);
    v3l = (v3l << 16) | (t >>> 16);
    v3h ^= v2h;
    v3l ^= v2l;
    // v0 += v3; v3 = rol64(v3, 21); v3 ^= v0
    s = (v0l >>> 0) + (v3l >>> 0);
    v0h = (v0h + v3h + (s > 0xffffffff ? 1 : 0)) | 0;
    v0l = s | 0;
    t = v3h;
    v3h = (v3h << 21) | (v3l >>> 11);
    v3l = (v3l << 21) | (t >>> 11);
    v3h ^= v0h;
    v3l ^= v0l;
    // v2 += v1; v1 = rol64(v1, 17); v1 ^= v2; v2 = rol64(v2, 32)
    s = (v2l >>> 0) + (v1l >>> 0);
    v2h = (v2h + v1h + (s > 0xffffffff ? 1 : 0)) | 0;
    v2l = s | 0;
    t = v1h;
    v1h = (v1h << 17) | (v1l >>> 15);
    v1l = (v1l << 17) | (t >>> 15);
    v1h ^= v2h;
    v1l ^= v2l;
    t = v2h;
    v2h = v2l;
    v2l = t;
    if (round === 0) {
      // After the one compression round: v0 ^= b, then finalization starts with v2 ^= 0xff.
      v0h ^= bh;
      v0l ^= bl;
      v2l ^= 0xff;
    }
  }
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}
