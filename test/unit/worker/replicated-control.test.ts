// Capture workers keep identical service tables because the control plane sends each edit it applied, once, in
// order: a replica fed those edits must end up listing exactly what the control plane lists, and a refused edit
// (or a refused batch) must reach no worker.
import { describe, expect, it } from 'vitest';
import { ConnTable } from '../../../src/conn/table';
import { LvsError } from '../../../src/control/errors';
import { ServiceControl, type ControlParts } from '../../../src/control/service-control';
import { ServiceTable } from '../../../src/service/table';
import { ReplicatedControl } from '../../../src/worker/replicated-control';

const SVC = { proto: 'tcp', addr: '10.0.0.100', port: 80 };

function parts(): ControlParts {
  const services = new ServiceTable(16, 64);
  const conns = new ConnTable(64, { onExpire: () => 0 });
  return {
    services, conns, release: (c) => conns.remove(c), timeouts: new Uint32Array(16), now: () => 1,
    prepareDest: () => undefined, changed: () => undefined,
  };
}

const view = (p: ControlParts): unknown =>
  p.services.list().map((s) => ({ vip: s.vip, port: s.port, sched: s.schedName, dests: s.dests.map((d) => [d.addr, d.port, d.weight]) }));

describe('ReplicatedControl', () => {
  it('sends each applied edit once (a batch as one, clear as one), and a replica fed them lists the same table', () => {
    const sent: [string, Record<string, unknown>][] = [];
    const main = parts();
    const ctl = new ReplicatedControl(main, (cmd, a) => sent.push([cmd, a]));
    ctl.addService({ svc: SVC, scheduler: 'rr' });
    ctl.addDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, weight: 2 });
    ctl.batch({ commands: [
      { cmd: 'addDest', args: { svc: SVC, dest: { addr: '10.0.0.12', port: 80 }, weight: 1 } },
      { cmd: 'editService', args: { svc: SVC, scheduler: 'wlc' } },
    ] });
    ctl.editDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, weight: 5 });
    expect(sent.map(([cmd]) => cmd)).toEqual(['addService', 'addDest', 'batch', 'editDest']);

    const replica = parts();
    const rctl = new ServiceControl(replica);
    const replay = (cmd: string, a: Record<string, unknown>): void => (cmd === 'batch' ? rctl.batch(a) : cmd === 'clear' ? rctl.clear() : rctl.run(cmd, a));
    for (const [cmd, a] of sent) replay(cmd, structuredClone(a));
    expect(view(replica)).toEqual(view(main));

    ctl.clear();
    expect(sent.map(([cmd]) => cmd).slice(4)).toEqual(['clear']);
    replay('clear', {});
    expect(view(replica)).toEqual([]);
    expect(view(main)).toEqual([]);
  });

  it('sends nothing when the control plane refuses the edit', () => {
    const sent: string[] = [];
    const ctl = new ReplicatedControl(parts(), (cmd) => sent.push(cmd));
    ctl.addService({ svc: SVC, scheduler: 'rr' });
    expect(() => ctl.addService({ svc: SVC, scheduler: 'rr' })).toThrow(LvsError);
    expect(() => ctl.addDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, weight: -1 })).toThrow(LvsError);
    expect(() => ctl.batch({ commands: [
      { cmd: 'addDest', args: { svc: SVC, dest: { addr: '10.0.0.12', port: 80 } } },
      { cmd: 'addService', args: { svc: { proto: 'tcp', addr: '10.0.0.100', port: 80 } } },
    ] })).toThrow(/line 2/);
    expect(sent).toEqual(['addService']);
  });
});

describe('drains across workers', () => {
  it('a draining RS stays while another worker still holds one of its connections, and leaves once none does', () => {
    let elsewhere = 1;
    const p = { ...parts(), othersOpen: () => elsewhere };
    const ctl = new ServiceControl(p);
    ctl.addService({ svc: SVC, scheduler: 'rr' });
    ctl.addDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 } });
    ctl.deleteDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, graceful: 300 });
    expect(ctl.tickDrains()).toEqual([]);
    expect(p.services.list()[0].dests).toHaveLength(1);
    elsewhere = 0;
    expect(ctl.tickDrains().map((d) => d.port)).toEqual([80]);
    expect(p.services.list()[0].dests).toHaveLength(0);
  });
});
