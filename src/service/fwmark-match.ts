// Firewall-mark services (-f N) without iptables: the user gives the match in nftables syntax (a small, plain
// subset), and the daemon both evaluates it on the packet path and owns the nftables rule that marks the
// traffic, so the mark and the service always agree. libpcap cannot see skb->mark, so matching the same
// expression in userspace is what makes a fwmark service work in a userspace director at all.
//
//   match  := clause+
//   clause := 'ip' ('daddr'|'saddr') ADDRS | ('tcp'|'udp') 'dport' PORTS | 'meta' 'l4proto' PROTOS | 'th' 'dport' PORTS
//   ADDRS  := a.b.c.d[/len] | '{' a.b.c.d[/len] (',' ...)* '}'     PORTS := p | p-q | '{' p|p-q (',' ...)* '}'
//   PROTOS := tcp | udp | '{' tcp, udp '}'
import { parseIpv4, ipv4ToString } from '../packet/format';
import { LvsError } from '../control/errors';
import { PROTO_TCP, PROTO_UDP } from './types';

/** Ranges kept as int32 with the sign bit flipped, so unsigned order is signed order and nothing is boxed. */
const BIAS = 0x80000000;

export class FwmarkMatch {
  private constructor(
    readonly text: string,
    readonly protos: readonly number[],
    private readonly dLo: Int32Array,
    private readonly dHi: Int32Array,
    private readonly sLo: Int32Array,
    private readonly sHi: Int32Array,
    private readonly pLo: Uint16Array,
    private readonly pHi: Uint16Array,
  ) {}

  static parse(text: string): FwmarkMatch {
    const toks = text.replace(/([{},])/g, ' $1 ').trim().split(/\s+/).filter(Boolean);
    let i = 0;
    const fail = (why: string): never => {
      throw new LvsError('EINVAL', `fwmark match: ${why} at ${JSON.stringify(toks.slice(i, i + 3).join(' ') || 'the end')}`);
    };
    const set = (item: () => void): void => {
      if (toks[i] !== '{') return item();
      i++;
      for (;;) {
        item();
        if (toks[i] === ',') i++;
        else if (toks[i] === '}') { i++; return; }
        else fail('expected , or }');
      }
    };
    const d: [number, number][] = [];
    const sr: [number, number][] = [];
    const pr: [number, number][] = [];
    let protos: number[] | null = null;
    const addr = (into: [number, number][]) => () => {
      const m = /^([\d.]+)(?:\/(\d+))?$/.exec(toks[i] ?? '');
      const a = m ? parseIpv4(m[1]) : -1;
      const len = m?.[2] === undefined ? 32 : Number(m[2]);
      if (a < 0 || len > 32) fail('expected an IPv4 address or prefix');
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      if ((a & ~mask) >>> 0 !== 0) fail(`${toks[i]} has host bits set`);
      into.push([a, (a | ~mask) >>> 0]);
      i++;
    };
    const port = () => {
      const m = /^(\d+)(?:-(\d+))?$/.exec(toks[i] ?? '');
      const lo = m ? Number(m[1]) : -1;
      const hi = m?.[2] === undefined ? lo : Number(m[2]);
      if (!m || lo < 1 || hi > 65535 || hi < lo) fail('expected a port 1..65535 or a range');
      pr.push([lo, hi]);
      i++;
    };
    const proto = (acc: number[]) => () => {
      const p = toks[i] === 'tcp' ? PROTO_TCP : toks[i] === 'udp' ? PROTO_UDP : fail('expected tcp or udp');
      acc.push(p);
      i++;
    };
    while (i < toks.length) {
      const [a, b] = [toks[i], toks[i + 1]];
      if (a === 'ip' && (b === 'daddr' || b === 'saddr')) { i += 2; set(addr(b === 'daddr' ? d : sr)); }
      else if ((a === 'tcp' || a === 'udp') && b === 'dport') { protos = [...(protos ?? []), a === 'tcp' ? PROTO_TCP : PROTO_UDP]; i += 2; set(port); }
      else if (a === 'meta' && b === 'l4proto') { i += 2; const acc: number[] = []; set(proto(acc)); protos = acc; }
      else if (a === 'th' && b === 'dport') { i += 2; set(port); }
      else fail('expected ip daddr|saddr, tcp|udp dport, meta l4proto or th dport');
    }
    if (d.length === 0) fail('needs an ip daddr clause (the addresses the service owns)');
    const biased = (r: [number, number][], k: 0 | 1) => Int32Array.from(r, (x) => (x[k] ^ BIAS) | 0);
    return new FwmarkMatch(text.trim(), [...new Set(protos ?? [PROTO_TCP, PROTO_UDP])],
      biased(d, 0), biased(d, 1), biased(sr, 0), biased(sr, 1),
      Uint16Array.from(pr, (x) => x[0]), Uint16Array.from(pr, (x) => x[1]));
  }

