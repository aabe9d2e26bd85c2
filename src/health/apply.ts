// What a health verdict does, as keepalived does it: a failed real server leaves the table (or stays at weight 0
// with inhibit_on_failure), comes back with its weight when healthy; the sorry server takes over while the
// quorum of live weight is lost; notify and quorum programs run as argument vectors. The desired table of a
// service is recomputed on every change and reconciled through the same edits lvsadm makes.
import { execFile } from 'node:child_process';
import type { KeepalivedRealServer, KeepalivedService } from '../control/keepalived';
import type { ServiceControl } from '../control/service-control';
import { svcKey } from '../control/reload';
import type { Logger } from '../log';
import { ipv4ToString } from '../packet/format';
import { PROTO_UDP } from '../service/types';
import type { ServiceTable } from '../service/table';
import { HealthManager, quorumState } from './manager';
import type { Checker } from './types';

interface RealPlan {
  key: string;
  real: KeepalivedRealServer;
  up: boolean;
  reason: string;
  weight?: number;
}

interface ServicePlan {
  svc: KeepalivedService;
  reals: RealPlan[];
  quorumOk: boolean;
}

const PROGRAM_TIMEOUT_MS = 10_000;

export class HealthControl {
  private readonly manager: HealthManager;
  private readonly plans: ServicePlan[] = [];
  private readonly byKey = new Map<string, { plan: ServicePlan; real: RealPlan }>();

  constructor(
    private readonly ctl: ServiceControl,
    private readonly table: ServiceTable,
    private readonly log: Logger,
    extraCheckers: readonly Checker[] = [],
  ) {
    this.manager = new HealthManager({ onChange: (k, up, reason, w) => this.onChange(k, up, reason, w), log, checkers: extraCheckers });
  }

  /** Start checking the services of a keepalived configuration (their tables are already loaded). */
  load(services: readonly KeepalivedService[]): void {
    for (const svc of services) {
      const plan: ServicePlan = { svc, reals: [], quorumOk: true };
      for (const real of svc.reals) {
        const key = `${svcName(svc)} -> ${ipv4ToString(real.ip >>> 0)}:${real.port}`;
        const target = {
          ip: ipv4ToString(real.ip >>> 0), port: real.port, vip: ipv4ToString(svc.vip >>> 0), vport: svc.port, forward: real.forward,
        };
        const st = this.manager.add(key, target, real.checkers, { alpha: real.alpha || svc.alpha });
        const rp: RealPlan = { key, real, up: st.up, reason: st.reason };
        plan.reals.push(rp);
        this.byKey.set(key, { plan, real: rp });
      }
      plan.quorumOk = quorumState(true, this.liveWeight(plan), svc.quorum, svc.hysteresis);
      this.plans.push(plan);
      this.reconcile(plan);
    }
  }

  /** Health of every checked real server, for status and listings. */
  states(): { rs: string; up: boolean; reason: string }[] {
    return [...this.byKey.values()].map(({ real }) => ({ rs: real.key, up: real.up, reason: real.reason }));
  }

  /** The verdict of one real server of a service, or undefined when it is not checked. */
  stateOf(vip: number, vport: number, proto: number, addr: number, port: number): { up: boolean; reason: string } | undefined {
    for (const p of this.plans) {
      if (p.svc.vip >>> 0 !== vip >>> 0 || p.svc.port !== vport || p.svc.proto !== proto) continue;
      const r = p.reals.find((x) => x.real.ip >>> 0 === addr >>> 0 && x.real.port === port);
      if (r) return { up: r.up, reason: r.reason };
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await this.manager.stop();
  }

  private onChange(key: string, up: boolean, reason: string, weight?: number): void {
    const hit = this.byKey.get(key);
    if (!hit) return;
    const { plan, real } = hit;
    const was = real.up;
    real.up = up;
    real.reason = reason;
    real.weight = weight;
    if (was !== up) {
      const prog = up ? real.real.notifyUp : real.real.notifyDown;
      if (prog) this.run(prog, key);
    }
    const q = quorumState(plan.quorumOk, this.liveWeight(plan), plan.svc.quorum, plan.svc.hysteresis);
    if (q !== plan.quorumOk) {
      plan.quorumOk = q;
      this.log.warn({ service: svcName(plan.svc), quorum: q }, q ? 'quorum gained' : 'quorum lost');
      const prog = q ? plan.svc.quorumUp : plan.svc.quorumDown;
      if (prog) this.run(prog, svcName(plan.svc));
    }
    this.reconcile(plan);
  }

  private liveWeight(plan: ServicePlan): number {
    return plan.reals.reduce((n, r) => n + (r.up ? (r.weight ?? r.real.weight) : 0), 0);
  }

  /** Make the live table match what the verdicts say, with lvsadm's own edits. */
  private reconcile(plan: ServicePlan): void {
    const s = plan.svc;
    const key = svcKey(s);
    const live = this.table.findService(s.proto, s.vip, s.port);
    if (!live) return;
    const want = new Map<string, { addr: string; port: number; forward: string; weight: number; ux?: number; lx?: number }>();
    for (const r of plan.reals) {
      const inhibit = r.real.inhibitOnFailure;
      if (!plan.quorumOk && !inhibit) continue;
      if (!r.up && !inhibit) continue;
      const w = r.up && plan.quorumOk ? (r.weight ?? r.real.weight) : 0;
      want.set(`${r.real.ip >>> 0}:${r.real.port}`, {
        addr: ipv4ToString(r.real.ip >>> 0), port: r.real.port, forward: r.real.forward, weight: w, ux: r.real.uthreshold, lx: r.real.lthreshold,
      });
    }
    if (!plan.quorumOk && s.sorryServer) {
      const ss = s.sorryServer;
      want.set(`${ss.ip >>> 0}:${ss.port}`, { addr: ipv4ToString(ss.ip >>> 0), port: ss.port, forward: ss.forward, weight: 1 });
    }
    for (const d of [...live.dests]) {
      const k = `${d.addr >>> 0}:${d.port}`;
      const w = want.get(k);
      const dest = { addr: ipv4ToString(d.addr >>> 0), port: d.port };
      if (!w) this.ctl.deleteDest({ svc: key, dest });
      else if (w.weight !== d.weight) this.ctl.editDest({ svc: key, dest, forward: d.forward, weight: w.weight });
      want.delete(k);
    }
    for (const w of want.values()) {
      this.ctl.addDest({
        svc: key, dest: { addr: w.addr, port: w.port }, forward: w.forward, weight: w.weight,
        ...(w.ux !== undefined ? { uthreshold: w.ux } : {}), ...(w.lx !== undefined ? { lthreshold: w.lx } : {}),
      });
    }
  }

  /** notify_*, quorum_*: an argument vector, never a shell; its failure is logged, never fatal. */
  private run(argv: string[], about: string): void {
    execFile(argv[0], argv.slice(1), { timeout: PROGRAM_TIMEOUT_MS }, (err) => {
      if (err) this.log.error({ program: argv[0], about, err: err.message }, 'notify program failed');
    });
  }
}

const svcName = (s: KeepalivedService): string => `${s.proto === PROTO_UDP ? 'UDP' : 'TCP'} ${ipv4ToString(s.vip >>> 0)}:${s.port}`;
