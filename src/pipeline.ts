// A frame's whole path, top to bottom: classify -> connection lookup (or schedule) -> state -> rewrite -> emit.
// Nothing here allocates: offsets, numbers and preallocated tables only.
import type { Clock } from './clock';
import { Defense, defaultDefense, type DefenseConfig } from './conn/defense';
import { FragFollow } from './conn/frag-follow';
import { ConnTable, DIR_IN, DIR_OUT, TEMPLATE_PROTO } from './conn/table';
import { DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, nextTcpState, S_ESTABLISHED, S_NONE, S_UDP } from './conn/tcp-state';
import { FORWARDERS } from './forward';
import type { ForwardContext, Forwarder } from './forward/forwarder';
import { PROBE_PORT_HI, PROBE_PORT_LO } from './health/vip-path';
import type { IpSender } from './io/ip-sender';
import type { NeighbourTable } from './io/neighbour';
import type { FrameSink, PacketIo } from './io/packet-io';
import { icmpChecksumValid, l4ChecksumAcceptable, setIpv4HeaderChecksum } from './packet/checksum';
import {
  ERR_BAD_L4_CSUM, Flow, PARSE_ARP, PARSE_IPV4, PARSE_IPV4_LATER_FRAGMENT, parseFrame, parseIcmpInner,
} from './packet/flow';
import { isIcmpError } from './packet/icmp';
import { peekTupleHash } from './packet/peek';
import { IP_MF, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, writeU32 } from './packet/ipv4';
import { TCP_RST, TCP_SYN } from './packet/tcp';
import { ServiceTable, ST_CONNS, ST_FIELDS, ST_INBYTES, ST_INPKTS, ST_OUTBYTES, ST_OUTPKTS } from './service/table';
import type { RealServer, VirtualService } from './service/types';
import {
  PARSE_ERROR_SLOTS, V_ARP, V_DROP_DEST_GONE, V_DROP_FRAGMENT, V_DROP_MALFORMED, V_DROP_NO_CONN, V_DROP_NO_DEST,
  V_DROP_SEND, V_DROP_DEFENSE, V_DROP_TABLE_FULL, V_FORWARDED, V_ICMP_FORWARDED, V_NOT_OURS, V_VLAN, VERDICT_COUNT,
} from './verdict';

/** Conn flag bits (ConnTable.flags). */
export const CF_INACTIVE = 0x01; // counted in the RS's inactive connections
export const CF_NO_OUTPUT = 0x02; // replies bypass the director (DR/TUN): the INPUT_ONLY state table applies
export const CF_TEMPLATE = 0x04; // a persistence template, not a connection
const FWD_SHIFT = 4; // the forwarder index sits in the high nibble

/** The forwarding method a connection was bound to (its flags' high nibble). */
export const forwarderOf = (flags: number): Forwarder => FORWARDERS[flags >>> FWD_SHIFT];
const TX_SIZE = 65536 + 128;
/** Frames warmed together before they are handled (DPDK's burst of 32: enough misses in flight to fill the CPU's). */
const WARM_BATCH = 32;

export interface PipelineParts {
  services: ServiceTable;
  conns: ConnTable;
  neigh: NeighbourTable;
  clock: Clock;
  timeouts: Uint32Array;
  /** One PacketIo per capture interface, in the order of `ifMacs`. */
  ios: PacketIo[];
  /** The capture interfaces' MACs, 6 bytes each. */
  ifMacs: Uint8Array;
  ip: IpSender;
  /** Flood defense modes (drop_entry, secure_tcp, amemthresh); automatic by default (conn/defense.ts). */
  defense?: DefenseConfig;
}

