// The schedulers that pick a minimum or maximum (lc, wlc, sed, nq, fo, ovf, twos, and the wlc pick of
// lblc/lblcr for a destination they have not seen) against plain reference implementations of the
// kernel rules in net/netfilter/ipvs/ip_vs_<name>.c, over random real-server states.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seeded, apply, destStates, isAvailable, oh, svcWith, tcpFlow, TestEnv, type DestState } from './sched-helpers';

const flow = tcpFlow(0x01020304);

/**
 * The first candidate whose cost/weight is no larger than any other candidate's, comparing
 * `cost_i * w_j <= cost_j * w_i` (the kernel's cross-multiplication, never a division); -1 if none.
 * The kernel's scan (replace when `loh * w > doh * w_least`) ends on exactly this one.
 */
function firstMinRatio(s: DestState[], ok: (d: DestState) => boolean, cost: (d: DestState) => number): number {
  const cands = s.map((_, i) => i).filter((i) => ok(s[i]));
  for (const i of cands) {
    if (cands.every((j) => cost(s[i]) * s[j].weight <= cost(s[j]) * s[i].weight)) return i;
  }
  return -1;
}

/** The first candidate with the extreme value of `key` (max or min); -1 if none. */
function firstExtreme(s: DestState[], ok: (d: DestState) => boolean, key: (d: DestState) => number, max: boolean): number {
  const cands = s.map((_, i) => i).filter((i) => ok(s[i]));
  if (cands.length === 0) return -1;
  const vals = cands.map((i) => key(s[i]));
  const best = max ? Math.max(...vals) : Math.min(...vals);
  return cands[vals.indexOf(best)];
}

const REFERENCES: [string, (s: DestState[]) => number][] = [
  // ip_vs_lc.c: least overhead; weight only excludes.
  ['lc', (s) => firstExtreme(s, isAvailable, oh, false)],
  // ip_vs_wlc.c: least overhead/weight.
  ['wlc', (s) => firstMinRatio(s, isAvailable, oh)],
  // ip_vs_sed.c: least (active + 1)/weight.
  ['sed', (s) => firstMinRatio(s, isAvailable, (d) => d.active + 1)],
  // ip_vs_nq.c: the first idle one, else sed.
  ['nq', (s) => {
    const idle = s.findIndex((d) => isAvailable(d) && d.active === 0);
    return idle >= 0 ? idle : firstMinRatio(s, isAvailable, (d) => d.active + 1);
  }],
  // ip_vs_fo.c: highest weight.
  ['fo', (s) => firstExtreme(s, isAvailable, (d) => d.weight, true)],
  // ip_vs_ovf.c: highest weight among those with active <= weight.
  ['ovf', (s) => firstExtreme(s, (d) => isAvailable(d) && d.active <= d.weight, (d) => d.weight, true)],
  // lblc/lblcr on a destination address they have no entry for: the wlc pick.
  ['lblc', (s) => firstMinRatio(s, isAvailable, oh)],
  ['lblcr', (s) => firstMinRatio(s, isAvailable, oh)],
];

