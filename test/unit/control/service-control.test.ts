// Live edits and IPVS connection semantics on the memory pipeline: persistence templates, quiescing, removal,
// scheduler edits, thresholds, drains and --set, each checked on the packets that follow.
import { describe, expect, it } from 'vitest';
import { S_ESTABLISHED } from '../../../src/conn/tcp-state';
import { LvsError } from '../../../src/control/errors';
import { ServiceControl } from '../../../src/control/service-control';
import { V_DROP_NO_DEST, V_FORWARDED } from '../../../src/verdict';
import { assemble, type Assembly } from '../../helpers/assembly';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';

const SVC = { proto: 'tcp', addr: '10.0.0.100', port: 80 };

function control(a: Assembly): ServiceControl {
  return new ServiceControl({
    services: a.services, conns: a.conns, release: (c) => a.pipeline.release(c), timeouts: a.pipeline.timeouts,
    now: () => a.clock.now, prepareDest: (rs) => { rs.neighSlot = a.neigh.slotFor(rs.addr); }, changed: () => undefined,
  });
}

function send(a: Assembly, cip: string, cport: number, flags = FLAGS.S): { v: number; to: number } {
  const f = FrameBuilder.tcp().from(cip, cport).to('10.0.0.100', 80).tcpFlags(flags).build();
  const v = a.pipeline.process(f, f.length);
  const last = a.io.sent[a.io.sent.length - 1];
  return { v, to: v === V_FORWARDED ? last[5] - 0x0b : -1 }; // rs index from the destination MAC
}

const errorOf = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof LvsError) return e.message;
    throw e;
  }
  return 'no error';
};

describe('persistence (-p, -M)', () => {
  it('pins every connection of a client to the RS of its first one, and each client network to one RS', () => {
    const a = assemble({ weights: [1, 1, 1] });
    const ctl = control(a);
    ctl.editService({ svc: SVC, scheduler: 'rr', persistent: 60, netmask: '255.255.255.0' });
    const first = send(a, '10.1.1.5', 1000).to;
    for (let p = 1001; p < 1020; p++) expect(send(a, '10.1.1.5', p).to).toBe(first);
    // Same /24: same template; another /24: the scheduler moves on.
    expect(send(a, '10.1.1.77', 2000).to).toBe(first);
    expect(send(a, '10.1.2.5', 2000).to).not.toBe(first);
    expect(a.rs[first].persistConns).toBe(1);
  });

  it('a template outlives its timeout while it controls connections, then expires with them', () => {
    const a = assemble({ weights: [1, 1] });
    control(a).editService({ svc: SVC, scheduler: 'rr', persistent: 30 });
    const first = send(a, '10.1.1.5', 1000).to;
    send(a, '10.1.1.5', 1000, FLAGS.A); // ESTABLISHED: 900 s
    a.conns.advance(a.clock.now + 100);
    a.clock.now += 100;
    // The template's 30 s are long past, but its connection lives: a new connection still goes to the same RS.
    expect(send(a, '10.1.1.5', 1001).to).toBe(first);
    a.conns.advance(a.clock.now + 2000);
    expect(a.conns.count).toBe(0);
    expect(a.rs[first].persistConns).toBe(0);
  });

  it('a weight-0 RS keeps its persistent clients (expire_quiescent_template=0) but gets no new ones', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = control(a);
    ctl.editService({ svc: SVC, scheduler: 'rr', persistent: 60 });
    const first = send(a, '10.1.1.5', 1000).to;
    ctl.editDest({ svc: SVC, dest: { addr: `10.0.0.${11 + first}`, port: 80 }, weight: 0 });
    expect(send(a, '10.1.1.5', 1001).to).toBe(first);
    for (let i = 0; i < 5; i++) expect(send(a, `10.9.9.${i + 1}`, 3000).to).toBe(1 - first);
  });
});

describe('removal, edits and quiescing', () => {
  it('removing a RS expires its connections at once, counters settle, its packets are no longer forwarded', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = control(a);
    send(a, '10.1.1.5', 1000);
    send(a, '10.1.1.5', 1001);
    expect(a.conns.count).toBe(2);
    ctl.deleteDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 } });
    expect(a.conns.count).toBe(1);
    expect(send(a, '10.1.1.5', 1000, FLAGS.A).v).not.toBe(V_FORWARDED); // a stray ACK now
    expect(send(a, '10.1.1.5', 1001, FLAGS.A).to).toBe(1);
  });

  it('editing the scheduler keeps existing connections on their RSs', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = control(a);
    const before = [1000, 1001, 1002, 1003].map((p) => send(a, '10.1.1.5', p).to);
    ctl.editService({ svc: SVC, scheduler: 'wlc' });
    expect([1000, 1001, 1002, 1003].map((p) => send(a, '10.1.1.5', p, FLAGS.A).to)).toEqual(before);
    expect(a.services.services[0]!.schedName).toBe('wlc');
  });

  it('deleting the service expires every connection and template', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = control(a);
    ctl.editService({ svc: SVC, scheduler: 'rr', persistent: 60 });
    for (let p = 1000; p < 1010; p++) send(a, '10.1.1.5', p);
    ctl.deleteService({ svc: SVC });
    expect(a.conns.count).toBe(0);
    expect(send(a, '10.1.1.5', 1000).v).not.toBe(V_FORWARDED);
  });
});