export class Pipeline implements FrameSink, ForwardContext {
  readonly flow = new Flow();
  readonly verdicts = new Float64Array(VERDICT_COUNT);
  readonly parseErrors = new Float64Array(PARSE_ERROR_SLOTS);
  readonly services: ServiceTable;
  readonly conns: ConnTable;
  readonly neigh: NeighbourTable;
  readonly clock: Clock;
  readonly timeouts: Uint32Array;
  readonly ifMacs: Uint8Array;
  readonly neighMacs: Uint8Array;
  readonly neighResolved: Uint8Array;
  readonly tx = Buffer.alloc(TX_SIZE);
  readonly defense: Defense;
  /** First fragments' ports, so their later fragments follow the same connection. */
  readonly frags = new FragFollow();
  /** The clock second the defense last ran for (it runs on the first frame of each second). */
  private defenseAt = 0;
  /** Index of the interface the current frame arrived on. */
  rxIf = 0;
  /** VIP-path health probes: answers to their ports go there (health/vip-path.ts). */
  probeSink: { onReply(f: Flow): void } | null = null;
  /** The master sync daemon: told of every new connection and state change (sync/sync-daemon.ts). */
  syncSink: { onConn(c: number): void } | null = null;
  private readonly ios: PacketIo[];
  private readonly ip: IpSender;
  private ipId = 1;
  /** Per interface, a sink that records the arrival interface then runs the pipeline (made once). */
  readonly sinks: FrameSink[];
  /** A batch's tuple hashes, for ConnTable.warm. */
  private readonly warmHashes = new Int32Array(WARM_BATCH);
  /** What the warm loads read, kept so the compiler cannot drop them. */
  warmSink = 0;

  constructor(p: PipelineParts) {
    this.services = p.services;
    this.conns = p.conns;
    this.neigh = p.neigh;
    this.clock = p.clock;
    this.timeouts = p.timeouts;
    this.ios = p.ios;
    this.ifMacs = p.ifMacs;
    this.ip = p.ip;
    this.neighMacs = p.neigh.macs;
    this.neighResolved = p.neigh.resolved;
    this.defense = new Defense(p.conns, p.defense ?? defaultDefense(p.conns.capacity), p.timeouts, (c) => this.release(c));
    this.sinks = p.ios.map((_io, i) => ({
      onFrame: (buf: Buffer, len: number): void => {
        this.rxIf = i;
        this.onFrame(buf, len);
      },
      onFrames: (bufs: readonly Buffer[], lens: Int32Array, n: number): void => {
        this.rxIf = i;
        this.onFrames(bufs, lens, n);
      },
    }));
  }

  get ifMacOff(): number {
    return this.rxIf * 6;
  }

  sendFrame(b: Buffer, len: number): boolean {
    return this.ios[this.rxIf].send(b, len);
  }

  sendIp(b: Buffer, off: number, len: number, dst: number): boolean {
    return this.ip.sendIp(b, off, len, dst);
  }

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  onFrame(buf: Buffer, len: number): void {
    this.verdicts[this.process(buf, len)]++;
  }

  /**
   * A batch of frames that all stay in place until the batch is done (a capture ring): per WARM_BATCH frames, first
   * their connection-table lines are loaded together (ConnTable.warm), then each frame takes its usual path, so a
   * big table's cache misses overlap instead of each frame waiting for its own.
   */
  onFrames(bufs: readonly Buffer[], lens: Int32Array, n: number): void {
    const hashes = this.warmHashes;
    for (let start = 0; start < n; start += WARM_BATCH) {
      const end = Math.min(n, start + WARM_BATCH);
      for (let i = start; i < end; i++) hashes[i - start] = peekTupleHash(bufs[i], lens[i]);
      this.warmSink ^= this.conns.warm(hashes, end - start);
      for (let i = start; i < end; i++) this.verdicts[this.process(bufs[i], lens[i], hashes[i - start])]++;
    }
  }

  /** The defense runs once a second: on the first frame of the second, or from the daemon's tick when it is quiet. */
  tickDefense(): void {
    const now = this.clock.now;
    if (now !== this.defenseAt) {
      this.defenseAt = now;
      this.defense.tick(now);
    }
  }

