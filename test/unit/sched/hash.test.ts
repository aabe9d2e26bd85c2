import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hsiphash1u32, hsipKey, multHash } from '../../../src/sched/hash';

// A plain BigInt SipHash-1-3 over one 8-byte-or-shorter message, written from the SipHash paper's
// description (not from hash.ts), to check the 32-bit-pair arithmetic on random inputs.
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;
function siphash13Ref(msg: number, len: number, k0: bigint, k1: bigint): bigint {
  const v = [0x736f6d6570736575n ^ k0, 0x646f72616e646f6dn ^ k1, 0x6c7967656e657261n ^ k0, 0x7465646279746573n ^ k1];
  const round = (): void => {
    v[0] = (v[0] + v[1]) & M64; v[1] = rotl(v[1], 13n); v[1] ^= v[0]; v[0] = rotl(v[0], 32n);
    v[2] = (v[2] + v[3]) & M64; v[3] = rotl(v[3], 16n); v[3] ^= v[2];
    v[0] = (v[0] + v[3]) & M64; v[3] = rotl(v[3], 21n); v[3] ^= v[0];
    v[2] = (v[2] + v[1]) & M64; v[1] = rotl(v[1], 17n); v[1] ^= v[2]; v[2] = rotl(v[2], 32n);
  };
  const b = (BigInt(len) << 56n) | BigInt(msg >>> 0);
  v[3] ^= b;
  round(); // c = 1
  v[0] ^= b;
  v[2] ^= 0xffn;
  round(); round(); round(); // d = 3
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

// ip_vs_mh.c's generate_hash_secret(): both words of each key are the same constant.
const KEY1 = hsipKey(2654435761, 2654435761);
const KEY2 = hsipKey(2654446892, 2654446892);

describe('hsiphash1u32 (lib/siphash.c, 64-bit kernel)', () => {
  it('matches the kernel self-test vector for 4 bytes (lib/test_siphash.c test_vectors_hsiphash[4])', () => {
    // Key bytes 00..0f, input bytes 00 01 02 03 (the little-endian u32 0x03020100).
    // The words 0x0706050403020100 and 0x0f0e0d0c0b0a0908 exceed 2^53, so the halves are given directly.
    const k = { k0lo: 0x03020100, k0hi: 0x07060504, k1lo: 0x0b0a0908, k1hi: 0x0f0e0d0c };
    expect(hsiphash1u32(0x03020100, k)).toBe(0x88d38328);
  });

  // Known answers from a C program built from the kernel's own lib/siphash.c macros (PREAMBLE,
  // SIPROUND, HPOSTAMBLE for BITS_PER_LONG == 64) and ip_vs_mh.c's keys, compiled with gcc on x86_64;
  // both its hsiphash_1u32() and its byte-wise __hsiphash_unaligned() path gave these values.
  it.each([
    [0x00000000, 492468162, 4169286463],
    [0x00000001, 384591538, 2182130385],
    [0x00000050, 101399046, 693551333],
    [0x0a00005b, 1271420808, 1706353264], // 10.0.0.11 + port 80: a real server's offset/skip input
    [0xc0a80101, 3555833043, 4187996631],
    [0xffffffff, 583391001, 4149874525],
    [0x80000000, 911026097, 75823946],
    [0xdeadbeef, 4127575327, 937261950],
  ])('mh keys: hsiphash(%i) = %i (hash1), %i (hash2)', (v, h1, h2) => {
    expect(hsiphash1u32(v, KEY1)).toBe(h1);
    expect(hsiphash1u32(v | 0, KEY1)).toBe(h1); // int32 form of the same bits
    expect(hsiphash1u32(v, KEY2)).toBe(h2);
  });

  it('equals an independent BigInt SipHash-1-3 (low 32 bits) for random inputs and keys', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: M64 }), (v, k0, k1) => {
        const key = {
          k0lo: Number(k0 & 0xffffffffn), k0hi: Number(k0 >> 32n),
          k1lo: Number(k1 & 0xffffffffn), k1hi: Number(k1 >> 32n),
        };
        expect(hsiphash1u32(v, key)).toBe(Number(siphash13Ref(v, 4, k0, k1) & 0xffffffffn));
      }),
      { numRuns: 2000 },
    );
  });

  it('hsipKey splits a 64-bit word below 2^53 into halves', () => {
    expect(hsipKey(0x1234567890abc, 5)).toEqual({ k0lo: 0x67890abc, k0hi: 0x12345, k1lo: 5, k1hi: 0 });
    expect(hsipKey(2654435761, 2654435761)).toEqual({ k0lo: 0x9e3779b1, k0hi: 0, k1lo: 0x9e3779b1, k1hi: 0 });
  });
});

describe('multHash (ip_vs_dh/sh/lblc_hashkey)', () => {
  it('equals the exact product modulo the mask', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(255, 1023, 0xfffff), (x, mask) => {
        const exact = Number((BigInt(x) * 2654435761n) & BigInt(mask));
        expect(multHash(x, mask)).toBe(exact);
        expect(multHash(x | 0, mask)).toBe(exact);
      }),
    );
  });
});