describe('thresholds (-x, -y)', () => {
  it('an RS at its upper threshold is skipped until it falls below the lower one', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = control(a);
    ctl.editDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, weight: 1, uthreshold: 2, lthreshold: 1 });
    const picks = [1000, 1001, 1002, 1003, 1004].map((p) => send(a, '10.1.1.5', p).to);
    expect(picks).toEqual([0, 1, 0, 1, 1]); // rs1 reached 2 connections: overloaded
    expect(a.rs[0].overloaded).toBe(true);
    // Its half-open connections age out (SYN_RECV, 60 s): still overloaded with one left, not with none.
    a.clock.now += 30;
    send(a, '10.1.1.5', 1002, FLAGS.A); // this one is established now (900 s)
    a.conns.advance(a.clock.now + 31);
    expect([a.rs[0].activeConns + a.rs[0].inactConns, a.rs[0].overloaded]).toEqual([1, true]);
    send(a, '10.1.1.5', 1002, FLAGS.FA); // FIN_WAIT 120 s
    a.conns.advance(a.clock.now + 121);
    expect([a.rs[0].activeConns + a.rs[0].inactConns, a.rs[0].overloaded]).toEqual([0, false]);
    expect(send(a, '10.1.1.5', 1010).to).toBe(0);
  });
});

describe('graceful drain', () => {
  it('removes the RS once its last open connection has ended, and never later than its grace time', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = control(a);
    send(a, '10.1.1.5', 1000);
    send(a, '10.1.1.5', 1000, FLAGS.A); // ESTABLISHED on rs1
    ctl.deleteDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, graceful: 30 });
    expect(ctl.tickDrains()).toEqual([]);
    expect(send(a, '10.1.1.6', 2000).to).toBe(1); // nothing new to rs1
    expect(send(a, '10.1.1.5', 1000, FLAGS.A).to).toBe(0); // the open one still flows
    send(a, '10.1.1.5', 1000, FLAGS.FA); // closing: FIN_WAIT does not hold a drain
    expect(ctl.tickDrains().map((r) => r.addr >>> 0)).toEqual([0x0a00000b]);
    expect(a.services.services[0]!.dests.length).toBe(1);
  });

  it('the grace time bounds the wait', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = control(a);
    send(a, '10.1.1.5', 1000);
    send(a, '10.1.1.5', 1000, FLAGS.A);
    ctl.editDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, weight: 0, drain: 5 });
    a.clock.now += 4;
    expect(ctl.tickDrains()).toEqual([]);
    a.clock.now += 1;
    expect(ctl.tickDrains().length).toBe(1);
    expect(a.conns.count).toBe(0);
  });

  it('--drain without -w 0 is refused, naming why', () => {
    const a = assemble({ weights: [1, 1] });
    expect(errorOf(() => control(a).editDest({ svc: SVC, dest: { addr: '10.0.0.11', port: 80 }, weight: 1, drain: 5 }))).toContain('--drain needs -w 0');
  });
});

describe('--set and errors', () => {
  it('--set tcp tcpfin udp changes the timeouts new states get; 0 keeps a value', () => {
    const a = assemble({ weights: [1] });
    control(a).setTimeouts({ tcp: 30, tcpfin: 0, udp: 0 });
    expect(a.pipeline.timeouts[S_ESTABLISHED]).toBe(30);
    send(a, '10.1.1.5', 1000);
    send(a, '10.1.1.5', 1000, FLAGS.A);
    a.conns.advance(a.clock.now + 29);
    expect(a.conns.count).toBe(1);
    a.conns.advance(a.clock.now + 30);
    expect(a.conns.count).toBe(0);
  });

  it.each([
    ['add an existing service', (c: ServiceControl) => c.addService({ svc: SVC }), 'Service already exists'],
    ['edit a missing service', (c: ServiceControl) => c.editService({ svc: { ...SVC, port: 81 } }), 'No such service'],
    ['add to a missing service', (c: ServiceControl) => c.addDest({ svc: { ...SVC, port: 81 }, dest: { addr: '10.0.0.9' } }), 'Service not defined'],
    ['add an existing RS', (c: ServiceControl) => c.addDest({ svc: SVC, dest: { addr: '10.0.0.11' } }), 'Destination already exists'],
    ['delete a missing RS', (c: ServiceControl) => c.deleteDest({ svc: SVC, dest: { addr: '10.0.0.99' } }), 'No such destination'],
    ['an unknown scheduler', (c: ServiceControl) => c.editService({ svc: SVC, scheduler: 'nope' }), 'Scheduler or persistence engine not found'],
    ['port 0 without persistence', (c: ServiceControl) => c.addService({ svc: { ...SVC, port: 0 } }), 'Zero port specified for non-persistent service'],
    ['sh-port on rr', (c: ServiceControl) => c.editService({ svc: SVC, scheduler: 'rr', flags: ['sh-port'] }), "incompatible scheduler flag 'sh-port'"],
  ])('refuses to %s with ipvsadm\'s words, leaving the table as it was', (_n, fn, msg) => {
    const a = assemble({ weights: [1, 1] });
    const before = JSON.stringify(a.services.list().map((s) => [s.schedName, s.dests.map((d) => [d.addr, d.weight])]));
    expect(errorOf(() => fn(control(a)))).toBe(msg);
    expect(JSON.stringify(a.services.list().map((s) => [s.schedName, s.dests.map((d) => [d.addr, d.weight])]))).toBe(before);
  });

  it('no available RS: counted, not forwarded', () => {
    const a = assemble({ weights: [0, 0] });
    expect(send(a, '10.1.1.5', 1000).v).toBe(V_DROP_NO_DEST);
  });
});