  /**
   * Handle one frame; returns its verdict (the caller counts it). `hash`: the tuple's tupleHash() when the caller
   * already computed it from the frame (onFrames' warm pass), so it is not computed twice; 0 when unknown.
   */
  process(b: Buffer, len: number, hash = 0): number {
    this.tickDefense();
    const f = this.flow;
    const r = parseFrame(b, len, f);
    if (f.vlan >= 0 && r >= 0) return V_VLAN;
    if (r !== PARSE_IPV4) return this.notIpv4(b, r);
    const proto = f.proto;
    if (proto === IPPROTO_ICMP) return this.icmp(b, f);
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return V_NOT_OURS;

    const conns = this.conns;
    let e = hash !== 0
      ? conns.lookupHashed(hash, proto, f.saddr, f.sport, f.daddr, f.dport)
      : conns.lookup(proto, f.saddr, f.sport, f.daddr, f.dport);
    if (e < 0) {
      e = this.schedule(f);
      if (e < 0) return -e;
    }
    const c = e >>> 1;
    const rs = this.destOf(c);
    if (rs === null) return V_DROP_DEST_GONE;
    const fwd = FORWARDERS[conns.flagsOf(c) >>> FWD_SHIFT];
    const whole = (f.fragWord & IP_MF) === 0;
    // NAT kinds rewrite the segment: as IPVS, its checksum must verify first (a fragment's cannot be checked alone).
    if (fwd.seesReplies && whole && !l4ChecksumAcceptable(b, f.l3Off, f.l4Off, proto)) return this.malformed(ERR_BAD_L4_CSUM);
    if (!whole) this.frags.remember(f.saddr, f.daddr, proto, f.ipId, f.sport, f.dport, this.clock.now);
    if ((e & 1) === DIR_IN) {
      const n = conns.inPktsOf(c);
      if (n < 255) conns.setInPkts(c, n + 1);
    }
    this.advanceState(c, e, rs);
    this.count(c, rs, e & 1, f.ipTotalLen);
    return (e & 1) === DIR_IN ? fwd.request(this, b, f, c, rs) : fwd.reply(this, b, f, c, rs);
  }

  private malformed(code: number): number {
    this.parseErrors[-code]++;
    return V_DROP_MALFORMED;
  }

  /**
   * A fragment other than the first: no ports, so it follows the connection its first fragment found (FragFollow).
   * DR and TUN pass it on as they pass any packet; the NAT kinds change only its addresses, as the first fragment's
   * were changed (the ports, and the L4 checksum that covers them, travel in the first fragment).
   */
  private laterFragment(b: Buffer, f: Flow): number {
    const proto = f.proto;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return V_NOT_OURS; // a big ping to the VIP: the kernel's
    const now = this.clock.now;
    const slot = this.frags.find(f.saddr, f.daddr, proto, f.ipId, now);
    if (slot < 0) return this.services.hasVip(f.daddr) ? V_DROP_FRAGMENT : V_NOT_OURS;
    const t = this.conns;
    const e = t.lookup(proto, f.saddr, this.frags.sport(slot), f.daddr, this.frags.dport(slot));
    if (e < 0) return V_DROP_FRAGMENT;
    const c = e >>> 1;
    const rs = this.destOf(c);
    if (rs === null) return V_DROP_DEST_GONE;
    t.touch(c, now, this.defense.table[t.stateOf(c)]);
    this.count(c, rs, e & 1, f.ipTotalLen);
    const fwd = FORWARDERS[t.flagsOf(c) >>> FWD_SHIFT];
    if (!fwd.seesReplies) return (e & 1) === DIR_IN ? fwd.request(this, b, f, c, rs) : V_NOT_OURS;
    // The other direction's tuple, reversed, is this packet's rewritten addresses (NAT and FullNAT alike).
    const o = (c << 1) | ((e & 1) ^ 1);
    const dst = t.tSrc(o);
    writeU32(b, f.l3Off + 12, t.tDst(o));
    writeU32(b, f.l3Off + 16, dst);
    setIpv4HeaderChecksum(b, f.l3Off);
    return this.sendIp(b, f.l3Off, f.ipTotalLen, dst) ? V_FORWARDED : V_DROP_SEND;
  }

  /**
   * Expiry hook for the connection table: settle the counters, or keep a template that still controls
   * connections for another persistence timeout (ip_vs_conn_expire's n_control rule).
   */
  onExpire(c: number): number {
    const conns = this.conns;
    if ((conns.flagsOf(c) & CF_TEMPLATE) !== 0 && conns.nctlOf(c) > 0) {
      return this.services.services[conns.svcOf(c)]?.persistTimeout || this.timeouts[S_NONE];
    }
    this.settle(c);
    return 0;
  }

  /** Drop a connection or template now (RS or service removed): counters settled, slot freed. */
  release(c: number): void {
    this.settle(c);
    this.conns.remove(c);
  }

  private settle(c: number): void {
    const conns = this.conns;
    const rs = this.services.dests[conns.destOf(c)];
    const live = rs !== null && rs.svcId === conns.svcOf(c);
    if (conns.flagsOf(c) & CF_TEMPLATE) {
      if (live) rs.persistConns--;
      return;
    }
    if (live) this.unbind(c, rs);
    const t = conns.ctrlOf(c);
    // Its template may be gone and its slot reused (the count shares a word with a connection's template link).
    if (t >= 0 && (conns.flagsOf(t) & CF_TEMPLATE) !== 0 && conns.nctlOf(t) > 0) conns.setNctl(t, conns.nctlOf(t) - 1);
  }