describe.each(REFERENCES)('%s against the kernel rule', (name, reference) => {
  it('picks what the reference picks, never an unavailable real server, null exactly when none qualifies', () => {
    fc.assert(
      fc.property(destStates, (states) => {
        const { svc, rs } = svcWith(name, states.map((s) => s.weight));
        apply(rs, states);
        const want = reference(states);
        const got = svc.sched.schedule(flow);
        expect(got === null ? -1 : rs.indexOf(got)).toBe(want);
        if (got !== null) expect(got.weight > 0 && !got.overloaded).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('twos (ip_vs_twos.c) with a seeded environment', () => {
  /** The kernel's draws: two values in [0, total], each walked down the weights of the available ones. */
  function twosReference(s: DestState[], rand: () => number): number {
    const cands = s.map((_, i) => i).filter((i) => isAvailable(s[i]));
    if (cands.length === 0) return -1;
    const total = cands.reduce((a, i) => a + s[i].weight, 0);
    const draw = (r: number): number => {
      let cum = 0;
      for (const i of cands) {
        cum += s[i].weight;
        if (cum >= r) return i;
      }
      throw new Error('unreachable');
    };
    const c1 = draw(rand() % (total + 1));
    const c2 = draw(rand() % (total + 1));
    // choice2 only when strictly less loaded: weight2 * overhead1 > weight1 * overhead2.
    return s[c2].weight * oh(s[c1]) > s[c1].weight * oh(s[c2]) ? c2 : c1;
  }

  it('picks the less loaded of the two weighted draws, never an unavailable one', () => {
    fc.assert(
      fc.property(destStates, fc.integer({ min: 0, max: 0x7fffffff }), (states, seed) => {
        const env = new TestEnv(seed);
        const { svc, rs } = svcWith('twos', states.map((s) => s.weight), env);
        apply(rs, states);
        const got = svc.sched.schedule(flow);
        expect(got === null ? -1 : rs.indexOf(got)).toBe(twosReference(states, seeded(seed)));
        if (got !== null) expect(got.weight > 0 && !got.overloaded).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('with equal loads draws in proportion to weight + the first one\'s extra value (5:3:2 over 100k)', () => {
    const { svc, rs } = svcWith('twos', [5, 3, 2], new TestEnv(7));
    const counts = [0, 0, 0];
    for (let i = 0; i < 100_000; i++) counts[rs.indexOf(svc.sched.schedule(flow)!)]++;
    // Equal overhead (0): the first draw wins, which lands on 0..10 -> 6/11, 3/11, 2/11.
    expect(counts[0] / 1e5).toBeCloseTo(6 / 11, 2);
    expect(counts[1] / 1e5).toBeCloseTo(3 / 11, 2);
    expect(counts[2] / 1e5).toBeCloseTo(2 / 11, 2);
  });

  it('steers away from a loaded real server', () => {
    const { svc, rs } = svcWith('twos', [1, 1], new TestEnv(3));
    rs[0].activeConns = 100;
    let toLoaded = 0;
    for (let i = 0; i < 10_000; i++) if (svc.sched.schedule(flow) === rs[0]) toLoaded++;
    // Only when both draws land on it: (2/3)^2 of the time (draws 0..2, the first owns 0 and 1).
    expect(toLoaded / 1e4).toBeCloseTo(4 / 9, 1);
  });
});

describe('exact sequences', () => {
  /** Picks in a row, each counted as a new active connection on its real server. */
  function run(name: string, weights: number[], n: number, active: number[] = []): string {
    const { svc, rs } = svcWith(name, weights);
    active.forEach((a, i) => (rs[i].activeConns = a));
    let out = '';
    for (let k = 0; k < n; k++) {
      const d = svc.sched.schedule(flow);
      if (d === null) out += '-';
      else {
        out += String(rs.indexOf(d));
        d.activeConns++;
      }
    }
    return out;
  }

  it.each([
    // nq: idle ones first, in list order; then sed's (active+1)/weight.
    ['nq idle first', 'nq', [1, 1, 1], 3, [5, 0, 0], '121'],
    ['nq then expected delay', 'nq', [1, 3], 6, [1, 1], '111101'],
    ['sed counts the new connection', 'sed', [1, 2], 6, [], '101101'],
    ['lc ignores weight', 'lc', [1, 100], 4, [], '0101'],
    // fo: all to the highest weight (ties: the first).
    ['fo highest weight', 'fo', [2, 5, 5, 1], 3, [], '111'],
    // ovf: fill the highest weight up to active == weight, then overflow down, then none.
    ['ovf overflows by weight', 'ovf', [3, 5], 11, [], '1111110000-'],
  ])('%s', (_d, name, weights, n, active, want) => {
    expect(run(name as string, weights as number[], n as number, active as number[])).toBe(want);
  });

  it('fo fails over as real servers leave (overload, weight 0)', () => {
    const { svc, rs } = svcWith('fo', [2, 5, 5, 1]);
    expect(svc.sched.schedule(flow)).toBe(rs[1]);
    rs[1].overloaded = true;
    expect(svc.sched.schedule(flow)).toBe(rs[2]);
    rs[2].weight = 0;
    expect(svc.sched.schedule(flow)).toBe(rs[0]);
    rs[0].overloaded = true;
    rs[3].overloaded = true;
    expect(svc.sched.schedule(flow)).toBeNull();
  });

  it('wlc: the kernel compares loh*w > doh*w_least, so equal ratios keep the earlier one', () => {
    const { svc, rs } = svcWith('wlc', [2, 4]);
    rs[0].activeConns = 1; // 256/2
    rs[1].activeConns = 2; // 512/4: equal
    expect(svc.sched.schedule(flow)).toBe(rs[0]);
    rs[1].activeConns = 1; // 256/4: less
    expect(svc.sched.schedule(flow)).toBe(rs[1]);
  });
});
