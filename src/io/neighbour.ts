// Neighbour (RS MAC) table for L2 forwarding. Sources: the kernel's neighbour table (/proc/net/arp) and
// ARP frames the director captures (every ARP carries its sender's pair). MACs live in one buffer, by slot.
import { arpShaOff, arpSpa, isEtherIpv4Arp } from '../packet/arp';
import { copyMac, ETH_ALEN } from '../packet/ethernet';
import { parseIpv4, parseMac } from '../packet/format';

export class NeighbourTable {
  readonly macs: Uint8Array;
  readonly resolved: Uint8Array;
  readonly ips: Uint32Array;
  /** Coarse-clock second each slot was last confirmed. */
  readonly seenAt: Uint32Array;
  private used = 0;

  constructor(readonly capacity: number) {
    this.macs = new Uint8Array(capacity * ETH_ALEN);
    this.resolved = new Uint8Array(capacity);
    this.ips = new Uint32Array(capacity);
    this.seenAt = new Uint32Array(capacity);
  }

  /** The slot tracking `ip`, allocated on first use (control path). */
  slotFor(ip: number): number {
    const s = this.find(ip);
    if (s >= 0) return s;
    if (this.used >= this.capacity) throw new RangeError(`neighbour table full (${this.capacity})`);
    this.ips[this.used] = ip;
    return this.used++;
  }

  find(ip: number): number {
    for (let s = 0; s < this.used; s++) if (this.ips[s] === ip) return s;
    return -1;
  }

  /** Record `ip` at the MAC in `src[off..off+6)`, if tracked. Returns whether it was. */
  learn(ip: number, src: Uint8Array, off: number, now: number): boolean {
    const s = this.find(ip);
    if (s < 0) return false;
    copyMac(this.macs, s * ETH_ALEN, src, off);
    this.resolved[s] = 1;
    this.seenAt[s] = now;
    return true;
  }

  /** Learn from a captured ARP frame's sender fields (requests and replies alike). */
  learnFromArp(b: Uint8Array, arpOff: number, now: number): boolean {
    if (!isEtherIpv4Arp(b, arpOff)) return false;
    return this.learn(arpSpa(b, arpOff), b, arpShaOff(arpOff), now);
  }

  /** Take complete entries from the text of /proc/net/arp. Returns how many tracked slots it filled. */
  learnFromProc(text: string, now: number): number {
    const mac = new Uint8Array(ETH_ALEN);
    let n = 0;
    for (const e of parseProcNetArp(text)) {
      if (parseMac(e.mac, mac, 0) && this.learn(e.ip, mac, 0, now)) n++;
    }
    return n;
  }

  /** Tracked addresses with no MAC yet. */
  unresolved(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.used; s++) if (!this.resolved[s]) out.push(this.ips[s]);
    return out;
  }

  get size(): number {
    return this.used;
  }
}

const ATF_COM = 0x2; // completed entry

/** Rows of /proc/net/arp that hold a usable (complete, non-zero) MAC. */
export function parseProcNetArp(text: string): { ip: number; mac: string; dev: string }[] {
  const out: { ip: number; mac: string; dev: string }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [ipS, , flagsS, mac, , dev] = line.trim().split(/\s+/);
    if (!dev) continue;
    const ip = parseIpv4(ipS);
    if (ip < 0 || (parseInt(flagsS, 16) & ATF_COM) === 0 || mac === '00:00:00:00:00:00') continue;
    out.push({ ip, mac, dev });
  }
  return out;
}
