// A frame's whole path, top to bottom: classify -> connection lookup (or schedule) -> state -> rewrite -> emit.
// Nothing here allocates: offsets, numbers and preallocated tables only.
import type { Clock } from './clock';
import { ConnTable, DIR_IN } from './conn/table';
import { DIR_INPUT, DIR_INPUT_ONLY, nextTcpState, S_ESTABLISHED, S_NONE, S_UDP } from './conn/tcp-state';
import { FORWARDERS } from './forward';
import type { ForwardContext } from './forward/forwarder';
import type { NeighbourTable } from './io/neighbour';
import type { FrameSink, PacketIo } from './io/packet-io';
import { Flow, PARSE_ARP, PARSE_IPV4, PARSE_IPV4_LATER_FRAGMENT, parseFrame } from './packet/flow';
import { IPPROTO_TCP, IPPROTO_UDP } from './packet/ipv4';
import { TCP_RST, TCP_SYN } from './packet/tcp';
import { ServiceTable, ST_CONNS, ST_FIELDS, ST_INBYTES, ST_INPKTS } from './service/table';
import type { RealServer } from './service/types';
import {
  PARSE_ERROR_SLOTS, V_ARP, V_DROP_DEST_GONE, V_DROP_FRAGMENT, V_DROP_MALFORMED, V_DROP_NO_CONN, V_DROP_NO_DEST,
  V_DROP_SEND, V_DROP_TABLE_FULL, V_FORWARDED, V_NOT_OURS, VERDICT_COUNT,
} from './verdict';

/** Conn flag bits (ConnTable.flags). */
export const CF_INACTIVE = 0x01; // counted in the RS's inactive connections
export const CF_NO_OUTPUT = 0x02; // replies bypass the director (DR/TUN): the INPUT_ONLY state table applies
const FWD_SHIFT = 4; // the forwarder index sits in the high nibble

export class Pipeline implements FrameSink {
  readonly flow = new Flow();
  readonly verdicts = new Float64Array(VERDICT_COUNT);
  readonly parseErrors = new Float64Array(PARSE_ERROR_SLOTS);
  readonly fwdCtx: ForwardContext;

  constructor(
    readonly services: ServiceTable,
    readonly conns: ConnTable,
    readonly neigh: NeighbourTable,
    readonly io: PacketIo,
    readonly clock: Clock,
    readonly timeouts: Uint32Array,
    ifMac: Uint8Array,
  ) {
    this.fwdCtx = { ifMac, ifMacOff: 0, neighMacs: neigh.macs, neighResolved: neigh.resolved };
  }

  onFrame(buf: Buffer, len: number): void {
    this.verdicts[this.process(buf, len)]++;
  }

  /** Handle one frame; returns its verdict (the caller counts it). */
  process(b: Uint8Array, len: number): number {
    const f = this.flow;
    const r = parseFrame(b, len, f);
    if (r !== PARSE_IPV4) return this.notIpv4(b, r);
    const proto = f.proto;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return V_NOT_OURS;

    const conns = this.conns;
    let e = conns.lookup(proto, f.saddr, f.sport, f.daddr, f.dport);
    if (e < 0) {
      e = this.schedule(f);
      if (e < 0) return -e;
    }
    const c = e >>> 1;
    const rs = this.services.dests[conns.dest[c]];
    if (rs === null || rs.svcId !== conns.svc[c]) {
      // expire_nodest_conn=1 semantics: the RS is gone, so is the connection.
      this.release(c);
      return V_DROP_DEST_GONE;
    }
    this.advanceState(c, e, rs);
    this.count(c, rs, f.ipTotalLen);

    const out = FORWARDERS[conns.flags[c] >>> FWD_SHIFT].request(this.fwdCtx, b, f, rs);
    if (out < 0) return -out;
    return this.io.send(b, out) ? V_FORWARDED : V_DROP_SEND;
  }

  /** Expiry hook for the connection table: settle the RS counters. */
  onExpire(c: number): void {
    const rs = this.services.dests[this.conns.dest[c]];
    if (rs !== null && rs.svcId === this.conns.svc[c]) this.unbind(c, rs);
  }

  /** Drop a connection now (RS removed): counters settled, slot freed. */
  release(c: number): void {
    this.onExpire(c);
    this.conns.remove(c);
  }

