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

export interface Scheduler {
  /** The ipvsadm token (`-s rr`). */
  readonly name: string;
  readonly description: string;
  create(svc: VirtualService): SchedulerInstance;
}

/** A real server can take new connections: weight > 0 and not over its upper threshold (IPVS skips both). */
export const available = (rs: RealServer): boolean => rs.weight > 0 && !rs.overloaded;
