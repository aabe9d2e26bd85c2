// Which connection a fragmented datagram belongs to. IPVS reassembles before it looks (ip_vs_gather_frags); we
// forward fragments as they come, so the first fragment (it carries the ports) leaves its ports here under
// (src, dst, proto, IP id), and the later ones, which carry no ports, find their connection through them.
// Fixed size (two-way set associative, a newer datagram takes the older slot), preallocated, entries aged out
// after FRAG_FOLLOW_S: a later fragment that finds nothing is dropped and counted by the caller.
import { mix32 } from './hash';

/** How long the first fragment's ports are remembered: reassembly must finish well within the kernel's 30 s. */
export const FRAG_FOLLOW_S = 10;
const SETS = 1024;

export class FragFollow {
  readonly size = SETS * 2;
  private readonly src = new Int32Array(SETS * 2);
  private readonly dst = new Int32Array(SETS * 2);
  /** proto << 16 | IP id. */
  private readonly key = new Int32Array(SETS * 2);
  /** sport << 16 | dport, as the first fragment carried them. */
  private readonly ports = new Int32Array(SETS * 2);
  /** Coarse-clock second after which the slot is free (0 = never used). */
  private readonly until = new Uint32Array(SETS * 2);

  /** Remember a first fragment's ports (an existing entry for the same datagram is refreshed). */
  remember(src: number, dst: number, proto: number, id: number, sport: number, dport: number, now: number): void {
    const k = (proto << 16) | id;
    const a = this.setOf(src, dst, k);
    let s = this.match(a, src, dst, k, now);
    if (s < 0) s = this.until[a] <= this.until[a + 1] ? a : a + 1; // the free or older of the two
    this.src[s] = src;
    this.dst[s] = dst;
    this.key[s] = k;
    this.ports[s] = (sport << 16) | dport;
    this.until[s] = now + FRAG_FOLLOW_S;
  }

  /** The slot holding this datagram's ports, or -1. */
  find(src: number, dst: number, proto: number, id: number, now: number): number {
    const k = (proto << 16) | id;
    return this.match(this.setOf(src, dst, k), src, dst, k, now);
  }

  sport(slot: number): number {
    return this.ports[slot] >>> 16;
  }

  dport(slot: number): number {
    return this.ports[slot] & 0xffff;
  }

  private setOf(src: number, dst: number, k: number): number {
    return (mix32(src ^ Math.imul(dst, 0x01000193) ^ Math.imul(k, 0x9e3779b1)) & (SETS - 1)) << 1;
  }

  private match(a: number, src: number, dst: number, k: number, now: number): number {
    for (let s = a; s < a + 2; s++) {
      if (this.until[s] > now && this.key[s] === k && this.src[s] === src && this.dst[s] === dst) return s;
    }
    return -1;
  }
}
