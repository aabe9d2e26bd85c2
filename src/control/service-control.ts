// The live service table's edits, as ipvsadm's commands: each request is validated whole before anything
// changes, then applied; established connections are untouched unless the command says otherwise
// (removing a real server expires its connections, as expire_nodest_conn=1).
import { IPv4, Validator } from 'ip-num';
import { ConnTable, TEMPLATE_PROTO } from '../conn/table';
import { Flow } from '../packet/flow';
import { setTimeouts } from '../conn/timeouts';
import { S_CLOSE, S_CLOSE_WAIT, S_FIN_WAIT, S_LAST_ACK, S_TIME_WAIT } from '../conn/tcp-state';
import { FORWARDERS, forwarderId } from '../forward';
import { ipv4ToString } from '../packet/format';
import { CF_TEMPLATE, forwarderOf } from '../pipeline';
import { findScheduler } from '../sched';
import { SCHED_FLAG_1, SCHED_FLAG_2, SCHED_FLAG_3 } from '../sched/scheduler';
import { ST_FIELDS, type DestSpec, type ServiceTable } from '../service/table';
import { PROTO_TCP, PROTO_UDP, type Proto, type RealServer, type VirtualService } from '../service/types';
import { notUnicast } from '../service/unicast';
import { LvsError } from './errors';
import { svcKey } from './reload';
import { FwmarkMatch } from '../service/fwmark-match';

/** ipvsadm's -p without a value (libipvs IPVS_SVC_PERSISTENT_TIMEOUT). */
export const DEFAULT_PERSISTENCE = 360;
/** Grace time of a drain when none is given. */
export const DEFAULT_DRAIN = 300;
const MAX_TIMEOUT = 2678400; // 31 days, ipvsadm's limit

export const SCHED_FLAG_NAMES: Record<string, number> = {
  'flag-1': SCHED_FLAG_1, 'flag-2': SCHED_FLAG_2, 'flag-3': SCHED_FLAG_3,
  'sh-fallback': SCHED_FLAG_1, 'sh-port': SCHED_FLAG_2, 'mh-fallback': SCHED_FLAG_1, 'mh-port': SCHED_FLAG_2,
};

export interface ControlParts {
  services: ServiceTable;
  conns: ConnTable;
  /** Drop one connection or template now, its counters settled (Pipeline.release). */
  release(c: number): void;
  timeouts: Uint32Array;
  now(): number;
  /** Prepare a new real server for the wire (route, neighbour slot). */
  prepareDest(rs: RealServer): void;
  /** The table changed: capture filter and fence follow. */
  changed(): void;
  /** Open connections of a RS held elsewhere (other capture workers' tables); a drain waits for them too. */
  othersOpen?(rs: RealServer): number;
}

type Args = Record<string, unknown>;

export class ServiceControl {
  constructor(private readonly p: ControlParts) {}

  addService(a: Args): void {
    const key = this.svcKey(a.svc);
    const match = key.fwmark ? FwmarkMatch.parse(this.matchText(a.match)) : undefined;
    const sched = this.scheduler(a.scheduler ?? 'wlc');
    const flags = this.flags(a.flags, sched);
    const persist = this.persistence(a);
    const laddrs = this.addrList(a.laddrs, 'laddrs');
    if (!key.fwmark && !persist.timeout && key.port === 0) throw new LvsError('EINVAL', 'Zero port specified for non-persistent service');
    this.p.services.addService({
      proto: key.proto, vip: key.vip, port: key.port, fwmark: key.fwmark, match, scheduler: sched, schedFlags: flags,
      persistTimeout: persist.timeout, netmask: persist.netmask, laddrs,
    });
    this.p.changed();
  }

  /** Fields absent from the request stay as they are (lvsadm sends ipvsadm's full set, defaults included). */
  editService(a: Args): void {
    const svc = this.service(a.svc, 'No such service');
    const sched = a.scheduler === undefined ? svc.schedName : this.scheduler(a.scheduler);
    const flags = a.flags === undefined ? undefined : this.flags(a.flags, sched);
    const persist = a.persistent === undefined && a.netmask === undefined ? undefined : this.persistence(a);
    const laddrs = a.laddrs === undefined ? undefined : this.addrList(a.laddrs, 'laddrs');
    this.p.services.editService(svc, {
      scheduler: a.scheduler === undefined ? undefined : sched, schedFlags: flags, persistTimeout: persist?.timeout,
      netmask: persist?.netmask, laddrs,
    });
    this.p.changed();
  }

