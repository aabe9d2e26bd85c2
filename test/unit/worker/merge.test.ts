// One director seen through N capture workers: their counters add up, keyed by service and real server (never by
// position), and what the control plane's own table lacks is not invented from a worker's.
import { describe, expect, it } from 'vitest';
import type { ListResult } from '../../../src/control/protocol';
import { mergeLists, mergeStatus, type StatusView } from '../../../src/worker/merge';

const dest = (addr: number, active: number, inact: number, conns: number) => ({
  addr, port: 80, forward: 'dr', weight: 1, activeConns: active, inactConns: inact, persistConns: 0,
  stats: [conns, conns * 5, 0, conns * 300, 0], rates: [conns, 0, 0, 0, 0],
});

const list = (dests: ReturnType<typeof dest>[], extra = false): ListResult => ({
  version: '1.2.1', size: 4096,
  services: [
    { proto: 6, vip: 100, port: 80, scheduler: 'rr', stats: [dests.reduce((n, d) => n + d.stats[0], 0), 0, 0, 0, 0], rates: [0, 0, 0, 0, 0], dests },
    ...(extra ? [{ proto: 17, vip: 100, port: 53, scheduler: 'rr', stats: [9, 9, 9, 9, 9], dests: [] }] : []),
  ],
});

describe('mergeLists', () => {
  it('adds connection counts and stats per RS, matched by address even when the order differs', () => {
    const mine = list([dest(11, 2, 1, 3), dest(12, 0, 4, 4)]);
    const other = list([dest(12, 5, 0, 5), dest(11, 1, 1, 2)], true);
    const m = mergeLists(mine, [other]);
    expect(m.services).toHaveLength(1);
    const [a, b] = m.services[0].dests;
    expect([a.addr, a.activeConns, a.inactConns, a.stats[0], a.stats[1]]).toEqual([11, 3, 2, 5, 25]);
    expect([b.addr, b.activeConns, b.inactConns, b.stats[0]]).toEqual([12, 5, 4, 9]);
    expect(m.services[0].stats[0]).toBe(14);
    expect(m.size).toBe(8192);
  });

  it('leaves the control plane\'s view as it is when a worker does not have the service yet', () => {
    const mine = list([dest(11, 2, 1, 3)], true);
    const m = mergeLists(mine, [{ version: '1.2.1', size: 4096, services: [] }]);
    expect(m.services).toEqual(mine.services);
  });
});

describe('mergeStatus', () => {
  it('sums connections and verdicts, and tells each worker\'s share', () => {
    const st = (conns: number, fw: number): StatusView => ({
      conns, connMax: 1000, verdicts: { forwarded: fw, 'no-conn': 1 }, parseErrors: { truncated: 2 }, capture: [{ interface: 'eth0' }],
    });
    const m = mergeStatus(st(3, 30), [st(4, 70)]);
    expect([m.conns, m.connMax, m.verdicts.forwarded, m.verdicts['no-conn'], m.parseErrors.truncated]).toEqual([7, 2000, 100, 2, 4]);
    expect(m.load).toEqual([{ worker: 0, conns: 3, forwarded: 30 }, { worker: 1, conns: 4, forwarded: 70 }]);
    expect(m.capture).toEqual([{ worker: 0, interface: 'eth0' }, { worker: 1, interface: 'eth0' }]);
  });

  it("adds the workers' defense counters and thresholds; dropping or secure when any worker is", () => {
    const d = (mode: number, dropping: boolean, evicted: number) => ({
      drop_entry: mode, secure_tcp: 1, drop_packet: 0, amemthresh: 512, dropping, secure: false, drop_rate: 0, evicted, scanned: evicted * 2, shed: 1,
    });
    const st = (defense: ReturnType<typeof d>): StatusView => ({ conns: 0, connMax: 2048, verdicts: {}, parseErrors: {}, capture: [], defense });
    const m = mergeStatus(st(d(1, false, 0)), [st(d(2, true, 40))]);
    expect(m.defense).toEqual({
      drop_entry: 2, secure_tcp: 1, drop_packet: 0, amemthresh: 1024, dropping: true, secure: false, drop_rate: 0, evicted: 40, scanned: 80, shed: 2,
    });
  });

  it("adds the workers' L3 send failures; the reason shown is the first worker's that has one", () => {
    const st = (errors: number, lastError: string | null): StatusView => ({
      conns: 0, connMax: 1, verdicts: {}, parseErrors: {}, capture: [], ipSend: { errors, lastError },
    });
    expect(mergeStatus(st(0, null), [st(2, 'Error: sendmmsg: Operation not permitted'), st(1, 'Error: sendto: x')]).ipSend)
      .toEqual({ errors: 3, lastError: 'Error: sendmmsg: Operation not permitted' });
    expect(mergeStatus(st(0, null), [st(0, null)]).ipSend).toEqual({ errors: 0, lastError: null });
  });
});