  /** The connection's RS, or null (and the connection released) when it is gone: expire_nodest_conn=1. */
  private destOf(c: number): RealServer | null {
    const rs = this.services.dests[this.conns.destOf(c)];
    if (rs === null || rs.svcId !== this.conns.svcOf(c)) {
      this.release(c);
      return null;
    }
    return rs;
  }

  private notIpv4(b: Buffer, r: number): number {
    if (r < 0) return this.malformed(r);
    if (r === PARSE_ARP) {
      this.neigh.learnFromArp(b, this.flow.l3Off, this.clock.now);
      return V_ARP;
    }
    if (r === PARSE_IPV4_LATER_FRAGMENT) return this.laterFragment(b, this.flow);
    return V_NOT_OURS;
  }

  /** An ICMP error quoting a packet of a tracked connection goes where that connection's packets go. */
  private icmp(b: Buffer, f: Flow): number {
    if (!isIcmpError(f.icmpType) || !parseIcmpInner(b, f)) return V_NOT_OURS;
    // The quoted packet travelled the other way: look its tuple up reversed.
    const e = this.conns.lookup(f.innerProto, f.innerDst, f.innerDport, f.innerSrc, f.innerSport);
    if (e < 0) return V_NOT_OURS;
    const c = e >>> 1;
    const rs = this.destOf(c);
    if (rs === null) return V_DROP_DEST_GONE;
    if (!icmpChecksumValid(b, f.l4Off, f.l4Len)) return this.malformed(ERR_BAD_L4_CSUM); // as ip_vs_in_icmp
    const v = FORWARDERS[this.conns.flagsOf(c) >>> FWD_SHIFT].icmp(this, b, f, c, e & 1, rs);
    return v === V_FORWARDED ? V_ICMP_FORWARDED : v;
  }

  /** A packet with no connection: start one if it may (IPVS), else say why not. Returns entry or -verdict. */
  private schedule(f: Flow): number {
    let svcId = this.services.find(f.proto, f.daddr, f.dport);
    if (svcId < 0) svcId = this.services.findMark(f.proto, f.saddr, f.daddr, f.dport);
    if (svcId < 0) {
      if (f.proto === IPPROTO_TCP && f.dport >= PROBE_PORT_LO && f.dport <= PROBE_PORT_HI && this.probeSink !== null) {
        this.probeSink.onReply(f);
      }
      return -V_NOT_OURS;
    }
    // A TCP connection starts only with a SYN that is not also a RST (tcp_conn_schedule).
    if (f.proto === IPPROTO_TCP && (f.tcpFlags & (TCP_SYN | TCP_RST)) !== TCP_SYN) return -V_DROP_NO_CONN;
    // drop_packet: shed before any scheduling or forwarding work (ip_vs_todrop in tcp/udp_conn_schedule).
    if (this.defense.dropRate !== 0 && this.defense.shedNew()) return -V_DROP_DEFENSE;
    const svc = this.services.services[svcId]!;
    const conns = this.conns;
    let tpl = -1;
    let rs: RealServer | null;
    if (svc.persistTimeout > 0) {
      tpl = this.template(svc, f);
      if (tpl < 0) return -tpl;
      rs = this.services.dests[conns.destOf(tpl)];
    } else {
      rs = svc.sched.schedule(f);
    }
    if (rs === null) return -V_DROP_NO_DEST;
    let c = conns.insert(f.proto, f.saddr, f.sport, f.daddr, f.dport, this.clock.now, this.timeouts[S_NONE]);
    // A full table: drop_entry may free the slot of a half-open or closed entry for a new TCP connection.
    // A full table with drop_packet automatic: shed from now on rather than wait for the next second's update (and
    // spend nothing more on the flood's SYNs: no eviction, no forward).
    if (c < 0 && this.defense.shedAllNow()) return -V_DROP_DEFENSE;
    if (c < 0 && f.proto === IPPROTO_TCP && this.defense.makeRoom()) {
      c = conns.insert(f.proto, f.saddr, f.sport, f.daddr, f.dport, this.clock.now, this.timeouts[S_NONE]);
    }
    if (c < 0) return -V_DROP_TABLE_FULL;
    this.defense.admit(c);
    conns.setSvc(c, svcId);
    conns.setDest(c, rs.id);
    const fwd = FORWARDERS[rs.fwdId];
    // ip_vs_bind_dest: a new connection starts inactive (the dest's conn_flags carry INACTIVE); UDP stays so.
    conns.setFlags(c, (rs.fwdId << FWD_SHIFT) | CF_INACTIVE | (fwd.seesReplies ? 0 : CF_NO_OUTPUT));
    conns.setState(c, f.proto === IPPROTO_UDP ? S_UDP : S_NONE);
    const refused = fwd.bind(this, c, svc, rs);
    if (refused !== 0) {
      conns.remove(c);
      return -refused;
    }
    if (tpl >= 0) {
      conns.setCtrl(c, tpl);
      conns.setNctl(tpl, conns.nctlOf(tpl) + 1);
      conns.touch(tpl, this.clock.now, svc.persistTimeout);
    }
    rs.inactConns++;
    this.checkOverload(rs);
    if (this.syncSink !== null) this.syncSink.onConn(c);
    this.services.svcStats[svcId * ST_FIELDS + ST_CONNS]++;
    this.services.destStats[rs.id * ST_FIELDS + ST_CONNS]++;
    return c * 2 + DIR_IN;
  }

