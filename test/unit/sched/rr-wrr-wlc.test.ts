import { describe, expect, it } from 'vitest';
import { Flow } from '../../../src/packet/flow';
import { findScheduler, schedulerNames } from '../../../src/sched';
import { serviceWith } from '../../helpers/services';

const flow = new Flow();

/** Names (rs index) of the next n picks, '-' for none. */
function picks(scheduler: string, weights: number[], n: number, tweak?: (rs: ReturnType<typeof serviceWith>['rs']) => void): string {
  const { svc, rs } = serviceWith(scheduler, weights);
  tweak?.(rs);
  svc.sched.update();
  return Array.from({ length: n }, () => {
    const d = svc.sched.schedule(flow);
    return d === null ? '-' : String(rs.indexOf(d));
  }).join('');
}

describe('scheduler registry', () => {
  it('registers each scheduler under its ipvsadm name', () => {
    for (const name of schedulerNames()) expect(findScheduler(name)?.name).toBe(name);
    expect(findScheduler('nope')).toBeUndefined();
  });

  it('has every kernel scheduler, in ipvsadm\'s order, then twos', () => {
    expect(schedulerNames()).toEqual(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']);
  });
});

describe('rr (ip_vs_rr.c)', () => {
  it.each([
    ['cycles in list order from the first', [1, 1, 1], 7, '0120120'],
    ['ignores weights other than 0', [5, 1], 4, '0101'],
    ['skips weight 0 (quiescent)', [1, 0, 1], 4, '0202'],
    ['none when all are weight 0', [0, 0], 2, '--'],
    ['none with no real servers', [], 1, '-'],
  ])('%s', (_n, weights, n, want) => {
    expect(picks('rr', weights, n)).toBe(want);
  });

  it('skips an overloaded real server', () => {
    expect(picks('rr', [1, 1, 1], 4, (rs) => { rs[1].overloaded = true; })).toBe('0202');
  });
});

describe('wrr (ip_vs_wrr.c interleaving)', () => {
  it.each([
    ['3:1', [3, 1], 8, '00010001'],
    ['equal weights behave as rr', [2, 2], 4, '0101'],
    ['4:3:2 (kernel interleave)', [4, 3, 2], 9, '001012012'],
    ['gcd steps: 4:2 == 2:1', [4, 2], 6, '001001'],
    ['weight 0 never picked', [2, 0, 1], 6, '002002'],
    ['all zero: none', [0, 0], 2, '--'],
  ])('%s', (_n, weights, n, want) => {
    expect(picks('wrr', weights, n)).toBe(want);
  });

  it('splits 3:1 exactly 75/25 over 100 picks', () => {
    const seq = picks('wrr', [3, 1], 100);
    expect([...seq].filter((c) => c === '0').length).toBe(75);
  });
});

describe('wlc (ip_vs_wlc.c)', () => {
  it('picks the least overhead/weight, overhead = active*256 + inactive', () => {
    const { svc, rs } = serviceWith('wlc', [1, 2]);
    rs[0].activeConns = 1; // 256 / 1
    rs[1].activeConns = 1; // 256 / 2 -> less loaded
    expect(svc.sched.schedule(flow)).toBe(rs[1]);
    rs[1].inactConns = 300; // (256+300)/2 = 278 > 256
    expect(svc.sched.schedule(flow)).toBe(rs[0]);
  });

  it('ties go to the first in the list; weight 0 and overloaded are skipped', () => {
    const { svc, rs } = serviceWith('wlc', [1, 1, 1]);
    expect(svc.sched.schedule(flow)).toBe(rs[0]);
    rs[0].weight = 0;
    rs[1].overloaded = true;
    expect(svc.sched.schedule(flow)).toBe(rs[2]);
  });
});
