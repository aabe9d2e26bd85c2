// lvsd's assembly: tables sized from config, the pipeline on a PacketIo, the fence, the neighbour loop,
// the one coarse clock tick, and the control socket. Start and stop are the only lifecycle.
import { readFileSync } from 'node:fs';
import { Clock } from './clock';
import type { DaemonConfig } from './control/config';
import { ControlServer } from './control/server';
import { ServiceControl } from './control/service-control';
import { parseIpvsadm } from './control/ipvsadm-args';
import { splitWords, toRequest } from './control/ipvsadm-requests';
import { S_ESTABLISHED, S_FIN_WAIT, S_UDP } from './conn/tcp-state';
import type { RealServer } from './service/types';
import { LvsError } from './control/errors';
import type { ConnView, ListResult, ServiceView } from './control/protocol';
import { RATE_PERIOD_S, RateEstimator } from './service/rates';
import { VipPathChecker } from './health/vip-path';
import { networkInterfaces } from 'node:os';
import { SyncDaemon, syncDefaults } from './sync/sync-daemon';
import { startMetrics } from './metrics/exporter';
import { reloadPlan } from './control/reload';
import type { ControlRequest } from './control/ipvsadm-requests';
import { HealthControl } from './health/apply';
import type { KeepalivedService } from './control/keepalived';
import { copyMac } from './packet/ethernet';
import { STATE_NAMES } from './conn/tcp-state';
import { CF_TEMPLATE, forwarderOf } from './pipeline';
import { ConnTable } from './conn/table';
import { defaultTimeouts, setTimeouts } from './conn/timeouts';
import { forwarderId } from './forward';
import { captureFilter } from './io/capture-filter';
import { Fence } from './io/fence';
import { FenceWatch } from './io/fence-watch';
import { readInterface, sourceFor, type InterfaceInfo } from './io/interface-info';
import { NeighbourTable } from './io/neighbour';
import type { IpSender } from './io/ip-sender';
import type { PacketIo } from './io/packet-io';
import { routeTo } from './io/route';
import type { Logger } from './log';
import { writeArpRequest } from './packet/arp';
import { ipv4ToString, macToString, parseIpv4 } from './packet/format';
import { Pipeline } from './pipeline';
import { ServiceTable, ST_FIELDS } from './service/table';
import { PARSE_ERROR_NAMES } from './packet/flow';
import { clientSteer } from './io/matches';
import { shardOf, type Shard } from './io/steer';
import { mergeLists, mergeStatus, type StatusView } from './worker/merge';
import { WorkerPool } from './worker/pool';
import { ReplicatedControl } from './worker/replicated-control';
import { toWire } from './worker/wire-config';
import { svcKey } from './control/reload';
import {
  V_DROP_LADDR, V_DROP_NEIGH, V_DROP_NO_DEST, V_DROP_SEND, V_DROP_TABLE_FULL, V_DROP_TOO_BIG, VERDICT_NAMES,
} from './verdict';

/** Drops an operator must hear about (once a second at most, with how many), not only find in counters. */
const LOGGED_DROPS = [V_DROP_LADDR, V_DROP_TABLE_FULL, V_DROP_NO_DEST, V_DROP_SEND, V_DROP_TOO_BIG, V_DROP_NEIGH];

const MAX_SERVICES = 1024;
const MAX_DESTS = 16384;
const NEIGH_REFRESH_S = 30;
/** How long start waits for RS MACs, so the first SYN is not dropped unresolved. */
const NEIGH_START_WAIT_MS = 2000;

export interface DaemonOptions {
  socket: string;
  log: Logger;
  /** The packet I/O to run on, one per capture interface; libpcap in production, memory in tests. */
  makeIo: (iface: string, filter: string) => PacketIo;
  /** The L3 emit path (TUN, NAT, FullNAT); a raw IPv4 socket in production. */
  makeIp: () => IpSender;
  /** Whether to manage the nftables fence (tests on memory I/O turn it off). */
  fence?: boolean;
  /** Services from a keepalived.conf: their checkers run and their verdicts edit the table. */
  keepalived?: KeepalivedService[];
  /** This daemon's share of the flows when it runs as capture worker `index` > 0 (a process; see worker/). */
  shard?: Shard;
  /** The worker process script; with it and `workers` > 1 in the config, this daemon is worker 0 of a pool. */
  workerScript?: string;
}

