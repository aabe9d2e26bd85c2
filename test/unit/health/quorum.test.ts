// keepalived's quorum with hysteresis (ipwrapper.c): gained at quorum+hysteresis, lost below quorum-hysteresis
// or when no live weight is left.
import { describe, expect, it } from 'vitest';
import { quorumState } from '../../../src/health/manager';

describe('quorumState', () => {
  it.each<[string, boolean, number, number, number, boolean]>([
    ['gained at quorum exactly without hysteresis', false, 1, 1, 0, true],
    ['not gained below quorum', false, 0, 1, 0, false],
    ['kept at quorum', true, 1, 1, 0, true],
    ['lost below quorum', true, 0, 1, 0, false],
    ['gain needs quorum+hysteresis (7+2)', false, 8, 7, 2, false],
    ['gained at 9 for 7+2', false, 9, 7, 2, true],
    ['kept down to quorum-hysteresis (5)', true, 5, 7, 2, true],
    ['lost at 4 for 7-2', true, 4, 7, 2, false],
    ['between the thresholds a lost quorum stays lost', false, 7, 7, 2, false],
    ['between the thresholds a held quorum holds', true, 7, 7, 2, true],
    ['no live weight loses it even when quorum-hysteresis is 0', true, 0, 1, 1, false],
    ['quorum 1 hysteresis 1 holds on weight 1', true, 1, 1, 1, true],
    ['a quorum of 0 always holds', true, 0, 0, 0, true],
    ['a quorum of 0 is gained on nothing', false, 0, 0, 0, true],
  ])('%s', (_name, prev, live, quorum, hyst, want) => {
    expect(quorumState(prev, live, quorum, hyst)).toBe(want);
  });

  it('walks a service through loss and regain without flapping at the threshold', () => {
    const seq = [10, 9, 6, 5, 4, 5, 6, 8, 9, 8, 5, 4];
    let q = false;
    const out = seq.map((w) => (q = quorumState(q, w, 7, 2)));
    expect(out).toEqual([true, true, true, true, false, false, false, false, true, true, true, false]);
  });
});