  deleteService(a: Args): void {
    const svc = this.service(a.svc, 'No such service');
    this.expireWhere((c) => this.p.conns.svcOf(c) === svc.id);
    this.p.services.removeService(svc);
    this.p.changed();
  }

  clear(): void {
    for (const svc of this.p.services.list()) this.deleteService({ svc: svcKey(svc) });
  }

  addDest(a: Args): void {
    const svc = this.service(a.svc, 'Service not defined');
    const d = this.destKey(a.dest, svc);
    const spec = this.destSpec(a, svc, d.port, null);
    if (this.p.services.findDest(svc, d.addr, d.port)) throw new LvsError('EEXIST', 'Destination already exists');
    // ipvs_strerror's text for the kernel's EINVAL, which ip_vs_new_dest returns for a destination not unicast.
    if (notUnicast(d.addr)) throw new LvsError('EINVAL', 'Invalid operation.  Possibly wrong module version, address not unicast, ...');
    const rs = this.p.services.addDest(svc, { addr: d.addr, port: d.port, ...spec } as DestSpec);
    this.p.prepareDest(rs);
    this.p.changed();
  }

  editDest(a: Args): void {
    const svc = this.service(a.svc, 'Service not defined');
    const d = this.destKey(a.dest, svc);
    const rs = this.p.services.findDest(svc, d.addr, d.port);
    if (!rs) throw new LvsError('ENOENT', 'No such destination');
    const spec = this.destSpec(a, svc, d.port, rs);
    const drain = a.drain === undefined ? null : this.seconds(a.drain, 'drain', DEFAULT_DRAIN);
    if (drain !== null && (spec.weight ?? rs.weight) !== 0) throw new LvsError('EINVAL', '--drain needs -w 0 (a drained server takes no new connections)');
    this.p.services.editDest(svc, rs, spec);
    if (drain !== null) rs.drainDeadline = this.p.now() + drain;
    else if (rs.weight > 0) rs.drainDeadline = 0; // a weight back above 0 cancels a drain
    this.p.changed();
  }

  deleteDest(a: Args): void {
    const svc = this.service(a.svc, 'Service not defined');
    const d = this.destKey(a.dest, svc);
    const rs = this.p.services.findDest(svc, d.addr, d.port);
    if (!rs) throw new LvsError('ENOENT', 'No such destination');
    if (a.graceful !== undefined) {
      const grace = this.seconds(a.graceful, 'graceful', DEFAULT_DRAIN);
      this.p.services.editDest(svc, rs, { weight: 0 });
      rs.drainDeadline = this.p.now() + grace;
      return;
    }
    this.removeDest(svc, rs);
  }

  /**
   * Apply a list of commands as one change (-R): each is first run against a copy of the table, so a bad line
   * refuses the whole batch, naming the line, and the live table is touched only when all of them pass.
   */
  batch(a: Args): void {
    const cmds = a.commands;
    if (!Array.isArray(cmds)) throw new LvsError('EINVAL', 'batch needs a list of commands');
    const shadow = new ServiceControl({
      services: this.p.services.clone(), conns: new ConnTable(1, { onExpire: () => 0 }), release: () => undefined,
      timeouts: Uint32Array.from(this.p.timeouts), now: this.p.now, prepareDest: () => undefined, changed: () => undefined,
    });
    cmds.forEach((c: { cmd?: string; args?: Args; line?: number }, i) => {
      try {
        shadow.run(String(c.cmd), c.args ?? {});
      } catch (err) {
        throw new LvsError((err as LvsError).code ?? 'EINVAL', `line ${c.line ?? i + 1}: ${(err as Error).message}`);
      }
    });
    for (const c of cmds as { cmd: string; args?: Args }[]) this.run(c.cmd, c.args ?? {});
  }

  /** One named edit (the control socket's command names). */
  run(cmd: string, args: Args): void {
    const fn = EDITS[cmd];
    if (!fn) throw new LvsError('ENOSYS', `unknown command ${JSON.stringify(cmd)}`);
    fn.call(this, args);
  }

