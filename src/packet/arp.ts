// ARP for IPv4 over Ethernet (RFC 826): the fixed 28-byte layout.
import { copyMac, ETH_ALEN, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, writeEthHeader } from './ethernet';
import { readU16, readU32, writeU16, writeU32 } from './ipv4';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
const HTYPE_ETHER = 1;

export const arpHtype = (b: Uint8Array, off: number): number => readU16(b, off);
export const arpPtype = (b: Uint8Array, off: number): number => readU16(b, off + 2);
export const arpHlen = (b: Uint8Array, off: number): number => b[off + 4];
export const arpPlen = (b: Uint8Array, off: number): number => b[off + 5];
export const arpOp = (b: Uint8Array, off: number): number => readU16(b, off + 6);
export const arpShaOff = (off: number): number => off + 8;
export const arpSpa = (b: Uint8Array, off: number): number => readU32(b, off + 14);
export const arpThaOff = (off: number): number => off + 18;
export const arpTpa = (b: Uint8Array, off: number): number => readU32(b, off + 24);

/** True when the 28 bytes at `off` are Ethernet/IPv4 ARP. */
export const isEtherIpv4Arp = (b: Uint8Array, off: number): boolean =>
  arpHtype(b, off) === HTYPE_ETHER && arpPtype(b, off) === ETHERTYPE_IPV4 && arpHlen(b, off) === ETH_ALEN && arpPlen(b, off) === 4;

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = new Uint8Array(ETH_ALEN);

/** Write a broadcast "who-has tpa tell spa" frame at `off`; returns bytes written (42). */
export function writeArpRequest(b: Uint8Array, off: number, srcMac: Uint8Array, srcMacOff: number, spa: number, tpa: number): number {
  writeEthHeader(b, off, BROADCAST, 0, srcMac, srcMacOff, ETHERTYPE_ARP);
  const a = off + ETH_HLEN;
  writeU16(b, a, HTYPE_ETHER);
  writeU16(b, a + 2, ETHERTYPE_IPV4);
  b[a + 4] = ETH_ALEN;
  b[a + 5] = 4;
  writeU16(b, a + 6, ARP_REQUEST);
  copyMac(b, arpShaOff(a), srcMac, srcMacOff);
  writeU32(b, a + 14, spa);
  copyMac(b, arpThaOff(a), ZERO_MAC, 0);
  writeU32(b, a + 24, tpa);
  return ETH_HLEN + ARP_LEN;
}
