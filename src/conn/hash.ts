// A 5-tuple hash: integer mixing only (Math.imul), no strings or objects. Results are int32, never uint32:
// a uint32 above 2^31 is a heap number in V8 and would allocate on every lookup that is not inlined.

/** murmur3's 32-bit finaliser: spreads every input bit over the result. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

export function tupleHash(proto: number, src: number, sport: number, dst: number, dport: number): number {
  let h = Math.imul(src ^ 0x9e3779b9, 0x01000193);
  h = Math.imul(h ^ dst, 0x01000193);
  h = Math.imul(h ^ ((sport << 16) | dport), 0x01000193);
  return mix32(h ^ proto);
}
