// The pipeline as src/daemon.ts assembles it, on the in-memory I/O backend, for one forwarding method, and the
// checks every frame of the fuzz must pass: no throw, a real verdict, the table within its capacity, a frame emitted
// exactly when one was forwarded, and what was emitted right for the method (DR: only the MACs changed; TUN: the
// packet untouched inside a valid outer header; NAT kinds: valid checksums, only addresses/ports changed).
import { Clock } from '../../../src/clock';
import type { DefenseConfig } from '../../../src/conn/defense';
import { ConnTable } from '../../../src/conn/table';
import { defaultTimeouts } from '../../../src/conn/timeouts';
import { forwarderId } from '../../../src/forward';
import { MemoryIo } from '../../../src/io/memory-io';
import { NeighbourTable } from '../../../src/io/neighbour';
import { icmpChecksumValid, ipv4HeaderValid, l4ChecksumPartial, l4ChecksumValid } from '../../../src/packet/checksum';
import { ETH_ALEN } from '../../../src/packet/ethernet';
import { Flow, PARSE_IPV4, PARSE_IPV4_LATER_FRAGMENT, parseFrame } from '../../../src/packet/flow';
import { parseIpv4, parseMac } from '../../../src/packet/format';
import { IP_MF, ipDst, ipSrc, readU16 } from '../../../src/packet/ipv4';
import { Pipeline } from '../../../src/pipeline';
import { ServiceTable } from '../../../src/service/table';
import { PROTO_TCP, PROTO_UDP, type RealServer } from '../../../src/service/types';
import { V_DROP_TOO_BIG, V_FORWARDED, V_ICMP_FORWARDED, VERDICT_COUNT, VERDICT_NAMES } from '../../../src/verdict';
import { VIP, type Aim, type Tuple } from './fuzz-frames';

export type Method = 'dr' | 'tun' | 'nat' | 'fullnat';

/** Records the verdict of each frame the MemoryIo delivers, so the test sees what onFrame counted. */
export class VerdictProbe extends Pipeline {
  last = -1;

  override process(b: Buffer, len: number): number {
    this.last = -1;
    const v = super.process(b, len);
    this.last = v;
    return v;
  }
}

export interface Rig {
  method: Method;
  io: MemoryIo;
  pipeline: VerdictProbe;
  conns: ConnTable;
  clock: Clock;
  neigh: NeighbourTable;
  reals: RealServer[];
  realAddrs: Set<number>;
  ifMac: Uint8Array;
  aim: Aim;
}

const RS_BASE: Record<Method, string> = { dr: '10.0.0.11', tun: '10.0.2.11', nat: '10.0.1.11', fullnat: '10.0.2.11' };
const RS_MACS = ['02:00:00:00:00:0b', '02:00:00:00:00:0c'];
const LADDRS = ['10.0.0.200', '10.0.0.201'].map(parseIpv4);

/** TCP and UDP services on VIP:80 with two real servers each (NAT maps TCP to port 8080), as the daemon builds them. */
export function assemble(method: Method, connMax: number, defense?: DefenseConfig): Rig {
  const clock = new Clock();
  const services = new ServiceTable(16, 64);
  const neigh = new NeighbourTable(16);
  const ifMac = new Uint8Array(ETH_ALEN);
  parseMac('02:00:00:00:00:0a', ifMac, 0);
  const fwd = forwarderId(method);
  const reals: RealServer[] = [];
  const base = parseIpv4(RS_BASE[method]);
  for (const proto of [PROTO_TCP, PROTO_UDP] as const) {
    const svc = services.addService({ proto, vip: VIP, port: 80, scheduler: 'rr', laddrs: method === 'fullnat' ? LADDRS : [] });
    for (let i = 0; i < 2; i++) {
      const rport = (method === 'nat' || method === 'fullnat') && proto === PROTO_TCP ? 8080 : 80;
      const rs = services.addDest(svc, {
        addr: base + i, port: rport, weight: 1, forward: method, fwdId: fwd, localAddr: parseIpv4('10.0.0.10'), mtu: 1500,
      });
      if (method === 'dr') rs.neighSlot = neigh.slotFor(rs.addr);
      reals.push(rs);
    }
  }
  const mac = new Uint8Array(ETH_ALEN);
  if (method === 'dr') {
    for (let i = 0; i < 2; i++) {
      parseMac(RS_MACS[i], mac, 0);
      neigh.learn(base + i, mac, 0, clock.now);
    }
  }
  let pipeline: VerdictProbe | null = null;
  const conns = new ConnTable(connMax, { onExpire: (c) => pipeline!.onExpire(c) });
  const io = new MemoryIo();
  pipeline = new VerdictProbe({ services, conns, neigh, clock, timeouts: defaultTimeouts(), ios: [io], ifMacs: ifMac, ip: io, defense });
  io.start(pipeline.sinks[0]);
  const realAddrs = new Set([0, 1].map((i) => (base + i) | 0));
  return { method, io, pipeline, conns, clock, neigh, reals, realAddrs, ifMac, aim: { reals: [base, base + 1], toRs: [], fromClient: [] } };
}