export class Daemon {
  readonly clock = new Clock();
  readonly timeouts = defaultTimeouts();
  readonly services = new ServiceTable(MAX_SERVICES, MAX_DESTS);
  readonly neigh = new NeighbourTable(MAX_DESTS);
  readonly conns: ConnTable;
  readonly pipeline: Pipeline;
  readonly ifaces: InterfaceInfo[];
  private readonly ios: PacketIo[];
  private readonly ip: IpSender;
  private readonly fence: Fence | null;
  /** Puts the fence back when it is deleted or flushed by hand (io/fence-watch.ts). */
  private fenceWatch: FenceWatch | null = null;
  private readonly control: ControlServer;
  private readonly ctl: ServiceControl;
  private readonly localAddrs: number[];
  private readonly log: Logger;
  private tick: NodeJS.Timeout | null = null;
  private readonly startedAt = process.hrtime.bigint();
  private readonly arpFrame = Buffer.alloc(64);
  private readonly droppedSeen = new Float64Array(LOGGED_DROPS.length);
  private readonly svcRates: RateEstimator;
  readonly vipPath: VipPathChecker;
  private readonly sync: SyncDaemon;
  private health: HealthControl | null = null;
  private metrics: { url: string; close(): Promise<void> } | null = null;
  private readonly keepalived: KeepalivedService[];
  private readonly destRates: RateEstimator;
  /** Which share of the flows this daemon captures: worker 0 of `count` is the control plane. */
  readonly shard: Shard;
  private readonly pool: WorkerPool | null;

