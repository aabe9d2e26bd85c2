// Text forms for logs, the CLI and tests. Never called on the per-packet path.
import { ETH_ALEN } from './ethernet';

export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Parse dotted-quad IPv4 to uint32; returns -1 when it is not one (leading zeros refused, as inet_pton does). */
export function parseIpv4(s: string): number {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s);
  if (!m) return -1;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return -1;
    v = v * 256 + o;
  }
  return v;
}

export function macToString(b: Uint8Array, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < ETH_ALEN; i++) parts.push(b[off + i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Parse "aa:bb:cc:dd:ee:ff" into `out` at `off`; returns false when malformed. */
export function parseMac(s: string, out: Uint8Array, off: number): boolean {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(s.trim());
  if (!m) return false;
  for (let i = 0; i < ETH_ALEN; i++) out[off + i] = parseInt(m[i + 1], 16);
  return true;
}

export const endpoint = (addr: number, port: number): string => `${ipv4ToString(addr)}:${port}`;
