// The scheduler seam, shaped like the kernel's struct ip_vs_scheduler: one file per algorithm, registered by name.
import type { Flow } from '../packet/flow';
import type { RealServer, VirtualService } from '../service/types';

/** Per-service state of one scheduler (the kernel's svc->sched_data). */
export interface SchedulerInstance {
  /** Pick a real server for a new connection, or null when none is available. */
  schedule(flow: Flow): RealServer | null;
  /** The service's real servers were added, removed or edited (weights). */
  update(): void;
}

/** What a scheduler may use besides its service: the coarse clock (lblc/lblcr ageing) and randomness (twos). */
export interface SchedEnv {
  /** Seconds, from the daemon's one clock. */
  now(): number;
  /** A uniformly random uint32; seeded in tests. */
  random(): number;
}

export interface Scheduler {
  /** The ipvsadm token (`-s rr`). */
  readonly name: string;
  readonly description: string;
  create(svc: VirtualService, env: SchedEnv): SchedulerInstance;
}

/** Service scheduler flags, as IPVS numbers them (ipvsadm -b): flag-1, flag-2, flag-3. */
export const SCHED_FLAG_1 = 0x08; // sh-fallback, mh-fallback
export const SCHED_FLAG_2 = 0x10; // sh-port, mh-port
export const SCHED_FLAG_3 = 0x20;

/** A default environment: the wall clock in seconds and Math.random. */
export const defaultSchedEnv: SchedEnv = {
  now: () => Math.floor(Date.now() / 1000),
  random: () => Math.floor(Math.random() * 0x100000000) >>> 0,
};

/** A real server can take new connections: weight > 0 and not over its upper threshold (IPVS skips both). */
export const available = (rs: RealServer): boolean => rs.weight > 0 && !rs.overloaded;
