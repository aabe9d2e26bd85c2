// The forwarding seam: one file per method, chosen once per connection (DPVS), applied in place.
import type { Flow } from '../packet/flow';
import type { RealServer } from '../service/types';

/** What a forwarder may use: the director's own L2 address and the neighbour MACs. */
export interface ForwardContext {
  /** Buffer holding the capture interface's MAC at `ifMacOff`. */
  readonly ifMac: Uint8Array;
  readonly ifMacOff: number;
  /** Neighbour MAC storage: slot s is at offset s*6; `resolved[s]` says whether it is valid. */
  readonly neighMacs: Uint8Array;
  readonly neighResolved: Uint8Array;
}

export interface Forwarder {
  /** The ipvsadm/config token: 'dr', 'tun', 'nat', 'fullnat'. */
  readonly name: string;
  /** The Forward column of ipvsadm -L. */
  readonly label: string;
  /** The ipvsadm -S flag (-g, -i, -m, -b). */
  readonly flag: string;
  /** Whether replies come back through the director (NAT kinds) and need a reply tuple. */
  readonly seesReplies: boolean;
  /**
   * Rewrite a client->RS frame in place. Returns the length to emit, or a negative verdict to drop
   * (the pipeline counts it).
   */
  request(ctx: ForwardContext, b: Uint8Array, f: Flow, rs: RealServer): number;
}
