// IPv4 header accessors. On the wire path addresses are int32 numbers (host order, the top bit as sign),
// never strings: V8 keeps int32 unboxed, while a uint32 above 2^31 becomes a heap number, an allocation,
// each time it crosses a call that is not inlined. The control plane's uint32 is `addr >>> 0` of this.
export const IPV4_MIN_HLEN = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;

export const ipVersion = (b: Uint8Array, off: number): number => b[off] >>> 4;
/** Header length in bytes (IHL * 4). */
export const ipHeaderLen = (b: Uint8Array, off: number): number => (b[off] & 0x0f) << 2;
export const ipTos = (b: Uint8Array, off: number): number => b[off + 1];
export const ipTotalLen = (b: Uint8Array, off: number): number => (b[off + 2] << 8) | b[off + 3];
export const ipId = (b: Uint8Array, off: number): number => (b[off + 4] << 8) | b[off + 5];
/** Flags and fragment offset word (DF/MF bits plus 13-bit offset in 8-byte units). */
export const ipFragWord = (b: Uint8Array, off: number): number => (b[off + 6] << 8) | b[off + 7];
export const ipTtl = (b: Uint8Array, off: number): number => b[off + 8];
export const ipProto = (b: Uint8Array, off: number): number => b[off + 9];
export const ipChecksum = (b: Uint8Array, off: number): number => (b[off + 10] << 8) | b[off + 11];
export const ipSrc = (b: Uint8Array, off: number): number => readI32(b, off + 12);
export const ipDst = (b: Uint8Array, off: number): number => readI32(b, off + 16);

/** True for any fragment: more-fragments set or a non-zero offset. */
export const ipIsFragment = (fragWord: number): boolean => (fragWord & (IP_MF | IP_OFFMASK)) !== 0;
/** True for a fragment other than the first (its L4 header is not in this packet). */
export const ipIsLaterFragment = (fragWord: number): boolean => (fragWord & IP_OFFMASK) !== 0;

export const setIpTotalLen = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 2, v);
export const setIpId = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 4, v);
export const setIpFragWord = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 6, v);
export const setIpTtl = (b: Uint8Array, off: number, v: number): void => { b[off + 8] = v; };
export const setIpProto = (b: Uint8Array, off: number, v: number): void => { b[off + 9] = v; };
export const setIpChecksum = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 10, v);
export const setIpSrc = (b: Uint8Array, off: number, v: number): void => writeU32(b, off + 12, v);
export const setIpDst = (b: Uint8Array, off: number, v: number): void => writeU32(b, off + 16, v);

export function readU32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** A big-endian 32-bit word as int32 (see the note at the top). */
export function readI32(b: Uint8Array, off: number): number {
  return (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export function writeU16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

export const readU16 = (b: Uint8Array, off: number): number => (b[off] << 8) | b[off + 1];
