// Frames for the pipeline fuzz: whole, valid frames built from a spec (TCP, UDP, fragments, VLAN tags, IP options,
// replies, ICMP errors, ARP, IPv6), then spoiled on purpose (checksums, offload-style partial checksums, fragments
// out of order or missing), plus seeded noise. Built with plain byte writes: the fuzz makes a million of them.
import fc from 'fast-check';
import { finish, fold, pseudoSum, setIpv4HeaderChecksum, setL4Checksum, sum16 } from '../../../src/packet/checksum';
import { parseIpv4 } from '../../../src/packet/format';
import { writeU16, writeU32 } from '../../../src/packet/ipv4';

export const VIP = parseIpv4('10.0.0.100');
export const CLIENT_MAC = [2, 0, 0, 0, 0, 2];
export const DIRECTOR_MAC = [2, 0, 0, 0, 0, 0x0a];
const TCP = 6;
const UDP = 17;

/** A flow's addresses as it travels one way. */
export interface Tuple { proto: number; src: number; sport: number; dst: number; dport: number }

/** What the generator may aim at: the rig's addresses and what the pipeline recently let through. */
export interface Aim {
  reals: readonly number[];
  /** What the pipeline emitted towards a RS (as the RS received it): replies and RS-side ICMP errors reverse these. */
  toRs: Tuple[];
  /** Client requests the pipeline forwarded (as the client sent them): client-side ICMP errors quote their replies. */
  fromClient: Tuple[];
}

export type Opts = 'none' | 'nop' | 'ra' | 'rr' | 'lsrr' | 'bad';
export type Spoil = 'none' | 'ip' | 'l4' | 'offload' | 'udp-zero';
export type FragOrder = 'none' | 'inorder' | 'reverse' | 'no-first' | 'dup-first';

export interface Spec {
  kind: 'tcp' | 'udp' | 'new-syn' | 'reply' | 'icmp-rs' | 'icmp-client' | 'arp' | 'ipv6' | 'gre';
  flow: number;
  flags: number;
  payload: number;
  vlan: 0 | 1 | 2;
  opts: Opts;
  spoil: Spoil;
  df: boolean;
  frag: FragOrder;
  fragSize: number;
  pick: number;
  seed: number;
}

const TCP_FLAGS = [0x02, 0x10, 0x18, 0x11, 0x04, 0x12, 0x14, 0x03, 0x00, 0x3f];

export const specArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom<Spec['kind']>('tcp', 'tcp', 'tcp', 'udp', 'udp', 'new-syn', 'reply', 'reply', 'icmp-rs', 'icmp-client', 'arp', 'ipv6', 'gre'),
  flow: fc.nat(63),
  flags: fc.constantFrom(...TCP_FLAGS),
  payload: fc.oneof(fc.constant(0), fc.nat(64), fc.nat(1460)),
  vlan: fc.constantFrom<0 | 1 | 2>(0, 0, 0, 0, 0, 0, 1, 2),
  opts: fc.constantFrom<Opts>('none', 'none', 'none', 'none', 'none', 'none', 'nop', 'ra', 'rr', 'lsrr', 'bad'),
  spoil: fc.constantFrom<Spoil>('none', 'none', 'none', 'none', 'none', 'none', 'ip', 'l4', 'offload', 'udp-zero'),
  df: fc.boolean(),
  frag: fc.constantFrom<FragOrder>('none', 'none', 'none', 'none', 'inorder', 'inorder', 'reverse', 'no-first', 'dup-first'),
  fragSize: fc.integer({ min: 1, max: 64 }).map((n) => n * 8),
  pick: fc.nat(1 << 16),
  seed: fc.nat(),
});

const OPTION_BYTES: Record<Opts, number[]> = {
  none: [],
  nop: [1, 1, 1, 1],
  ra: [0x94, 4, 0, 0],
  rr: [7, 7, 4, 0, 0, 0, 0, 0],
  lsrr: [0x83, 7, 4, 10, 0, 0, 1, 0],
  bad: [7, 9, 4, 0],
};