  /** DPVS's --add-laddr -z LIP: a local address joins a service's FullNAT pool. */
  addLaddr(a: Args): void {
    const svc = this.service(a.svc, 'No such service');
    const l = this.addr(a.laddr, 'local address') | 0;
    if (svc.laddrs.includes(l)) throw new LvsError('EEXIST', 'Local address already exists');
    this.p.services.editService(svc, { laddrs: [...svc.laddrs, l].map((x) => x >>> 0) });
    this.p.changed();
  }

  /** --del-laddr: it leaves the pool; connections already using it keep it until they end. */
  delLaddr(a: Args): void {
    const svc = this.service(a.svc, 'No such service');
    const l = this.addr(a.laddr, 'local address') | 0;
    if (!svc.laddrs.includes(l)) throw new LvsError('ENOENT', 'No such local address');
    if (svc.laddrs.length === 1 && svc.dests.some((d) => d.forward === 'fullnat')) {
      throw new LvsError('EBUSY', 'the last local address of a service with FullNAT real servers cannot be removed');
    }
    this.p.services.editService(svc, { laddrs: svc.laddrs.filter((x) => x !== l).map((x) => x >>> 0) });
    this.p.changed();
  }

  /** --get-laddr: the pool, with how many connections each address carries. */
  getLaddr(a: Args): { laddr: string; conns: number }[] {
    const svc = this.service(a.svc, 'No such service');
    const t = this.p.conns;
    return svc.laddrs.map((l) => {
      let n = 0;
      t.forEach((c) => {
        if (t.svcOf(c) === svc.id && (t.flagsOf(c) & CF_TEMPLATE) === 0 && t.tDst(c * 2 + 1) === l && forwarderOf(t.flagsOf(c)).name === 'fullnat') n++;
      });
      return { laddr: ipv4ToString(l >>> 0), conns: n };
    });
  }

  setTimeouts(a: Args): void {
    const [tcp, tcpfin, udp] = ['tcp', 'tcpfin', 'udp'].map((k) => this.int(a[k], k, 0, MAX_TIMEOUT));
    setTimeouts(this.p.timeouts, tcp, tcpfin, udp);
  }

  zero(a: Args): void {
    const svcs = a.svc === undefined ? this.p.services.list() : [this.service(a.svc, 'No such service')];
    const t = this.p.services;
    for (const s of svcs) {
      t.svcStats.fill(0, s.id * ST_FIELDS, (s.id + 1) * ST_FIELDS);
      for (const d of s.dests) t.destStats.fill(0, d.id * ST_FIELDS, (d.id + 1) * ST_FIELDS);
    }
  }

  /**
   * Once a second: draining real servers leave when their last open connection has ended (closing ones do not
   * hold them) or their grace time is up, whichever comes first.
   */
  tickDrains(): RealServer[] {
    const draining = this.p.services.dests.filter((d): d is RealServer => d !== null && d.drainDeadline > 0);
    const removed: RealServer[] = [];
    for (const rs of draining) {
      if (this.openConns(rs) + (this.p.othersOpen?.(rs) ?? 0) === 0 || this.p.now() >= rs.drainDeadline) {
        const svc = this.p.services.services[rs.svcId]!;
        this.removeDest(svc, rs);
        removed.push(rs);
      }
    }
    return removed;
  }

  /**
   * lvsadm -W (Katran's "where would this flow go"): the RS a client's flow reaches now: its connection's, its
   * persistence template's, or the scheduler's pick. A pick is exact for schedulers that depend only on the
   * table (hashing, least-connection); rr/wrr/twos/lblc/lblcr also depend on the past, so it is indicative.
   */
  which(a: Args): { rs: string | null; via: 'connection' | 'template' | 'scheduler'; exact: boolean } {
    const svc = this.service(a.svc, 'No such service');
    const c = (a.client ?? {}) as Args;
    const cip = this.addr(c.addr, 'client address');
    const cport = this.int(c.port ?? 0, 'client port', 0, 65535);
    const proto = svc.fwmark ? (a.proto === 'udp' ? PROTO_UDP : PROTO_TCP) : svc.proto;
    const vip = svc.fwmark ? this.addr((a.svcAddr as string | undefined) ?? '0.0.0.0', 'address') : svc.vip;
    const vport = svc.fwmark ? this.int(a.svcPort ?? 0, 'port', 0, 65535) : svc.port;
    const name = (rs: RealServer | null | undefined): string | null => (rs ? `${ipv4ToString(rs.addr >>> 0)}:${rs.port}` : null);
    const t = this.p.conns;
    const e = t.lookup(proto, cip | 0, cport, vip | 0, vport);
    if (e >= 0) return { rs: name(this.p.services.dests[t.destOf(e >>> 1)]), via: 'connection', exact: true };
    if (svc.persistTimeout > 0) {
      const te = t.lookup(svc.fwmark ? TEMPLATE_PROTO : proto | TEMPLATE_PROTO, (cip & svc.netmask) | 0, 0, svc.fwmark || vip | 0, svc.port);
      if (te >= 0) return { rs: name(this.p.services.dests[t.destOf(te >>> 1)]), via: 'template', exact: true };
    }
    const flow = new Flow();
    flow.proto = proto;
    flow.saddr = cip | 0;
    flow.sport = cport;
    flow.daddr = vip | 0;
    flow.dport = vport;
    // A fresh instance, so asking never moves the live scheduler's position.
    const inst = findScheduler(svc.schedName)!.create(svc, this.p.services.schedEnv);
    inst.update();
    return { rs: name(inst.schedule(flow)), via: 'scheduler', exact: !HISTORY_SCHEDULERS.has(svc.schedName) };
  }

