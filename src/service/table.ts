// The live service table. Changes come from the control plane; the hot path only calls find() and
// reads dests by index. Packet/byte counters are typed arrays so counting never allocates.
import type { Shard } from '../io/steer';
import { LvsError } from '../control/errors';
import { findScheduler } from '../sched';
import { defaultSchedEnv, type SchedEnv } from '../sched/scheduler';
import type { FwmarkMatch } from './fwmark-match';
import { PROTO_ANY, type Ipv4, type Proto, type RealServer, type VirtualService } from './types';

/** Counter fields per service and per real server, as ipvsadm --stats shows them. */
export const ST_CONNS = 0;
export const ST_INPKTS = 1;
export const ST_OUTPKTS = 2;
export const ST_INBYTES = 3;
export const ST_OUTBYTES = 4;
export const ST_FIELDS = 5;

export interface ServiceSpec {
  proto: Proto | typeof PROTO_ANY;
  /** A firewall-mark service: its mark and match (then proto is PROTO_ANY, vip and port 0). */
  fwmark?: number;
  match?: FwmarkMatch;
  vip: Ipv4;
  port: number;
  scheduler: string;
  /** FullNAT local addresses. */
  laddrs?: Ipv4[];
  schedFlags?: number;
  mhTableSize?: number;
  persistTimeout?: number;
  netmask?: number;
}

/** What -E may change; absent fields stay. */
export type ServiceEdit = Partial<Pick<ServiceSpec, 'scheduler' | 'schedFlags' | 'persistTimeout' | 'netmask' | 'mhTableSize' | 'laddrs'>>;

/** What -e may change; absent fields stay. */
export type DestEdit = Partial<Pick<DestSpec, 'weight' | 'forward' | 'fwdId' | 'upperThreshold' | 'lowerThreshold'>>;

export interface DestSpec {
  addr: Ipv4;
  port: number;
  weight: number;
  forward: string;
  fwdId: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  localAddr?: Ipv4;
  mtu?: number;
}

export class ServiceTable {
  readonly services: (VirtualService | null)[] = [];
  readonly dests: (RealServer | null)[] = [];
  readonly svcStats: Float64Array;
  readonly destStats: Float64Array;

  // Open-addressed index (proto, vip, port) -> service id, rebuilt on every change (control path only).
  // VIPs in the wire path's int32 form, so a packet's address compares without conversion.
  private idxVip = new Int32Array(16);
  private idxKey = new Int32Array(16); // (proto << 16 | port), -1 empty
  private idxSvc = new Int32Array(16);
  private idxMask = 15;
  private markSvcs: VirtualService[] = [];

  /** This table's capture worker: FullNAT takes local ports of its residue only (io/steer.ts). */
  lportShard: Shard = { index: 0, count: 1 };

  constructor(readonly maxServices: number, readonly maxDests: number, readonly schedEnv: SchedEnv = defaultSchedEnv) {
    this.svcStats = new Float64Array(maxServices * ST_FIELDS);
    this.destStats = new Float64Array(maxDests * ST_FIELDS);
    this.idxKey.fill(-1);
  }

  /** Service id for a packet's (proto, daddr, dport), or -1. Takes either address form. */
  find(proto: number, vip: number, port: number): number {
    vip |= 0;
    const key = (proto << 16) | port;
    const mask = this.idxMask;
    for (let i = (Math.imul(vip ^ key, 0x9e3779b1) >>> 16) & mask; ; i = (i + 1) & mask) {
      const k = this.idxKey[i];
      if (k === -1) return -1;
      if (k === key && this.idxVip[i] === vip) return this.idxSvc[i];
    }
  }

  /** Whether any service listens on `addr` (either form); for frames without ports (later fragments). */
  hasVip(addr: number): boolean {
    addr |= 0;
    for (let i = 0; i <= this.idxMask; i++) if (this.idxKey[i] !== -1 && this.idxVip[i] === addr) return true;
    return false;
  }