export const clientOf = (flow: number): number => parseIpv4('10.1.0.0') + ((flow >> 4) << 8) + (flow & 15) + 1;
export const portOf = (flow: number): number => 20000 + flow * 7;

/** An IPv4 packet (header with options, then `l4`) with a right header checksum. */
function ipPacket(proto: number, src: number, dst: number, id: number, df: boolean, opts: Opts, l4: Uint8Array): Uint8Array {
  const o = OPTION_BYTES[opts];
  const hl = 20 + o.length;
  const p = new Uint8Array(hl + l4.length);
  p[0] = 0x40 | (hl >> 2);
  writeU16(p, 2, p.length);
  writeU16(p, 4, id);
  writeU16(p, 6, df ? 0x4000 : 0);
  p[8] = 64;
  p[9] = proto;
  writeU32(p, 12, src);
  writeU32(p, 16, dst);
  p.set(o, 20);
  p.set(l4, hl);
  setIpv4HeaderChecksum(p, 0);
  return p;
}

/** A TCP or UDP segment whose checksum is right for src -> dst. */
function l4Segment(proto: number, src: number, sport: number, dst: number, dport: number, flags: number, payload: Uint8Array, seq: number): Uint8Array {
  const hl = proto === TCP ? 20 : 8;
  const ip = new Uint8Array(20 + hl + payload.length);
  ip[0] = 0x45;
  writeU16(ip, 2, ip.length);
  ip[9] = proto;
  writeU32(ip, 12, src);
  writeU32(ip, 16, dst);
  writeU16(ip, 20, sport);
  writeU16(ip, 22, dport);
  if (proto === TCP) {
    writeU32(ip, 24, seq);
    writeU32(ip, 28, seq ^ 0x5a5a);
    ip[32] = 5 << 4;
    ip[33] = flags;
    writeU16(ip, 34, 65535);
  } else {
    writeU16(ip, 24, 8 + payload.length);
  }
  ip.set(payload, 20 + hl);
  setL4Checksum(ip, 0, 20, proto);
  return ip.subarray(20);
}

function ether(vlan: 0 | 1 | 2, type: number, body: Uint8Array, tag: number): Uint8Array {
  const l2 = 14 + vlan * 4;
  const f = new Uint8Array(l2 + body.length);
  f.set(DIRECTOR_MAC, 0);
  f.set(CLIENT_MAC, 6);
  let o = 12;
  for (let i = 0; i < vlan; i++) {
    writeU16(f, o, i === 0 && vlan === 2 ? 0x88a8 : 0x8100);
    writeU16(f, o + 2, (tag + i) & 0x0fff);
    o += 4;
  }
  writeU16(f, o, type);
  f.set(body, l2);
  return f;
}

/** Split an IP packet into fragments of `size` payload bytes (a multiple of 8), header copied, lengths fixed. */
export function fragment(p: Uint8Array, size: number): Uint8Array[] {
  const hl = (p[0] & 15) * 4;
  const data = p.length - hl;
  const out: Uint8Array[] = [];
  for (let at = 0; at < data; at += size) {
    const n = Math.min(size, data - at);
    const f = new Uint8Array(hl + n);
    f.set(p.subarray(0, hl), 0);
    f.set(p.subarray(hl + at, hl + at + n), hl);
    writeU16(f, 2, hl + n);
    writeU16(f, 6, (at + n < data ? 0x2000 : 0) | (at >> 3));
    setIpv4HeaderChecksum(f, 0);
    out.push(f);
  }
  return out;
}

/** Cheap deterministic bytes for payloads. */
function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let s = seed | 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    b[i] = s;
  }
  return b;
}

/** An ICMP destination-unreachable (port) from src to dst quoting `quoted` (an IP packet), as a full IP packet. */
function icmpError(src: number, dst: number, quoted: Uint8Array, df: boolean, opts: Opts, id: number): Uint8Array {
  const q = quoted.subarray(0, Math.min(quoted.length, 28 + (id % 40)));
  const m = new Uint8Array(8 + q.length);
  m[0] = 3;
  m[1] = 3;
  m.set(q, 8);
  writeU16(m, 2, finish(sum16(m, 0, m.length, 0)));
  return ipPacket(1, src, dst, id, df, opts, m);
}

