// The scheduler registry: the ipvsadm name of each algorithm, as the kernel registers ip_vs_<name>.c.
import { rr } from './rr';
import type { Scheduler } from './scheduler';
import { wlc } from './wlc';
import { wrr } from './wrr';

const SCHEDULERS: readonly Scheduler[] = [rr, wrr, wlc];

const byName = new Map(SCHEDULERS.map((s) => [s.name, s]));

export function findScheduler(name: string): Scheduler | undefined {
  return byName.get(name);
}

export const schedulerNames = (): string[] => SCHEDULERS.map((s) => s.name);
