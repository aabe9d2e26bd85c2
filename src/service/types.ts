// Virtual services and real servers as the control plane holds them. The hot path reaches them by index.
import type { SchedulerInstance } from '../sched/scheduler';
import type { FwmarkMatch } from './fwmark-match';

/** An IPv4 address as a uint32 in host order. */
export type Ipv4 = number;

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export type Proto = typeof PROTO_TCP | typeof PROTO_UDP;
/** A firewall-mark service has no single protocol (IPPROTO_IP, as IPVS keys its templates). */
export const PROTO_ANY = 0;

export interface RealServer {
  /** Global index: what a connection stores. */
  readonly id: number;
  readonly svcId: number;
  readonly addr: Ipv4;
  readonly port: number;
  weight: number;
  /** Forwarding method's registry name ('dr', ...) and index. */
  forward: string;
  fwdId: number;
  /** IPVS counters: ESTABLISHED connections vs every other state. */
  activeConns: number;
  inactConns: number;
  /** Upper/lower connection thresholds (0 = unset) and the overload mark they drive. */
  upperThreshold: number;
  lowerThreshold: number;
  overloaded: boolean;
  /** Persistence templates pointing at this RS (ipvsadm's PersistConn). */
  persistConns: number;
  /** Graceful drain: the coarse-clock second by which it is removed whatever remains, 0 when not draining. */
  drainDeadline: number;
  /** Neighbour slot holding the RS's MAC (DR), -1 until assigned. */
  neighSlot: number;
  /** The director's address towards the RS (TUN's outer source; wire int32 form). */
  localAddr: number;
  /** MTU of the path to the RS (TUN: an inner packet gets this minus the outer header). */
  mtu: number;
}

export interface VirtualService {
  readonly id: number;
  /** TCP or UDP; PROTO_ANY for a firewall-mark service. */
  readonly proto: Proto | typeof PROTO_ANY;
  readonly vip: Ipv4;
  readonly port: number;
  /** -f: the firewall mark (0 for an address service) and the match the daemon marks and classifies with. */
  readonly fwmark: number;
  readonly match: FwmarkMatch | null;
  schedName: string;
  sched: SchedulerInstance;
  /** Scheduler flags (SCHED_FLAG_1..3 in sched/scheduler.ts: sh-fallback, sh-port, mh-fallback, mh-port). */
  schedFlags: number;
  /** Maglev lookup table size (a prime: 251..131071, the kernel's default 4093; Katran uses 65537). */
  mhTableSize: number;
  /** Persistence (-p): template timeout in seconds, 0 when not persistent; -M netmask (uint32) of the client. */
  persistTimeout: number;
  netmask: number;
  /** Newest first, as the kernel's list (schedulers depend on the order). */
  dests: RealServer[];
  /** FullNAT local addresses (wire int32 form), and where the next allocation starts. */
  laddrs: number[];
  laddrNext: number;
  lportNext: number;
}
