// ICMP header accessors. Errors (unreachable, time exceeded) embed the offending IP header at +8.
import { readU16, writeU16 } from './ipv4';

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