  /**
   * ip_vs_sched_persist: the client network's template pins it to one RS. A valid template (its RS still in the
   * service, even at weight 0: expire_quiescent_template=0) is reused; otherwise the scheduler picks and a
   * template is made. Returns the template's slot, or -verdict.
   */
  private template(svc: VirtualService, f: Flow): number {
    const conns = this.conns;
    const snet = f.saddr & svc.netmask;
    // Keyed as IPVS keys them: <proto, snet, 0, vaddr, vport>, or <IP, snet, 0, fwmark, 0> across a mark's traffic.
    const tproto = svc.fwmark !== 0 ? TEMPLATE_PROTO : f.proto | TEMPLATE_PROTO;
    const tdst = svc.fwmark !== 0 ? svc.fwmark : f.daddr;
    const e = conns.lookup(tproto, snet, 0, tdst, svc.port);
    if (e >= 0) {
      const t = e >>> 1;
      const rs = this.services.dests[conns.destOf(t)];
      if (rs !== null && rs.svcId === svc.id) return t;
      if (conns.nctlOf(t) === 0) this.release(t); // its RS is gone: a stale template
    }
    const rs = svc.sched.schedule(f);
    if (rs === null) return -V_DROP_NO_DEST;
    const t = conns.insert(tproto, snet, 0, tdst, svc.port, this.clock.now, svc.persistTimeout);
    if (t < 0) return -V_DROP_TABLE_FULL;
    conns.setSvc(t, svc.id);
    conns.setDest(t, rs.id);
    conns.setFlags(t, CF_TEMPLATE | (rs.fwdId << FWD_SHIFT));
    rs.persistConns++;
    if (this.syncSink !== null) this.syncSink.onConn(t);
    return t;
  }

  /** The upper threshold (-x) marks a RS overloaded; schedulers skip it (ip_vs_bind_dest). */
  private checkOverload(rs: RealServer): void {
    if (rs.upperThreshold !== 0 && rs.activeConns + rs.inactConns >= rs.upperThreshold) rs.overloaded = true;
  }

  /** ...and it is cleared below -y, or below 3/4 of -x when -y is unset (ip_vs_unbind_dest). */
  private checkUnderload(rs: RealServer): void {
    if (!rs.overloaded) return;
    const total = rs.activeConns + rs.inactConns;
    if (rs.lowerThreshold !== 0) {
      if (total < rs.lowerThreshold) rs.overloaded = false;
    } else if (rs.upperThreshold !== 0) {
      if (total * 4 < rs.upperThreshold * 3) rs.overloaded = false;
    } else {
      rs.overloaded = false;
    }
  }

  private advanceState(c: number, e: number, rs: RealServer): void {
    const conns = this.conns;
    const now = this.clock.now;
    const tmo = this.defense.table;
    if (conns.protoOf(c) !== IPPROTO_TCP) {
      conns.touch(c, now, tmo[S_UDP]);
      return;
    }
    const dir = (e & 1) === DIR_OUT ? DIR_OUTPUT : (conns.flagsOf(c) & CF_NO_OUTPUT) !== 0 ? DIR_INPUT_ONLY : DIR_INPUT;
    const old = conns.stateOf(c);
    const next = nextTcpState(old, dir, this.flow.tcpFlags, this.defense.secure);
    if (next !== old) {
      conns.setState(c, next);
      this.account(c, rs, next);
      if (this.syncSink !== null) this.syncSink.onConn(c);
    }
    conns.touch(c, now, tmo[next]);
  }