const inFlow = new Flow();
const RING = 64;

function remember(ring: Tuple[], t: Tuple): void {
  if (ring.length >= RING) ring.splice(0, ring.length - RING + 1);
  ring.push(t);
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** Push one frame and check what must hold after it. Returns an error text, or null (plain checks: this runs 1M times). */
export function push(rig: Rig, frame: Uint8Array): string | null {
  const { io, pipeline, conns } = rig;
  const sent0 = io.sent.length;
  const ip0 = io.sentIp.length;
  try {
    io.receive(frame);
  } catch (err) {
    return `threw ${(err as Error).stack ?? String(err)}`;
  }
  const v = pipeline.last;
  if (!Number.isInteger(v) || v < 0 || v >= VERDICT_COUNT) return `verdict ${v} is not a verdict index`;
  if (conns.count < 0 || conns.count > conns.capacity) return `conn count ${conns.count} outside 0..${conns.capacity}`;
  const l2 = io.sent.length - sent0;
  const l3 = io.sentIp.length - ip0;
  let why: string | null = null;
  if (v === V_FORWARDED || v === V_ICMP_FORWARDED) {
    const r = parseFrame(frame, frame.length, inFlow);
    if (r !== PARSE_IPV4 && r !== PARSE_IPV4_LATER_FRAGMENT) return `forwarded a frame that parses as ${r}`;
    const input = frame.subarray(inFlow.l3Off, inFlow.l3Off + inFlow.ipTotalLen);
    if (rig.method === 'dr') {
      why = l2 === 1 && l3 === 0 ? checkDr(rig, frame, io.sent[sent0]) : `DR forwarded with ${l2} frames and ${l3} packets sent`;
      if (why === null && v === V_FORWARDED && r === PARSE_IPV4) learn(rig, input, input);
    } else if (l2 !== 0 || l3 !== 1) {
      why = `${rig.method} forwarded with ${l2} frames and ${l3} packets sent`;
    } else {
      const out = io.sentIp[ip0].packet;
      why = rig.method === 'tun' ? checkTun(rig, input, out) : checkNat(rig, input, out, v === V_ICMP_FORWARDED);
      if (why === null && v === V_FORWARDED && r === PARSE_IPV4) learn(rig, input, out);
    }
  } else if (v === V_DROP_TOO_BIG) {
    if (l2 !== 0 || l3 > 1) why = `too-big with ${l2} frames and ${l3} packets sent`;
  } else if (l2 !== 0 || l3 !== 0) {
    why = `verdict ${VERDICT_NAMES[v]} but ${l2 + l3} were sent`;
  }
  if (io.sent.length > 256) io.sent.length = 0;
  if (io.sentIp.length > 256) io.sentIp.length = 0;
  return why;
}

/** DR: only the MACs change; destination = a RS MAC as the neighbour table holds it, source = ours. */
function checkDr(rig: Rig, frame: Uint8Array, out: Buffer): string | null {
  if (out.length !== frame.length) return `sent ${out.length} bytes of a ${frame.length}-byte frame`;
  if (!equal(out.subarray(12), frame.subarray(12))) return 'DR changed bytes beyond the MAC addresses';
  const toRs = rig.reals.some((rs) => equal(out.subarray(0, 6), rig.neigh.macs.subarray(rs.neighSlot * 6, rs.neighSlot * 6 + 6)));
  if (!toRs) return 'forwarded to a MAC that is no real server\'s';
  if (!equal(out.subarray(6, 12), rig.ifMac)) return 'source MAC is not the director\'s';
  return null;
}

/** TUN: a valid outer header (protocol 4, to a RS) around the packet exactly as it came. */
function checkTun(rig: Rig, input: Uint8Array, out: Buffer): string | null {
  if (out[9] !== 4 || !ipv4HeaderValid(out, 0)) return 'TUN outer header is not a valid IPIP header';
  if (!rig.realAddrs.has(ipDst(out, 0))) return 'TUN sent to an address that is no real server\'s';
  if (!equal(out.subarray(20), input)) return 'TUN changed the inner packet';
  return null;
}

/**
 * NAT and FullNAT: same length and protocol, a valid header, to a RS (request) or from the VIP (reply); a whole
 * segment whose checksum was right (or left to offload) leaves with a right one; a later fragment's payload is
 * untouched; a forwarded ICMP error's checksum and quoted header are right.
 */
function checkNat(rig: Rig, input: Uint8Array, out: Buffer, icmp: boolean): string | null {
  if (out.length !== input.length) return `${rig.method} sent ${out.length} bytes of a ${input.length}-byte packet`;
  if (!ipv4HeaderValid(out, 0)) return `${rig.method}: IP header checksum wrong`;
  const hl = (input[0] & 15) * 4;
  if (out[9] !== input[9] || !equal(out.subarray(20, hl), input.subarray(20, hl))) return `${rig.method} changed protocol or options`;
  const toRs = rig.realAddrs.has(ipDst(out, 0));
  const fromVip = ipSrc(out, 0) === (VIP | 0);
  if (!toRs && !fromVip) return `${rig.method} sent a packet neither to a RS nor from the VIP`;
  const frag = readU16(input, 6);
  if (icmp) {
    if (!icmpChecksumValid(out, hl, out.length - hl)) return `${rig.method}: forwarded ICMP checksum wrong`;
    if (!ipv4HeaderValid(out, hl + 8)) return `${rig.method}: quoted IP header checksum wrong`;
    return null;
  }
  if ((frag & 0x1fff) !== 0) return equal(out.subarray(hl), input.subarray(hl)) ? null : `${rig.method} changed a later fragment's payload`;
  if ((frag & IP_MF) !== 0) return null; // a first fragment: its checksum covers bytes not here
  const proto = input[9];
  const csumOff = hl + (proto === 6 ? 16 : 6);
  if (proto === 17 && readU16(input, csumOff) === 0) return readU16(out, csumOff) === 0 ? null : 'a UDP checksum of 0 was filled in';
  const inputOk = l4ChecksumValid(input, 0, hl, proto) || l4ChecksumPartial(input, 0, hl, proto);
  if (!inputOk) return `${rig.method} forwarded a segment whose checksum was wrong`;
  return l4ChecksumValid(out, 0, hl, proto) ? null : `${rig.method}: L4 checksum wrong after the rewrite`;
}

/** What the RS received (DR: the client's packet itself), and the client request behind it: what replies and ICMP
 * errors are made from. */
function learn(rig: Rig, input: Uint8Array, out: Uint8Array): void {
  const proto = input[9];
  if ((proto !== 6 && proto !== 17) || (rig.method !== 'dr' && !rig.realAddrs.has(ipDst(out, 0)))) return;
  const inHl = (input[0] & 15) * 4;
  const outHl = rig.method === 'tun' ? 20 + inHl : inHl;
  const o = rig.method === 'tun' ? 20 : 0;
  remember(rig.aim.fromClient, { proto, src: ipSrc(input, 0), sport: readU16(input, inHl), dst: ipDst(input, 0), dport: readU16(input, inHl + 2) });
  remember(rig.aim.toRs, {
    proto, src: ipSrc(out, o), sport: readU16(out, outHl), dst: ipDst(out, o), dport: readU16(out, outHl + 2),
  });
}

/** Connection bookkeeping: every live connection is bound to exactly one RS counter. */
export function settle(rig: Rig): string | null {
  let bound = 0;
  for (const rs of rig.reals) {
    if (rs.activeConns < 0 || rs.inactConns < 0) return `RS ${rs.id} counters went negative (${rs.activeConns}/${rs.inactConns})`;
    bound += rs.activeConns + rs.inactConns;
  }
  return bound === rig.conns.count ? null : `RS counters hold ${bound} connections, the table ${rig.conns.count}`;
}

/** A tick of the coarse clock, as the daemon's timer does it: expiries run through Pipeline.onExpire. */
export function tick(rig: Rig, seconds: number): void {
  rig.clock.now += seconds;
  rig.conns.advance(rig.clock.now);
}

/** Faults rotate so the drop paths past parsing run too: sends failing, every RS at weight 0, RS MACs unresolved. */
export function setFault(rig: Rig, phase: number): void {
  rig.io.failSends = phase === 2;
  for (const rs of rig.reals) rs.weight = phase === 3 ? 0 : 1;
  for (const rs of rig.reals) if (rs.neighSlot >= 0) rig.neigh.resolved[rs.neighSlot] = phase === 4 ? 0 : 1;
}

export const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, x) => s + x, 0);
export const named = (v: Float64Array): Record<string, number> =>
  Object.fromEntries(VERDICT_NAMES.map((n, i) => [n, v[i]]).filter(([, x]) => x !== 0));

export const fail = (what: string, frame: Uint8Array, why: string): never => {
  throw new Error(`${what}: ${why}\nframe (${frame.length} bytes): ${Buffer.from(frame).toString('hex')}`);
};
