// The scheduler registry: the ipvsadm name of each algorithm, as the kernel registers ip_vs_<name>.c.
// Listed in ipvsadm's order (its usage text: rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh), then twos.
import { dh } from './dh';
import { fo } from './fo';
import { lblc } from './lblc';
import { lblcr } from './lblcr';
import { lc } from './lc';
import { mh } from './mh';
import { nq } from './nq';
import { ovf } from './ovf';
import { rr } from './rr';
import type { Scheduler } from './scheduler';
import { sed } from './sed';
import { sh } from './sh';
import { twos } from './twos';
import { wlc } from './wlc';
import { wrr } from './wrr';

const SCHEDULERS: readonly Scheduler[] = [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos];

const byName = new Map(SCHEDULERS.map((s) => [s.name, s]));

export function findScheduler(name: string): Scheduler | undefined {
  return byName.get(name);
}

export const schedulerNames = (): string[] => SCHEDULERS.map((s) => s.name);