  /** A persistence template a master synced to us: the client network stays pinned after a failover. */
  adoptTemplate(svc: VirtualService, proto: number, snet: number, rs: RealServer, timeout: number): void {
    const conns = this.conns;
    const tproto = svc.fwmark !== 0 ? TEMPLATE_PROTO : proto | TEMPLATE_PROTO;
    const tdst = svc.fwmark !== 0 ? svc.fwmark : svc.vip | 0;
    const e = conns.lookup(tproto, snet | 0, 0, tdst, svc.port);
    if (e >= 0) {
      conns.touch(e >>> 1, this.clock.now, timeout);
      return;
    }
    const t = conns.insert(tproto, snet | 0, 0, tdst, svc.port, this.clock.now, timeout);
    if (t < 0) return;
    conns.setSvc(t, svc.id);
    conns.setDest(t, rs.id);
    conns.setFlags(t, CF_TEMPLATE | (rs.fwdId << FWD_SHIFT));
    rs.persistConns++;
  }

  /**
   * A connection a master director synced to us (backup): created or updated in our table, bound to `rs` as
   * if we had scheduled it, so that after a failover its packets find it. FullNAT connections are not
   * synced (their local address and port are not in the sync message).
   */
  adopt(proto: number, caddr: number, cport: number, vaddr: number, vport: number, rs: RealServer, state: number, timeout: number): boolean {
    const conns = this.conns;
    const fwd = FORWARDERS[rs.fwdId];
    if (fwd.name === 'fullnat') return false;
    const now = this.clock.now;
    const e = conns.lookup(proto, caddr | 0, cport, vaddr | 0, vport);
    let c: number;
    if (e >= 0) {
      c = e >>> 1;
    } else {
      c = conns.insert(proto, caddr | 0, cport, vaddr | 0, vport, now, timeout);
      if (c < 0) return false;
      this.defense.admit(c);
      conns.setSvc(c, rs.svcId);
      conns.setDest(c, rs.id);
      conns.setFlags(c, (rs.fwdId << FWD_SHIFT) | CF_INACTIVE | (fwd.seesReplies ? 0 : CF_NO_OUTPUT));
      conns.setState(c, proto === IPPROTO_UDP ? S_UDP : S_NONE);
      fwd.bind(this, c, this.services.services[rs.svcId]!, rs);
      rs.inactConns++;
    }
    if (conns.stateOf(c) !== state) {
      conns.setState(c, state);
      if (proto === IPPROTO_TCP) this.account(c, rs, state);
    }
    conns.touch(c, now, timeout);
    return true;
  }

  /** set_tcp_state's counter moves: only ESTABLISHED is active. */
  private account(c: number, rs: RealServer, state: number): void {
    const fl = this.conns.flagsOf(c);
    if ((fl & CF_INACTIVE) === 0 && state !== S_ESTABLISHED) {
      rs.activeConns--;
      rs.inactConns++;
      this.conns.setFlags(c, fl | CF_INACTIVE);
    } else if ((fl & CF_INACTIVE) !== 0 && state === S_ESTABLISHED) {
      rs.activeConns++;
      rs.inactConns--;
      this.conns.setFlags(c, fl & ~CF_INACTIVE);
    }
  }

  private unbind(c: number, rs: RealServer): void {
    if (this.conns.flagsOf(c) & CF_INACTIVE) rs.inactConns--;
    else rs.activeConns--;
    this.checkUnderload(rs);
  }

  private count(c: number, rs: RealServer, dir: number, bytes: number): void {
    const ss = this.services.svcStats;
    const ds = this.services.destStats;
    const so = this.conns.svcOf(c) * ST_FIELDS;
    const dso = rs.id * ST_FIELDS;
    const pk = dir === DIR_IN ? ST_INPKTS : ST_OUTPKTS;
    const by = dir === DIR_IN ? ST_INBYTES : ST_OUTBYTES;
    ss[so + pk]++;
    ss[so + by] += bytes;
    ds[dso + pk]++;
    ds[dso + by] += bytes;
  }
}
