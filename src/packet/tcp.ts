// TCP header accessors over a Buffer offset.
import { readU16, readU32, writeU16 } from './ipv4';

export const TCP_MIN_HLEN = 20;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export const tcpSport = (b: Uint8Array, off: number): number => readU16(b, off);
export const tcpDport = (b: Uint8Array, off: number): number => readU16(b, off + 2);
export const tcpSeq = (b: Uint8Array, off: number): number => readU32(b, off + 4);
export const tcpAck = (b: Uint8Array, off: number): number => readU32(b, off + 8);
/** Data offset in bytes (header length including options). */
export const tcpHeaderLen = (b: Uint8Array, off: number): number => (b[off + 12] >>> 4) << 2;
export const tcpFlags = (b: Uint8Array, off: number): number => b[off + 13] & 0x3f;
export const tcpWindow = (b: Uint8Array, off: number): number => readU16(b, off + 14);
export const TCP_CSUM_OFF = 16;
export const tcpChecksum = (b: Uint8Array, off: number): number => readU16(b, off + TCP_CSUM_OFF);

export const setTcpSport = (b: Uint8Array, off: number, v: number): void => writeU16(b, off, v);
export const setTcpDport = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + 2, v);
export const setTcpChecksum = (b: Uint8Array, off: number, v: number): void => writeU16(b, off + TCP_CSUM_OFF, v);