  constructor(readonly config: DaemonConfig, opts: DaemonOptions) {
    this.log = opts.log;
    const count = opts.shard?.count ?? (opts.workerScript ? config.workers : 1);
    this.shard = opts.shard ?? { index: 0, count };
    this.pool = this.shard.index === 0 && count > 1 ? new WorkerPool(opts.workerScript!, this.log.child({ component: 'workers' })) : null;
    this.services.lportShard = this.shard;
    this.keepalived = opts.keepalived ?? [];
    this.ifaces = config.interfaces.map(readInterface);
    setTimeouts(this.timeouts, config.timeouts.tcp, config.timeouts.tcpfin, config.timeouts.udp);
    for (const s of config.services) {
      const svc = this.services.addService({
        proto: s.proto, vip: s.vip, port: s.port, fwmark: s.fwmark, match: s.match ?? undefined, scheduler: s.scheduler, laddrs: s.localAddresses,
        persistTimeout: s.persistent, netmask: s.netmask, schedFlags: s.schedFlags, mhTableSize: s.mhTableSize,
      });
      for (const r of s.reals) {
        const rs = this.services.addDest(svc, { addr: r.ip, port: r.port, weight: r.weight, forward: r.forward, fwdId: forwarderId(r.forward) });
        this.prepareDest(rs);
      }
    }
    let pipeline: Pipeline | null = null;
    // conn_max bounds the whole director: each worker holds its share.
    this.conns = new ConnTable(Math.ceil(config.connMax / this.shard.count), { onExpire: (c) => pipeline!.onExpire(c) });
    const local = this.ifaces.flatMap((f) => f.addrs.map((a) => a.addr));
    this.localAddrs = local;
    this.ios = this.ifaces.map((f) => opts.makeIo(f.name, captureFilter(this.services.list(), macToString(f.mac, 0), local, this.shard)));
    this.ip = opts.makeIp();
    const ifMacs = new Uint8Array(6 * this.ifaces.length);
    this.ifaces.forEach((f, i) => ifMacs.set(f.mac, i * 6));
    pipeline = new Pipeline({
      services: this.services, conns: this.conns, neigh: this.neigh, clock: this.clock, timeouts: this.timeouts,
      ios: this.ios, ifMacs, ip: this.ip,
      // amemthresh counts free slots of the whole director; each worker's table holds its share.
      defense: config.defense && { ...config.defense, amemthresh: Math.ceil(config.defense.amemthresh / this.shard.count) },
    });
    this.pipeline = pipeline;
    this.fence = opts.fence === false || !config.fence.enabled || this.isWorker ? null : new Fence(config.fence.table, config.interfaces, local);
    this.vipPath = new VipPathChecker({
      l2: (rip, frame) => {
        const s = this.neigh.find(rip);
        if (s < 0 || !this.neigh.resolved[s]) return -1;
        const k = this.ifaceFor(rip);
        copyMac(frame, 0, this.neigh.macs, s * 6);
        copyMac(frame, 6, this.ifaces[k].mac, 0);
        return k;
      },
      sendFrame: (k, frame, len) => this.ios[k].send(frame, len),
      sendIp: (b, off, len, dst) => this.ip.sendIp(b, off, len, dst),
      source: (rip) => this.services.dests.find((d) => d !== null && d.addr === rip)?.localAddr ?? sourceFor(this.ifaces[0], rip),
    });
    this.pipeline.probeSink = this.vipPath;
    this.sync = new SyncDaemon(this.pipeline, this.conns, this.services, () => this.clock.now, this.log.child({ component: 'sync' }));
    this.svcRates = new RateEstimator(this.services.svcStats);
    this.destRates = new RateEstimator(this.services.destStats);
    const parts = {
      services: this.services, conns: this.conns, release: (c: number) => this.pipeline.release(c), timeouts: this.timeouts,
      now: () => this.clock.now, prepareDest: (rs: RealServer) => this.prepareDest(rs), changed: () => this.changed(),
      othersOpen: (rs: RealServer) => this.pool?.openConns(rs.id) ?? 0,
    };
    const pool = this.pool;
    this.ctl = pool ? new ReplicatedControl(parts, (cmd, a) => pool.broadcast(cmd, a)) : new ServiceControl(parts);
    const edit = (fn: (a: Record<string, unknown>) => void) => (a: Record<string, unknown>) => {
      fn.call(this.ctl, a);
      this.log.info({ change: a }, 'service table changed');
      return null;
    };
    this.control = new ControlServer(opts.socket, {
      list: () => this.listAll(),
      status: () => this.statusAll(),
      timeouts: () => ({ tcp: this.timeouts[S_ESTABLISHED], tcpfin: this.timeouts[S_FIN_WAIT], udp: this.timeouts[S_UDP] }),
      addService: edit(this.ctl.addService),
      editService: edit(this.ctl.editService),
      deleteService: edit(this.ctl.deleteService),
      clear: edit(this.ctl.clear),
      addDest: edit(this.ctl.addDest),
      editDest: edit(this.ctl.editDest),
      deleteDest: edit(this.ctl.deleteDest),
      setTimeouts: edit(this.ctl.setTimeouts),
      zero: edit(this.ctl.zero),
      batch: edit(this.ctl.batch),
      addLaddr: edit(this.ctl.addLaddr),
      delLaddr: edit(this.ctl.delLaddr),
      getLaddr: (a) => this.ctl.getLaddr(a),
      probe: (a) => this.probe(a),
      startDaemon: (a) => {
        // Connections live in the worker that owns their flow; the v1 sync protocol has one table to mirror.
        if (this.pool) throw new LvsError('EINVAL', 'the sync daemon needs workers: 1 (each capture worker keeps its own connections)');
        return this.startSync(a);
      },
      stopDaemon: (a) => {
        this.sync.stop(a.state === 'backup' ? 'backup' : 'master');
        return null;
      },
      daemonStatus: () => this.sync.status(),
      conns: (a) => this.connsAll(a),
      which: (a) => this.whichAll(a),
    }, this.log.child({ component: 'control' }), { gid: config.control?.gid });
  }

  /** --start-daemon master|backup, with ipvsadm's defaults (interface eth0, group 224.0.0.81, port 8848, ttl 1). */
  private async startSync(a: Record<string, unknown>): Promise<null> {
    const state = a.state === 'backup' ? 'backup' : 'master';
    const ifname = typeof a.mcastInterface === 'string' ? a.mcastInterface : 'eth0';
    const addr = (networkInterfaces()[ifname] ?? []).find((x) => x.family === 'IPv4')?.address;
    if (!addr) throw new LvsError('EINVAL', `sync daemon: interface ${ifname} has no IPv4 address here`);
    const spec = syncDefaults(state, ifname, addr);
    if (typeof a.syncid === 'number') spec.syncid = a.syncid;
    if (typeof a.group === 'string') spec.group = a.group;
    if (typeof a.port === 'number') spec.port = a.port;
    if (typeof a.ttl === 'number') spec.ttl = a.ttl;
    if (typeof a.maxlen === 'number') spec.maxlen = a.maxlen;
    await this.sync.start(spec);
    return null;
  }