  /** Connections of a RS that are not closing (a draining RS waits for these). */
  openConns(rs: RealServer): number {
    const t = this.p.conns;
    let n = 0;
    t.forEach((c) => {
      if (t.destOf(c) === rs.id && (t.flagsOf(c) & CF_TEMPLATE) === 0 && !CLOSING.has(t.stateOf(c))) n++;
    });
    return n;
  }

  private removeDest(svc: VirtualService, rs: RealServer): void {
    this.expireWhere((c) => this.p.conns.destOf(c) === rs.id);
    this.p.services.removeDest(svc, rs);
    this.p.changed();
  }

  /** Release matching connections first, then templates (which the connections reference). */
  private expireWhere(match: (c: number) => boolean): void {
    const t = this.p.conns;
    const conns: number[] = [];
    const templates: number[] = [];
    t.forEach((c) => {
      if (match(c)) ((t.flagsOf(c) & CF_TEMPLATE) !== 0 ? templates : conns).push(c);
    });
    for (const c of conns) this.p.release(c);
    for (const c of templates) this.p.release(c);
  }

  private destSpec(a: Args, svc: VirtualService, port: number, current: RealServer | null): Partial<DestSpec> {
    const forward = a.forward === undefined ? (current ? undefined : 'dr') : String(a.forward);
    if (forward !== undefined && forwarderId(forward) < 0) throw new LvsError('EINVAL', `unknown forwarding method ${forward}`);
    const fwd = forward ?? current!.forward;
    if (!FORWARDERS[forwarderId(fwd)].mapsPorts && port !== svc.port && svc.fwmark === 0) {
      throw new LvsError('EINVAL', `${fwd.toUpperCase()} cannot map ports: the real server port must be the service port ${svc.port}`);
    }
    if (fwd === 'fullnat' && svc.laddrs.length === 0) throw new LvsError('EINVAL', 'FullNAT needs local addresses on the service (--add-laddr)');
    const spec: Partial<DestSpec> = {};
    if (forward !== undefined) {
      spec.forward = forward;
      spec.fwdId = forwarderId(forward);
    }
    if (a.weight !== undefined || !current) spec.weight = this.int(a.weight ?? 1, 'weight', 0, 65535);
    if (a.uthreshold !== undefined) spec.upperThreshold = this.int(a.uthreshold, 'u-threshold', 0, 0x7fffffff);
    if (a.lthreshold !== undefined) spec.lowerThreshold = this.int(a.lthreshold, 'l-threshold', 0, 0x7fffffff);
    return spec;
  }

  /** The service a request names, or ipvsadm's "No such service". */
  serviceFor(v: unknown): VirtualService {
    return this.service(v, 'No such service');
  }

  private service(v: unknown, missing: string): VirtualService {
    const k = this.svcKey(v);
    const svc = k.fwmark ? this.p.services.findFwmark(k.fwmark) : this.p.services.findService(k.proto, k.vip, k.port);
    if (!svc) throw new LvsError('ESRCH', missing);
    return svc;
  }

