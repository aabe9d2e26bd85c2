// One preallocated record that a parse fills in place: offsets and numbers, nothing allocated per frame.
import { ARP_LEN } from './arp';
import { ipv4HeaderValid } from './checksum';
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethType, isVlanType, VLAN_HLEN, vlanId } from './ethernet';
import { ICMP_HLEN, icmpType } from './icmp';
import {
  IP_MF, IP_OFFMASK, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_MIN_HLEN, ipDst, ipFragWord, ipHeaderLen, ipId,
  ipIsLaterFragment, ipProto, ipSrc, ipTotalLen, ipVersion,
} from './ipv4';
import { TCP_MIN_HLEN, tcpDport, tcpFlags, tcpHeaderLen, tcpSport } from './tcp';
import { UDP_HLEN, udpDport, udpLength, udpSport } from './udp';

export class Flow {
  /** Captured bytes of the frame. */
  frameLen = 0;
  /** VLAN id of the outermost tag, or -1 when untagged. */
  vlan = -1;
  /** Offset of the L3 header (14, or 18/22 behind tags). */
  l3Off = 0;
  ipHdrLen = 0;
  /** IP total length as the header states it (<= frameLen - l3Off once parsed). */
  ipTotalLen = 0;
  proto = 0;
  /** Addresses in the wire path's int32 form (see packet/ipv4.ts). */
  saddr = 0;
  daddr = 0;
  fragWord = 0;
  /** IP identification: with the addresses and protocol, what ties a datagram's fragments together. */
  ipId = 0;
  l4Off = 0;
  /** L4 bytes within the IP packet (ipTotalLen - ipHdrLen). */
  l4Len = 0;
  sport = 0;
  dport = 0;
  tcpFlags = 0;
  icmpType = 0;
  // For an ICMP error: the embedded (offending) packet, as far as it is quoted.
  innerOff = 0;
  innerProto = 0;
  innerSrc = 0;
  innerDst = 0;
  innerL4Off = 0;
  /** Bytes of the embedded L4 header present in this packet (8 guaranteed by RFC 792, often more). */
  innerL4Len = 0;
  innerSport = 0;
  innerDport = 0;
}

// Parse results: >= 0 parsed (what kind), < 0 malformed (why). Numeric so nothing is allocated.
export const PARSE_IPV4 = 0; // IPv4 with its L4 header in reach (TCP/UDP/ICMP) or another protocol
export const PARSE_IPV4_LATER_FRAGMENT = 1; // a non-first fragment: no L4 header in this packet
export const PARSE_ARP = 2;
export const PARSE_NOT_IPV4 = 3; // IPv6 and every other ethertype: not ours, the kernel keeps it

export const ERR_TRUNC_ETH = -1;
export const ERR_TRUNC_IP = -2;
export const ERR_BAD_VERSION = -3;
export const ERR_BAD_IHL = -4;
export const ERR_BAD_TOTLEN = -5;
export const ERR_TRUNC_L4 = -6;
export const ERR_BAD_TCP_DOFF = -7;
export const ERR_TRUNC_ARP = -8;
/** The IPv4 header checksum is wrong: the kernel's ip_rcv drops these before any hook (InCsumErrors). */
export const ERR_BAD_IP_CSUM = -9;
/** An IP option runs past the header or has a length below 2 (ip_options_compile refuses it). */
export const ERR_BAD_IP_OPTIONS = -10;
/** Loose or strict source route: dropped as the kernel does with accept_source_route=0 (its default for all). */
export const ERR_SOURCE_ROUTE = -11;
/** A fragment reaching past 65535 bytes, or a TCP fragment at offset 8 that could rewrite the flags (RFC 1858). */
export const ERR_BAD_FRAGMENT = -12;
/** UDP length below 8 or beyond the IP payload (udp_rcv's short-packet check; unfragmented datagrams only). */
export const ERR_BAD_UDP_LEN = -13;
/**
 * TCP/UDP checksum wrong on arrival (the pipeline checks before a NAT rewrite, as IPVS's tcp/udp_dnat_handler do),
 * or an ICMP error's checksum wrong (ip_vs_in_icmp). Not set by the parser.
 */