  /** A firewall-mark service whose match takes this packet, or -1 (tried after find() misses). */
  findMark(proto: number, saddr: number, daddr: number, dport: number): number {
    const m = this.markSvcs;
    for (let i = 0; i < m.length; i++) if (m[i].match!.matches(proto, saddr, daddr, dport)) return m[i].id;
    return -1;
  }

  findFwmark(mark: number): VirtualService | null {
    return this.markSvcs.find((s) => s.fwmark === mark) ?? null;
  }

  list(): VirtualService[] {
    return this.services.filter((s): s is VirtualService => s !== null);
  }

  findService(proto: number, vip: Ipv4, port: number): VirtualService | null {
    const id = this.find(proto, vip, port);
    return id < 0 ? null : this.services[id];
  }

  addService(spec: ServiceSpec): VirtualService {
    const exists = spec.fwmark ? this.findFwmark(spec.fwmark) !== null : this.find(spec.proto, spec.vip, spec.port) >= 0;
    if (exists) throw new LvsError('EEXIST_SVC', 'Service already exists');
    const sched = findScheduler(spec.scheduler);
    if (!sched) throw new LvsError('ENOENT_SCHED', 'Scheduler or persistence engine not found');
    const id = freeIndex(this.services, this.maxServices, 'services');
    const svc: VirtualService = {
      id, proto: spec.fwmark ? PROTO_ANY : spec.proto, vip: spec.fwmark ? 0 : spec.vip, port: spec.fwmark ? 0 : spec.port,
      fwmark: spec.fwmark ?? 0, match: spec.match ?? null, schedName: sched.name, dests: [],
      laddrs: (spec.laddrs ?? []).map((a) => a | 0), laddrNext: 0, lportNext: 0,
      schedFlags: spec.schedFlags ?? 0, mhTableSize: spec.mhTableSize ?? 4093,
      persistTimeout: spec.persistTimeout ?? 0, netmask: spec.netmask ?? 0xffffffff,
      sched: { schedule: () => null, update: () => undefined },
    };
    svc.sched = sched.create(svc, this.schedEnv);
    this.services[id] = svc;
    this.svcStats.fill(0, id * ST_FIELDS, (id + 1) * ST_FIELDS);
    this.reindex();
    return svc;
  }

  addDest(svc: VirtualService, spec: DestSpec): RealServer {
    if (svc.dests.some((d) => d.addr === spec.addr && d.port === spec.port)) {
      throw new LvsError('EEXIST_DEST', 'Destination already exists');
    }
    const id = freeIndex(this.dests, this.maxDests, 'real servers');
    const rs: RealServer = {
      id, svcId: svc.id, addr: spec.addr, port: spec.port, weight: spec.weight, forward: spec.forward,
      fwdId: spec.fwdId, activeConns: 0, inactConns: 0, upperThreshold: spec.upperThreshold ?? 0,
      lowerThreshold: spec.lowerThreshold ?? 0, overloaded: false, neighSlot: -1, persistConns: 0, drainDeadline: 0,
      localAddr: (spec.localAddr ?? 0) | 0, mtu: spec.mtu ?? 1500,
    };
    this.dests[id] = rs;
    this.destStats.fill(0, id * ST_FIELDS, (id + 1) * ST_FIELDS);
    // The kernel adds at the head of its list (list_add_rcu in __ip_vs_update_dest): newest first. Schedulers
    // walk this order (rr's start, ties, dh/sh/mh tables), so a mixed fleet only agrees if we keep it too.
    svc.dests.unshift(rs);
    svc.sched.update();
    return rs;
  }

  /** -E: scheduler, flags, persistence. A new scheduler starts fresh; connections keep their real servers. */
  editService(svc: VirtualService, e: ServiceEdit): void {
    const sched = e.scheduler === undefined ? null : findScheduler(e.scheduler);
    if (e.scheduler !== undefined && !sched) throw new LvsError('ENOENT_SCHED', 'Scheduler or persistence engine not found');
    if (e.schedFlags !== undefined) svc.schedFlags = e.schedFlags;
    if (e.mhTableSize !== undefined) svc.mhTableSize = e.mhTableSize;
    if (e.persistTimeout !== undefined) svc.persistTimeout = e.persistTimeout;
    if (e.netmask !== undefined) svc.netmask = e.netmask;
    if (e.laddrs !== undefined) svc.laddrs = e.laddrs.map((a) => a | 0);
    if (sched) {
      svc.schedName = sched.name;
      svc.sched = sched.create(svc, this.schedEnv);
    }
    svc.sched.update();
  }