  private svcKey(v: unknown): { proto: Proto; vip: number; port: number; fwmark: number } {
    const o = (v ?? {}) as Args;
    if (o.fwmark !== undefined) return { proto: PROTO_TCP, vip: 0, port: 0, fwmark: this.int(o.fwmark, 'fwmark', 1, 0xffffffff) };
    if (o.proto !== 'tcp' && o.proto !== 'udp') throw new LvsError('EINVAL', `service protocol must be tcp or udp, got ${JSON.stringify(o.proto)}`);
    return { proto: o.proto === 'udp' ? PROTO_UDP : PROTO_TCP, vip: this.addr(o.addr, 'service address'), port: this.int(o.port ?? 0, 'port', 0, 65535), fwmark: 0 };
  }

  private matchText(v: unknown): string {
    if (typeof v !== 'string' || !v.trim()) {
      throw new LvsError('EINVAL', "a firewall-mark service needs its nftables match (--match 'ip daddr A tcp dport P'): lvsd sets the mark itself");
    }
    return v;
  }

  private destKey(v: unknown, svc: VirtualService): { addr: number; port: number } {
    const o = (v ?? {}) as Args;
    return { addr: this.addr(o.addr, 'real server address'), port: this.int(o.port ?? svc.port, 'port', 0, 65535) };
  }

  private scheduler(v: unknown): string {
    if (typeof v !== 'string' || !findScheduler(v)) throw new LvsError('ENOENT', 'Scheduler or persistence engine not found');
    return v;
  }

  private flags(v: unknown, sched: string): number {
    if (v === undefined) return 0;
    if (!Array.isArray(v)) throw new LvsError('EINVAL', 'scheduler flags must be a list');
    let f = 0;
    for (const name of v as string[]) {
      const bit = SCHED_FLAG_NAMES[name];
      if (bit === undefined) throw new LvsError('EINVAL', `invalid scheduler flag '${name}'`);
      if ((name.startsWith('sh-') && sched !== 'sh') || (name.startsWith('mh-') && sched !== 'mh')) {
        throw new LvsError('EINVAL', `incompatible scheduler flag '${name}'`);
      }
      f |= bit;
    }
    return f;
  }

  private persistence(a: Args): { timeout: number; netmask: number } {
    const timeout = a.persistent === undefined || a.persistent === false ? 0 : a.persistent === true
      ? DEFAULT_PERSISTENCE : this.int(a.persistent, 'persistent timeout', 1, MAX_TIMEOUT);
    const netmask = a.netmask === undefined ? 0xffffffff : this.addr(a.netmask, 'netmask');
    return { timeout, netmask };
  }

  private addrList(v: unknown, what: string): number[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new LvsError('EINVAL', `${what} must be a list of addresses`);
    return v.map((x) => this.addr(x, what));
  }

  private addr(v: unknown, what: string): number {
    if (typeof v !== 'string' || !Validator.isValidIPv4String(v)[0]) throw new LvsError('EINVAL', `${what}: ${JSON.stringify(v)} is not an IPv4 address`);
    return Number(new IPv4(v).getValue());
  }

  private int(v: unknown, what: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new LvsError('EINVAL', `${what} must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
    return v;
  }

  private seconds(v: unknown, what: string, dflt: number): number {
    return v === true || v === null ? dflt : this.int(v, what, 1, MAX_TIMEOUT);
  }
}

/** The edits a batch (or the control socket) may name. */
export const EDITS: Record<string, (this: ServiceControl, a: Args) => void> = {
  addService: ServiceControl.prototype.addService,
  editService: ServiceControl.prototype.editService,
  deleteService: ServiceControl.prototype.deleteService,
  clear: ServiceControl.prototype.clear,
  addDest: ServiceControl.prototype.addDest,
  editDest: ServiceControl.prototype.editDest,
  deleteDest: ServiceControl.prototype.deleteDest,
  setTimeouts: ServiceControl.prototype.setTimeouts,
  zero: ServiceControl.prototype.zero,
  addLaddr: ServiceControl.prototype.addLaddr,
  delLaddr: ServiceControl.prototype.delLaddr,
};

/** Schedulers whose pick depends on past picks or randomness, not only on the table. */
const HISTORY_SCHEDULERS = new Set(['rr', 'wrr', 'twos', 'lblc', 'lblcr']);

const CLOSING = new Set([S_FIN_WAIT, S_TIME_WAIT, S_CLOSE, S_CLOSE_WAIT, S_LAST_ACK]);