function spoilIp(p: Uint8Array, spoil: Spoil): void {
  const hl = (p[0] & 15) * 4;
  const proto = p[9];
  if (spoil === 'ip') p[10] ^= 0x40;
  if (proto !== TCP && proto !== UDP) return;
  const co = hl + (proto === TCP ? 16 : 6);
  if (co + 2 > p.length) return;
  if (spoil === 'l4') p[co + 1] ^= 0x01;
  if (spoil === 'udp-zero' && proto === UDP) writeU16(p, co, 0);
  if (spoil === 'offload') {
    // What a veth peer with TX offload hands over: only the pseudo-header sum.
    const l4Len = p.length - hl;
    const ps = fold(pseudoSum((p[12] << 24) | (p[13] << 16) | (p[14] << 8) | p[15], (p[16] << 24) | (p[17] << 16) | (p[18] << 8) | p[19], proto, l4Len));
    writeU16(p, co, ps);
  }
}

/** The frames one spec stands for (several for a fragmented datagram), in the order they are sent. */
export function framesOf(s: Spec, aim: Aim): Uint8Array[] {
  const id = s.pick & 0xffff;
  const tag = (s.seed & 0xfff) | 1;
  const payload = bytes(s.payload, s.seed);
  let pkt: Uint8Array;
  switch (s.kind) {
    case 'arp': {
      const a = new Uint8Array(28);
      writeU16(a, 0, 1);
      writeU16(a, 2, 0x0800);
      a[4] = 6;
      a[5] = 4;
      writeU16(a, 6, 1 + (s.seed & 1));
      a.set([2, 0, 0, (s.seed >> 8) & 0xff, (s.seed >> 16) & 0xff, s.flow], 8);
      writeU32(a, 14, s.pick % 3 === 0 ? aim.reals[s.flow % aim.reals.length] : clientOf(s.flow));
      writeU32(a, 24, VIP);
      return [ether(s.vlan, 0x0806, a, tag)];
    }
    case 'ipv6': {
      const v6 = new Uint8Array(40 + 20);
      v6[0] = 0x60;
      writeU16(v6, 4, 20);
      v6[6] = TCP;
      v6[7] = 64;
      return [ether(s.vlan, 0x86dd, v6, tag)];
    }
    case 'gre':
      pkt = ipPacket(47, clientOf(s.flow), VIP, id, s.df, s.opts, payload);
      break;
    case 'reply':
    case 'icmp-rs': {
      if (aim.toRs.length === 0) return [];
      const t = aim.toRs[s.pick % aim.toRs.length];
      if (s.kind === 'reply') {
        const l4 = l4Segment(t.proto, t.dst, t.dport, t.src, t.sport, s.flags | 0x10, payload, s.seed);
        pkt = ipPacket(t.proto, t.dst, t.src, id, s.df, s.opts, l4);
      } else {
        const req = ipPacket(t.proto, t.src, t.dst, id ^ 0x55, true, 'none', l4Segment(t.proto, t.src, t.sport, t.dst, t.dport, 0x18, payload, s.seed));
        pkt = icmpError(t.dst, t.src, req, s.df, s.opts, id);
      }
      break;
    }
    case 'icmp-client': {
      if (aim.fromClient.length === 0) return [];
      const t = aim.fromClient[s.pick % aim.fromClient.length];
      const rep = ipPacket(t.proto, t.dst, t.src, id ^ 0x55, true, 'none', l4Segment(t.proto, t.dst, t.dport, t.src, t.sport, 0x18, payload, s.seed));
      pkt = icmpError(t.src, t.dst, rep, s.df, s.opts, id);
      break;
    }
    default: {
      const proto = s.kind === 'udp' ? UDP : TCP;
      const fresh = s.kind === 'new-syn';
      const src = fresh ? clientOf(64 + (s.pick & 0xfff)) : clientOf(s.flow);
      const sport = fresh ? 1024 + (s.seed % 60000) : portOf(s.flow);
      const dport = s.pick % 17 === 0 ? 81 : 80;
      const l4 = l4Segment(proto, src, sport, VIP, dport, fresh ? 0x02 : s.flags, payload, s.seed);
      pkt = ipPacket(proto, src, VIP, id, s.df, s.opts, l4);
    }
  }
  spoilIp(pkt, s.spoil);
  let ips = [pkt];
  if (s.frag !== 'none' && !s.df && pkt.length - (pkt[0] & 15) * 4 > s.fragSize) {
    ips = fragment(pkt, s.fragSize);
    if (s.frag === 'reverse') ips.reverse();
    else if (s.frag === 'no-first') ips.shift();
    else if (s.frag === 'dup-first') ips.push(ips[0]);
  }
  return ips.map((p) => ether(s.vlan, 0x0800, p, tag));
}