  /** -D: the service and its real servers leave the table (the caller expires their connections first). */
  removeService(svc: VirtualService): void {
    for (const d of svc.dests) this.dests[d.id] = null;
    svc.dests = [];
    this.services[svc.id] = null;
    this.reindex();
  }

  /** -e: weight, forwarding method, thresholds. */
  editDest(svc: VirtualService, rs: RealServer, e: DestEdit): void {
    if (e.weight !== undefined) rs.weight = e.weight;
    if (e.forward !== undefined && e.fwdId !== undefined) {
      rs.forward = e.forward;
      rs.fwdId = e.fwdId;
    }
    if (e.upperThreshold !== undefined) rs.upperThreshold = e.upperThreshold;
    if (e.lowerThreshold !== undefined) rs.lowerThreshold = e.lowerThreshold;
    svc.sched.update();
  }

  /** -d: the RS leaves its service (the caller expires its connections first, as expire_nodest_conn=1). */
  removeDest(svc: VirtualService, rs: RealServer): void {
    svc.dests = svc.dests.filter((d) => d !== rs);
    this.dests[rs.id] = null;
    svc.sched.update();
  }

  /** A copy of the services and real servers (fresh schedulers, no counters), to try edits on. */
  clone(): ServiceTable {
    const t = new ServiceTable(this.maxServices, this.maxDests, this.schedEnv);
    for (const s of this.list()) {
      const c = t.addService({
        proto: s.proto, vip: s.vip, port: s.port, fwmark: s.fwmark || undefined, match: s.match ?? undefined,
        scheduler: s.schedName, laddrs: s.laddrs.map((a) => a >>> 0), schedFlags: s.schedFlags,
        mhTableSize: s.mhTableSize, persistTimeout: s.persistTimeout, netmask: s.netmask,
      });
      for (const d of [...s.dests].reverse()) { // re-added oldest first, so the copy's list reads the same
        const r = t.addDest(c, {
          addr: d.addr, port: d.port, weight: d.weight, forward: d.forward, fwdId: d.fwdId,
          upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold,
        });
        r.drainDeadline = d.drainDeadline;
      }
    }
    return t;
  }

  findDest(svc: VirtualService, addr: Ipv4, port: number): RealServer | null {
    return svc.dests.find((d) => d.addr === addr && d.port === port) ?? null;
  }

  private reindex(): void {
    this.markSvcs = this.list().filter((s) => s.fwmark !== 0);
    const live = this.list().filter((s) => s.fwmark === 0);
    let size = 16;
    while (size < live.length * 4) size <<= 1;
    const vip = new Int32Array(size);
    const key = new Int32Array(size).fill(-1);
    const svcIdx = new Int32Array(size);
    const mask = size - 1;
    for (const s of live) {
      const k = (s.proto << 16) | s.port;
      let i = (Math.imul((s.vip | 0) ^ k, 0x9e3779b1) >>> 16) & mask;
      while (key[i] !== -1) i = (i + 1) & mask;
      vip[i] = s.vip | 0;
      key[i] = k;
      svcIdx[i] = s.id;
    }
    // Built aside and swapped in, so a failed build leaves the old index serving.
    this.idxVip = vip;
    this.idxKey = key;
    this.idxSvc = svcIdx;
    this.idxMask = mask;
  }
}

function freeIndex<T>(arr: (T | null)[], max: number, what: string): number {
  const i = arr.indexOf(null);
  if (i >= 0) return i;
  if (arr.length >= max) throw new LvsError('ENOSPC', `Too many ${what} (limit ${max})`);
  arr.push(null);
  return arr.length - 1;
}
