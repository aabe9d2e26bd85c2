// Shared by the scheduler tests: a seeded environment, flows, and real-server states.
import fc from 'fast-check';
import { Flow } from '../../../src/packet/flow';
import type { SchedEnv } from '../../../src/sched/scheduler';
import { ServiceTable } from '../../../src/service/table';
import type { RealServer } from '../../../src/service/types';
import { serviceWith } from '../../helpers/services';

/** mulberry32: a small seeded uint32 generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** An environment whose clock the test sets and whose randomness is seeded. */
export class TestEnv implements SchedEnv {
  t = 1000;
  readonly rand: () => number;
  constructor(seed = 1) {
    this.rand = seeded(seed);
  }
  now(): number {
    return this.t;
  }
  random(): number {
    return this.rand();
  }
}

/** A service of `scheduler` with one real server per weight, in a table using `env`. */
export function svcWith(scheduler: string, weights: number[], env: SchedEnv = new TestEnv()) {
  return serviceWith(scheduler, weights, new ServiceTable(16, 1024, env));
}

export function tcpFlow(saddr: number, sport = 40000, daddr = 0x0a000064): Flow {
  const f = new Flow();
  f.proto = 6;
  f.saddr = saddr | 0;
  f.daddr = daddr | 0;
  f.sport = sport;
  f.dport = 80;
  return f;
}

/** A real server's schedulable state, as the property tests draw it. */
export interface DestState {
  weight: number;
  active: number;
  inactive: number;
  overloaded: boolean;
}

export const destState: fc.Arbitrary<DestState> = fc.record({
  weight: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(0, 1)),
  active: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 3 })),
  inactive: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(0)),
  overloaded: fc.boolean(),
});

export const destStates = fc.array(destState, { minLength: 0, maxLength: 12 });

export function apply(rs: RealServer[], states: DestState[]): void {
  states.forEach((s, i) => {
    rs[i].weight = s.weight;
    rs[i].activeConns = s.active;
    rs[i].inactConns = s.inactive;
    rs[i].overloaded = s.overloaded;
  });
}

export const isAvailable = (s: DestState): boolean => s.weight > 0 && !s.overloaded;
export const oh = (s: DestState): number => s.active * 256 + s.inactive;