  /** One VIP-path check of a real server now (lvsadm --probe; the health manager runs the same checker). */
  private async probe(a: Record<string, unknown>): Promise<unknown> {
    const svc = this.ctl.serviceFor(a.svc);
    const d = (a.dest ?? {}) as { addr?: string; port?: number };
    const rs = svc.dests.find((x) => ipv4ToString(x.addr >>> 0) === d.addr && (d.port === undefined || x.port === d.port));
    if (!rs) throw new LvsError('ENOENT', 'No such destination');
    const target = { ip: ipv4ToString(rs.addr >>> 0), port: rs.port, vip: ipv4ToString(svc.vip >>> 0), vport: svc.port, forward: rs.forward };
    const spec = { kind: 'VIP_PATH' as const, connectTimeout: typeof a.timeout === 'number' ? a.timeout : 2, retry: 0, delayBeforeRetry: 1, delayLoop: 5 };
    return this.vipPath.check(target, spec, new AbortController().signal);
  }

  /** The capture interface whose subnet holds `ip` (where DR reaches it on-link), else the first. */
  private ifaceFor(ip: number): number {
    return Math.max(0, this.ifaces.findIndex((f) => f.addrs.some((a) => a.mask !== 0xffffffff && ((a.addr ^ ip) & a.mask) >>> 0 === 0)));
  }

  /** The config's `rules:` (ipvsadm-save text), as one batch: all of them, or the daemon does not start. */
  private async applyRules(): Promise<void> {
    if (this.config.rules.length === 0) return;
    const commands = [];
    for (const line of this.config.rules) {
      const r = await toRequest(parseIpvsadm(splitWords(line).filter((w) => w !== 'ipvsadm' && w !== 'lvsadm')));
      if (r) commands.push(r);
    }
    this.ctl.batch({ commands });
  }

  /** A real server about to carry traffic: the route towards it (TUN's source, path MTU) and its MAC (DR). */
  private prepareDest(rs: RealServer): void {
    const route = routeTo(rs.addr);
    rs.localAddr = (route?.src || sourceFor(this.ifaces[0], rs.addr)) | 0;
    rs.mtu = route?.mtu ?? 1500;
    // Only DR writes L2 headers itself; the other methods let the kernel resolve the next hop.
    if (rs.forward === 'dr') {
      rs.neighSlot = this.neigh.slotFor(rs.addr);
      if (this.tick !== null) this.refreshNeighbours(false);
    }
  }

  /** The service table changed: the capture filters and the fence follow it. */
  private changed(): void {
    const list = this.services.list();
    this.ios.forEach((io, i) => io.setFilter(captureFilter(list, macToString(this.ifaces[i].mac, 0), this.localAddrs, this.shard)));
    this.fence?.apply(list);
  }

  /** A capture worker other than 0: a data path only (no socket, fence, health, metrics or sync of its own). */
  get isWorker(): boolean {
    return this.shard.index > 0;
  }

  /** A worker process's start: capture its share, learn the neighbours, tick. Edits arrive through applyEdit. */
  async startWorker(): Promise<void> {
    this.ios.forEach((io, i) => io.start(this.pipeline.sinks[i]));
    await this.resolveNeighbours(NEIGH_START_WAIT_MS);
    this.tick = setInterval(() => this.onTick(), 1000);
  }

  /** An edit the control plane applied, replayed in a worker (worker/pool.ts). */
  applyEdit(cmd: string, args: Record<string, unknown>): void {
    if (cmd === 'batch') this.ctl.batch(args);
    else if (cmd === 'clear') this.ctl.clear();
    else this.ctl.run(cmd, args);
  }

