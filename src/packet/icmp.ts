// ICMP header accessors. Errors (unreachable, time exceeded) embed the offending IP header at +8.
import { finish, sum16 } from './checksum';
import { readU16, writeU16, writeU32 } from './ipv4';

export const ICMP_HLEN = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PORT_UNREACH = 3; // code under DEST_UNREACH
export const ICMP_FRAG_NEEDED = 4; // code under DEST_UNREACH

export const icmpType = (b: Uint8Array, off: number): number => b[off];
export const icmpCode = (b: Uint8Array, off: number): number => b[off + 1];
export const icmpChecksum = (b: Uint8Array, off: number): number => readU16(b, off + 2);
/** Next-hop MTU of a fragmentation-needed message (RFC 1191). */
export const icmpNextHopMtu = (b: Uint8Array, off: number): number => readU16(b, off + 6);
/** Offset of the IP header embedded in an ICMP error. */
export const icmpInnerOff = (off: number): number => off + ICMP_HLEN;

export const isIcmpError = (type: number): boolean =>
  type === ICMP_DEST_UNREACH || type === ICMP_TIME_EXCEEDED || type === 4 /* source quench */ || type === 12 /* param problem */;

export const setIcmpType = (b: Uint8Array, off: number, v: number): void => { b[off] = v; };
export const setIcmpCode = (b: Uint8Array, off: number, v: number): void => { b[off + 1] = v; };
export const setIcmpChecksum = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 2, v);
export const setIcmpNextHopMtu = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 6, v);

/** Bytes of the offending packet an ICMP error quotes (RFC 1812: as much as fits in 576, we keep it short). */
export const ICMP_QUOTE_MAX = 548;

/**
 * Write an IPv4 ICMP error at `off`: IP header (src, dst, TTL 64), ICMP `type`/`code` with `rest` as the second
 * word (the next-hop MTU for fragmentation-needed), then the quoted packet `q[qOff, qOff+qLen)`. Returns length.
 */
export function writeIcmpError(
  b: Buffer, off: number, src: number, dst: number, id: number, type: number, code: number, rest: number,
  q: Buffer, qOff: number, qLen: number,
): number {
  const quoted = Math.min(qLen, ICMP_QUOTE_MAX);
  const total = 20 + ICMP_HLEN + quoted;
  b[off] = 0x45;
  b[off + 1] = 0xc0; // internetwork control, as Linux marks ICMP errors
  writeU16(b, off + 2, total);
  writeU16(b, off + 4, id);
  writeU16(b, off + 6, 0);
  b[off + 8] = 64;
  b[off + 9] = 1;
  writeU32(b, off + 12, src);
  writeU32(b, off + 16, dst);
  writeU16(b, off + 10, 0);
  writeU16(b, off + 10, finish(sum16(b, off, 20, 0)));
  const i = off + 20;
  b[i] = type;
  b[i + 1] = code;
  writeU16(b, i + 2, 0);
  writeU32(b, i + 4, rest);
  q.copy(b, i + ICMP_HLEN, qOff, qOff + quoted);
  writeU16(b, i + 2, finish(sum16(b, i, ICMP_HLEN + quoted, 0)));
  return total;
}
