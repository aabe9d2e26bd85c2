// Internet checksum (RFC 1071) and incremental update (RFC 1624), over Buffer offsets.
import { IPPROTO_TCP, IPPROTO_UDP, ipDst, ipHeaderLen, ipSrc, ipTotalLen, readU16, writeU16 } from './ipv4';
import { TCP_CSUM_OFF } from './tcp';
import { UDP_CSUM_OFF } from './udp';

/** One's-complement sum of `len` bytes at `off`, added to `initial` (not folded). */
export function sum16(b: Uint8Array, off: number, len: number, initial: number): number {
  let s = initial;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  return s;
}

/** Fold a sum to 16 bits; carries are added back (end-around carry). */
export function fold(s: number): number {
  // Beyond 32 bits (never a packet's sum: 64 KiB of words stays below 2^32) one division brings it in range; the
  // loop then stays in integer shifts (a float division per turn was a visible part of every frame's parse).
  if (s >= 0x100000000) s = (s % 0x10000) + Math.floor(s / 0x10000);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Final checksum: the complement of the folded sum. */
export const finish = (s: number): number => ~fold(s) & 0xffff;

export function ipv4HeaderChecksum(b: Uint8Array, ipOff: number): number {
  const hl = ipHeaderLen(b, ipOff);
  // Sum the header with its checksum field counted as zero.
  return finish(sum16(b, ipOff, hl, 0) - readU16(b, ipOff + 10));
}

export function setIpv4HeaderChecksum(b: Uint8Array, ipOff: number): void {
  writeU16(b, ipOff + 10, 0);
  writeU16(b, ipOff + 10, finish(sum16(b, ipOff, ipHeaderLen(b, ipOff), 0)));
}

/** True when an IPv4 header sums to 0xffff (checksum valid). */
export const ipv4HeaderValid = (b: Uint8Array, ipOff: number): boolean => fold(sum16(b, ipOff, ipHeaderLen(b, ipOff), 0)) === 0xffff;

/** Pseudo-header sum for TCP/UDP over IPv4. */
export function pseudoSum(src: number, dst: number, proto: number, l4Len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4Len;
}

const l4CsumOff = (proto: number): number => (proto === IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);

/** Compute and store the TCP or UDP checksum of the segment at `l4Off` (length from the IP header). */
export function setL4Checksum(b: Uint8Array, ipOff: number, l4Off: number, proto: number): void {
  const l4Len = ipTotalLen(b, ipOff) - ipHeaderLen(b, ipOff);
  const co = l4Off + l4CsumOff(proto);
  writeU16(b, co, 0);
  let c = finish(sum16(b, l4Off, l4Len, pseudoSum(ipSrc(b, ipOff), ipDst(b, ipOff), proto, l4Len)));
  if (c === 0 && proto === IPPROTO_UDP) c = 0xffff; // 0 means "no checksum" in UDP
  writeU16(b, co, c);
}

/** True when the TCP/UDP checksum of the segment verifies (UDP checksum 0 = not used = valid). */
export function l4ChecksumValid(b: Uint8Array, ipOff: number, l4Off: number, proto: number): boolean {
  if (proto === IPPROTO_UDP && readU16(b, l4Off + UDP_CSUM_OFF) === 0) return true;
  const l4Len = ipTotalLen(b, ipOff) - ipHeaderLen(b, ipOff);
  return fold(sum16(b, l4Off, l4Len, pseudoSum(ipSrc(b, ipOff), ipDst(b, ipOff), proto, l4Len))) === 0xffff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from `oldW` to `newW`.
 * Works on the checksum value, not the buffer, so callers can chain several words.
 */
export function csumReplace16(hc: number, oldW: number, newW: number): number {
  return ~fold((~hc & 0xffff) + (~oldW & 0xffff) + newW) & 0xffff;
}

/** RFC 1624 for a 32-bit field (an address): two 16-bit words. */
export function csumReplace32(hc: number, oldV: number, newV: number): number {
  return ~fold((~hc & 0xffff) + (~oldV >>> 16 & 0xffff) + (~oldV & 0xffff) + (newV >>> 16) + (newV & 0xffff)) & 0xffff;
}

/** Update the 16-bit checksum stored at `csumOff` for a 32-bit field change. */
export function updateChecksum32(b: Uint8Array, csumOff: number, oldV: number, newV: number): void {
  writeU16(b, csumOff, csumReplace32(readU16(b, csumOff), oldV, newV));
}

/** Update the 16-bit checksum stored at `csumOff` for a 16-bit field change. */
export function updateChecksum16(b: Uint8Array, csumOff: number, oldW: number, newW: number): void {
  writeU16(b, csumOff, csumReplace16(readU16(b, csumOff), oldW, newW));
}

/**
 * The TX-offload signature (CHECKSUM_PARTIAL, as a local veth peer hands frames over): the field holds only the
 * folded pseudo-header sum, to be completed by whoever transmits. forward/rewrite.ts completes it on a rewrite.
 */
export function l4ChecksumPartial(b: Uint8Array, ipOff: number, l4Off: number, proto: number): boolean {
  const l4Len = ipTotalLen(b, ipOff) - ipHeaderLen(b, ipOff);
  return readU16(b, l4Off + l4CsumOff(proto)) === fold(pseudoSum(ipSrc(b, ipOff), ipDst(b, ipOff), proto, l4Len));
}

/**
 * May a whole (unfragmented) TCP/UDP segment be rewritten? Its checksum verifies, or it was left to offload.
 * As IPVS's tcp/udp_dnat_handler check before they rewrite (tcp_csum_check): a corrupted segment neither moves
 * the connection's state nor leaves with the director's addresses on it.
 */
export const l4ChecksumAcceptable = (b: Uint8Array, ipOff: number, l4Off: number, proto: number): boolean =>
  l4ChecksumValid(b, ipOff, l4Off, proto) || l4ChecksumPartial(b, ipOff, l4Off, proto);

/** An ICMP message's checksum (no pseudo-header) over `len` bytes at `off`. */
export const icmpChecksumValid = (b: Uint8Array, off: number, len: number): boolean => fold(sum16(b, off, len, 0)) === 0xffff;