  /** A worker's answer to the control plane (the views it adds up). */
  answer(op: string, args: Record<string, unknown>): unknown {
    if (op === 'list') return this.list();
    if (op === 'status') return this.status();
    if (op === 'conns') return this.connList(args);
    if (op === 'which') return this.ctl.which(args);
    throw new Error(`unknown question ${op}`);
  }

  /** Open connections of each draining RS, for the control plane that decides when a drain ends. */
  drainReport(): [number, number][] {
    return this.services.dests.flatMap((d) => (d !== null && d.drainDeadline > 0 ? [[d.id, this.ctl.openConns(d)] as [number, number]] : []));
  }

  async start(): Promise<void> {
    if (this.isWorker) return this.startWorker();
    // The fence first: from here on the kernel leaves VIP:port to us, so nothing is answered twice.
    this.fence?.apply(this.services.list());
    if (this.fence) {
      this.fenceWatch = new FenceWatch(this.fence, this.log.child({ component: 'fence' }));
      this.fenceWatch.start();
    }
    try {
      // Workers start from the same config; every edit from here on reaches them (ReplicatedControl).
      await this.pool?.start(toWire(this.config), this.shard.count);
      await this.applyRules();
      if (this.keepalived.length > 0) {
        this.health = new HealthControl(this.ctl, this.services, this.log.child({ component: 'health' }), [this.vipPath]);
        this.health.load(this.keepalived);
      }
      this.ios.forEach((io, i) => io.start(this.pipeline.sinks[i]));
      await this.resolveNeighbours(NEIGH_START_WAIT_MS);
      this.tick = setInterval(() => this.onTick(), 1000);
      await this.control.listen();
      if (this.config.metrics.enabled) {
        this.metrics = await startMetrics({
          listen: this.config.metrics.listen, token: this.config.metrics.token,
          snapshot: async () => ({ list: await this.listAll(), status: await this.statusAll() }), log: this.log.child({ component: 'metrics' }),
        });
      }
    } catch (err) {
      this.stop();
      throw err;
    }
    this.log.info(
      {
        interfaces: this.config.interfaces, services: this.services.list().length, connMax: this.config.connMax,
        workers: this.shard.count, io: this.config.io, fence: this.fence !== null,
      },
      'lvsd started',
    );
  }

  /**
   * SIGHUP: take a newly read config as the table's target. Only what changed is edited, as one batch (all or
   * nothing), so established connections of unchanged real servers go on; the edits are logged.
   */
  async reload(config: DaemonConfig, keepalived?: KeepalivedService[]): Promise<ControlRequest[]> {
    if (config.interfaces.join() !== this.config.interfaces.join()) {
      this.log.warn({ now: this.config.interfaces, config: config.interfaces }, 'interfaces change only at restart');
    }
    const plan = reloadPlan(this.services.list(), config.services);
    this.ctl.batch({ commands: plan });
    this.ctl.setTimeouts(config.timeouts);
    if (keepalived) {
      await this.health?.stop();
      this.health = new HealthControl(this.ctl, this.services, this.log.child({ component: 'health' }), [this.vipPath]);
      this.health.load(keepalived);
    }
    this.log.info({ changes: plan }, `config reloaded: ${plan.length} change(s)`);
    return plan;
  }

  stop(): void {
    // First, so the fence removed below is not put back.
    this.fenceWatch?.stop();
    this.fenceWatch = null;
    if (this.tick) clearInterval(this.tick);
    this.tick = null;
    void this.health?.stop();
    this.sync.stopAll();
    void this.metrics?.close();
    this.metrics = null;
    this.health = null;
    this.control.close();
    void this.pool?.stop();
    for (const io of this.ios) io.close();
    this.ip.close();
    try {
      this.fence?.remove();
    } catch (err) {
      this.log.error({ err }, 'could not remove the nftables fence');
    }
  }

