// Ethernet II header over a Buffer offset. An 802.1Q/802.1ad tag is 4 more bytes before the real type.
export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const VLAN_HLEN = 4;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_IPV6 = 0x86dd;

export const ethDstOff = (off: number): number => off;
export const ethSrcOff = (off: number): number => off + ETH_ALEN;
export const ethType = (b: Uint8Array, off: number): number => (b[off + 12] << 8) | b[off + 13];
export const setEthType = (b: Uint8Array, off: number, type: number): void => {
  b[off + 12] = type >>> 8;
  b[off + 13] = type & 0xff;
};

/** VLAN id (12 bits) of a tag whose TCI starts at `tciOff`. */
export const vlanId = (b: Uint8Array, tciOff: number): number => ((b[tciOff] << 8) | b[tciOff + 1]) & 0x0fff;

export const isVlanType = (type: number): boolean => type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ;

/** Copy a 6-byte MAC between buffers (a MAC is an offset into a preallocated buffer, never an object). */
export function copyMac(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number): void {
  dst[dstOff] = src[srcOff];
  dst[dstOff + 1] = src[srcOff + 1];
  dst[dstOff + 2] = src[srcOff + 2];
  dst[dstOff + 3] = src[srcOff + 3];
  dst[dstOff + 4] = src[srcOff + 4];
  dst[dstOff + 5] = src[srcOff + 5];
}

export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < ETH_ALEN; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

export const isBroadcastMac = (b: Uint8Array, off: number): boolean =>
  (b[off] & b[off + 1] & b[off + 2] & b[off + 3] & b[off + 4] & b[off + 5]) === 0xff;

/** Write an untagged Ethernet header; returns bytes written. */
export function writeEthHeader(
  b: Uint8Array, off: number, dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, type: number,
): number {
  copyMac(b, off, dst, dstOff);
  copyMac(b, off + ETH_ALEN, src, srcOff);
  setEthType(b, off, type);
  return ETH_HLEN;
}