export const ERR_BAD_L4_CSUM = -14;

/** For an ICMP error in `f`: parse the quoted TCP/UDP packet's addresses and ports. False when absent or cut short. */
export function parseIcmpInner(b: Uint8Array, f: Flow): boolean {
  const ip = f.l4Off + ICMP_HLEN;
  const end = f.l3Off + f.ipTotalLen;
  if (ip + IPV4_MIN_HLEN > end || ipVersion(b, ip) !== 4) return false;
  const hl = ipHeaderLen(b, ip);
  if (hl < IPV4_MIN_HLEN || ipIsLaterFragment(ipFragWord(b, ip))) return false;
  const l4 = ip + hl;
  const proto = ipProto(b, ip);
  if ((proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || l4 + 8 > end) return false;
  f.innerOff = ip;
  f.innerProto = proto;
  f.innerSrc = ipSrc(b, ip);
  f.innerDst = ipDst(b, ip);
  f.innerL4Off = l4;
  f.innerL4Len = end - l4;
  f.innerSport = (b[l4] << 8) | b[l4 + 1];
  f.innerDport = (b[l4 + 2] << 8) | b[l4 + 3];
  return true;
}

export const PARSE_ERROR_NAMES: Readonly<Record<number, string>> = {
  [ERR_TRUNC_ETH]: 'truncated-ethernet',
  [ERR_TRUNC_IP]: 'truncated-ip',
  [ERR_BAD_VERSION]: 'bad-ip-version',
  [ERR_BAD_IHL]: 'bad-ihl',
  [ERR_BAD_TOTLEN]: 'bad-total-length',
  [ERR_TRUNC_L4]: 'truncated-l4',
  [ERR_BAD_TCP_DOFF]: 'bad-tcp-data-offset',
  [ERR_TRUNC_ARP]: 'truncated-arp',
  [ERR_BAD_IP_CSUM]: 'bad-ip-checksum',
  [ERR_BAD_IP_OPTIONS]: 'bad-ip-options',
  [ERR_SOURCE_ROUTE]: 'source-route',
  [ERR_BAD_FRAGMENT]: 'bad-fragment',
  [ERR_BAD_UDP_LEN]: 'bad-udp-length',
  [ERR_BAD_L4_CSUM]: 'bad-l4-checksum',
};

/**
 * Classify the frame in `b[0..len)` into `f`. Every read is preceded by a bounds check (Katran's rule);
 * it never throws and never allocates.
 */
export function parseFrame(b: Uint8Array, len: number, f: Flow): number {
  f.frameLen = len;
  f.vlan = -1;
  if (len < ETH_HLEN) return ERR_TRUNC_ETH;
  let off = ETH_HLEN;
  let type = ethType(b, 0);
  // Up to two tags (802.1ad outer + 802.1Q inner).
  for (let tags = 0; tags < 2 && isVlanType(type); tags++) {
    if (len < off + VLAN_HLEN) return ERR_TRUNC_ETH;
    if (f.vlan < 0) f.vlan = vlanId(b, off);
    type = (b[off + 2] << 8) | b[off + 3];
    off += VLAN_HLEN;
  }
  f.l3Off = off;
  if (type === ETHERTYPE_ARP) return len < off + ARP_LEN ? ERR_TRUNC_ARP : PARSE_ARP;
  if (type !== ETHERTYPE_IPV4) return PARSE_NOT_IPV4;
  return parseIpv4(b, off, len, f);
}

/** Parse the IPv4 packet at `off` (frame ends at `len`) into `f`. */
export function parseIpv4(b: Uint8Array, off: number, len: number, f: Flow): number {
  if (len < off + IPV4_MIN_HLEN) return ERR_TRUNC_IP;
  if (ipVersion(b, off) !== 4) return ERR_BAD_VERSION;
  const hl = ipHeaderLen(b, off);
  if (hl < IPV4_MIN_HLEN) return ERR_BAD_IHL;
  const tot = ipTotalLen(b, off);
  if (tot < hl) return ERR_BAD_TOTLEN;
  if (off + tot > len) return ERR_BAD_TOTLEN; // shorter than the header says (Ethernet padding may make it longer)
  if (!ipv4HeaderValid(b, off)) return ERR_BAD_IP_CSUM;
  if (hl > IPV4_MIN_HLEN) {
    const o = ipOptionsCheck(b, off, hl);
    if (o !== 0) return o;
  }
  f.l3Off = off;
  f.ipHdrLen = hl;
  f.ipTotalLen = tot;
  f.proto = ipProto(b, off);
  f.saddr = ipSrc(b, off);
  f.daddr = ipDst(b, off);
  f.fragWord = ipFragWord(b, off);
  f.ipId = ipId(b, off);
  f.l4Off = off + hl;
  f.l4Len = tot - hl;
  f.sport = 0;
  f.dport = 0;
  f.tcpFlags = 0;
  f.icmpType = 0;
  if (ipIsLaterFragment(f.fragWord)) {
    const at = (f.fragWord & IP_OFFMASK) << 3;
    if (at + f.l4Len > 65535 || (at === 8 && f.proto === IPPROTO_TCP)) return ERR_BAD_FRAGMENT;
    return PARSE_IPV4_LATER_FRAGMENT;
  }
  const l4 = f.l4Off;
  switch (f.proto) {
    case IPPROTO_TCP: {
      if (f.l4Len < TCP_MIN_HLEN) return ERR_TRUNC_L4;
      const doff = tcpHeaderLen(b, l4);
      if (doff < TCP_MIN_HLEN || doff > f.l4Len) return ERR_BAD_TCP_DOFF;
      f.sport = tcpSport(b, l4);
      f.dport = tcpDport(b, l4);
      f.tcpFlags = tcpFlags(b, l4);
      return PARSE_IPV4;
    }
    case IPPROTO_UDP: {
      if (f.l4Len < UDP_HLEN) return ERR_TRUNC_L4;
      // A first fragment's UDP length covers the whole datagram; only a whole one can be held to its IP length.
      const ulen = udpLength(b, l4);
      if ((f.fragWord & IP_MF) === 0 && (ulen < UDP_HLEN || ulen > f.l4Len)) return ERR_BAD_UDP_LEN;
      f.sport = udpSport(b, l4);
      f.dport = udpDport(b, l4);
      return PARSE_IPV4;
    }
    case IPPROTO_ICMP:
      if (f.l4Len < ICMP_HLEN) return ERR_TRUNC_L4;
      f.icmpType = icmpType(b, l4);
      return PARSE_IPV4;
    default:
      return PARSE_IPV4;
  }
}

const IPOPT_EOL = 0;
const IPOPT_NOP = 1;
const IPOPT_LSRR = 0x83;
const IPOPT_SSRR = 0x89;

/** Walk the options of the header at `off` (`hl` bytes, > 20): 0 when well formed, else why not. */
function ipOptionsCheck(b: Uint8Array, off: number, hl: number): number {
  const end = off + hl;
  for (let i = off + IPV4_MIN_HLEN; i < end;) {
    const type = b[i];
    if (type === IPOPT_EOL) return 0;
    if (type === IPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return ERR_BAD_IP_OPTIONS;
    const olen = b[i + 1];
    if (olen < 2 || i + olen > end) return ERR_BAD_IP_OPTIONS;
    if (type === IPOPT_LSRR || type === IPOPT_SSRR) return ERR_SOURCE_ROUTE;
    i += olen;
  }
  return 0;
}