  list(): ListResult {
    const stats = (arr: Float64Array, id: number): number[] => Array.from(arr.subarray(id * ST_FIELDS, (id + 1) * ST_FIELDS));
    const services: ServiceView[] = this.services.list().map((s) => ({
      proto: s.proto, vip: s.vip, port: s.port, scheduler: s.schedName, stats: stats(this.services.svcStats, s.id),
      rates: this.svcRates.of(s.id),
      ...(s.fwmark ? { fwmark: s.fwmark, match: s.match?.toNft() } : {}),
      flags: s.schedFlags, persistent: s.persistTimeout, netmask: s.netmask,
      dests: s.dests.map((d) => ({
        addr: d.addr, port: d.port, forward: d.forward, weight: d.weight, activeConns: d.activeConns,
        inactConns: d.inactConns, persistConns: d.persistConns, uthreshold: d.upperThreshold, lthreshold: d.lowerThreshold,
        stats: stats(this.services.destStats, d.id), rates: this.destRates.of(d.id),
        drain: d.drainDeadline > 0 ? { left: Math.max(0, d.drainDeadline - this.clock.now), open: this.ctl.openConns(d) } : undefined,
        health: this.health?.stateOf(s.vip, s.port, s.proto, d.addr, d.port),
      })),
    }));
    return { version: '1.2.1', size: this.conns.hashSize, services };
  }

  status(): Record<string, unknown> {
    const named = (names: Readonly<Record<number, string>> | readonly string[], values: Float64Array, sign: number) =>
      Object.fromEntries(Object.entries(names).map(([k, n]) => [n, values[sign * Number(k)]]));
    return {
      metrics: this.metrics?.url ?? null,
      interfaces: this.config.interfaces,
      io: this.config.io,
      uptime: this.clock.now,
      conns: this.conns.count,
      connMax: this.conns.capacity,
      verdicts: named(VERDICT_NAMES, this.pipeline.verdicts, 1),
      parseErrors: named(PARSE_ERROR_NAMES, this.pipeline.parseErrors, -1),
      defense: this.pipeline.defense.status(),
      capture: this.ios.map((io, i) => ({ interface: this.config.interfaces[i], ...io.health?.() })),
      // The L3 sender (TUN, NAT, FullNAT): a batched send that fails at the flush had its verdict already counted.
      ipSend: { errors: this.ip.errors ?? 0, lastError: this.ip.lastError == null ? null : String(this.ip.lastError) },
      health: this.health?.states() ?? [],
      neighbours: Array.from({ length: this.neigh.size }, (_, s) => ({
        ip: ipv4ToString(this.neigh.ips[s]), resolved: this.neigh.resolved[s] === 1,
      })),
    };
  }

  private onTick(): void {
    this.clock.now = 1 + Number((process.hrtime.bigint() - this.startedAt) / 1_000_000_000n);
    this.conns.advance(this.clock.now);
    // The defense's once-a-second update, also when no frame arrives to run it.
    this.pipeline.tickDefense();
    if (this.clock.now % RATE_PERIOD_S === 0) {
      this.svcRates.sample();
      this.destRates.sample();
    }
    // Only the control plane ends drains (with every worker's open connections counted), then tells the workers.
    if (!this.isWorker) this.endDrains();
    this.refreshNeighbours(this.clock.now % NEIGH_REFRESH_S === 0);
    this.logDrops();
  }

  /** The views of all workers added up: what lvsadm and the metrics show. */
  private async listAll(): Promise<ListResult> {
    const mine = this.list();
    return this.pool ? mergeLists(mine, await this.pool.askAll<ListResult>('list')) : mine;
  }

  private async statusAll(): Promise<Record<string, unknown>> {
    const mine = this.status() as StatusView;
    return this.pool ? mergeStatus(mine, await this.pool.askAll<StatusView>('status')) : mine;
  }

  private async connsAll(a: Record<string, unknown>): Promise<{ conns: ConnView[]; truncated: boolean }> {
    const mine = this.connList(a);
    if (!this.pool) return mine;
    const max = typeof a.max === 'number' ? a.max : 100_000;
    const all = [mine, ...await this.pool.askAll<{ conns: ConnView[]; truncated: boolean }>('conns', a)];
    const conns = all.flatMap((x) => x.conns);
    return { conns: conns.slice(0, max), truncated: all.some((x) => x.truncated) || conns.length > max };
  }

