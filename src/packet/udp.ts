// UDP header accessors over a Buffer offset.
import { readU16, writeU16 } from './ipv4';

export const UDP_HLEN = 8;
export const UDP_CSUM_OFF = 6;

export const udpSport = (b: Uint8Array, off: number): number => readU16(b, off);
export const udpDport = (b: Uint8Array, off: number): number => readU16(b, off + 2);
export const udpLength = (b: Uint8Array, off: number): number => readU16(b, off + 4);
export const udpChecksum = (b: Uint8Array, off: number): number => readU16(b, off + UDP_CSUM_OFF);

export const setUdpSport = (b: Uint8Array, off: number, v: number): void => writeU16(b, off, v);
export const setUdpDport = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 2, v);
export const setUdpLength = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 4, v);
export const setUdpChecksum = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + UDP_CSUM_OFF, v);
