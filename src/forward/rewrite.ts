// In-place address/port rewrites for the NAT kinds, with checksums kept right: the IPv4 header is re-summed
// (20 bytes), TCP/UDP are updated incrementally (RFC 1624) unless the sender left the checksum to offload,
// in which case it is completed from scratch rather than forwarded broken.
import {
  csumReplace16, csumReplace32, finish, fold, pseudoSum, setIpv4HeaderChecksum, setL4Checksum, sum16,
} from '../packet/checksum';
import type { Flow } from '../packet/flow';
import { IPPROTO_TCP, IPPROTO_UDP, readI32, readU16, writeU16, writeU32 } from '../packet/ipv4';
import { TCP_CSUM_OFF } from '../packet/tcp';
import { UDP_CSUM_OFF } from '../packet/udp';

/**
 * Set the packet's (src, sport) and (dst, dport); pass the current values to leave a field as it is.
 * The flow record is not updated (callers are done with it).
 */
export function rewriteTuple(b: Buffer, f: Flow, src: number, sport: number, dst: number, dport: number): void {
  rewriteAt(b, f.l3Off, f.l4Off, f.proto, f.l4Len, src, sport, dst, dport, true);
}

/**
 * The same at explicit offsets. `l4Len` is the L4 length the checksum covers. `whole` says the L4 segment is all
 * here (false inside an ICMP error, where the embedded datagram is cut: only the incremental update is possible).
 */
export function rewriteAt(
  b: Buffer, ip: number, l4: number, proto: number, l4Len: number,
  src: number, sport: number, dst: number, dport: number, whole: boolean,
): void {
  const oldSrc = readI32(b, ip + 12);
  const oldDst = readI32(b, ip + 16);
  const oldSport = readU16(b, l4);
  const oldDport = readU16(b, l4 + 2);
  writeU32(b, ip + 12, src);
  writeU32(b, ip + 16, dst);
  writeU16(b, l4, sport);
  writeU16(b, l4 + 2, dport);
  setIpv4HeaderChecksum(b, ip);

  const co = proto === IPPROTO_TCP ? l4 + TCP_CSUM_OFF : proto === IPPROTO_UDP ? l4 + UDP_CSUM_OFF : -1;
  if (co < 0 || co + 2 > b.length || (!whole && co + 2 > l4 + l4Len)) return;
  let c = readU16(b, co);
  if (proto === IPPROTO_UDP && c === 0) return; // no checksum: stays none
  if (whole && c === fold(pseudoSum(oldSrc, oldDst, proto, l4Len))) {
    // Checksum-offload signature: only the pseudo-header sum is there. Complete it over the new header.
    setL4Checksum(b, ip, l4, proto);
    return;
  }
  c = csumReplace32(c, oldSrc, src);
  c = csumReplace32(c, oldDst, dst);
  c = csumReplace16(c, oldSport, sport);
  c = csumReplace16(c, oldDport, dport);
  if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
  writeU16(b, co, c);
}

/**
 * Rewrite an ICMP error in place: the outer addresses, and the quoted packet's addresses and ports (its IP
 * checksum re-summed, its L4 checksum updated where quoted), then the ICMP checksum over the whole message.
 */
export function rewriteIcmpError(
  b: Buffer, f: Flow, outerSrc: number, outerDst: number,
  inSrc: number, inSport: number, inDst: number, inDport: number,
): void {
  rewriteAt(b, f.innerOff, f.innerL4Off, f.innerProto, f.innerL4Len, inSrc, inSport, inDst, inDport, false);
  writeU32(b, f.l3Off + 12, outerSrc);
  writeU32(b, f.l3Off + 16, outerDst);
  setIpv4HeaderChecksum(b, f.l3Off);
  writeU16(b, f.l4Off + 2, 0);
  writeU16(b, f.l4Off + 2, finish(sum16(b, f.l4Off, f.l4Len, 0)));
}