  /** lvsadm -W: asked of the worker that owns the client's flow. */
  private async whichAll(a: Record<string, unknown>): Promise<unknown> {
    if (!this.pool) return this.ctl.which(a);
    const svc = this.ctl.serviceFor(a.svc);
    const c = (a.client ?? {}) as { addr?: unknown; port?: unknown };
    const addr = typeof c.addr === 'string' ? parseIpv4(c.addr) : -1;
    if (addr < 0) return this.ctl.which(a); // its own error names the bad address
    const k = shardOf(addr, typeof c.port === 'number' ? c.port : 0, clientSteer(svc, 'src'), this.shard.count);
    return k === 0 ? this.ctl.which(a) : this.pool.ask(k, 'which', a);
  }

  private endDrains(): void {
    for (const rs of this.ctl.tickDrains()) {
      this.log.info({ rs: `${ipv4ToString(rs.addr)}:${rs.port}` }, 'drained real server removed');
      const svc = this.services.services[rs.svcId];
      if (svc) this.pool?.broadcast('deleteDest', { svc: svcKey(svc), dest: { addr: ipv4ToString(rs.addr >>> 0), port: rs.port } });
    }
  }

  /** lvsadm -c: every connection and template, as /proc/net/ip_vs_conn lists them (bounded). */
  private connList(a: Record<string, unknown>): { conns: ConnView[]; truncated: boolean } {
    const max = typeof a.max === 'number' ? a.max : 100_000;
    const t = this.conns;
    const out: ConnView[] = [];
    let truncated = false;
    t.forEach((c) => {
      if (out.length >= max) {
        truncated = true;
        return;
      }
      const i = c * 2;
      const o = i + 1;
      const template = (t.flagsOf(c) & CF_TEMPLATE) !== 0;
      const proto = t.protoOf(c) & 0xff;
      const svc = this.services.services[t.svcOf(c)];
      out.push({
        proto: proto === 6 ? 'TCP' : proto === 17 ? 'UDP' : 'IP', expire: Math.max(0, t.expiresOf(c) - this.clock.now),
        state: template ? 'NONE' : STATE_NAMES[t.stateOf(c)], caddr: t.tSrc(i) >>> 0, cport: t.tSport(i),
        vaddr: t.tDst(i) >>> 0, vport: t.tDport(i),
        daddr: this.services.dests[t.destOf(c)]?.addr ?? 0,
        dport: template ? (svc?.fwmark ? 0 : this.services.dests[t.destOf(c)]?.port ?? 0) : forwarderOf(t.flagsOf(c)).seesReplies ? t.tSport(o) : t.tDport(i),
        template,
      });
    });
    return { conns: out, truncated };
  }

  private logDrops(): void {
    LOGGED_DROPS.forEach((v, i) => {
      const n = this.pipeline.verdicts[v];
      if (n > this.droppedSeen[i]) {
        this.log.warn({ reason: VERDICT_NAMES[v], count: n - this.droppedSeen[i], total: n }, 'packets dropped');
        this.droppedSeen[i] = n;
      }
    });
  }

  /** Ask for every RS MAC and wait (bounded) until all answer; what stays unresolved is retried each tick. */
  private async resolveNeighbours(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (let round = 0; Date.now() < deadline; round++) {
      if (round % 10 === 0) this.refreshNeighbours(round === 0);
      if (this.neigh.unresolved().length === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    const missing = this.neigh.unresolved().map(ipv4ToString);
    if (missing.length > 0) this.log.warn({ missing }, 'real servers not answering ARP yet; retrying every second');
  }

  /** Learn RS MACs from the kernel's table, then ask by ARP for what is missing (or all, to refresh). */
  private refreshNeighbours(all: boolean): void {
    try {
      this.neigh.learnFromProc(readFileSync('/proc/net/arp', 'utf8'), this.clock.now);
    } catch {
      /* no /proc in this environment: ARP alone will do */
    }
    const want = all ? Array.from({ length: this.neigh.size }, (_, s) => this.neigh.ips[s]) : this.neigh.unresolved();
    for (const ip of want) {
      const k = this.ifaceFor(ip);
      const len = writeArpRequest(this.arpFrame, 0, this.ifaces[k].mac, 0, sourceFor(this.ifaces[k], ip), ip);
      this.ios[k].send(this.arpFrame, len);
    }
    for (const ip of this.neigh.unresolved()) this.log.debug({ rs: ipv4ToString(ip) }, 'RS MAC not resolved yet');
  }
}