// ---- noise: seeded, fast, shaped so many frames get past the first checks ----------------------------------------

export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function noiseFrame(rnd: () => number, aim: Aim): Uint8Array {
  const len = rnd() % 1601;
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i += 4) {
    const r = rnd();
    b[i] = r;
    if (i + 1 < len) b[i + 1] = r >>> 8;
    if (i + 2 < len) b[i + 2] = r >>> 16;
    if (i + 3 < len) b[i + 3] = r >>> 24;
  }
  const mode = rnd() % 10;
  if (mode < 2 || len < 14) return b; // pure noise
  let l3 = 14;
  if (mode === 3) { // one or two tags in front
    writeU16(b, 12, rnd() & 1 ? 0x8100 : 0x88a8);
    if (len >= 18 && rnd() & 1) {
      writeU16(b, 16, 0x8100);
      l3 = 18;
    }
    if (len >= l3 + 4) writeU16(b, l3 + 2, 0x0800);
    l3 += 4;
  } else if (mode === 4) {
    writeU16(b, 12, 0x0806); // ARP: random body, maybe a RIP as sender
    if (len >= 42) writeU32(b, 28, aim.reals[rnd() % aim.reals.length]);
    return b;
  } else {
    writeU16(b, 12, 0x0800);
  }
  if (mode < 5 || len < l3 + 20) return b;
  // A believable IPv4 header to the VIP (or, as a reply, from a RS), TCP or UDP to/from port 80, lengths sometimes
  // true, sometimes not; the header checksum right unless mode 9 spoils the version.
  const ip = l3;
  b[ip] = mode === 9 ? 0x40 | (rnd() & 0x0f) : rnd() % 4 === 0 ? 0x46 : 0x45;
  const room = len - ip;
  writeU16(b, ip + 2, rnd() % 4 !== 0 ? room : rnd() & 0xffff);
  writeU16(b, ip + 6, rnd() % 3 !== 0 ? 0x4000 : rnd() & 0x3fff);
  b[ip + 9] = rnd() & 1 ? TCP : UDP;
  const reply = rnd() % 4 === 0;
  if (reply) writeU32(b, ip + 12, aim.reals[rnd() % aim.reals.length]);
  else writeU32(b, ip + 16, VIP);
  const hl = (b[ip] & 0x0f) * 4;
  if (hl === 24 && room >= 24) writeU32(b, ip + 20, 0x01010101); // NOPs
  if (room >= hl + 20) {
    writeU16(b, ip + hl + (reply ? 0 : 2), 80);
    if (b[ip + 9] === TCP) {
      b[ip + hl + 12] = (5 + (rnd() % 3)) << 4;
      b[ip + hl + 13] = rnd() & 1 ? 0x02 : rnd() & 0x3f;
    } else if (rnd() & 1) {
      writeU16(b, ip + hl + 4, Math.min(0xffff, Math.max(0, (b[ip + 2] << 8 | b[ip + 3]) - hl)));
    }
  }
  if (hl >= 20 && room >= hl && rnd() % 8 !== 0) setIpv4HeaderChecksum(b, ip);
  return b;
}