  private notIpv4(b: Uint8Array, r: number): number {
    if (r < 0) {
      this.parseErrors[-r]++;
      return V_DROP_MALFORMED;
    }
    if (r === PARSE_ARP) {
      this.neigh.learnFromArp(b, this.flow.l3Off, this.clock.now);
      return V_ARP;
    }
    if (r === PARSE_IPV4_LATER_FRAGMENT) {
      return this.services.hasVip(this.flow.daddr) ? V_DROP_FRAGMENT : V_NOT_OURS;
    }
    return V_NOT_OURS;
  }

  /** A packet with no connection: start one if it may (IPVS), else say why not. Returns entry or -verdict. */
  private schedule(f: Flow): number {
    const svcId = this.services.find(f.proto, f.daddr, f.dport);
    if (svcId < 0) return -V_NOT_OURS;
    // A TCP connection starts only with a SYN that is not also a RST (tcp_conn_schedule).
    if (f.proto === IPPROTO_TCP && (f.tcpFlags & (TCP_SYN | TCP_RST)) !== TCP_SYN) return -V_DROP_NO_CONN;
    const svc = this.services.services[svcId]!;
    const rs = svc.sched.schedule(f);
    if (rs === null) return -V_DROP_NO_DEST;
    const conns = this.conns;
    const c = conns.insert(f.proto, f.saddr, f.sport, f.daddr, f.dport, this.clock.now, this.timeouts[S_NONE]);
    if (c < 0) return -V_DROP_TABLE_FULL;
    conns.svc[c] = svcId;
    conns.dest[c] = rs.id;
    const fwd = FORWARDERS[rs.fwdId];
    conns.flags[c] = (rs.fwdId << FWD_SHIFT) | (fwd.seesReplies ? 0 : CF_NO_OUTPUT);
    conns.state[c] = f.proto === IPPROTO_UDP ? S_UDP : S_NONE;
    // ip_vs_bind_dest: a new connection counts as active until its first state change says otherwise.
    rs.activeConns++;
    this.services.svcStats[svcId * ST_FIELDS + ST_CONNS]++;
    this.services.destStats[rs.id * ST_FIELDS + ST_CONNS]++;
    return c * 2 + DIR_IN;
  }

  private advanceState(c: number, e: number, rs: RealServer): void {
    const conns = this.conns;
    const now = this.clock.now;
    if (conns.proto[c] !== IPPROTO_TCP) {
      conns.touch(c, now, this.timeouts[S_UDP]);
      return;
    }
    const dir = (e & 1) === DIR_IN ? ((conns.flags[c] & CF_NO_OUTPUT) !== 0 ? DIR_INPUT_ONLY : DIR_INPUT) : 1;
    const old = conns.state[c];
    const next = nextTcpState(old, dir, this.flow.tcpFlags);
    if (next !== old) {
      conns.state[c] = next;
      this.account(c, rs, next);
    }
    conns.touch(c, now, this.timeouts[next]);
  }

  /** set_tcp_state's counter moves: only ESTABLISHED is active. */
  private account(c: number, rs: RealServer, state: number): void {
    const fl = this.conns.flags[c];
    if ((fl & CF_INACTIVE) === 0 && state !== S_ESTABLISHED) {
      rs.activeConns--;
      rs.inactConns++;
      this.conns.flags[c] = fl | CF_INACTIVE;
    } else if ((fl & CF_INACTIVE) !== 0 && state === S_ESTABLISHED) {
      rs.activeConns++;
      rs.inactConns--;
      this.conns.flags[c] = fl & ~CF_INACTIVE;
    }
  }

  private unbind(c: number, rs: RealServer): void {
    if (this.conns.flags[c] & CF_INACTIVE) rs.inactConns--;
    else rs.activeConns--;
  }

  private count(c: number, rs: RealServer, bytes: number): void {
    const ss = this.services.svcStats;
    const ds = this.services.destStats;
    const so = this.conns.svc[c] * ST_FIELDS;
    const dso = rs.id * ST_FIELDS;
    ss[so + ST_INPKTS]++;
    ss[so + ST_INBYTES] += bytes;
    ds[dso + ST_INPKTS]++;
    ds[dso + ST_INBYTES] += bytes;
  }
}