  /** Packet-path test; addresses in the wire int32 form. Allocation-free. */
  matches(proto: number, saddr: number, daddr: number, dport: number): boolean {
    if (proto !== this.protos[0] && proto !== this.protos[1]) return false;
    if (!inRanges(daddr ^ BIAS, this.dLo, this.dHi)) return false;
    if (this.sLo.length > 0 && !inRanges(saddr ^ BIAS, this.sLo, this.sHi)) return false;
    if (this.pLo.length === 0) return true;
    for (let k = 0; k < this.pLo.length; k++) if (dport >= this.pLo[k] && dport <= this.pHi[k]) return true;
    return false;
  }

  /** The match as an nftables expression (canonical form). */
  toNft(): string {
    const parts = [`ip daddr ${nftSet(this.ranges(this.dLo, this.dHi).map(cidr))}`];
    if (this.sLo.length) parts.push(`ip saddr ${nftSet(this.ranges(this.sLo, this.sHi).map(cidr))}`);
    parts.push(`meta l4proto ${nftSet(this.protos.map((p) => (p === PROTO_UDP ? 'udp' : 'tcp')))}`);
    if (this.pLo.length) parts.push(`th dport ${nftSet(Array.from(this.pLo, (lo, k) => (lo === this.pHi[k] ? `${lo}` : `${lo}-${this.pHi[k]}`)))}`);
    return parts.join(' ');
  }

  /** The match as a BPF expression for the capture filter. */
  toBpf(): string {
    const any = (xs: string[]) => (xs.length === 1 ? xs[0] : `(${xs.join(' or ')})`);
    const terms = [any(this.ranges(this.dLo, this.dHi).map((r) => `dst net ${cidr(r)}`))];
    if (this.sLo.length) terms.push(any(this.ranges(this.sLo, this.sHi).map((r) => `src net ${cidr(r)}`)));
    const protos = this.protos.map((p) => (p === PROTO_UDP ? 'udp' : 'tcp'));
    terms.push(this.pLo.length
      ? any(protos.flatMap((p) => Array.from(this.pLo, (lo, k) => `${p} dst portrange ${lo}-${this.pHi[k]}`)))
      : any(protos));
    return `(${terms.join(' and ')})`;
  }

  private ranges(lo: Int32Array, hi: Int32Array): [number, number][] {
    return Array.from(lo, (l, k) => [(l ^ BIAS) >>> 0, (hi[k] ^ BIAS) >>> 0]);
  }
}

function inRanges(v: number, lo: Int32Array, hi: Int32Array): boolean {
  for (let k = 0; k < lo.length; k++) if (v >= lo[k] && v <= hi[k]) return true;
  return false;
}

function cidr([lo, hi]: [number, number]): string {
  const len = 32 - Math.round(Math.log2(hi - lo + 1));
  return len === 32 ? ipv4ToString(lo) : `${ipv4ToString(lo)}/${len}`;
}

const nftSet = (xs: string[]): string => (xs.length === 1 ? xs[0] : `{ ${xs.join(', ')} }`);
